// What the embed example's two programs share: the network type (the contract between the
// training program and the deployed one; a saved file only loads into the same type) and
// the effect it learns.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

#include <staticgrad/staticgrad.hpp>

namespace embed {

/// The last four input samples in, one output sample out.
using Net = staticgrad::Sequential<staticgrad::Dense<4, 16, staticgrad::Tanh>, staticgrad::Dense<16, 16, staticgrad::Tanh>,
                                   staticgrad::Dense<16, 1>>;

inline constexpr double sample_rate = 48000;

/// The effect to imitate: a warm saturator with a little memory (a short low-pass before
/// tanh clipping), as an analog stage would have. x[0] is the newest sample.
inline float saturator(const std::array<float, 4>& x) {
  const float filtered = 0.55f * x[0] + 0.3f * x[1] + 0.1f * x[2] + 0.05f * x[3];
  return 0.8f * std::tanh(2.5f * filtered);
}

/// Shifts a new sample into the history, newest first.
inline void push(std::array<float, 4>& history, float sample) {
  for (std::size_t i = history.size() - 1; i > 0; --i) history[i] = history[i - 1];
  history[0] = sample;
}

}  // namespace embed
