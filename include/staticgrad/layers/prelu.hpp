/// @file Defines staticgrad::PReLU<N>: a ReLU whose slope for negative inputs is learned,
/// one per feature.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// y_i = x_i for x_i > 0, else a_i · x_i, as torch.nn.PReLU(N): one learnable slope per
/// feature, 0.25 at init (whatever the scheme, as PyTorch's default). At x_i = 0 the input
/// gradient is a_i, as PyTorch's. Parameters, in the flat order: the slopes a[N]
/// (PyTorch's `weight`).
/// @tparam N the number of inputs and outputs
template <std::size_t N>
struct PReLU {
  static_assert(N > 0, "staticgrad::PReLU: N must be positive");

  static constexpr std::size_t in_size = N;
  static constexpr std::size_t out_size = N;
  static constexpr std::size_t param_count = N;
  static constexpr std::size_t cache_size = 0;  // the input, kept by the caller, says which side
  /// A comparison and a multiply per value.
  static constexpr std::size_t flops = 2 * N;
  static constexpr double initial_slope = 0.25;

  static constexpr auto name() { return layer_name<"PReLU", N>(); }
  static constexpr std::array tensors{vector_tensor("weight", N, 0)};

  template <class T>
  static constexpr void infer(std::span<const T, N> slopes, std::span<const T, N> x, std::span<T, N> y) {
    for (std::size_t i = 0; i < N; ++i) y[i] = x[i] > T{0} ? x[i] : slopes[i] * x[i];
  }

  template <class T>
  static constexpr void forward(std::span<const T, N> slopes, std::span<T, 0>, std::span<const T, N> x,
                                std::span<T, N> y) {
    infer<T>(slopes, x, y);
  }

  /// ∂y_i/∂a_i = x_i where x_i ≤ 0 (else 0); ∂y_i/∂x_i = 1 where x_i > 0, else a_i.
  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, N> slopes, std::span<const T, 0>, std::span<const T, N> x,
                                 std::span<const T, N>, std::span<const T, N> dy, std::span<T, N> dslopes,
                                 std::span<T, N> dx) {
    for (std::size_t i = 0; i < N; ++i) {
      const bool positive = x[i] > T{0};
      if constexpr (Mode.param_grad) {
        const T d = positive ? T{0} : x[i] * dy[i];
        dslopes[i] = Mode.accumulate ? dslopes[i] + d : d;
      }
      if constexpr (Mode.input_grad) dx[i] = positive ? dy[i] : slopes[i] * dy[i];
    }
  }

  template <class T, class Scheme>
  static void initialize(std::span<T, N> slopes, init::Rng&, const Scheme&) {
    for (auto& a : slopes) a = static_cast<T>(initial_slope);
  }

  /// On the dynamic tape (tape/network.hpp): relu(x) + a ⊙ (x − relu(x)), whose gradients
  /// at 0 are PyTorch's (relu' is 0 there).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    const auto positive = r.template activation<ReLU>(x);
    return positive + r.parameter(0, N) * (x - positive);
  }
};

/// PReLU parameters by name: `slope(i)`, nn.PReLU.weight[i].
template <std::size_t N, class T>
class LayerView<PReLU<N>, T> : public detail::view_base<PReLU<N>, T> {
 public:
  using detail::view_base<PReLU<N>, T>::view_base;
  constexpr T& slope(std::size_t i) const { return this->params_[i]; }
};

}  // namespace staticgrad
