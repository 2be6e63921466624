/// @file The training driver: forward, loss and backward for one sample and for blocks of
/// samples (core/blocks.hpp), their losses summed and their gradients accumulated in
/// order, and inference over many samples. value_and_grad, train_step and
/// Model::infer_batch run on it; core/shards.hpp splits a large batch across threads on
/// top of it.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <ranges>
#include <span>
#include <type_traits>

#include <staticgrad/core/blocks.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/detail/inputs.hpp>

namespace staticgrad::detail {

/// A target: a class index (only for losses that accept one), a fixed-size vector, or for a
/// network with one output one number.
template <class Loss, class T, std::size_t Out, class Y>
constexpr auto target_view(const Y& target) {
  using problem = target_problem<Loss, T, Out, Y>;
  if constexpr (has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return std::span<const T, Out>(static_cast<const T*>(nullptr), Out);
  } else if constexpr (std::integral<Y>) {
    return static_cast<std::size_t>(target);
  } else if constexpr (std::floating_point<Y>) {
    return std::span<const T, Out>(&target, Out);
  } else {
    return fixed_span<check_target_size, T, Out>(target);
  }
}

/// Throws what value_and_grad throws for these arguments, but before anything changes: a
/// batch of inputs and targets that differ in number, an empty one, a class index that
/// the loss refuses (its check_target). train_step and fit call it first, so that a step
/// that throws leaves the model and the optimizer as they were.
template <class Net, class Loss, class X, class Y>
void check_arguments(const X& x, const Y& target, const char* who) {
  if constexpr (!FixedVector<X>) batch_size(x, target, who);
  if constexpr (requires { Loss::check_target(std::size_t{}, std::size_t{}); }) {
    if constexpr (std::integral<Y>) {
      Loss::check_target(static_cast<std::size_t>(target), Net::out_size);
    } else if constexpr (IndexRange<Y>) {
      for (const auto index : target) Loss::check_target(static_cast<std::size_t>(index), Net::out_size);
    }
  }
}

/// Forward, loss and backward for one sample. dŷ is multiplied by `scale` (1/batch size);
/// `layer_done` is the backward pass's callback (core/blocks.hpp's network_backward).
template <BackwardMode Mode, class Net, class T, class Loss, class Target, class LayerDone = no_layer_hook>
constexpr T sample_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss,
                                  std::span<const T, Net::in_size> x, const Target& target,
                                  T scale, std::span<T, Net::param_count> dparams,
                                  const LayerDone& layer_done = {}) {
  std::array<T, Net::cache_size> cache;
  std::array<T, Net::out_size> y;
  std::array<T, Net::out_size> dy;
  std::array<T, Net::in_size> unused_dx;  // Mode.input_grad is false: never written
  Net::template forward<T>(params, cache, x, y);
  const T value = loss.template value_and_grad<T, Net::out_size>(y, target, dy);
  if (scale != T{1}) {
    for (auto& d : dy) d *= scale;
  }
  network_backward<Mode, Net, 1, T>(params, cache, x, y, dy, dparams, unused_dx, layer_done);
  return value;
}

/// Samples per block on the batched path: as many as keep a block's inputs, caches, outputs
/// and output gradients within 64 KiB, at most 32. 32 rather than 16 samples fill the
/// input gradient's tiles (two registers of samples) and give the weight gradient twice the
/// sum per store.
template <class Net, class T>
inline constexpr std::size_t block_samples =
    std::clamp<std::size_t>(65536 / (sizeof(T) * (Net::in_size + Net::cache_size + 2 * Net::out_size)), 1, 32);

/// The Samples inputs at `inputs`, copied into one sample-major block.
template <class T, std::size_t In, std::size_t Samples, class Input>
void gather_inputs(const Input* inputs, std::span<T, Samples * In> block) {
  for (std::size_t s = 0; s < Samples; ++s)
    std::ranges::copy(fixed_span<check_input_size, T, In>(inputs[s]), sample_row<In>(block, s).begin());
}

/// Calls run.template operator()<Block>(start) on whole blocks of samples from s on, while
/// fewer than `count` are done: blocks of block_samples, then, when they hold more than 16,
/// one of half as many if the rest fills it (a batch of 16 stays on the batched path with
/// blocks of 32). s ends at the first sample left for one-at-a-time.
template <class Net, class T, class Run>
void for_each_block(std::size_t& s, std::size_t count, Run&& run) {
  constexpr std::size_t block = block_samples<Net, T>;
  if constexpr (block > 1 && !is_stochastic<Net>) {
    for (; s + block <= count; s += block) run.template operator()<block>(s);
    if constexpr (block > 16) {
      if (s + block / 2 <= count) {
        run.template operator()<block / 2>(s);
        s += block / 2;
      }
    }
  }
}

