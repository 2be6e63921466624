// Compile-time facts about shapes and types: building this file is the test.
#include <array>
#include <cstddef>
#include <type_traits>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

using Net = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Residual<sg::Dense<4, 4, sg::Tanh>>,
                           sg::Dense<4, 2>>;
static_assert(Net::in_size == 3 && Net::out_size == 2);
static_assert(sg::param_count<Net> == 16 + 20 + 10);
static_assert(sg::Layer<Net> && sg::Layer<sg::LayerNorm<4>> && sg::Layer<sg::Activation<sg::GELU, 4>>);
static_assert(!sg::Layer<int> && !sg::Layer<sg::ReLU>);
static_assert(sg::ActivationFunction<sg::SiLU> && !sg::ActivationFunction<sg::Dense<1, 1>>);

// Caches keep only what the backward pass needs.
static_assert(sg::Dense<3, 4, sg::Tanh>::cache_size == 0);   // φ' from the output
static_assert(sg::Dense<3, 4, sg::GELU>::cache_size == 4);   // φ' needs z
static_assert(sg::LayerNorm<4>::cache_size == 5);
// Layer 0 keeps its output; the residual keeps f(x) and its output; the last output is the
// caller's.
static_assert(Net::cache_size == 4 + (4 + 4) + 0);

// Inference returns a std::array of the output size.
static_assert(std::is_same_v<decltype(std::declval<sg::Model<Net, float>>()(std::array<float, 3>{})),
                             std::array<float, 2>>);

// A model is its parameters, aligned, and nothing else.
static_assert(sizeof(sg::Model<Net, double>) == 384 && alignof(sg::Model<Net, double>) == 64);
static_assert(std::is_trivially_copyable_v<sg::Model<Net, float>>);
