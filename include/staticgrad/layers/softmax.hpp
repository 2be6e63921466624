/// @file Defines staticgrad::Softmax<N>, a network's output as probabilities.
#pragma once

#include <cstddef>
#include <span>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/detail/math.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// y = e^x / Σ e^x over the N values (torch.nn.Softmax(dim=-1)), computed from x − max(x)
/// so that no exponential overflows. For training a classifier, SoftmaxCrossEntropy on the
/// logits is the better choice (one log-sum-exp instead of log(softmax), exact where the
/// probabilities round to 0); this layer is for networks whose output must be probabilities.
template <std::size_t N>
struct Softmax {
  static_assert(N > 0, "staticgrad::Softmax: N must be positive");
  static constexpr std::size_t in_size = N;
  static constexpr std::size_t out_size = N;
  static constexpr std::size_t param_count = 0;
  static constexpr std::size_t cache_size = 0;  // the backward pass needs only y
  static constexpr std::size_t flops = 4 * N;

  static constexpr auto name() { return layer_name<"Softmax", N>(); }

  template <class T>
  static void infer(std::span<const T, 0>, std::span<const T, N> x, std::span<T, N> y) {
    detail::softmax(x.data(), y.data(), N);
  }

  template <class T>
  static void forward(std::span<const T, 0> params, std::span<T, 0>, std::span<const T, N> x, std::span<T, N> y) {
    infer<T>(params, x, y);
  }

  template <BackwardMode Mode, class T>
  static void backward(std::span<const T, 0>, std::span<const T, 0>, std::span<const T, N>,
                       std::span<const T, N> y, std::span<const T, N> dy, std::span<T, 0>, std::span<T, N> dx) {
    if constexpr (Mode.input_grad) detail::softmax_input_grad<false>(y.data(), dy.data(), N, dx.data());
  }

  template <class T, class Scheme>
  static void initialize(std::span<T, 0>, init::Rng&, const Scheme&) {}

  /// On the dynamic tape (tape/network.hpp).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return r.softmax(x);
  }
};

}  // namespace staticgrad
