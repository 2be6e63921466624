/// @file Defines staticgrad::value_and_grad: a loss and its gradient with respect to every
/// parameter of a Model, by the generated backward pass, for one sample or a batch (the
/// mean, split across threads when large: core/shards.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <ranges>

#include <staticgrad/core/shards.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/detail/samples.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

namespace detail {

/// The mean loss and gradient of a sample or a batch into `grads`. `layer_done(offset,
/// size)` is called as each layer's gradient becomes final (train_step's hook; nothing for
/// value_and_grad). A batch of more than one shard is split across OpenMP's threads.
template <class Net, class T, class Loss, class X, class Y, class LayerDone = no_layer_hook>
constexpr T value_and_grad_into(const Model<Net, T>& model, const Loss& loss, const X& x,
                                const Y& target, Gradients<Net, T>& grads, const LayerDone& layer_done = {}) {
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  if constexpr (FixedVector<X>) {
    constexpr BackwardMode overwrite{.accumulate = false, .input_grad = false};
    return sample_value_and_grad<overwrite, Net>(model.flat(), loss, fixed_span<check_input_size, T, in>(x),
                                                 target_view<Loss, T, out>(target), T{1}, grads.flat(),
                                                 layer_done);
  } else {
    static_assert(FixedVectorRange<X>,
                  "staticgrad::value_and_grad: x must be one input (std::array<T, in_size>) or a "
                  "contiguous range of inputs (std::vector, std::span, std::array of them)");
    static_assert(FixedVectorRange<Y> || IndexRange<Y>,
                  "staticgrad::value_and_grad: a batch of inputs needs a contiguous range of "
                  "targets (vectors, or class indices)");
    const std::size_t count = batch_size(x, target, "staticgrad::value_and_grad");
    const T scale = T{1} / static_cast<T>(count);
    const auto* inputs = std::ranges::data(x);
    const auto* targets = std::ranges::data(target);
    if constexpr (shardable<Net, T>) {
      if (count > shard_samples<Net, T> && !std::is_constant_evaluated())
        return sharded_value_and_grad<Net>(model.flat(), loss, inputs, targets, count, scale, grads.flat(),
                                           layer_done) *
               scale;
    }
    return samples_value_and_grad<Net>(model.flat(), loss, inputs, targets, count, scale, grads.flat(),
                                       layer_done) *
           scale;
  }
}

// value_and_grad_into with `training` as the thread's key for the Dropout masks (not
// constexpr: the key lives in a thread_local).
template <class Net, class T, class Loss, class X, class Y>
T value_and_grad_training(const Model<Net, T>& model, const Loss& loss, const X& x, const Y& target,
                          Gradients<Net, T>& grads, Training training) {
  const training_scope scope(training);
  return value_and_grad_into(model, loss, x, target, grads);
}

}  // namespace detail

/// The loss of `model` on (x, target) and its gradient with respect to every parameter,
/// by the generated backward pass. Allocates nothing.
///
/// x is one input (std::array<T, in_size>, T[in_size], std::span<T, in_size>) or a
/// contiguous range of them (a batch: the result is the mean loss and mean gradient).
/// target is a vector of out_size, or a std::size_t class index for SoftmaxCrossEntropy;
/// for a batch, a contiguous range of those. Built with OpenMP, a batch of more than
/// `detail::shard_samples<Net, T>` samples runs on OpenMP's threads, with the same result
/// on any number of them (core/shards.hpp).
template <class Net, class T, class Loss, class X, class Y>
constexpr LossAndGradients<Net, T> value_and_grad(const Model<Net, T>& model, const Loss& loss,
                                                  const X& x, const Y& target) {
  static_assert(!detail::is_stochastic<Net>, "staticgrad::value_and_grad: this network has Dropout: pass "
                                             "staticgrad::Training{seed, step}, the key of its masks");
  return value_and_grad(model, loss, x, target, Training{});
}

/// As value_and_grad above, but writes the gradient into the caller's `grads` (which may
/// live anywhere: a thread with a small stack keeps it off the stack) and returns the loss.
template <class Net, class T, class Loss, class X, class Y>
constexpr T value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x,
                           const Y& target, Gradients<Net, T>& grads) {
  static_assert(!detail::is_stochastic<Net>, "staticgrad::value_and_grad: this network has Dropout: pass "
                                             "staticgrad::Training{seed, step}, the key of its masks");
  return value_and_grad(model, loss, x, target, grads, Training{});
}

/// value_and_grad for a training step whose Dropout masks are keyed by `training` (the same
/// key, the same masks). Networks without Dropout ignore it, so generic code can always
/// pass one.
template <class Net, class T, class Loss, class X, class Y>
constexpr T value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x, const Y& target,
                           Gradients<Net, T>& grads, Training training) {
  if constexpr (!detail::ValidLayer<Net>) {
    return T{};
  } else if constexpr (detail::is_stochastic<Net>) {
    return detail::value_and_grad_training(model, loss, x, target, grads, training);
  } else {
    return detail::value_and_grad_into(model, loss, x, target, grads);
  }
}

/// As above, returning {loss, grads}.
template <class Net, class T, class Loss, class X, class Y>
constexpr LossAndGradients<Net, T> value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x,
                                                  const Y& target, Training training) {
  auto result = detail::gradients_access::fresh_result<Net, T>();
  for (const auto run : detail::frozen_ranges<Net>())  // never written by the backward pass
    std::fill_n(result.grads.flat().begin() + static_cast<std::ptrdiff_t>(run.offset), run.size, T{});
  result.loss = value_and_grad(model, loss, x, target, result.grads, training);
  return result;
}

}  // namespace staticgrad
