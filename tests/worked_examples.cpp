// The worked examples of the seed texts, number for number, at run time and at compile time.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

namespace {

// 1 input → 1 ReLU neuron → 1 output; squared error (MSE over one output is (ŷ − y)²).
using Tiny = sg::Sequential<sg::Dense<1, 1, sg::ReLU>, sg::Dense<1, 1>>;

constexpr sg::Model<Tiny, double> tiny_model(double w1, double b1, double w2, double b2) {
  sg::Model<Tiny, double> model{};
  model.layer<0>().weight(0, 0) = w1;
  model.layer<0>().bias(0) = b1;
  model.layer<1>().weight(0, 0) = w2;
  model.layer<1>().bias(0) = b2;
  return model;
}

constexpr std::array<double, 1> one(double v) { return {v}; }

// Seed 000 ("Backprop Primer"): x = 2, y = 5, w1 = 1.5, b1 = 0.5, w2 = 0.8, b2 = 0.1.
constexpr auto primer = sg::value_and_grad(tiny_model(1.5, 0.5, 0.8, 0.1), sg::MSE{}, one(2), one(5));

constexpr bool near(double a, double b) { return (a - b) * (a - b) < 1e-24; }

// Everything at compile time: the generated passes are constant expressions for
// piecewise-linear networks.
static_assert(near(tiny_model(1.5, 0.5, 0.8, 0.1)(one(2))[0], 2.9));
static_assert(near(primer.loss, 4.41));
static_assert(near(primer.grads.layer<1>().weight(0, 0), -14.70));
static_assert(near(primer.grads.layer<1>().bias(0), -4.20));
static_assert(near(primer.grads.layer<0>().weight(0, 0), -6.72));
static_assert(near(primer.grads.layer<0>().bias(0), -3.36));

// LeakyReLU and a batch, also at compile time: two samples on either side of the kink.
using Leaky = sg::Sequential<sg::Dense<1, 1, sg::LeakyReLU>, sg::Dense<1, 1>>;
constexpr auto leaky_batch() {
  sg::Model<Leaky, double> model{};
  model.layer<0>().weight(0, 0) = 1.0;
  model.layer<1>().weight(0, 0) = 2.0;
  const std::array<std::array<double, 1>, 2> xs{{{3.0}, {-1.0}}};
  const std::array<std::array<double, 1>, 2> ys{{{5.0}, {0.0}}};
  return sg::value_and_grad(model, sg::HalfSquaredError{}, xs, ys);
}
// Sample 1: ŷ = 2·3 = 6, ½(6 − 5)² = 0.5, ∂/∂w1 = (6 − 5)·2·1·3 = 6.
// Sample 2: ŷ = 2·(−0.01) = −0.02, ½(0.02)² = 0.0002, ∂/∂w1 = −0.02·2·0.01·(−1) = 0.0004.
static_assert(near(leaky_batch().loss, (0.5 + 0.0002) / 2));
static_assert(near(leaky_batch().grads.layer<0>().weight(0, 0), (6.0 + 0.0004) / 2));

}  // namespace

TEST_CASE("seed 000: forward and backward of the 1-1-1 ReLU network") {
  const auto model = tiny_model(1.5, 0.5, 0.8, 0.1);
  CHECK(model(one(2))[0] == doctest::Approx(2.9).epsilon(1e-15));
  const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, one(2), one(5));
  CHECK(loss == doctest::Approx(4.41).epsilon(1e-15));
  // The flat order: W1, b1, W2, b2.
  CHECK(grads.flat()[0] == doctest::Approx(-6.72).epsilon(1e-15));
  CHECK(grads.flat()[1] == doctest::Approx(-3.36).epsilon(1e-15));
  CHECK(grads.flat()[2] == doctest::Approx(-14.70).epsilon(1e-15));
  CHECK(grads.flat()[3] == doctest::Approx(-4.20).epsilon(1e-15));
}

TEST_CASE("seed 000: the same in float") {
  sg::Model<Tiny, float> model{};
  const std::array<float, 4> params{1.5f, 0.5f, 0.8f, 0.1f};
  std::copy(params.begin(), params.end(), model.flat().begin());
  const auto [loss, grads] =
      sg::value_and_grad(model, sg::MSE{}, std::array<float, 1>{2}, std::array<float, 1>{5});
  CHECK(loss == doctest::Approx(4.41).epsilon(1e-6));
  CHECK(grads.flat()[0] == doctest::Approx(-6.72).epsilon(1e-6));
  CHECK(grads.flat()[2] == doctest::Approx(-14.70).epsilon(1e-6));
}

TEST_CASE("seed 004 exercise: one gradient step on w1 lowers the loss") {
  // x = 2, w1 = 0.5, b1 = 0, w2 = 1.5, b2 = 0, y = 3.
  auto model = tiny_model(0.5, 0, 1.5, 0);
  const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, one(2), one(3));
  CHECK(loss == doctest::Approx(2.25).epsilon(1e-15));
  const double dw1 = grads.layer<0>().weight(0, 0);
  CHECK(dw1 == doctest::Approx(-9.0).epsilon(1e-15));

  model.layer<0>().weight(0, 0) -= 0.1 * dw1;  // learning rate 0.1, w1 alone
  CHECK(model.layer<0>().weight(0, 0) == doctest::Approx(1.4).epsilon(1e-15));
  const auto after = sg::value_and_grad(model, sg::MSE{}, one(2), one(3));
  CHECK(after.loss == doctest::Approx(1.44).epsilon(1e-12));  // (1.4·2·1.5 − 3)²
  CHECK(after.loss < loss);
}

TEST_CASE("seed 003: with softmax + cross-entropy the output delta is a − y") {
  // An Identity network passes the logits through, so the gradient of its bias is δ_L.
  using Logits = sg::Sequential<sg::Dense<3, 4>>;
  sg::Model<Logits, double> model{};
  const std::array<double, 4> z{0.3, -1.2, 2.0, 0.5};
  for (std::size_t o = 0; o < 4; ++o) model.layer<0>().bias(o) = z[o];

  double sum = 0;
  std::array<double, 4> a{};
  for (std::size_t o = 0; o < 4; ++o) sum += (a[o] = std::exp(z[o]));
  for (auto& v : a) v /= sum;

  const std::array<double, 3> x{0, 0, 0};
  SUBCASE("one-hot target as a class index") {
    const auto [loss, grads] = sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, x, std::size_t{2});
    CHECK(loss == doctest::Approx(-std::log(a[2])).epsilon(1e-14));
    for (std::size_t o = 0; o < 4; ++o)
      CHECK(grads.layer<0>().bias(o) == doctest::Approx(a[o] - (o == 2 ? 1.0 : 0.0)).epsilon(1e-14));
  }
  SUBCASE("the same one-hot target as a probability vector") {
    const std::array<double, 4> y{0, 0, 1, 0};
    const auto [loss, grads] = sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, x, y);
    CHECK(loss == doctest::Approx(-std::log(a[2])).epsilon(1e-14));
    for (std::size_t o = 0; o < 4; ++o)
      CHECK(grads.layer<0>().bias(o) == doctest::Approx(a[o] - y[o]).epsilon(1e-14));
  }
}
