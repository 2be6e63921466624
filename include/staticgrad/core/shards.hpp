/// @file Threads: a large batch split into shards of a fixed number of samples, which
/// OpenMP threads compute at the same time and which are then added up one by one in shard
/// order, so that the result is the same, bit for bit, for any number of threads (and
/// without OpenMP); and when a batch is worth splitting, and into how many samples.
///
/// Built with OpenMP (-fopenmp; the CMake option STATICGRAD_OPENMP links it), the shards run
/// on the threads that OpenMP's usual controls give (OMP_NUM_THREADS, omp_set_num_threads);
/// inside another parallel region they run on the calling thread alone.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <exception>
#include <span>

#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/detail/samples.hpp>

namespace staticgrad::detail {

/// For each shard 0 … count−1: `compute(shard, partial)` into a default-initialized Partial
/// of its own on the computing thread's stack, then `combine(shard, partial)`, one
/// shard at a time in shard order. The shards compute in parallel; combining is serial.
/// An exception from `compute` is rethrown (the first in shard order) once all have finished:
/// none may escape a parallel region.
template <class Partial, class Compute, class Combine>
void for_each_shard_in_order(std::size_t count, const Compute& compute, const Combine& combine) {
  std::exception_ptr first_error;
  const auto shards = static_cast<std::ptrdiff_t>(count);
#ifdef _OPENMP
#pragma omp parallel for ordered schedule(static, 1) if (shards > 1)
#endif
  for (std::ptrdiff_t s = 0; s < shards; ++s) {
    const auto shard = static_cast<std::size_t>(s);
    Partial partial;
    std::exception_ptr error;
    try {
      compute(shard, partial);
    } catch (...) {
      error = std::current_exception();
    }
#ifdef _OPENMP
#pragma omp ordered
#endif
    {
      if (error && !first_error) first_error = error;
      if (!first_error) combine(shard, partial);
    }
  }
  if (first_error) std::rethrow_exception(first_error);
}

/// Samples per shard of a batch that threads share (core/shards.hpp): at least 64, more
/// for a small network, so that a shard's forward and backward passes (about 2^18 FLOPs)
/// outweigh waking a thread and adding up its gradient; whole blocks.
template <class Net, class T>
inline constexpr std::size_t shard_samples = [] {
  constexpr std::size_t block = block_samples<Net, T>;
  const std::size_t samples = std::max<std::size_t>(64, (std::size_t{1} << 18) / (3 * Net::flops + 1));
  return (samples + block - 1) / block * block;
}();

/// Whether a batch of Net is split into shards: not with Dropout (its masks are drawn in
/// sample order), nor when a shard's gradient, on each thread's stack, would be larger
/// than 1 MiB (LLVM's OpenMP threads have 4 MiB stacks).
template <class Net, class T>
inline constexpr bool shardable = !is_stochastic<Net> && Net::param_count * sizeof(T) <= (std::size_t{1} << 20);

/// to += from (or to = from, when `first`) over the trainable parameters: a Frozen layer's
/// slice of `to` stays unwritten.
template <class Net, class T>
void add_trainable(std::span<const T, Net::param_count> from, std::span<T, Net::param_count> to, bool first) {
  for (const auto run : trainable_ranges<Net>()) {
    const auto source = from.subspan(run.offset, run.size);
    const auto target = to.subspan(run.offset, run.size);
    if (first) std::ranges::copy(source, target.begin());
    else for (std::size_t i = 0; i < run.size; ++i) target[i] += source[i];
  }
}

/// How the shards of a batch are computed and added up: here, on this process's OpenMP
/// threads (staticgrad::mpi has another, across the ranks of a communicator).
/// `sum<Net>(count, compute, dparams)` calls `compute(shard, grads)` for each shard, which
/// writes that shard's gradient into `grads` (a span of Net::param_count) and returns its
/// loss, adds the losses and gradients up in shard order and returns the loss sum; the sum
/// of the gradients goes into dparams' trainable slices (the first shard's overwriting).
struct threads_in_order {
  template <class Net, class T, class Compute>
  T sum(std::size_t count, const Compute& compute, std::span<T, Net::param_count> dparams) const {
    struct partial_sums {
      T loss;
      alignas(64) std::array<T, Net::param_count> grads;
    };
    T total{};
    for_each_shard_in_order<partial_sums>(
        count, [&](std::size_t shard, partial_sums& partial) { partial.loss = compute(shard, std::span(partial.grads)); },
        [&](std::size_t shard, const partial_sums& partial) {
          total = shard == 0 ? partial.loss : total + partial.loss;
          add_trainable<Net>(std::span<const T, Net::param_count>(partial.grads), dparams, shard == 0);
        });
    return total;
  }
};

/// What a shard's thread needs around its computation: nothing, for most networks (a
/// BatchNorm needs its batch's statistics: core/batch_norm_training.hpp).
inline constexpr auto no_shard_setup = [] { return 0; };

/// samples_value_and_grad over a batch of more than one shard: the shards computed and
/// added up in shard order by `shards` (on OpenMP's threads unless told otherwise), so the
/// result does not depend on the number of threads. `layer_done` is called once, for all
/// parameters; what `setup()` returns lives on each thread while it computes a shard.
template <class Net, class T, class Loss, class Input, class Target, class LayerDone,
          class Setup = decltype(no_shard_setup), class Shards = threads_in_order>
T sharded_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss, const Input* inputs,
                         const Target* targets, std::size_t count, T scale,
                         std::span<T, Net::param_count> dparams, const LayerDone& layer_done,
                         const Setup& setup = no_shard_setup, const Shards& shards = {}) {
  constexpr std::size_t shard_size = shard_samples<Net, T>;
  const T total = shards.template sum<Net, T>(
      (count + shard_size - 1) / shard_size,
      [&](std::size_t shard, std::span<T, Net::param_count> grads) {
        [[maybe_unused]] const auto scope = setup();
        const std::size_t first = shard * shard_size;
        return samples_value_and_grad<Net>(params, loss, inputs + first, targets + first,
                                           std::min(shard_size, count - first), scale, grads, no_layer_hook{});
      },
      dparams);
  layer_done(std::size_t{0}, Net::param_count);
  return total;
}

}  // namespace staticgrad::detail
