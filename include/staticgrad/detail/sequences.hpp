/// @file The driver of a sequence (staticgrad::Sequence): inference step by step, and
/// value_and_grad through time (backpropagation through time: every step's forward pass,
/// kept, then the backward passes from the last step to the first, each handing the
/// gradient of the state it started from to the step before).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/shards.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/detail/samples.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/sequence.hpp>
#include <staticgrad/state.hpp>

namespace staticgrad::detail {

/// The stack a sequence's value_and_grad keeps for its backward pass: the workspace of
/// training through Len steps layer by layer (core/steps.hpp), the outputs, their gradients
/// and room for the input gradient that is never computed; and at its peak, what a
/// Checkpoint's backward pass recomputes.
template <class Net, class T, std::size_t Len>
inline constexpr std::size_t sequence_workspace_bytes =
    sizeof(T) *
    (steps_workspace_of<Net, Len>() + Len * (2 * Net::out_size + Net::in_size) + recompute_scalars<Net, Len>());

/// The most a sequence may keep on the stack: what an OpenMP worker thread has (LLVM's 4
/// MiB), less room for the rest.
inline constexpr std::size_t sequence_workspace_limit = std::size_t{3} << 20;

template <std::size_t Bytes, std::size_t Limit>
struct check_sequence_workspace {
  static_assert(Bytes <= Limit,
                "staticgrad::value_and_grad: the backward pass through this sequence keeps (or, in a Checkpoint, "
                "recomputes) every step's cache, more than a thread's stack holds (see check_sequence_workspace<bytes, limit>): "
                "take shorter sequences (windows of a long one, carrying the State between them)");
};

/// How many steps inference over a sequence runs layer by layer at a time
/// (core/steps.hpp): enough rows for the matrix products, few enough that the values
/// between layers stay small on the stack.
inline constexpr std::size_t inference_chunk = 64;

/// ys[t] = Net's output at step t of xs, from `state`, which is left at the end state; in
/// chunks of steps, each layer over a whole chunk before the next.
template <class Net, class T, std::size_t Len>
void sequence_infer(std::span<const T, Net::param_count> params, std::span<T, state_size_of<Net>()> state,
                    const Sequence<T, Len, Net::in_size>& xs, Sequence<T, Len, Net::out_size>& ys) {
  constexpr std::size_t In = Net::in_size, Out = Net::out_size;
  const auto chunk = [&]<std::size_t Steps>(std::size_t t) {
    infer_steps<Net, Steps, T>(params, state, std::span<const T, Steps * In>(xs.data() + t * In, Steps * In),
                               std::span<T, Steps * Out>(ys.data() + t * Out, Steps * Out));
  };
  constexpr std::size_t whole = Len / inference_chunk * inference_chunk;
  for (std::size_t t = 0; t < whole; t += inference_chunk) chunk.template operator()<inference_chunk>(t);
  if constexpr (whole < Len) chunk.template operator()<Len - whole>(whole);
}

/// The sum over the steps of the loss of each step's output against its target, from
/// `state` (a constant: no gradient flows into it; it is left at the end state), and its
/// gradient through time times `scale` into `dparams` (overwritten, or added to when
/// Accumulate): every layer forward over all the steps, then every layer backward
/// (core/steps.hpp).
template <bool Accumulate, class Net, class T, class Loss, std::size_t Len, class Targets>
T sequence_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss,
                          const Sequence<T, Len, Net::in_size>& xs, const Targets& targets,
                          std::span<T, state_size_of<Net>()> state, T scale, std::span<T, Net::param_count> dparams) {
  static_assert(sizeof(check_sequence_workspace<sequence_workspace_bytes<Net, T, Len>, sequence_workspace_limit>) > 0);
  constexpr std::size_t In = Net::in_size, Out = Net::out_size;
  std::array<T, steps_workspace_of<Net, Len>()> work;
  std::array<T, Len * Out> ys, dys;
  const std::span<const T, Len * In> x(xs.data(), Len * In);
  forward_steps<Net, Len, T>(params, state, work, x, ys);
  T total{};
  for (std::size_t t = 0; t < Len; ++t) {
    const auto dy = sample_row<Out>(std::span(dys), t);
    total += loss.template value_and_grad<T, Out>(sample_row<Out>(std::span<const T, Len * Out>(ys), t),
                                                  target_view<Loss, T, Out>(targets[t]), dy);
    for (auto& d : dy) d *= scale;
  }
  std::array<T, Len * In> unused_dx;  // input_grad is false: never written
  backward_steps<BackwardMode{.accumulate = Accumulate, .input_grad = false}, Net, Len, T>(params, work, x, ys, dys,
                                                                                           dparams, unused_dx);
  return total;
}

/// Sequences per shard of a batch of sequences that threads share: as many as make about
/// 2^18 FLOPs for the forward and backward passes (core/shards.hpp's measure), at least one.
template <class Net, std::size_t Len>
inline constexpr std::size_t shard_sequences =
    std::max<std::size_t>(1, (std::size_t{1} << 18) / (3 * Net::flops * Len + 1));

/// Whether a batch of sequences is split into shards on threads: a shard keeps its gradient
/// and one sequence's workspace on its thread's stack, which must stay within the limit.
template <class Net, class T, std::size_t Len>
inline constexpr bool shardable_sequences =
    sequence_workspace_bytes<Net, T, Len> + Net::param_count * sizeof(T) <= sequence_workspace_limit;

/// The sum of the losses of `count` sequences (each the sum over its steps), each from its
/// State in `states` (left at its end state) or from zeros when `states` is null, and the
/// gradient of all of them times `scale` into `dparams` (overwritten). Shards of sequences
/// are computed and added up in shard order by `shards` (on OpenMP's threads unless told
/// otherwise): the same result for any number of threads.
template <class Net, class T, class Loss, std::size_t Len, class Targets, class Shards = threads_in_order>
T sequences_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss,
                           const Sequence<T, Len, Net::in_size>* xs, const Targets* targets, std::size_t count,
                           State<Net, T>* states, T scale, std::span<T, Net::param_count> dparams,
                           const Shards& shards = {}) {
  // Sequences first to last, the first one's gradient overwriting.
  const auto run = [&](std::size_t first, std::size_t last, std::span<T, Net::param_count> into) {
    T total{};
    State<Net, T> zeros;  // the start of a sequence without a State of its own
    for (std::size_t s = first; s < last; ++s) {
      if (!states) zeros.reset();
      State<Net, T>& state = states ? states[s] : zeros;
      const auto one = [&]<bool Accumulate>() {
        return sequence_value_and_grad<Accumulate, Net>(params, loss, xs[s], targets[s], state.flat(), scale, into);
      };
      total += s == first ? one.template operator()<false>() : one.template operator()<true>();
    }
    return total;
  };
  constexpr std::size_t shard_size = shard_sequences<Net, Len>;
  if constexpr (!shardable_sequences<Net, T, Len>) {
    return run(0, count, dparams);
  } else {
    if (count <= shard_size) return run(0, count, dparams);
    return shards.template sum<Net, T>(
        (count + shard_size - 1) / shard_size,
        [&](std::size_t shard, std::span<T, Net::param_count> grads) {
          return run(shard * shard_size, std::min(count, (shard + 1) * shard_size), grads);
        },
        dparams);
  }
}

}  // namespace staticgrad::detail
