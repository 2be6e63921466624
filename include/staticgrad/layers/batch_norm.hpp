/// @file Defines staticgrad::BatchNorm<N, Eps, Momentum>: normalization by the batch's
/// statistics in training, by running statistics otherwise.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <ratio>
#include <span>
#include <type_traits>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/detail/batch_norm_pass.hpp>
#include <staticgrad/detail/math.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// Batch normalization, as torch.nn.BatchNorm1d(N, eps, momentum) on [batch, N] inputs:
/// y = (x − mean) / √(var + ε) · γ + β per feature.
///
/// The mode is the call, as for Dropout. value_and_grad over a batch (and train_step, fit)
/// trains: mean and var are the batch's (the biased variance), and the gradient flows
/// through them, so every sample's gradient depends on the whole batch. It needs at least
/// two samples (std::invalid_argument otherwise; one sample as such is a compile error):
/// PyTorch refuses a batch of one too. Everything else evaluates with the running
/// statistics: model(x), infer_batch, evaluate, input_grad.
///
/// The running statistics are not trained: value_and_grad leaves the batch's mean and
/// unbiased variance in the Gradients, and the optimizer's step (or
/// staticgrad::update_running_statistics) folds them in as PyTorch's training forward
/// pass does: running = (1 − momentum) · running + momentum · batch.
///
/// Flat order: the running mean[N], running variance[N] and the count of batches tracked
/// (none of which train), then γ[N] (PyTorch's weight), β[N]. Initially 0, 1, 0, 1, 0.
/// @tparam N the number of features
/// @tparam Eps ε, a std::ratio (PyTorch's 1e-5 by default)
/// @tparam Momentum the running statistics' update rate, a std::ratio in (0, 1] (0.1)
template <std::size_t N, class Eps = std::ratio<1, 100000>, class Momentum = std::ratio<1, 10>>
struct BatchNorm {
  static_assert(N > 0, "staticgrad::BatchNorm: N must be positive");
  static_assert(Eps::num > 0, "staticgrad::BatchNorm: Eps must be positive");
  static_assert(Momentum::num > 0 && Momentum::num <= Momentum::den, "staticgrad::BatchNorm: Momentum must be in (0, 1]");

  static constexpr double epsilon = static_cast<double>(Eps::num) / static_cast<double>(Eps::den);
  static constexpr double momentum = static_cast<double>(Momentum::num) / static_cast<double>(Momentum::den);
  static constexpr bool couples_batch = true;
  static constexpr std::size_t in_size = N;
  static constexpr std::size_t out_size = N;
  static constexpr std::size_t param_count = 4 * N + 1;
  static constexpr std::size_t frozen_count = 2 * N + 1;  // the running statistics
  static constexpr std::size_t cache_size = N;             // x̂
  /// Centring, scaling, γ and β: 4 operations per feature.
  static constexpr std::size_t flops = 4 * N;

  static constexpr std::size_t running_mean = 0, running_var = N, batches_tracked = 2 * N, gain = 2 * N + 1,
                               bias = 3 * N + 1;

  /// BatchNorm<N>, with ε and the momentum when they are not PyTorch's defaults:
  /// BatchNorm<8,1/100,1/10>.
  static constexpr auto name() {
    if constexpr (std::is_same_v<typename Eps::type, std::ratio<1, 100000>> &&
                  std::is_same_v<typename Momentum::type, std::ratio<1, 10>>)
      return layer_name<"BatchNorm", N>();
    else
      return layer_name<"BatchNorm", N, detail::fraction<typename Eps::type>(),
                        detail::fraction<typename Momentum::type>()>();
  }
  /// nn.BatchNorm1d's state_dict (num_batches_tracked a scalar).
  static constexpr std::array tensors{vector_tensor("weight", N, gain), vector_tensor("bias", N, bias),
                                      vector_tensor("running_mean", N, running_mean),
                                      vector_tensor("running_var", N, running_var),
                                      TensorLayout{.name = "num_batches_tracked", .rank = 0, .offset = batches_tracked}};

  template <class T>
  static void infer(std::span<const T, param_count> params, std::span<const T, N> x, std::span<T, N> y) {
    infer_block<1, T>(params, x, y);
  }

  /// infer over a block of samples (core/blocks.hpp): 1/√(var + ε) once for the block, then
  /// the same operations as one sample's.
  template <std::size_t Samples, class T>
  static void infer_block(std::span<const T, param_count> params, std::span<const T, Samples * N> x,
                          std::span<T, Samples * N> y) {
    std::array<T, N> inv_std;
    for (std::size_t i = 0; i < N; ++i) inv_std[i] = running_inv_std(params, i);
    for (std::size_t s = 0; s < Samples; ++s) {
      for (std::size_t i = 0; i < N; ++i) {
        const T xhat = (x[s * N + i] - params[running_mean + i]) * inv_std[i];
        y[s * N + i] = xhat * params[gain + i] + params[bias + i];
      }
    }
  }

