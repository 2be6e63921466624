/// @file The block protocol of layers: forward and backward over a block of samples at once.
///
/// A block of Samples samples is stored sample-major: a layer's input is [Samples][in_size],
/// its output [Samples][out_size], its cache [Samples][cache_size]. A layer may provide
///
///     template <std::size_t Samples, class T>
///     static void infer_block(params, x, y);
///     template <std::size_t Samples, class T>
///     static void forward_block(params, cache, x, y);
///     template <BackwardMode Mode, std::size_t Samples, class T>
///     static void backward_block(params, cache, x, y, dy, dparams, dx);
///
/// over spans of those sizes, with the laws of forward and backward applied to each sample
/// (parameter gradients summed over the samples, in order; infer_block keeps nothing for a
/// backward pass, so a layer may keep more in training). A layer without them is run one
/// sample at a time, so every layer works in a block, and the ones whose weights are worth
/// reusing across samples (Dense) provide them.
#pragma once

#include <cstddef>
#include <span>

#include <staticgrad/core/concepts.hpp>

namespace staticgrad::detail {

/// A backward pass's "layer done" callback that does nothing (see Sequential::backward_block).
struct no_layer_hook {
  constexpr void operator()(std::size_t, std::size_t) const {}
};

/// Sample s's row of a [Samples][N] block.
template <std::size_t N, class U, std::size_t Size>
constexpr std::span<U, N> sample_row(std::span<U, Size> block, std::size_t s) {
  return std::span<U, N>(block.data() + s * N, N);
}

/// L's inference over a block of Samples samples.
template <class L, std::size_t Samples, class T>
constexpr void infer_block(std::span<const T, L::param_count> params, std::span<const T, Samples * L::in_size> x,
                           std::span<T, Samples * L::out_size> y) {
  if constexpr (Samples == 1) {
    L::template infer<T>(params, x, y);
  } else if constexpr (requires { L::template infer_block<Samples, T>(params, x, y); }) {
    L::template infer_block<Samples, T>(params, x, y);
  } else {
    for (std::size_t s = 0; s < Samples; ++s)
      L::template infer<T>(params, sample_row<L::in_size>(x, s), sample_row<L::out_size>(y, s));
  }
}

/// L's forward pass over a block of Samples samples.
template <class L, std::size_t Samples, class T>
constexpr void forward_block(std::span<const T, L::param_count> params,
                             std::span<T, Samples * L::cache_size> cache,
                             std::span<const T, Samples * L::in_size> x,
                             std::span<T, Samples * L::out_size> y) {
  if constexpr (Samples == 1) {
    L::template forward<T>(params, cache, x, y);
  } else if constexpr (requires { L::template forward_block<Samples, T>(params, cache, x, y); }) {
    L::template forward_block<Samples, T>(params, cache, x, y);
  } else {
    for (std::size_t s = 0; s < Samples; ++s)
      L::template forward<T>(params, sample_row<L::cache_size>(cache, s), sample_row<L::in_size>(x, s),
                             sample_row<L::out_size>(y, s));
  }
}

/// L's backward pass over a block of Samples samples.
template <BackwardMode Mode, class L, std::size_t Samples, class T>
constexpr void backward_block(std::span<const T, L::param_count> params,
                              std::span<const T, Samples * L::cache_size> cache,
                              std::span<const T, Samples * L::in_size> x,
                              std::span<const T, Samples * L::out_size> y,
                              std::span<const T, Samples * L::out_size> dy,
                              std::span<T, L::param_count> dparams,
                              std::span<T, Samples * L::in_size> dx) {
  if constexpr (Samples == 1) {
    L::template backward<Mode, T>(params, cache, x, y, dy, dparams, dx);
  } else if constexpr (requires {
                         L::template backward_block<Mode, Samples, T>(params, cache, x, y, dy, dparams, dx);
                       }) {
    L::template backward_block<Mode, Samples, T>(params, cache, x, y, dy, dparams, dx);
  } else {
    // The first sample writes the parameter gradients (unless Mode accumulates), the
    // others add to them.
    constexpr BackwardMode accumulate{.accumulate = true, .input_grad = Mode.input_grad, .param_grad = Mode.param_grad};
    const auto sample = [&]<BackwardMode M>(std::size_t s) {
      L::template backward<M, T>(params, sample_row<L::cache_size>(cache, s), sample_row<L::in_size>(x, s),
                                 sample_row<L::out_size>(y, s), sample_row<L::out_size>(dy, s), dparams,
                                 sample_row<L::in_size>(dx, s));
    };
    sample.template operator()<Mode>(0);
    for (std::size_t s = 1; s < Samples; ++s) sample.template operator()<accumulate>(s);
  }
}

}  // namespace staticgrad::detail

namespace staticgrad::detail {

/// A whole network's backward pass over a block, calling `layer_done(offset, size)` as each
/// part of the flat parameters gets its final gradient: layer by layer for a Sequential,
/// once at the end otherwise.
template <BackwardMode Mode, class Net, std::size_t Samples, class T, class LayerDone>
constexpr void network_backward(std::span<const T, Net::param_count> params,
                                std::span<const T, Samples * Net::cache_size> cache,
                                std::span<const T, Samples * Net::in_size> x,
                                std::span<const T, Samples * Net::out_size> y,
                                std::span<const T, Samples * Net::out_size> dy,
                                std::span<T, Net::param_count> dparams,
                                std::span<T, Samples * Net::in_size> dx, const LayerDone& layer_done) {
  if constexpr (requires { Net::template backward_block<Mode, Samples, T>(params, cache, x, y, dy, dparams, dx, layer_done); }) {
    Net::template backward_block<Mode, Samples, T>(params, cache, x, y, dy, dparams, dx, layer_done);
  } else {
    backward_block<Mode, Net, Samples, T>(params, cache, x, y, dy, dparams, dx);
    layer_done(std::size_t{0}, Net::param_count);
  }
}

}  // namespace staticgrad::detail
