/// @file How a layer declares its parameter tensors as PyTorch holds them: a name within
/// the layer's module, a shape, and where each value sits in the layer's slice of the flat
/// array. Formats that speak PyTorch's language (safetensors) read only this, so a layer
/// with parameters declares `static constexpr std::array tensors{…}` covering each of its
/// parameters exactly once.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <boost/mp11/algorithm.hpp>

namespace staticgrad {

/// One parameter tensor of a layer. Its value at index [i0, i1, …] of PyTorch's shape
/// (row-major in a file) is the layer's parameter `offset + Σ i_d · strides[d]`.
struct TensorLayout {
  static constexpr std::size_t max_rank = 4;
  std::string_view name;  ///< within the layer's module: "weight", "lora_A.weight"
  std::size_t rank = 1;
  std::array<std::size_t, max_rank> shape{};
  std::array<std::size_t, max_rank> strides{};
  std::size_t offset = 0;  ///< of its first value in the layer's parameters

  /// How many values it holds.
  constexpr std::size_t size() const {
    std::size_t count = 1;
    for (std::size_t d = 0; d < rank; ++d) count *= shape[d];
    return count;
  }

  /// Where its k-th value in row-major order sits in the layer's parameters.
  constexpr std::size_t index(std::size_t k) const {
    std::size_t at = offset;
    for (std::size_t d = rank; d-- > 0;) {
      at += (k % shape[d]) * strides[d];
      k /= shape[d];
    }
    return at;
  }
};

/// A vector of n values, stored as they are from `offset` on.
constexpr TensorLayout vector_tensor(std::string_view name, std::size_t n, std::size_t offset) {
  return {.name = name, .rank = 1, .shape = {n}, .strides = {1}, .offset = offset};
}

/// A matrix of PyTorch's shape [rows, cols] stored transposed, [cols][rows], from `offset`
/// on: as Dense stores nn.Linear's [Out, In] weight input-major.
constexpr TensorLayout transposed_matrix_tensor(std::string_view name, std::size_t rows, std::size_t cols,
                                                std::size_t offset) {
  return {.name = name, .rank = 2, .shape = {rows, cols}, .strides = {1, rows}, .offset = offset};
}

namespace detail {

/// How many indices of an nn.Sequential layer L takes in PyTorch: its `torch_modules` (a
/// Dense with an activation is two modules), else 1.
template <class L>
constexpr std::size_t torch_modules() {
  if constexpr (requires { L::torch_modules; }) return L::torch_modules;
  else return 1;
}

/// Whether L numbers its own layers as an nn.Sequential does (Sequential, Residual).
template <class L>
constexpr bool torch_sequential() {
  if constexpr (requires { L::torch_sequential; }) return L::torch_sequential;
  else return false;
}

/// "k.": the module index of child I of a chain that PyTorch holds as an nn.Sequential.
template <class Children, std::size_t I>
std::string sequential_torch_prefix() {
  std::size_t index = 0;
  boost::mp11::mp_for_each<boost::mp11::mp_take_c<Children, I>>([&]<class C>(C) { index += torch_modules<C>(); });
  return std::to_string(index) + ".";
}

}  // namespace detail

}  // namespace staticgrad
