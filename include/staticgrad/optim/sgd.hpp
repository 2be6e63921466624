/// @file Defines staticgrad::SGD, stochastic gradient descent with PyTorch's update rule.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/running_statistics.hpp>
#include <staticgrad/detail/options.hpp>

namespace staticgrad {

/// Stochastic gradient descent, step for step as torch.optim.SGD: with weight decay
/// g ← g + λθ; with momentum b ← g on the first step, then b ← μb + (1 − τ)g, and
/// g ← g + μb (Nesterov) or g ← b; finally θ ← θ − ηg. State: one flat momentum buffer.
///
///     sg::SGD<Net, float> opt{{.lr = 0.1, .momentum = 0.9, .nesterov = true}};
///     opt.step(model, grads);
/// @tparam Net the network spec
/// @tparam T   the model's scalar type
template <class Net, class T>
class SGD {
 public:
  /// PyTorch's names and defaults (lr has none there; 1e-3 here).
  struct Options {
    double lr = 1e-3;
    double momentum = 0;
    double dampening = 0;
    bool nesterov = false;
    double weight_decay = 0;
  };

  /// Throws std::invalid_argument for options PyTorch refuses: a negative learning rate,
  /// momentum or weight decay, and Nesterov without momentum or with dampening; and for NaN
  /// or infinite ones (which PyTorch lets through to make every parameter NaN).
  explicit SGD(Options options = {}) : options_(options) {
    detail::require_nonnegative("staticgrad::SGD", "lr", options.lr);
    detail::require_nonnegative("staticgrad::SGD", "weight_decay", options.weight_decay);
    detail::require_option(std::isfinite(options.dampening), "staticgrad::SGD", "dampening", options.dampening,
                           "finite");
    check_momentum(options.momentum);
  }

  const Options& options() const { return options_; }
  /// Changes the learning rate, for a schedule; checked as the constructor checks it.
  void set_lr(double lr) {
    detail::require_nonnegative("staticgrad::SGD", "lr", lr);
    options_.lr = lr;
  }
  /// Changes the momentum, for a schedule that cycles it (OneCycleLR); checked as the
  /// constructor checks it. The first step with momentum starts its buffer, as PyTorch's.
  void set_momentum(double momentum) {
    check_momentum(momentum);
    options_.momentum = momentum;
  }

  /// One update of every trainable parameter (Frozen ones stay) from its gradient, and of
  /// BatchNorm's running statistics from the batch's (update_running_statistics).
  /// Allocates nothing.
  void step(Model<Net, T>& model, const Gradients<Net, T>& grads) {
    const auto update = begin_step();
    for (const auto run : detail::trainable_ranges<Net>()) update(model, grads, run.offset, run.size);
    update_running_statistics(model, grads);
  }

  /// Starts a step and returns its update: `update(model, grads, offset, size)` steps the
  /// parameters [offset, offset + size) from their gradients. Calling it once on every
  /// trainable range is step(); train_step calls it on each layer as soon as the backward
  /// pass has finished that layer's gradient. Valid until the next step starts.
  auto begin_step() {
    const bool first = !started_;
    started_ = started_ || options_.momentum != 0;
    return [this, first](Model<Net, T>& model, const Gradients<Net, T>& grads, std::size_t offset,
                         std::size_t size) {
      const T lr = static_cast<T>(options_.lr);
      const T momentum = static_cast<T>(options_.momentum);
      const T keep = static_cast<T>(1 - options_.dampening);
      const T decay = static_cast<T>(options_.weight_decay);
      auto params = model.flat();
      const auto g = grads.flat();
      for (std::size_t i = offset; i < offset + size; ++i) {
        T d = g[i];
        if (options_.weight_decay != 0) d += decay * params[i];
        if (options_.momentum != 0) {
          buffer_[i] = first ? d : momentum * buffer_[i] + keep * d;
          d = options_.nesterov ? d + momentum * buffer_[i] : buffer_[i];
        }
        params[i] -= lr * d;
      }
    };
  }

 private:
  void check_momentum(double momentum) const {
    detail::require_nonnegative("staticgrad::SGD", "momentum", momentum);
    if (options_.nesterov && (momentum <= 0 || options_.dampening != 0))
      throw std::invalid_argument("staticgrad::SGD: nesterov needs momentum > 0 and dampening = 0");
  }

  Options options_;
  // Whether the momentum buffer holds a step's: from the first step with momentum on.
  bool started_ = false;
  std::array<T, param_count<Net>> buffer_{};
};

}  // namespace staticgrad
