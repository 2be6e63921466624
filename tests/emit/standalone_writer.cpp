// Writes a model of every kind of layer without state as standalone source (C++17 and
// C99, float; C++17, double), and a model quantized to bfloat16 and to int8 (C++17 and
// C99), and beside each inputs with the model's outputs as exact hex floats, for
// standalone_check to compare.
//   standalone_writer <output folder>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ios>
#include <string>

#include <staticgrad/io/standalone.hpp>
#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

namespace {

using Net = sg::Sequential<
    sg::LayerNorm<4>, sg::Dense<4, 8, sg::GELU>, sg::Residual<sg::Dense<8, 8, sg::Tanh>, sg::Dropout<8>>,
    sg::Frozen<sg::Dense<8, 8, sg::SiLU>>, sg::LoRA<sg::Dense<8, 6, sg::GELUTanh>, 2>, sg::RMSNorm<6>, sg::BatchNorm<6>,
    sg::Concat<sg::Dense<6, 2, sg::Sigmoid>, sg::Sequential<sg::PReLU<6>, sg::Dense<6, 2, sg::Softplus>>,
               sg::Sum<sg::Dense<6, 2, sg::LeakyReLU>, sg::Product<sg::Slice<1, 2, 6>, sg::Dense<6, 2, sg::ReLU>>>>,
    sg::Dense<6, 5, sg::Mish>, sg::Dense<5, 5, sg::ELU>, sg::Dense<5, 4, sg::HardTanh>, sg::Dense<4, 3>, sg::Softmax<3>>;

// 20 random inputs, each with the model's outputs, a line each.
template <class Net, class T>
void write_expected(const sg::Model<Net, T>& model, sg::init::Rng& rng, const std::filesystem::path& path) {
  std::ofstream expected(path);
  expected << std::hexfloat;
  for (int n = 0; n < 20; ++n) {
    std::array<T, Net::in_size> x;
    for (auto& v : x) v = static_cast<T>(2 * rng.normal());
    const auto y = model(x);
    for (const T v : x) expected << static_cast<double>(v) << " ";
    for (const T v : y) expected << static_cast<double>(v) << " ";
    expected << "\n";
  }
}

template <class T>
void write(const std::filesystem::path& folder, const std::string& suffix) {
  sg::Model<Net, T> model{11};
  sg::init::Rng rng(12);
  // LoRA's B, the gains and BatchNorm's running statistics away from 0 and 1.
  for (auto& p : model.flat()) p += static_cast<T>(0.2 * rng.normal());
  std::ofstream cpp(folder / ("standalone_model" + suffix + ".hpp"));
  sg::emit_standalone(model, "model", cpp, sg::StandaloneLanguage::cpp17);
  if (suffix.empty()) {
    std::ofstream c(folder / "standalone_model.h");
    sg::emit_standalone(model, "model", c, sg::StandaloneLanguage::c99);
  }
  write_expected(model, rng, folder / ("expected" + suffix + ".txt"));
}

// The model quantized to Format (staticgrad::quantize) as standalone_<format>.hpp and .h:
// odd and even inputs, whole and partial blocks of 16 outputs, a residual. ReLU between
// the layers, so that the standalone code, built for the same target as this program's
// library code, computes each layer's input bit for bit, and none lands on the other side
// of a bfloat16 or int8 rounding boundary.
template <class Format>
void write_quantized(const std::filesystem::path& folder) {
  using Quantizable = sg::Sequential<sg::Dense<5, 24, sg::ReLU>, sg::Dense<24, 17, sg::ReLU>,
                                     sg::Residual<sg::Dense<17, 17, sg::ReLU>>, sg::Dense<17, 3>>;
  sg::Model<Quantizable, float> model{13};
  sg::init::Rng rng(14);
  for (auto& p : model.flat()) p += static_cast<float>(0.1 * rng.normal());
  const auto quantized = sg::quantize<Format>(model);
  const std::string format(Format::name);
  std::ofstream cpp(folder / ("standalone_" + format + ".hpp"));
  sg::emit_standalone(quantized, "model", cpp, sg::StandaloneLanguage::cpp17);
  std::ofstream c(folder / ("standalone_" + format + ".h"));
  sg::emit_standalone(quantized, "model", c, sg::StandaloneLanguage::c99);
  write_expected(quantized, rng, folder / ("expected_" + format + ".txt"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  write<float>(argv[1], "");
  write<double>(argv[1], "_double");
  write_quantized<sg::bf16>(argv[1]);
  write_quantized<sg::int8>(argv[1]);
  return 0;
}
