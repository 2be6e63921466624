/// @file Defines staticgrad::value_and_grad: a loss and its gradient with respect to every
/// parameter of a Model, by the generated backward pass, for one sample or a batch (the
/// mean, split across threads when large: core/shards.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <staticgrad/core/batch_norm_training.hpp>
#include <staticgrad/core/shards.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/detail/samples.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/sequence.hpp>
#include <staticgrad/state.hpp>

namespace staticgrad {

namespace detail {

/// A result whose gradient the backward pass is about to write: all but the Frozen
/// parameters' slices, which it never writes, are left unset; those are zero.
template <class Net, class T>
constexpr LossAndGradients<Net, T> fresh_result_for_backward() {
  auto result = gradients_access::fresh_result<Net, T>();
  for (const auto run : frozen_ranges<Net>())
    std::fill_n(result.grads.flat().begin() + static_cast<std::ptrdiff_t>(run.offset), run.size, T{});
  return result;
}

/// value_and_grad through time, by either engine: xs one Sequence or a batch of them (a
/// contiguous range), ys the same of targets; each sequence from its State in `states`
/// (state_count of them, left at their end states) or from zeros when `states` is null.
/// The mean loss over every step of every sequence; `engine(inputs, targets, count, states,
/// scale)` runs them, writes their gradient times `scale` and returns their summed loss.
/// The caller has checked the arguments (sequence_problem).
template <class Net, class T, class X, class Y, class Engine>
T sequence_into(const X& xs, const Y& ys, State<Net, T>* states, std::size_t state_count, const Engine& engine) {
  using traits = sequence_traits<sequence_type<X>>;
  constexpr bool batch = SequenceRange<X>;
  const std::size_t count = batch ? batch_size(xs, ys, "staticgrad::value_and_grad") : 1;
  if (states && state_count != count)
    throw std::invalid_argument("staticgrad::value_and_grad: " + std::to_string(count) + " sequences but " +
                                std::to_string(state_count) + " States");
  const T scale = T{1} / static_cast<T>(count * traits::length);
  const auto* inputs = [&] {
    if constexpr (batch) return std::ranges::data(xs);
    else return &xs;
  }();
  const auto* targets = [&] {
    if constexpr (batch) return std::ranges::data(ys);
    else return &ys;
  }();
  return engine(inputs, targets, count, states, scale) * scale;
}

/// The generated engine for sequence_into, its shards added up by `shards`.
template <class Net, class T, class Loss, class Shards = threads_in_order>
auto generated_sequences(const Model<Net, T>& model, const Loss& loss, Gradients<Net, T>& grads,
                         const Shards& shards = {}) {
  return [&](const auto* inputs, const auto* targets, std::size_t count, State<Net, T>* states, T scale) {
    return sequences_value_and_grad<Net>(model.flat(), loss, inputs, targets, count, states, scale, grads.flat(),
                                         shards);
  };
}

/// The States a sequence (one State) or a batch of them (a contiguous range of as many)
/// starts from, as a pointer and a count.
template <class Net, class T, class X, class States>
std::pair<State<Net, T>*, std::size_t> states_of(States& states) {
  constexpr bool one = SequenceOf<X> && std::is_same_v<States, State<Net, T>>;
  constexpr bool each = [] {
    if constexpr (SequenceRange<X> && std::ranges::contiguous_range<States>)
      return std::is_same_v<std::ranges::range_value_t<States>, State<Net, T>>;
    return false;
  }();
  static_assert(one || each, "staticgrad::value_and_grad: a sequence starts from its stream's State<Net, T>; a batch "
                             "of sequences from a contiguous range of them, one per sequence");
  if constexpr (one) return {&states, 1};
  else if constexpr (each) return {std::ranges::data(states), std::ranges::size(states)};
  else return {nullptr, 0};
}

/// The mean loss and gradient of a sample or a batch into `grads`. `layer_done(offset,
/// size)` is called as each layer's gradient becomes final (train_step's hook; nothing for
/// value_and_grad). A batch of more than one shard is split into shards that `shards`
/// computes and adds up (OpenMP's threads unless told otherwise; a batch with BatchNorm
/// always on the threads). The caller has checked the arguments (arguments_problem).
template <class Net, class T, class Loss, class X, class Y, class LayerDone = no_layer_hook,
          class Shards = threads_in_order>
constexpr T value_and_grad_into(const Model<Net, T>& model, const Loss& loss, const X& x, const Y& target,
                                Gradients<Net, T>& grads, const LayerDone& layer_done = {},
                                const Shards& shards = {}) {
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  if constexpr (SequenceOf<X> || SequenceRange<X>) {
    const T value = sequence_into<Net>(x, target, static_cast<State<Net, T>*>(nullptr), 0,
                                       generated_sequences(model, loss, grads, shards));
    layer_done(std::size_t{0}, Net::param_count);
    return value;
  } else if constexpr (FixedVector<X>) {
    constexpr BackwardMode overwrite{.accumulate = false, .input_grad = false};
    return sample_value_and_grad<overwrite, Net>(model.flat(), loss, fixed_span<check_input_size, T, in>(x),
                                                 target_view<Loss, T, out>(target), T{1}, grads.flat(),
                                                 layer_done);
  } else {
    const std::size_t count = batch_size(x, target, "staticgrad::value_and_grad");
    const T scale = T{1} / static_cast<T>(count);
    const auto* inputs = std::ranges::data(x);
    const auto* targets = std::ranges::data(target);
    if constexpr (has_batch_norm<Net>) {
      auto& statistics = gradients_access::batch_statistics(grads);
      const T total = batch_norm_value_and_grad<Net>(model.flat(), loss, inputs, targets, count, scale, grads.flat(),
                                                     std::span(statistics.values), layer_done);
      statistics.fresh = true;
      return total * scale;
    } else if constexpr (shardable<Net, T>) {
      if (count > shard_samples<Net, T> && !std::is_constant_evaluated())
        return sharded_value_and_grad<Net>(model.flat(), loss, inputs, targets, count, scale, grads.flat(),
                                           layer_done, no_shard_setup, shards) *
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
/// target is a vector of out_size, a std::size_t class index for SoftmaxCrossEntropy, or
/// for a network with one output a number (T); for a batch, a contiguous range of those. Built with OpenMP, a batch of more than
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
  using problem = detail::arguments_problem<Net, T, Loss, X, Y>;
  if constexpr (detail::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
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
  auto result = detail::fresh_result_for_backward<Net, T>();
  result.loss = value_and_grad(model, loss, x, target, result.grads, training);
  return result;
}

/// value_and_grad through time from the streams' states instead of zeros: xs and ys are
/// a sequence (staticgrad::Sequence) and `states` its State, or a batch of sequences and a
/// contiguous range of as many States. A state is a constant (no gradient flows into it:
/// truncated backpropagation through time) and is left at its end state, so that the next
/// window of a long signal starts where this one ended. Writes the mean gradient into
/// `grads` and returns the mean loss; allocates nothing.
template <class Net, class T, class Loss, class X, class Y, class States>
  requires(detail::SequenceOf<X> || detail::SequenceRange<X>)
T value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& xs, const Y& ys, Gradients<Net, T>& grads,
                 States& states) {
  static_assert(!detail::is_stochastic<Net>,
                "staticgrad::value_and_grad: Dropout in a network trained on sequences is not supported yet");
  using problem = detail::arguments_problem<Net, T, Loss, X, Y>;
  if constexpr (detail::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return T{};
  } else {
    const auto [first, count] = detail::states_of<Net, T, X>(states);
    return detail::sequence_into<Net>(xs, ys, first, count, detail::generated_sequences(model, loss, grads));
  }
}

/// As above, returning {loss, grads}.
template <class Net, class T, class Loss, class X, class Y, class States>
  requires(detail::SequenceOf<X> || detail::SequenceRange<X>)
LossAndGradients<Net, T> value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& xs, const Y& ys,
                                        States& states) {
  auto result = detail::fresh_result_for_backward<Net, T>();
  result.loss = value_and_grad(model, loss, xs, ys, result.grads, states);
  return result;
}

}  // namespace staticgrad
