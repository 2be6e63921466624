/// @file value_and_grad over a batch of a network with BatchNorm, whose samples are coupled:
/// passes over the batch (detail/batch_norm_pass.hpp), each in the same shards of samples
/// whatever the number of threads, with their sums added up in shard order, so that the
/// result does not depend on it. Nothing is kept per sample between passes: the cost is
/// time (a forward pass of the batch up to each BatchNorm for its statistics, and a forward
/// pass and a backward pass down to each BatchNorm with trained layers before it for its
/// gradient means), not memory.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <tuple>
#include <type_traits>

#include <staticgrad/core/blocks.hpp>
#include <staticgrad/core/shards.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/batch_norm_pass.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/detail/samples.hpp>

namespace staticgrad::detail {

// The training forward pass of Net over Block samples from inputs[start] on (a functor
// rather than a lambda: g++ 12 crashes on the lambda here).
template <class Net, class T, class Input>
struct forward_block_from {
  std::span<const T, Net::param_count> params;
  const Input* inputs;

  template <std::size_t Block>
  void operator()(std::size_t start) const {
    *batch_norm_pass<T>::current->stopped = false;
    std::array<T, Block * Net::in_size> x;
    gather_inputs<T, Net::in_size, Block>(inputs + start, std::span(x));
    std::array<T, Block * Net::cache_size> cache;
    std::array<T, Block * Net::out_size> y;
    forward_block<Net, Block, T>(params, cache, x, y);
  }
};

/// Net's training forward pass over the `count` samples at `inputs`, for what it leaves in
/// the thread's batch_norm_pass: the outputs are not kept.
template <class Net, class T, class Input>
void forward_samples(std::span<const T, Net::param_count> params, const Input* inputs, std::size_t count) {
  std::size_t s = 0;
  for_each_block<Net, T>(s, count, forward_block_from<Net, T, Input>{params, inputs});
  forward_block_from<Net, T, Input> one{params, inputs};
  for (; s < count; ++s) one.template operator()<1>(s);
}

/// One pass over the batch's `count` samples in shards of `shard_size`: on each shard's
/// thread, `compute(first sample, samples, sums)` with the shard's own `Sums` (a count,
/// two arrays, first and second, and the stopped flag) in `pass`; then `combine(sums)` in
/// shard order.
template <class Sums, class T, class Compute, class Combine>
void run_batch_norm_pass(const batch_norm_pass<T>& pass, typename batch_norm_pass<T>::kind kind, std::size_t site,
                         std::size_t count, std::size_t shard_size, const Compute& compute, const Combine& combine) {
  for_each_shard_in_order<Sums>(
      (count + shard_size - 1) / shard_size,
      [&](std::size_t shard, Sums& sums) {
        batch_norm_pass<T> mine = pass;
        mine.pass = kind;
        mine.site = site;
        mine.count = &sums.count;
        mine.first_sums = sums.first.data();
        mine.second_sums = sums.second.data();
        mine.stopped = &sums.stopped;
        const batch_norm_scope<T> scope(mine);
        const std::size_t first = shard * shard_size;
        compute(first, std::min(shard_size, count - first), sums);
      },
      [&](std::size_t, const Sums& sums) { combine(sums); });
}

/// The mean and unbiased variance of every BatchNorm's inputs over the batch, and the
/// summed loss over it, with its gradient (times `scale`) in `dparams`; `statistics` gets
/// the means, then the variances, over all BatchNorms' features. Throws
/// std::invalid_argument, before anything is written, for fewer than two samples.
template <class Net, class T, class Loss, class Input, class Target, class LayerDone>
T batch_norm_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss, const Input* inputs,
                            const Target* targets, std::size_t count, T scale, std::span<T, Net::param_count> dparams,
                            std::span<T, 2 * batch_norm_features<Net>> statistics, const LayerDone& layer_done) {
  if (count < 2)
    throw std::invalid_argument(
        "staticgrad::value_and_grad: a network with BatchNorm trains on batches of at least 2 samples (one sample "
        "has no variance)");
  constexpr auto& sites = batch_norm_sites<Net>;
  constexpr std::size_t features = batch_norm_features<Net>, widest = widest_batch_norm<Net>;
  constexpr bool threads = shardable<Net, T>;
  const std::size_t shard_size = threads ? shard_samples<Net, T> : count;

  // The batch means are the first half of `statistics`.
  std::array<T, features> inv_std, mean_dy{}, mean_dy_xhat{};
  batch_norm_pass<T> pass{.params = params.data(), .sites = sites, .mean = statistics.data(),
                          .inv_std = inv_std.data(), .mean_dy = mean_dy.data(), .mean_dy_xhat = mean_dy_xhat.data()};
  // A shard's sums for the site a pass collects for (and, where threads share the batch,
  // the gradient that pass computes and drops).
  struct shard_sums {
    T count = 0;
    std::array<T, widest> first{}, second{};
    bool stopped = false;
    [[no_unique_address]] std::conditional_t<threads, std::array<T, Net::param_count>, std::tuple<>> grads;
  };
  const auto run_pass = [&](typename batch_norm_pass<T>::kind kind, std::size_t site, const auto& compute,
                            const auto& combine) {
    if constexpr (is_stochastic<Net>) current_training.calls = 0;  // every pass draws the same Dropout masks
    run_batch_norm_pass<shard_sums>(pass, kind, site, count, shard_size, compute, combine);
  };

  // Statistics, first BatchNorm first: Welford's sums per shard, joined in shard order
  // (Chan et al.'s update).
  for (std::size_t k = 0; k < sites.size(); ++k) {
    const auto site = sites[k];
    shard_sums total;
    run_pass(
        batch_norm_pass<T>::kind::statistics, k,
        [&](std::size_t first, std::size_t samples, shard_sums&) {
          forward_samples<Net, T>(params, inputs + first, samples);
        },
        [&](const shard_sums& sums) {
          const T n = total.count + sums.count;
          for (std::size_t i = 0; i < site.features; ++i) {
            const T delta = sums.first[i] - total.first[i];
            total.first[i] += delta * sums.count / n;
            total.second[i] += sums.second[i] + delta * delta * total.count * sums.count / n;
          }
          total.count = n;
        });
    for (std::size_t i = 0; i < site.features; ++i) {
      statistics[site.first + i] = total.first[i];
      inv_std[site.first + i] = T{1} / std::sqrt(total.second[i] / total.count + static_cast<T>(site.epsilon));
      statistics[features + site.first + i] = total.second[i] / (total.count - T{1});
    }
  }

  // Gradient means, last BatchNorm first: each needs those after it. A BatchNorm with no
  // trained parameter before it in the flat order (the forward order) has nothing upstream
  // that its input gradient could reach: it needs none.
  for (std::size_t k = sites.size(); k-- > 0;) {
    const auto site = sites[k];
    constexpr auto trained = trainable_ranges<Net>();
    if (trained.empty() || trained.front().offset >= site.param_offset) continue;
    shard_sums total;
    run_pass(
        batch_norm_pass<T>::kind::gradient_means, k,
        [&](std::size_t first, std::size_t samples, shard_sums& sums) {
          const auto scratch = [&] {
            if constexpr (threads) return std::span(sums.grads);
            else return dparams;  // the last pass overwrites it
          }();
          samples_value_and_grad<Net>(params, loss, inputs + first, targets + first, samples, scale, scratch,
                                      no_layer_hook{});
        },
        [&](const shard_sums& sums) {
          for (std::size_t i = 0; i < site.features; ++i) {
            total.first[i] += sums.first[i];
            total.second[i] += sums.second[i];
          }
        });
    for (std::size_t i = 0; i < site.features; ++i) {
      mean_dy[site.first + i] = total.first[i] / static_cast<T>(count);
      mean_dy_xhat[site.first + i] = total.second[i] / static_cast<T>(count);
    }
  }

  // The gradient, as for any network, with every BatchNorm's batch means known.
  if constexpr (is_stochastic<Net>) current_training.calls = 0;
  if constexpr (threads) {
    if (count > shard_samples<Net, T>)
      return sharded_value_and_grad<Net>(params, loss, inputs, targets, count, scale, dparams, layer_done,
                                         [&] { return batch_norm_scope<T>(pass); });
  }
  const batch_norm_scope<T> scope(pass);
  return samples_value_and_grad<Net>(params, loss, inputs, targets, count, scale, dparams, layer_done);
}

}  // namespace staticgrad::detail
