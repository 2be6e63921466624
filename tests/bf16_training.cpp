// Mixed-precision training: Bf16Training<Net> rounds each layer's outputs and input
// gradients to bfloat16 and nothing else; MixedPrecision<Optimizer> steps float master
// weights with the gradient at their bfloat16 values, exactly as the plain optimizer would,
// and leaves the model at their bfloat16 values; a network so trained learns.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ranges>
#include <type_traits>
#include <vector>

#include <staticgrad/io/safetensors.hpp>
#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

namespace {

using Net = sg::Sequential<sg::Dense<3, 16, sg::Tanh>, sg::Residual<sg::Dense<16, 16, sg::ReLU>>, sg::Dense<16, 2>>;
using Mixed = sg::Bf16Training<Net>;

// Whether x is a bfloat16 value (its low 16 bits zero).
bool is_bf16(float x) { return (std::bit_cast<std::uint32_t>(x) & 0xffffu) == 0; }

// x rounded to the nearest bfloat16, ties to even.
float bf16(float x) {
  const auto bits = std::bit_cast<std::uint32_t>(x);
  return std::bit_cast<float>((bits + 0x7fff + ((bits >> 16) & 1)) & 0xffff0000u);
}

std::vector<std::array<float, 3>> batch_inputs() {
  std::vector<std::array<float, 3>> xs(40);
  for (std::size_t s = 0; s < xs.size(); ++s)
    xs[s] = {static_cast<float>(s % 7) * 0.3f - 0.9f, static_cast<float>(s % 5) * 0.4f - 0.8f,
             static_cast<float>(s % 3) * 0.5f - 0.5f};
  return xs;
}
std::vector<std::array<float, 2>> batch_targets() {
  std::vector<std::array<float, 2>> ys(40);
  for (std::size_t s = 0; s < ys.size(); ++s)
    ys[s] = {static_cast<float>(s % 4) * 0.5f - 0.75f, static_cast<float>(s % 6) * 0.2f - 0.5f};
  return ys;
}

}  // namespace

TEST_CASE("mixed precision: Bf16Training rounds each layer's outputs, nothing else") {
  static_assert(std::is_same_v<Mixed, sg::Sequential<sg::RoundedToBf16<sg::Dense<3, 16, sg::Tanh>>,
                                                      sg::Residual<sg::RoundedToBf16<sg::Dense<16, 16, sg::ReLU>>>,
                                                      sg::RoundedToBf16<sg::Dense<16, 2>>>>);
  static_assert(std::is_same_v<sg::detail::without_rounding_t<Mixed>, Net>);
  static_assert(sg::Model<Mixed, float>::param_count == sg::Model<Net, float>::param_count);
  CHECK(sg::tensor_names<Mixed>() == sg::tensor_names<Net>());

  const sg::Model<Mixed, float> mixed{5};
  const sg::Model<Net, float> plain{5};
  REQUIRE(std::ranges::equal(mixed.flat(), plain.flat()));
  CHECK(mixed.layer<0>().weight(3, 1) == plain.layer<0>().weight(3, 1));  // looks through the rounding

  // Layer by layer, as the plain layers compute and then round
  sg::Model<sg::Dense<3, 16, sg::Tanh>, float> first;
  sg::Model<sg::Residual<sg::Dense<16, 16, sg::ReLU>>, float> middle;
  sg::Model<sg::Dense<16, 2>, float> last;
  std::ranges::copy(plain.flat().subspan(0, first.param_count), first.flat().begin());
  std::ranges::copy(plain.flat().subspan(first.param_count, middle.param_count), middle.flat().begin());
  std::ranges::copy(plain.flat().subspan(first.param_count + middle.param_count), last.flat().begin());
  for (const auto& x : batch_inputs()) {
    auto h = first(x);
    std::ranges::transform(h, h.begin(), bf16);
    // Only the Dense inside the residual rounds; its sum is the composite's own, in float
    auto branch = sg::Model<sg::Dense<16, 16, sg::ReLU>, float>{};
    std::ranges::copy(middle.flat(), branch.flat().begin());
    auto inner = branch(h);
    std::ranges::transform(inner, inner.begin(), bf16);
    std::array<float, 16> sum;
    for (std::size_t i = 0; i < 16; ++i) sum[i] = h[i] + inner[i];
    auto y = last(sum);
    std::ranges::transform(y, y.begin(), bf16);
    const auto got = mixed(x);
    CHECK(got == y);
    CHECK(std::ranges::all_of(got, is_bf16));
    // and the plain network's outputs are close but not these
    const auto exact = plain(x);
    for (std::size_t o = 0; o < 2; ++o) CHECK(std::abs(exact[o] - got[o]) <= 0.05f * (std::abs(exact[o]) + 0.1f));
  }
}

