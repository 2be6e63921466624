// What the emit_header test trains, and the inputs it compares on.
#pragma once

#include <array>

#include <staticgrad/staticgrad.hpp>

namespace emitted {
// ReLU only: the baked model can also be evaluated at compile time.
using Net = staticgrad::Sequential<staticgrad::Dense<2, 16, staticgrad::ReLU>,
                                   staticgrad::Dense<16, 16, staticgrad::LeakyReLU>, staticgrad::Dense<16, 2>>;
inline constexpr std::array<std::array<float, 2>, 4> probes{{{0.5f, -0.25f}, {1.f, 2.f}, {-1.5f, 0.f}, {0.f, 0.f}}};
}  // namespace emitted
