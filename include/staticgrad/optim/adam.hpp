/// @file Defines staticgrad::Adam and staticgrad::AdamW with PyTorch's update rules.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include <staticgrad/core/simd.hpp>
#include <staticgrad/detail/options.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/running_statistics.hpp>

namespace staticgrad {

namespace detail {

/// Adam's state and step; Decoupled selects AdamW's weight decay (θ ← θ(1 − ηλ) before the
/// step) over Adam's L2 term (g ← g + λθ).
template <class Net, class T, bool Decoupled>
class adam_impl {
 public:
  /// PyTorch's names and defaults (`{.lr = 1e-3, .betas = {0.9, 0.999}}`).
  struct Options {
    double lr = 1e-3;
    std::array<double, 2> betas{0.9, 0.999};
    double eps = 1e-8;
    double weight_decay = Decoupled ? 1e-2 : 0.0;
    bool amsgrad = false;
  };

  /// Throws std::invalid_argument for options PyTorch refuses (NaN included), and for
  /// infinite ones.
  explicit adam_impl(Options options) : options_(options) {
    constexpr const char* who = Decoupled ? "staticgrad::AdamW" : "staticgrad::Adam";
    require_nonnegative(who, "lr", options.lr);
    require_nonnegative(who, "eps", options.eps);
    require_nonnegative(who, "weight_decay", options.weight_decay);
    for (const auto& [name, beta] : {std::pair{"betas[0]", options.betas[0]}, std::pair{"betas[1]", options.betas[1]}})
      require_option(beta >= 0 && beta < 1, who, name, beta, "in [0, 1)");
  }

  const Options& options() const { return options_; }
  /// Changes the learning rate, for a schedule; checked as the constructor checks it.
  void set_lr(double lr) {
    require_nonnegative(Decoupled ? "staticgrad::AdamW" : "staticgrad::Adam", "lr", lr);
    options_.lr = lr;
  }
  /// Changes betas[0], what PyTorch's schedules that cycle momentum change (OneCycleLR);
  /// checked as the constructor checks it.
  void set_momentum(double beta1) {
    require_option(beta1 >= 0 && beta1 < 1, Decoupled ? "staticgrad::AdamW" : "staticgrad::Adam", "betas[0]", beta1,
                   "in [0, 1)");
    options_.betas[0] = beta1;
  }
  /// How many steps have been taken.
  std::uint64_t steps() const { return steps_; }

  /// One update of every trainable parameter (Frozen ones stay) from its gradient, and of
  /// BatchNorm's running statistics from the batch's (update_running_statistics).
  /// Allocates nothing.
  void step(Model<Net, T>& model, const Gradients<Net, T>& grads) {
    const auto update = begin_step();
    for (const auto run : detail::trainable_ranges<Net>()) update(model, grads, run.offset, run.size);
    update_running_statistics(model, grads);
  }

  /// Starts a step (counts it) and returns its update: `update(model, grads, offset, size)`
  /// steps the parameters [offset, offset + size) from their gradients. Calling it once on
  /// every trainable range is step(); train_step calls it on each layer as soon as the
  /// backward pass has finished that layer's gradient. Valid until the next step starts.
  auto begin_step() {
    ++steps_;
    const double step = static_cast<double>(steps_);
    const T beta1 = static_cast<T>(options_.betas[0]), beta2 = static_cast<T>(options_.betas[1]);
    const T step_size = static_cast<T>(options_.lr / (1 - std::pow(options_.betas[0], step)));
    const T correction2_sqrt = static_cast<T>(std::sqrt(1 - std::pow(options_.betas[1], step)));
    const T eps = static_cast<T>(options_.eps);
    const T decay = static_cast<T>(options_.weight_decay);
    const T shrink = static_cast<T>(1 - options_.lr * options_.weight_decay);
    const bool weight_decay = options_.weight_decay != 0;
    // One parameter, or a SIMD register of them (X): the same operations either way. The
    // amsgrad maximum is passed (read and written) only with amsgrad.
    const auto update = [=](auto& param, auto grad, auto& first, auto& second, auto&... max_second) {
      using X = std::remove_cvref_t<decltype(grad)>;
      if constexpr (Decoupled) param *= X(shrink);
      else if (weight_decay) grad += X(decay) * param;
      first = first * X(beta1) + X(1 - beta1) * grad;
      second = second * X(beta2) + X(1 - beta2) * grad * grad;
      X estimate = second;
      ((estimate = max_second = detail::simd::max(max_second, estimate)), ...);
      const X denominator = detail::simd::sqrt(estimate) / X(correction2_sqrt) + X(eps);
      param -= X(step_size) * (first / denominator);
    };
    return [this, update](Model<Net, T>& model, const Gradients<Net, T>& grads, std::size_t offset,
                          std::size_t size) {
      T* const param = model.flat().data() + offset;
      const T* const grad = grads.flat().data() + offset;
      T* const first = first_moment_.data() + offset;
      T* const second = second_moment_.data() + offset;
      if (options_.amsgrad)
        detail::simd::update(update, size, param, grad, first, second, max_second_moment_.data() + offset);
      else
        detail::simd::update(update, size, param, grad, first, second);
    };
  }

 private:
  Options options_;
  std::uint64_t steps_ = 0;
  std::array<T, param_count<Net>> first_moment_{};
  std::array<T, param_count<Net>> second_moment_{};
  std::array<T, param_count<Net>> max_second_moment_{};  // used with amsgrad only
};

}  // namespace detail

/// Adam (Kingma & Ba, 2015), step for step as torch.optim.Adam, weight decay as an L2 term
/// in the gradient. State: three flat arrays (moments, and the amsgrad maximum).
///
///     sg::Adam<Net, float> opt{{.lr = 1e-3}};
///     opt.step(model, grads);
template <class Net, class T>
class Adam : public detail::adam_impl<Net, T, false> {
 public:
  using Options = typename detail::adam_impl<Net, T, false>::Options;
  explicit Adam(Options options = {}) : detail::adam_impl<Net, T, false>(options) {}
};

/// AdamW (Loshchilov & Hutter, 2019), step for step as torch.optim.AdamW: decoupled weight
/// decay θ ← θ(1 − ηλ), default λ = 0.01.
template <class Net, class T>
class AdamW : public detail::adam_impl<Net, T, true> {
 public:
  using Options = typename detail::adam_impl<Net, T, true>::Options;
  explicit AdamW(Options options = {}) : detail::adam_impl<Net, T, true>(options) {}
};

}  // namespace staticgrad
