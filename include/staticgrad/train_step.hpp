/// @file Defines staticgrad::train_step: a gradient and an optimizer step in one pass.
#pragma once

#include <algorithm>
#include <cstddef>

#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/running_statistics.hpp>

namespace staticgrad {

namespace detail {

/// An optimizer that can step part of the parameters: `begin_step()` returns
/// `update(model, grads, offset, size)` (SGD, Adam and AdamW can).
template <class Optimizer, class Net, class T>
concept StepsByRange = requires(Optimizer& optimizer, Model<Net, T>& model, const Gradients<Net, T>& grads) {
  optimizer.begin_step()(model, grads, std::size_t{}, std::size_t{});
};

}  // namespace detail

/// One training step: value_and_grad(model, loss, x, target, grads, training), then
/// optimizer.step(model, grads), with the same result bit for bit, fused: the optimizer
/// steps each layer of a Sequential as soon as the backward pass has finished its gradient
/// (the last sample or block of samples of the batch), while that gradient is still in
/// cache. An optimizer without `begin_step()` steps after the backward pass. Returns the
/// loss before the step; `grads` holds the gradient. Allocates nothing.
///
/// Gradient clipping needs the whole gradient before any step: clip with value_and_grad,
/// clip_grad_norm and step instead.
///
/// Arguments that value_and_grad refuses (a batch of inputs and targets that differ in
/// number, a bad class index) throw before anything changes: the model, the optimizer's
/// state and `grads` stay as they were.
template <class Net, class T, class Optimizer, class Loss, class X, class Y>
T train_step(Model<Net, T>& model, Optimizer& optimizer, const Loss& loss, const X& x, const Y& target,
             Gradients<Net, T>& grads, [[maybe_unused]] Training training) {
  using problem = detail::arguments_problem<Net, T, Loss, X, Y>;
  if constexpr (detail::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return T{};
  } else {
    detail::check_arguments<Net, Loss>(x, target, "staticgrad::train_step");
    if constexpr (detail::StepsByRange<Optimizer, Net, T>) {
      const auto update = optimizer.begin_step();
      const auto layer_done = [&](std::size_t offset, std::size_t size) {
        for (const auto run : detail::trainable_ranges<Net>()) {  // Frozen parameters stay
          const std::size_t first = std::max(offset, run.offset);
          const std::size_t last = std::min(offset + size, run.offset + run.size);
          if (first < last) update(model, grads, first, last - first);
        }
      };
      const T value = [&] {
        if constexpr (detail::is_stochastic<Net>) {
          const detail::training_scope scope(training);
          return detail::value_and_grad_into(model, loss, x, target, grads, layer_done);
        } else {
          return detail::value_and_grad_into(model, loss, x, target, grads, layer_done);
        }
      }();
      update_running_statistics(model, grads);
      return value;
    } else {
      const T value = value_and_grad(model, loss, x, target, grads, training);
      optimizer.step(model, grads);
      return value;
    }
  }
}

/// train_step for a network without Dropout (which needs the Training key of its masks).
template <class Net, class T, class Optimizer, class Loss, class X, class Y>
T train_step(Model<Net, T>& model, Optimizer& optimizer, const Loss& loss, const X& x, const Y& target,
             Gradients<Net, T>& grads) {
  static_assert(!detail::is_stochastic<Net>, "staticgrad::train_step: this network has Dropout: pass "
                                             "staticgrad::Training{seed, step}, the key of its masks");
  return train_step(model, optimizer, loss, x, target, grads, Training{});
}

}  // namespace staticgrad