  /// In a training pass (detail/batch_norm_pass.hpp) by the batch's statistics, else by
  /// the running ones.
  template <class T>
  static void forward(std::span<const T, param_count> params, std::span<T, N> xhat, std::span<const T, N> x,
                      std::span<T, N> y) {
    const auto* pass = detail::batch_norm_pass<T>::current;
    if (pass == nullptr) {
      for (std::size_t i = 0; i < N; ++i) xhat[i] = (x[i] - params[running_mean + i]) * running_inv_std(params, i);
    } else if (const std::size_t k = pass->site_of(params.data()); pass->has_statistics(k)) {
      if (pass->collects_gradient(k)) *pass->stopped = false;  // this sample's backward pass is to come
      const std::size_t first = pass->sites[k].first;
      for (std::size_t i = 0; i < N; ++i) xhat[i] = (x[i] - pass->mean[first + i]) * pass->inv_std[first + i];
    } else {
      if (pass->collects_statistics(k)) pass->add_inputs(x.data(), N);
      for (auto& v : xhat) v = T{0};
    }
    scale_and_shift<T>(params, xhat, y);
  }

  /// In training, ∂L/∂x_i = γ/σ · (dy_i − mean(dy) − x̂_i · mean(dy · x̂)), the means over
  /// the batch; in evaluation γ/σ · dy_i.
  template <BackwardMode Mode, class T>
  static void backward(std::span<const T, param_count> params, std::span<const T, N> xhat, std::span<const T, N>,
                       std::span<const T, N>, std::span<const T, N> dy, std::span<T, param_count> dparams,
                       std::span<T, N> dx) {
    if constexpr (Mode.param_grad) {
      for (std::size_t i = 0; i < N; ++i) {
        detail::store<Mode.accumulate>(dparams[gain + i], dy[i] * xhat[i]);
        detail::store<Mode.accumulate>(dparams[bias + i], dy[i]);
      }
    }
    if constexpr (Mode.input_grad) {
      const auto* pass = detail::batch_norm_pass<T>::current;
      if (pass == nullptr) {
        for (std::size_t i = 0; i < N; ++i) dx[i] = params[gain + i] * running_inv_std(params, i) * dy[i];
      } else if (const std::size_t k = pass->site_of(params.data()); pass->has_gradient_means(k)) {
        const std::size_t f = pass->sites[k].first;
        for (std::size_t i = 0; i < N; ++i)
          dx[i] = params[gain + i] * pass->inv_std[f + i] *
                  (dy[i] - pass->mean_dy[f + i] - xhat[i] * pass->mean_dy_xhat[f + i]);
      } else {
        if (pass->collects_gradient(k)) pass->add_gradient(dy.data(), xhat.data(), N);
        for (auto& d : dx) d = T{0};
      }
    }
  }

  /// Running mean 0, variance 1, no batches tracked, γ 1, β 0, whatever the scheme.
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng&, const Scheme&) {
    for (std::size_t i = 0; i < N; ++i) {
      params[running_mean + i] = T{0};
      params[running_var + i] = T{1};
      params[gain + i] = T{1};
      params[bias + i] = T{0};
    }
    params[batches_tracked] = T{0};
  }

  /// On the dynamic tape (tape/network.hpp) and in emit_standalone, in evaluation: by the
  /// running statistics. (The tape does not train a BatchNorm: tape::value_and_grad
  /// refuses it.)
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return r.batch_norm(x, r.frozen_parameter(running_mean, N), r.frozen_parameter(running_var, N),
                        r.parameter(gain, N), r.parameter(bias, N), static_cast<typename Recording::scalar>(epsilon));
  }

  /// Folds a batch's mean and unbiased variance into the running statistics, as PyTorch's
  /// training forward pass does, and counts the batch.
  template <class T>
  static void track(std::span<T, param_count> params, std::span<const T, N> mean, std::span<const T, N> variance) {
    const T rate = static_cast<T>(momentum);
    for (std::size_t i = 0; i < N; ++i) {
      params[running_mean + i] = (T{1} - rate) * params[running_mean + i] + rate * mean[i];
      params[running_var + i] = (T{1} - rate) * params[running_var + i] + rate * variance[i];
    }
    params[batches_tracked] += T{1};
  }

 private:
  template <class T>
  static T running_inv_std(std::span<const T, param_count> params, std::size_t i) {
    return T{1} / std::sqrt(params[running_var + i] + static_cast<T>(epsilon));
  }
  template <class T>
  static void scale_and_shift(std::span<const T, param_count> params, std::span<const T, N> xhat, std::span<T, N> y) {
    for (std::size_t i = 0; i < N; ++i) y[i] = xhat[i] * params[gain + i] + params[bias + i];
  }
};

/// BatchNorm parameters by name: `gain(i)`, `bias(i)`, `running_mean(i)`, `running_var(i)`,
/// `batches_tracked()`.
template <std::size_t N, class Eps, class Momentum, class T>
class LayerView<BatchNorm<N, Eps, Momentum>, T> : public detail::view_base<BatchNorm<N, Eps, Momentum>, T> {
  using layer = BatchNorm<N, Eps, Momentum>;

 public:
  using detail::view_base<layer, T>::view_base;
  constexpr T& gain(std::size_t i) const { return this->params_[layer::gain + i]; }
  constexpr T& bias(std::size_t i) const { return this->params_[layer::bias + i]; }
  constexpr T& running_mean(std::size_t i) const { return this->params_[layer::running_mean + i]; }
  constexpr T& running_var(std::size_t i) const { return this->params_[layer::running_var + i]; }
  constexpr T& batches_tracked() const { return this->params_[layer::batches_tracked]; }
};

}  // namespace staticgrad
