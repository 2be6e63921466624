/// @file Defines staticgrad::Slice<Begin, Count, N>: part of the input, as a layer. With
/// branches (Concat, Sum, Product) it lets a network treat parts of its input apart:
/// condition on knob values that follow the audio, as FiLM does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// y = x[Begin, Begin + Count) of an input of N values, as a layer without parameters.
///
///     // [audio, gain]: y = γ(gain) ⊙ audio + β(gain)
///     using FiLM = sg::Sum<sg::Product<sg::Slice<0, 1, 2>, sg::Sequential<sg::Slice<1, 1, 2>, sg::Dense<1, 1>>>,
///                          sg::Sequential<sg::Slice<1, 1, 2>, sg::Dense<1, 1>>>;
/// @tparam Begin the first input kept
/// @tparam Count how many are kept
/// @tparam N     the number of inputs
template <std::size_t Begin, std::size_t Count, std::size_t N>
struct Slice {
  // Instantiating the check reports a part outside the input; see detail/checks.hpp.
  static_assert(sizeof(detail::check_slice_range<Begin, Count, N>) > 0);
  /// False when the part is not within the input (the error names it).
  static constexpr bool valid = Count > 0 && Begin + Count <= N;
  static constexpr std::size_t in_size = N;
  static constexpr std::size_t out_size = Count;
  static constexpr std::size_t param_count = 0;
  static constexpr std::size_t cache_size = 0;
  static constexpr std::size_t flops = 0;

  static constexpr auto name() { return layer_name<"Slice", Begin, Count, N>(); }

  template <class T>
  static constexpr void infer(std::span<const T, 0>, std::span<const T, N> x, std::span<T, Count> y) {
    std::copy_n(x.begin() + Begin, Count, y.begin());
  }
  template <class T>
  static constexpr void forward(std::span<const T, 0> params, std::span<T, 0>, std::span<const T, N> x,
                                std::span<T, Count> y) {
    infer<T>(params, x, y);
  }
  /// ∂L/∂x is ∂L/∂y on the part, zero elsewhere.
  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, 0>, std::span<const T, 0>, std::span<const T, N>,
                                 std::span<const T, Count>, std::span<const T, Count> dy, std::span<T, 0>,
                                 std::span<T, N> dx) {
    if constexpr (Mode.input_grad) {
      std::fill(dx.begin(), dx.end(), T{0});
      std::copy(dy.begin(), dy.end(), dx.begin() + Begin);
    }
  }

  template <class T, class Scheme>
  static void initialize(std::span<T, 0>, init::Rng&, const Scheme&) {}

  /// On the dynamic tape (tape/network.hpp).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return r.slice(x, Begin, Count);
  }
};

}  // namespace staticgrad
