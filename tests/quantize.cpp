// staticgrad::quantize: Dense weights stored in bfloat16 or int8 compute what the formats
// promise (checked against the documented arithmetic, redone in double), stay within an
// error bound of the float model on whole networks, and keep the rest of the network as it
// was. Built twice: for the default target (portable loops) and with -march=native
// (AVX-512 BF16 and VNNI on a machine that has them).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <type_traits>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

namespace {

// A float as bfloat16 would hold it: the nearest, ties to even.
double bf16_value(float x) {
  auto bits = std::bit_cast<std::uint32_t>(x);
  bits = (bits + 0x7fff + ((bits >> 16) & 1)) & 0xffff0000u;
  return std::bit_cast<float>(bits);
}

template <std::size_t N>
std::array<float, N> inputs(std::uint64_t seed) {
  sg::init::Rng rng(seed);
  std::array<float, N> x;
  for (auto& v : x) v = static_cast<float>(rng.normal());
  return x;
}

// The largest |quantized − float| output over `count` standard normal inputs, over the
// largest |float output|.
template <class Net, class Quantized>
double relative_error(const sg::Model<Net, float>& model, const Quantized& quantized, int count = 200) {
  double largest_error = 0, largest_output = 0;
  for (int sample = 0; sample < count; ++sample) {
    const auto x = inputs<Net::in_size>(static_cast<std::uint64_t>(sample) + 100);
    const auto exact = model(x), approximate = quantized(x);
    for (std::size_t o = 0; o < exact.size(); ++o) {
      largest_output = std::max(largest_output, static_cast<double>(std::abs(exact[o])));
      largest_error = std::max(largest_error, static_cast<double>(std::abs(approximate[o] - exact[o])));
    }
  }
  return largest_error / largest_output;
}

// Odd sizes: an odd number of inputs (a half-filled pair, a partly filled quad) and outputs
// beyond one block of 16, not a multiple of it.
constexpr std::size_t in = 7, out = 19;
using Odd = sg::Dense<in, out>;

}  // namespace

TEST_CASE("quantize: bf16 rounds weights and inputs to bfloat16 and sums in float") {
  const sg::Model<Odd, float> model{3};
  const auto quantized = sg::quantize<sg::bf16>(model);
  static_assert(std::is_same_v<std::remove_const_t<decltype(quantized)>,
                               sg::Model<sg::QuantizedDense<in, out, sg::Identity, sg::bf16>, float>>);
  const auto x = inputs<in>(1);
  const auto y = quantized(x);
  const auto w = model.flat();
  for (std::size_t o = 0; o < out; ++o) {
    double expected = w[in * out + o];
    for (std::size_t k = 0; k < in; ++k) expected += bf16_value(w[k * out + o]) * bf16_value(x[k]);
    CHECK(y[o] == doctest::Approx(expected).epsilon(1e-5));
    double exact = w[in * out + o];
    for (std::size_t k = 0; k < in; ++k) exact += static_cast<double>(w[k * out + o]) * x[k];
    CHECK(y[o] != doctest::Approx(exact).epsilon(1e-7));  // rounded: not float's result
  }
}

TEST_CASE("quantize: int8 scales weights per output and each input per call, and sums exactly") {
  const sg::Model<Odd, float> model{3};
  const auto quantized = sg::quantize<sg::int8>(model);
  const auto x = inputs<in>(2);
  const auto y = quantized(x);
  const auto w = model.flat();
  float largest_input = 0;
  for (float v : x) largest_input = std::max(largest_input, std::abs(v));
  for (std::size_t o = 0; o < out; ++o) {
    float largest_weight = 0;
    for (std::size_t k = 0; k < in; ++k) largest_weight = std::max(largest_weight, std::abs(w[k * out + o]));
    long long sum = 0;
    for (std::size_t k = 0; k < in; ++k)
      sum += std::llround(std::nearbyint(w[k * out + o] * (127 / largest_weight))) *
             std::llround(std::nearbyint(x[k] * (127 / largest_input)));
    const double expected = static_cast<double>(sum) * (largest_weight / 127) * (largest_input / 127) + w[in * out + o];
    CHECK(y[o] == doctest::Approx(expected).epsilon(1e-5));
  }
}

TEST_CASE("quantize: an input of zeros gives the bias, a zero weight column stays zero") {
  sg::Model<Odd, float> model{3};
  for (std::size_t k = 0; k < in; ++k) model.flat()[k * out + 4] = 0;  // output 4: no weights
  const auto bf16 = sg::quantize<sg::bf16>(model);
  const auto int8 = sg::quantize<sg::int8>(model);
  const std::array<float, in> zeros{};
  const auto x = inputs<in>(3);
  for (std::size_t o = 0; o < out; ++o) {
    const float bias = model.flat()[in * out + o];
    CHECK(bf16(zeros)[o] == bias);
    CHECK(int8(zeros)[o] == bias);
  }
  CHECK(bf16(x)[4] == model.flat()[in * out + 4]);
  CHECK(int8(x)[4] == model.flat()[in * out + 4]);
}

