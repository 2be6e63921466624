/// @file Defines the gradient diagnostics staticgrad::grad_norms,
/// staticgrad::parameter_layer_count, staticgrad::parameter_layer_sizes and
/// staticgrad::global_norm.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

/// How many layers of Net own parameters (the length of grad_norms' result).
template <class Net>
inline constexpr std::size_t parameter_layer_count = detail::parameter_layers<Net>().size();

/// How many parameters each parameterized layer owns, in grad_norms' order (divide a norm
/// by the square root to compare layers of different sizes).
template <class Net>
inline constexpr std::array<std::size_t, parameter_layer_count<Net>> parameter_layer_sizes = [] {
  std::array<std::size_t, parameter_layer_count<Net>> sizes{};
  for (std::size_t l = 0; l < sizes.size(); ++l) sizes[l] = detail::parameter_layers<Net>()[l].size;
  return sizes;
}();

/// The L2 norm of each parameterized layer's gradient, input side first: the vanishing /
/// exploding-gradient view of a network.
template <class Net, class T>
std::array<T, parameter_layer_count<Net>> grad_norms(const Gradients<Net, T>& grads) {
  constexpr auto layers = detail::parameter_layers<Net>();
  std::array<T, parameter_layer_count<Net>> norms{};
  for (std::size_t l = 0; l < layers.size(); ++l) {
    T sum{};
    for (std::size_t i = 0; i < layers[l].size; ++i) {
      const T g = grads.flat()[layers[l].offset + i];
      sum += g * g;
    }
    norms[l] = std::sqrt(sum);
  }
  return norms;
}

/// The L2 norm of all gradients together.
template <class Net, class T>
T global_norm(const Gradients<Net, T>& grads) {
  T sum{};
  for (T g : grads.flat()) sum += g * g;
  return std::sqrt(sum);
}

}  // namespace staticgrad