/// run(s, y) with Net's output y (a std::span<const T, out_size>) for inputs[s], for the
/// `count` samples in order: whole blocks through infer_block, the rest through infer.
template <class Net, class T, class Input, class Run>
void for_each_output(std::span<const T, Net::param_count> params, const Input* inputs, std::size_t count, Run&& run) {
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  std::size_t s = 0;
  for_each_block<Net, T>(s, count, [&]<std::size_t Block>(std::size_t start) {
    std::array<T, Block * in> x;
    gather_inputs<T, in, Block>(inputs + start, std::span(x));
    std::array<T, Block * out> y;
    infer_block<Net, Block, T>(params, x, y);
    for (std::size_t b = 0; b < Block; ++b) run(start + b, sample_row<out>(std::span<const T, Block * out>(y), b));
  });
  for (; s < count; ++s) {
    std::array<T, out> y;
    Net::template infer<T>(params, fixed_span<check_input_size, T, in>(inputs[s]), y);
    run(s, std::span<const T, out>(y));
  }
}

/// outputs[s] = Net's output for inputs[s], for the `count` samples. The outputs may be the
/// inputs themselves: each is written after its input has been read.
template <class Net, class T, class Input, class Output>
void infer_samples(std::span<const T, Net::param_count> params, const Input* inputs, Output* outputs, std::size_t count) {
  for_each_output<Net, T>(params, inputs, count,
                          [&](std::size_t s, std::span<const T, Net::out_size> y) { std::ranges::copy(y, outputs[s].begin()); });
}

/// Forward, loss and backward for the Samples samples at inputs and targets, in one block
/// (core/blocks.hpp): the same numbers as sample_value_and_grad on each of them in turn.
/// Adds each sample's loss to `total`, in order.
template <BackwardMode Mode, class Net, std::size_t Samples, class T, class Loss, class Input, class Target,
          class LayerDone = no_layer_hook>
void block_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss, const Input* inputs,
                          const Target* targets, T scale, std::span<T, Net::param_count> dparams, T& total,
                          const LayerDone& layer_done = {}) {
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  std::array<T, Samples * in> x;
  gather_inputs<T, in, Samples>(inputs, std::span(x));
  std::array<T, Samples * Net::cache_size> cache;
  std::array<T, Samples * out> y;
  std::array<T, Samples * out> dy;
  std::array<T, Samples * in> unused_dx;  // Mode.input_grad is false: never written
  forward_block<Net, Samples, T>(params, cache, x, y);
  for (std::size_t s = 0; s < Samples; ++s) {
    const auto dy_s = sample_row<out>(std::span(dy), s);
    total += loss.template value_and_grad<T, out>(sample_row<out>(std::span<const T, Samples * out>(y), s),
                                                  target_view<Loss, T, out>(targets[s]), dy_s);
    if (scale != T{1}) {
      for (auto& d : dy_s) d *= scale;
    }
  }
  network_backward<Mode, Net, Samples, T>(params, cache, x, y, dy, dparams, unused_dx, layer_done);
}

/// A layer_done callback for one sample or block of a batch: the caller's for the last,
/// none (a null pointer) for the others, whose gradients are not final yet.
template <class LayerDone>
struct last_hook {
  const LayerDone* last;
  constexpr void operator()(std::size_t offset, std::size_t size) const {
    if (last != nullptr) (*last)(offset, size);
  }
};

/// The summed loss of the `count` samples at inputs and targets, and their gradient, each
/// sample's multiplied by `scale`, into `dparams`: whole blocks of samples on the batched
/// path, the rest one at a time. The backward pass of the last sample (or block) calls
/// `layer_done(offset, size)` as each layer's gradient becomes final.
template <class Net, class T, class Loss, class Input, class Target, class LayerDone>
constexpr T samples_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss,
                                   const Input* inputs, const Target* targets, std::size_t count, T scale,
                                   std::span<T, Net::param_count> dparams, const LayerDone& layer_done) {
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  constexpr BackwardMode first{.accumulate = false, .input_grad = false};
  constexpr BackwardMode others{.accumulate = true, .input_grad = false};
  T total{};
  std::size_t s = 0;
  // A Dropout network stays one sample at a time (for_each_block), which draws its masks in
  // the order the tape draws them.
  if (!std::is_constant_evaluated()) {
    for_each_block<Net, T>(s, count, [&]<std::size_t Block>(std::size_t start) {
      const last_hook<LayerDone> hook{start + Block == count ? &layer_done : nullptr};
      const auto run = [&]<BackwardMode Mode>() {
        block_value_and_grad<Mode, Net, Block>(params, loss, inputs + start, targets + start, scale, dparams, total,
                                               hook);
      };
      start == 0 ? run.template operator()<first>() : run.template operator()<others>();
    });
  }
  for (; s < count; ++s) {
    const last_hook<LayerDone> hook{s + 1 == count ? &layer_done : nullptr};
    const auto run = [&]<BackwardMode Mode>() {
      return sample_value_and_grad<Mode, Net>(params, loss, fixed_span<check_input_size, T, in>(inputs[s]),
                                              target_view<Loss, T, out>(targets[s]), scale, dparams, hook);
    };
    total += s == 0 ? run.template operator()<first>() : run.template operator()<others>();
  }
  return total;
}

}  // namespace staticgrad::detail
