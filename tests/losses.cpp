// Losses: values against their formulas, stability of the fused losses at ±1000, and the
// targets of a network with one output given as plain numbers.
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

namespace {
template <class Loss, class T, std::size_t N, class Target>
T evaluate(const std::array<T, N>& prediction, const Target& target, std::array<T, N>& grad) {
  if constexpr (std::is_integral_v<Target>)
    return Loss{}.template value_and_grad<T, N>(prediction, target, grad);
  else
    return Loss{}.template value_and_grad<T, N>(prediction, std::span<const T, N>(target), grad);
}

template <class T, std::size_t N>
bool all_finite(const std::array<T, N>& v) {
  for (T e : v)
    if (!std::isfinite(e)) return false;
  return true;
}
}  // namespace

TEST_CASE("losses: values and gradients against their formulas") {
  const std::array<double, 3> p{1.0, -2.0, 0.5};
  const std::array<double, 3> y{0.0, 1.0, 0.5};
  std::array<double, 3> g{};
  CHECK(evaluate<sg::MSE>(p, y, g) == doctest::Approx((1.0 + 9.0 + 0.0) / 3));
  CHECK(g[1] == doctest::Approx(2.0 * -3.0 / 3));
  CHECK(evaluate<sg::HalfSquaredError>(p, y, g) == doctest::Approx(5.0));
  CHECK(g[1] == doctest::Approx(-3.0));

  const std::array<double, 3> t{1.0, 0.0, 0.25};
  const double bce = evaluate<sg::BCEWithLogits>(p, t, g);
  double expected = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const double s = 1 / (1 + std::exp(-p[i]));
    expected -= t[i] * std::log(s) + (1 - t[i]) * std::log(1 - s);
    CHECK(g[i] == doctest::Approx((s - t[i]) / 3));
  }
  CHECK(bce == doctest::Approx(expected / 3));
}

TEST_CASE_TEMPLATE("losses: the fused losses stay finite for logits of ±1000", T, float, double) {
  const std::array<T, 3> logits{T(1000), T(-1000), T(0)};
  std::array<T, 3> g{};
  SUBCASE("softmax cross-entropy, class index") {
    const T wrong = evaluate<sg::SoftmaxCrossEntropy>(logits, std::size_t{1}, g);
    CHECK(wrong == doctest::Approx(2000.0));
    CHECK(all_finite(g));
    CHECK(g[0] == doctest::Approx(1.0));
    CHECK(g[1] == doctest::Approx(-1.0));
    CHECK(evaluate<sg::SoftmaxCrossEntropy>(logits, std::size_t{0}, g) == doctest::Approx(0.0));
  }
  SUBCASE("softmax cross-entropy, probability target") {
    const std::array<T, 3> target{T(0.5), T(0.5), T(0)};
    CHECK(evaluate<sg::SoftmaxCrossEntropy>(logits, target, g) == doctest::Approx(1000.0));
    CHECK(all_finite(g));
  }
  SUBCASE("binary cross-entropy with logits") {
    const std::array<T, 3> target{T(0), T(1), T(1)};
    CHECK(evaluate<sg::BCEWithLogits>(logits, target, g) ==
          doctest::Approx((1000.0 + 1000.0 + std::log(2.0)) / 3));
    CHECK(all_finite(g));
    CHECK(g[0] == doctest::Approx(1.0 / 3));
  }
}

TEST_CASE("losses: a class index past the last output is refused") {
  const std::array<double, 3> logits{};
  std::array<double, 3> g{};
  // Not a constant: with index 3 folded in, g++ -O3 warns of the access that the throw
  // before it prevents (a -Warray-bounds false positive).
  volatile std::size_t past_last = 3;
  CHECK_THROWS_WITH_AS(evaluate<sg::SoftmaxCrossEntropy>(logits, std::size_t{past_last}, g),
                       "staticgrad::SoftmaxCrossEntropy: class index 3 is not below the 3 outputs",
                       std::out_of_range);
}

TEST_CASE("losses: a network with one output takes its targets as numbers, as it takes arrays of one") {
  using Net = sg::Sequential<sg::Dense<2, 5, sg::Tanh>, sg::Dense<5, 1>>;
  const std::vector<std::array<float, 2>> xs{{0.5f, -1}, {1, 0.25f}, {-0.75f, 0.5f}};
  const std::vector<float> numbers{0.25f, -0.5f, 1};
  const std::vector<std::array<float, 1>> arrays{{0.25f}, {-0.5f}, {1}};
  const sg::Model<Net, float> model{3};
  const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, xs, numbers);
  const auto [array_loss, array_grads] = sg::value_and_grad(model, sg::MSE{}, xs, arrays);
  CHECK(loss == array_loss);
  CHECK(grads.flat()[0] == array_grads.flat()[0]);
  CHECK(sg::value_and_grad(model, sg::MSE{}, xs[1], numbers[1]).loss ==
        sg::value_and_grad(model, sg::MSE{}, xs[1], arrays[1]).loss);
  // fit, the tape and train_step take them too.
  sg::Model<Net, float> fitted{3}, with_arrays{3};
  sg::SGD<Net, float> sgd{{.lr = 0.1}}, sgd_arrays{{.lr = 0.1}};
  const auto history = sg::fit(fitted, sgd, sg::MSE{}, xs, numbers, {.epochs = 3, .batch_size = 2});
  const auto array_history = sg::fit(with_arrays, sgd_arrays, sg::MSE{}, xs, arrays, {.epochs = 3, .batch_size = 2});
  CHECK(history == array_history);
  CHECK(sg::tape::value_and_grad(model, sg::MSE{}, xs, numbers).loss == doctest::Approx(loss));
}
