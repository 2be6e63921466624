// Trains a small classifier, then writes it as a header (with emit_header) and, beside it,
// the outputs the trained model gives on a few inputs, as exact hex floats; the same for the
// model quantized to bf16 and to int8 (their packed words are not all finite floats).
//   writer <folder>: spirals_model.hpp, spirals_bf16.hpp, spirals_int8.hpp and
//   expected_model.txt, expected_bf16.txt, expected_int8.txt
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ios>
#include <memory>
#include <string>

#include <staticgrad/staticgrad.hpp>

#include "../../examples/datasets.hpp"
#include "probes.hpp"

namespace sg = staticgrad;

namespace {

template <class Net>
bool write(const sg::Model<Net, float>& model, const std::filesystem::path& folder, const std::string& kind) {
  std::ofstream header(folder / ("spirals_" + kind + ".hpp"));
  sg::emit_header(model, "spirals_" + kind, header);
  std::ofstream expected(folder / ("expected_" + kind + ".txt"));
  expected << std::hexfloat;
  for (const auto& x : emitted::probes) {
    const auto y = model(x);
    expected << static_cast<double>(y[0]) << " " << static_cast<double>(y[1]) << "\n";
  }
  return header && expected;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const auto data = datasets::spirals<float>(200, 3);
  auto model = std::make_unique<sg::Model<emitted::Net, float>>(5);
  sg::Adam<emitted::Net, float> adam{{.lr = 0.01}};
  sg::fit(*model, adam, sg::SoftmaxCrossEntropy{}, data.points, data.labels, {.epochs = 20, .batch_size = 16});
  const bool written = write(*model, argv[1], "model") && write(sg::quantize<sg::bf16>(*model), argv[1], "bf16") &&
                       write(sg::quantize<sg::int8>(*model), argv[1], "int8");
  return written ? 0 : 1;
}
