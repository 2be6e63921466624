// input_grad: ∂loss/∂x in both engines against central differences, through every kind of
// layer on the way (a norm, a residual block, a Frozen layer, branches), without
// allocating.
#include <array>
#include <cstddef>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

#include "../examples/count_allocations.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {

using Net = sg::Sequential<sg::LayerNorm<4>, sg::Dense<4, 6, sg::GELU>, sg::Residual<sg::Dense<6, 6, sg::Tanh>>,
                           sg::Frozen<sg::Dense<6, 6, sg::SiLU>>,
                           sg::Concat<sg::Dense<6, 2, sg::Sigmoid>, sg::Sequential<sg::PReLU<6>, sg::Dense<6, 1>>>>;

}  // namespace

TEST_CASE("input_grad: the gradient with respect to the input, both engines, against central differences") {
  const sg::Model<Net, double> model{6};
  sg::init::Rng rng(8);
  const auto x = sgtest::random_vector<double, 4>(rng);
  const std::size_t label = 2;
  const auto generated = sg::input_grad(model, sg::SoftmaxCrossEntropy{}, x, label);
  const auto taped = sg::tape::input_grad(model, sg::SoftmaxCrossEntropy{}, x, label);
  CHECK(generated.loss == sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, x, label).loss);
  CHECK(sgtest::relative_error(generated.loss, taped.loss, 1e-12) < 1e-12);
  const double h = 1e-6;
  for (std::size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    auto up = x, down = x;
    up[i] += h;
    down[i] -= h;
    const double central = (sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, up, label).loss -
                            sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, down, label).loss) /
                           (2 * h);
    CHECK(generated.dx[i] != 0.0);
    CHECK(sgtest::relative_error(generated.dx[i], central, 1e-8) < 1e-6);
    CHECK(sgtest::relative_error(generated.dx[i], taped.dx[i], 1e-12) < 1e-12);
  }
  const std::size_t before = allocations;
  const auto again = sg::input_grad(model, sg::SoftmaxCrossEntropy{}, x, label);
  CHECK(allocations == before);
  CHECK(again.dx == generated.dx);
}

TEST_CASE("input_grad: float, a vector target") {
  const sg::Model<Net, float> model{6};
  sg::init::Rng rng(9);
  const auto x = sgtest::random_vector<float, 4>(rng);
  const std::array<float, 3> target{0.5f, -1.0f, 2.0f};
  const auto generated = sg::input_grad(model, sg::MSE{}, x, target);
  const auto taped = sg::tape::input_grad(model, sg::MSE{}, x, target);
  for (std::size_t i = 0; i < 4; ++i) CHECK(generated.dx[i] == doctest::Approx(taped.dx[i]).epsilon(1e-5));
}