TEST_CASE("quantize: whole networks stay within each format's error bound") {
  using Classifier = sg::Sequential<sg::Dense<64, 128, sg::ReLU>, sg::Dense<128, 128, sg::ReLU>, sg::Dense<128, 10>>;
  using Block = sg::Residual<sg::Dense<32, 128, sg::GELU>, sg::Dense<128, 32>>;
  using Deep = sg::Sequential<sg::Dense<16, 32, sg::Tanh>, sg::Dense<32, 32, sg::Tanh>, sg::Dense<32, 32, sg::Tanh>,
                              sg::Dense<32, 4>>;
  const auto classifier = std::make_unique<sg::Model<Classifier, float>>(7);
  const sg::Model<Block, float> block{7};
  const sg::Model<Deep, float> deep{7};
  // Measured 0.5% (bf16) and 1.5% (int8) of the largest output on the classifier; the
  // bounds leave room for other seeds, not for another order of magnitude.
  CHECK(relative_error(*classifier, sg::quantize<sg::bf16>(*classifier)) < 0.01);
  CHECK(relative_error(*classifier, sg::quantize<sg::int8>(*classifier)) < 0.03);
  CHECK(relative_error(block, sg::quantize<sg::bf16>(block)) < 0.01);
  CHECK(relative_error(block, sg::quantize<sg::int8>(block)) < 0.03);
  CHECK(relative_error(deep, sg::quantize<sg::bf16>(deep)) < 0.02);
  CHECK(relative_error(deep, sg::quantize<sg::int8>(deep)) < 0.05);
  // And each is closer in bf16 than in int8, and not exact.
  const double bf16 = relative_error(*classifier, sg::quantize<sg::bf16>(*classifier));
  const double int8 = relative_error(*classifier, sg::quantize<sg::int8>(*classifier));
  CHECK(bf16 > 0);
  CHECK(bf16 < int8);
}

TEST_CASE("quantize: only Dense layers change, a GRU keeps its float weights and streams") {
  using Net = sg::Sequential<sg::Dense<2, 16, sg::Tanh>, sg::GRU<16, 16>, sg::Residual<sg::Dense<16, 16, sg::ReLU>>,
                             sg::Dense<16, 1>>;
  using Expected = sg::Sequential<sg::QuantizedDense<2, 16, sg::Tanh, sg::bf16>, sg::GRU<16, 16>,
                                  sg::Residual<sg::QuantizedDense<16, 16, sg::ReLU, sg::bf16>>,
                                  sg::QuantizedDense<16, 1, sg::Identity, sg::bf16>>;
  static_assert(std::is_same_v<sg::quantized_t<Net, sg::bf16>, Expected>);
  const sg::Model<Net, double> model{5};
  const auto quantized = sg::quantize<sg::bf16>(model);
  // The GRU's parameters, converted to float, are where they were.
  using Gru = sg::GRU<16, 16>;
  constexpr std::size_t from = Net::child_param_offset[1], to = Expected::child_param_offset[1];
  for (std::size_t i = 0; i < Gru::param_count; ++i)
    CHECK(quantized.flat()[to + i] == static_cast<float>(model.flat()[from + i]));
  sg::State<Net, double> exact_state;
  sg::State<Expected, float> state;
  double largest_error = 0;
  for (int step = 0; step < 50; ++step) {
    const std::array<double, 2> x{std::sin(0.3 * step), std::cos(0.7 * step)};
    const std::array<float, 2> xf{static_cast<float>(x[0]), static_cast<float>(x[1])};
    largest_error = std::max(largest_error, std::abs(model(x, exact_state)[0] - quantized(xf, state)[0]));
  }
  CHECK(largest_error > 0);
  CHECK(largest_error < 0.02);
}

TEST_CASE("quantize: a quantized model saves and loads bit for bit, under its own name") {
  using Net = sg::Sequential<sg::Dense<8, 24, sg::ReLU>, sg::Dense<24, 3>>;
  const sg::Model<Net, float> model{9};
  const auto quantized = sg::quantize<sg::int8>(model);
  const auto path = std::filesystem::temp_directory_path() / "staticgrad_quantize_test.sgrd";
  sg::save(quantized, path);
  sg::Model<sg::quantized_t<Net, sg::int8>, float> loaded;
  sg::load(loaded, path);
  CHECK(std::memcmp(loaded.flat().data(), quantized.flat().data(), sizeof(float) * loaded.param_count) == 0);
  sg::Model<sg::quantized_t<Net, sg::bf16>, float> other_format;
  CHECK_THROWS_WITH_AS(sg::load(other_format, path), doctest::Contains("QuantizedDense<8,24,ReLU,int8>"),
                       std::runtime_error);
  std::filesystem::remove(path);
  CHECK(sg::detail::spec_name<sg::quantized_t<Net, sg::bf16>>() ==
        "Sequential<QuantizedDense<8,24,ReLU,bf16>,QuantizedDense<24,3,Identity,bf16>>");
}

TEST_CASE("quantize: a network too large for the stack converts into a model on the heap") {
  using Wide = sg::Sequential<sg::Dense<512, 1024, sg::ReLU>, sg::Dense<1024, 4>>;  // 2 MiB of float weights
  const auto model = std::make_unique<sg::Model<Wide, float>>(1);
  const auto bf16 = std::make_unique<sg::Model<sg::quantized_t<Wide, sg::bf16>, float>>();
  const auto int8 = std::make_unique<sg::Model<sg::quantized_t<Wide, sg::int8>, float>>();
  sg::quantize<sg::bf16>(*model, *bf16);
  sg::quantize<sg::int8>(*model, *int8);
  CHECK(relative_error(*model, *bf16, 20) < 0.01);
  CHECK(relative_error(*model, *int8, 20) < 0.03);
}
