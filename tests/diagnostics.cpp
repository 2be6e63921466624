// Gradient diagnostics: per-layer norms follow the flat order through nested composites.
#include <array>
#include <cmath>
#include <cstddef>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

TEST_CASE("grad_norms: one L2 norm per layer that owns parameters, input side first") {
  using Net = sg::Sequential<sg::LayerNorm<2>, sg::Activation<sg::ReLU, 2>,
                             sg::Residual<sg::Dense<2, 2, sg::Tanh>, sg::RMSNorm<2>>, sg::Dense<2, 1>>;
  static_assert(sg::parameter_layer_count<Net> == 4);  // LayerNorm, Dense, RMSNorm, Dense
  static_assert(sg::parameter_layer_sizes<Net> == std::array<std::size_t, 4>{4, 6, 2, 3});
  sg::Gradients<Net, double> grads;
  auto flat = grads.flat();
  for (std::size_t i = 0; i < flat.size(); ++i) flat[i] = 1.0;
  const auto norms = sg::grad_norms(grads);
  CHECK(norms[0] == doctest::Approx(std::sqrt(4.0)));  // LayerNorm: gain 2 + bias 2
  CHECK(norms[1] == doctest::Approx(std::sqrt(6.0)));  // Dense<2,2>: 4 + 2
  CHECK(norms[2] == doctest::Approx(std::sqrt(2.0)));  // RMSNorm<2>
  CHECK(norms[3] == doctest::Approx(std::sqrt(3.0)));  // Dense<2,1>
  CHECK(sg::global_norm(grads) == doctest::Approx(std::sqrt(15.0)));
}
