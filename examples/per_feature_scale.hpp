// A layer of one's own: y_i = g_i · x_i + b_i, a gain and a bias per feature (as
// PyTorch's nn.LayerNorm's affine part, without the normalization). Everything staticgrad
// does with a layer goes through the members below (staticgrad::Layer, core/concepts.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include <staticgrad/staticgrad.hpp>

template <std::size_t N>
struct PerFeatureScale {
  // Sizes: N in, N out, 2N parameters (gains, then biases), nothing kept for backward
  // (it reads its input, which the caller keeps).
  static constexpr std::size_t in_size = N, out_size = N, param_count = 2 * N, cache_size = 0;
  static constexpr std::size_t flops = 2 * N;
  // How files and summaries spell it: "PerFeatureScale<8>".
  static constexpr auto name() { return staticgrad::layer_name<"PerFeatureScale", N>(); }
  // Its parameters as PyTorch tensors, for safetensors: "weight" [N] and "bias" [N].
  static constexpr std::array tensors{staticgrad::vector_tensor("weight", N, 0), staticgrad::vector_tensor("bias", N, N)};

  template <class T>
  static constexpr void infer(std::span<const T, param_count> p, std::span<const T, N> x, std::span<T, N> y) {
    for (std::size_t i = 0; i < N; ++i) y[i] = p[i] * x[i] + p[N + i];
  }
  template <class T>
  static constexpr void forward(std::span<const T, param_count> p, std::span<T, cache_size>, std::span<const T, N> x,
                                std::span<T, N> y) {
    infer<T>(p, x, y);
  }
  // ∂L/∂g_i = dy_i · x_i, ∂L/∂b_i = dy_i, ∂L/∂x_i = dy_i · g_i; Mode says which to compute
  // and whether to add into dp (a batch) or overwrite it.
  template <staticgrad::BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count> p, std::span<const T, cache_size>,
                                 std::span<const T, N> x, std::span<const T, N>, std::span<const T, N> dy,
                                 std::span<T, param_count> dp, std::span<T, N> dx) {
    for (std::size_t i = 0; i < N; ++i) {
      if constexpr (Mode.param_grad) {
        dp[i] = (Mode.accumulate ? dp[i] : T{0}) + dy[i] * x[i];
        dp[N + i] = (Mode.accumulate ? dp[N + i] : T{0}) + dy[i];
      }
      if constexpr (Mode.input_grad) dx[i] = dy[i] * p[i];
    }
  }
  // Gains 1 and biases 0, whatever the scheme: it starts as the identity.
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> p, staticgrad::init::Rng&, const Scheme&) {
    for (std::size_t i = 0; i < N; ++i) {
      p[i] = T{1};
      p[N + i] = T{0};
    }
  }
  // The same map from the dynamic tape's operations (staticgrad::tape).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return r.parameter(0, N) * x + r.parameter(N, N);
  }
};
