/// @file Defines staticgrad::LayerNorm<N> and staticgrad::RMSNorm<N>.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <span>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/kernels.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/detail/math.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

namespace detail {

// Inference for a layer whose cache is small: its forward pass into a scratch cache.
template <class T, std::size_t N, std::size_t CacheSize, class Params, class Forward>
void infer_by_forward(Params params, std::span<const T, N> x, std::span<T, N> y,
                      Forward forward) {
  std::array<T, CacheSize> cache;
  forward(params, cache, x, y);
}
}  // namespace detail

/// y = (x − mean(x)) / sqrt(var(x) + ε) · gain + bias, over the N inputs
/// (torch.nn.LayerNorm(N): biased variance, ε = 1e-5, gain 1 and bias 0 at init).
/// Parameters, in the flat order: gain[N], then bias[N].
/// @tparam N the number of inputs and outputs
template <std::size_t N>
struct LayerNorm {
  static_assert(N > 0, "staticgrad::LayerNorm: N must be positive");

  static constexpr double epsilon = 1e-5;
  static constexpr std::size_t in_size = N;
  static constexpr std::size_t out_size = N;
  static constexpr std::size_t param_count = 2 * N;
  static constexpr std::size_t cache_size = N + 1;  // x̂, then 1/σ
  /// mean, centring, variance, scale, gain and bias: about 8 operations per element.
  static constexpr std::size_t flops = 8 * N;

  static constexpr auto name() { return layer_name<"LayerNorm", N>(); }
  /// nn.LayerNorm's weight (the gain) and bias.
  static constexpr std::array tensors{vector_tensor("weight", N, 0), vector_tensor("bias", N, N)};

  template <class T>
  static void infer(std::span<const T, param_count> params, std::span<const T, N> x,
                    std::span<T, N> y) {
    detail::infer_by_forward<T, N, cache_size>(params, x, y, forward<T>);
  }

  template <class T>
  static void forward(std::span<const T, param_count> params, std::span<T, cache_size> cache,
                      std::span<const T, N> x, std::span<T, N> y) {
    detail::layer_norm_forward(x.data(), params.data(), params.data() + N, N,
                               static_cast<T>(epsilon), y.data(), cache.data());
  }

  template <BackwardMode Mode, class T>
  static void backward(std::span<const T, param_count> params,
                       std::span<const T, cache_size> cache, std::span<const T, N>,
                       std::span<const T, N>, std::span<const T, N> dy,
                       std::span<T, param_count> dparams, std::span<T, N> dx) {
    if constexpr (Mode.param_grad) {
      detail::layer_norm_gain_grad<Mode.accumulate>(dy.data(), cache.data(), N, dparams.data());
      for (std::size_t i = 0; i < N; ++i) detail::store<Mode.accumulate>(dparams[N + i], dy[i]);
    }
    if constexpr (Mode.input_grad)
      detail::layer_norm_input_grad<false>(dy.data(), params.data(), cache.data(), N, dx.data());
  }

  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng&, const Scheme&) {
    for (std::size_t i = 0; i < N; ++i) {
      params[i] = T{1};
      params[N + i] = T{0};
    }
  }

  /// On the dynamic tape (tape/network.hpp).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return r.layer_norm(x, r.parameter(0, N), r.parameter(N, N), static_cast<typename Recording::scalar>(epsilon));
  }
};

/// LayerNorm parameters by name: `gain(i)`, `bias(i)`.
template <std::size_t N, class T>
class LayerView<LayerNorm<N>, T> : public detail::view_base<LayerNorm<N>, T> {
 public:
  using detail::view_base<LayerNorm<N>, T>::view_base;
  constexpr T& gain(std::size_t i) const { return this->params_[i]; }
  constexpr T& bias(std::size_t i) const { return this->params_[N + i]; }
};

/// y = x / sqrt(mean(x²) + ε) · gain, over the N inputs (ε = 1e-6, gain 1 at init).
/// Parameters, in the flat order: gain[N].
/// @tparam N the number of inputs and outputs
template <std::size_t N>
struct RMSNorm {
  static_assert(N > 0, "staticgrad::RMSNorm: N must be positive");

  static constexpr double epsilon = 1e-6;
  static constexpr std::size_t in_size = N;
  static constexpr std::size_t out_size = N;
  static constexpr std::size_t param_count = N;
  static constexpr std::size_t cache_size = 1;  // 1/rms; x is kept by the caller
  /// square-sum, scale and gain: about 5 operations per element.
  static constexpr std::size_t flops = 5 * N;

  static constexpr auto name() { return layer_name<"RMSNorm", N>(); }
  /// nn.RMSNorm's weight (the gain).
  static constexpr std::array tensors{vector_tensor("weight", N, 0)};

  template <class T>
  static void infer(std::span<const T, param_count> params, std::span<const T, N> x,
                    std::span<T, N> y) {
    detail::infer_by_forward<T, N, cache_size>(params, x, y, forward<T>);
  }

  template <class T>
  static void forward(std::span<const T, param_count> gain, std::span<T, cache_size> cache,
                      std::span<const T, N> x, std::span<T, N> y) {
    cache[0] = detail::rms_norm_forward(x.data(), gain.data(), N, static_cast<T>(epsilon), y.data());
  }

  template <BackwardMode Mode, class T>
  static void backward(std::span<const T, param_count> gain, std::span<const T, cache_size> cache,
                       std::span<const T, N> x, std::span<const T, N>, std::span<const T, N> dy,
                       std::span<T, param_count> dgain, std::span<T, N> dx) {
    if constexpr (Mode.param_grad)
      detail::rms_norm_param_grad<Mode.accumulate>(dy.data(), x.data(), cache[0], N, dgain.data());
    if constexpr (Mode.input_grad)
      detail::rms_norm_input_grad<false>(dy.data(), gain.data(), x.data(), cache[0], N, dx.data());
  }

  /// Gain 1, whatever the scheme.
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng&, const Scheme&) {
    for (auto& g : params) g = T{1};
  }

  /// On the dynamic tape (tape/network.hpp).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return r.rms_norm(x, r.parameter(0, N), static_cast<typename Recording::scalar>(epsilon));
  }
};

/// RMSNorm parameters by name: `gain(i)`.
template <std::size_t N, class T>
class LayerView<RMSNorm<N>, T> : public detail::view_base<RMSNorm<N>, T> {
 public:
  using detail::view_base<RMSNorm<N>, T>::view_base;
  constexpr T& gain(std::size_t i) const { return this->params_[i]; }
};

}  // namespace staticgrad