TEST_CASE("mixed precision: the input gradient is rounded, parameter gradients stay float sums") {
  const sg::Model<Mixed, float> mixed{5};
  const sg::Model<Net, float> plain{5};
  const auto xs = batch_inputs();
  const auto ys = batch_targets();
  const auto dx = sg::input_grad(mixed, sg::MSE{}, xs[3], ys[3]);
  CHECK(std::ranges::all_of(dx.dx, is_bf16));
  const auto a = sg::value_and_grad(mixed, sg::MSE{}, xs, ys);
  const auto b = sg::value_and_grad(plain, sg::MSE{}, xs, ys);
  CHECK(!std::ranges::all_of(a.grads.flat(), is_bf16));
  CHECK(!std::ranges::equal(a.grads.flat(), b.grads.flat()));
  // Close to the plain gradient: 8-bit activations, float sums
  double norm = 0, error = 0;
  for (std::size_t i = 0; i < a.grads.flat().size(); ++i) {
    norm += double(b.grads.flat()[i]) * b.grads.flat()[i];
    error += (double(a.grads.flat()[i]) - b.grads.flat()[i]) * (double(a.grads.flat()[i]) - b.grads.flat()[i]);
  }
  CHECK(std::sqrt(error / norm) < 0.02);
  CHECK(std::sqrt(error / norm) > 1e-5);
}

TEST_CASE("mixed precision: float master weights, stepped as the plain optimizer steps them") {
  const auto xs = batch_inputs();
  const auto ys = batch_targets();
  auto model = std::make_unique<sg::Model<Mixed, float>>(9);
  const sg::Model<Mixed, float> start = *model;
  sg::MixedPrecision<sg::Adam<Mixed, float>> adam{*model, {.lr = 0.01}};
  CHECK(std::ranges::equal(adam.master().flat(), start.flat()));
  CHECK(std::ranges::all_of(model->flat(), is_bf16));

  // The same updates by hand: a plain Adam on a float copy of the master weights, fed the
  // gradient at their rounded values
  auto reference = std::make_unique<sg::Model<Mixed, float>>(start);
  sg::Adam<Mixed, float> plain_adam{{.lr = 0.01}};
  auto grads = std::make_unique<sg::Gradients<Mixed, float>>();
  for (int step = 0; step < 20; ++step) {
    sg::Model<Mixed, float> rounded = *reference;
    std::ranges::transform(rounded.flat(), rounded.flat().begin(), bf16);
    REQUIRE(std::ranges::equal(rounded.flat(), model->flat()));
    const float expected = sg::value_and_grad(rounded, sg::MSE{}, xs, ys, *grads);
    plain_adam.step(*reference, *grads);
    // train_step (fused, layer by layer) and value_and_grad + step give the same
    if (step % 2 == 0) {
      CHECK(sg::train_step(*model, adam, sg::MSE{}, xs, ys, *grads) == expected);
    } else {
      CHECK(sg::value_and_grad(*model, sg::MSE{}, xs, ys, *grads) == expected);
      adam.step(*model, *grads);
    }
    REQUIRE(std::ranges::equal(adam.master().flat(), reference->flat()));
  }
  CHECK(std::ranges::all_of(model->flat(), is_bf16));
  CHECK(!std::ranges::all_of(adam.master().flat(), is_bf16));
  const sg::Model<Net, float> trained = adam.float_model();
  CHECK(std::ranges::equal(trained.flat(), adam.master().flat()));
}

TEST_CASE("mixed precision: steps too small for bfloat16 add up in the master weights") {
  // One weight, one input: the gradient step 1e-4 is below half a bfloat16 spacing at 1
  // (2^-8), so a bfloat16 weight would never move; the master weight does.
  using One = sg::Dense<1, 1>;
  using MixedOne = sg::Bf16Training<One>;
  sg::Model<MixedOne, float> model{std::array<float, 2>{1.0f, 0.0f}};
  sg::MixedPrecision<sg::SGD<MixedOne, float>> sgd{model, {.lr = 1e-4}};
  const std::array<float, 1> x{1}, target{0};  // ½-less MSE: gradient 2(w − 0) ≈ 2 → step 2e-4
  auto grads = std::make_unique<sg::Gradients<MixedOne, float>>();
  for (int step = 0; step < 100; ++step) sg::train_step(model, sgd, sg::MSE{}, x, target, *grads);
  CHECK(model.flat()[0] < 1.0f);                       // enough small steps to cross a spacing
  CHECK(sgd.master().flat()[0] < 0.985f);
  CHECK(sgd.master().flat()[0] > 0.975f);
}

TEST_CASE("mixed precision: a network trained in bfloat16 learns") {
  const auto xs = batch_inputs();
  const auto ys = batch_targets();
  auto mixed = std::make_unique<sg::Model<Mixed, float>>(3);
  auto plain = std::make_unique<sg::Model<Net, float>>(3);
  sg::MixedPrecision<sg::Adam<Mixed, float>> mixed_adam{*mixed, {.lr = 0.01}};
  sg::Adam<Net, float> plain_adam{{.lr = 0.01}};
  const float first = sg::value_and_grad(*plain, sg::MSE{}, xs, ys).loss;
  sg::fit(*mixed, mixed_adam, sg::MSE{}, xs, ys, {.epochs = 200, .batch_size = 8, .seed = 1});
  sg::fit(*plain, plain_adam, sg::MSE{}, xs, ys, {.epochs = 200, .batch_size = 8, .seed = 1});
  const float mixed_loss = sg::value_and_grad(mixed_adam.float_model(), sg::MSE{}, xs, ys).loss;
  const float plain_loss = sg::value_and_grad(*plain, sg::MSE{}, xs, ys).loss;
  CAPTURE(first);
  CAPTURE(plain_loss);
  CHECK(mixed_loss < first / 5);
  CHECK(mixed_loss < 2 * plain_loss + 1e-3f);
}
