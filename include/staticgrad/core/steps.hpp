/// @file The step protocol of layers: a layer with state (GRU, LSTM) carries `state_size`
/// scalars from one time step to the next, and runs one step at a time:
///
///     template <class T>
///     static void step(params, state, x, y);                          // inference: state updated in place
///     template <class T>
///     static void forward_step(params, state, next_state, cache, x, y);  // training
///     template <BackwardMode Mode, class T>
///     static void backward_step(params, state, cache, x, y, dy, d_next_state, d_state, dparams, dx);
///
/// over fixed-extent spans. forward_step reads the state before the step and writes the
/// state after it (two buffers: the backward pass needs both); backward_step is the
/// vector-Jacobian product of forward_step: given ∂L/∂y and ∂L/∂next_state, it writes (or
/// with Mode.accumulate adds) ∂L/∂params, and writes ∂L/∂x (with Mode.input_grad) and
/// ∂L/∂state. The caller keeps the state before each step, as it keeps x and y.
///
/// A layer without state is a step of its own: the functions below call its infer, forward
/// and backward (or block kernels), so every layer runs in a sequence, and a composite
/// routes its children's states the same way whether it has any or not.
#pragma once

#include <cstddef>
#include <span>

#include <staticgrad/core/blocks.hpp>
#include <staticgrad/core/concepts.hpp>

namespace staticgrad::detail {

/// Whether L carries state from one step to the next.
template <class L>
inline constexpr bool has_state = state_size_of<L>() > 0;

// A block of Samples samples for a layer without state (core/blocks.hpp), one step for a
// layer with it, which runs one sample (Samples = 1). A state span of a layer without
// state is empty.

template <class L, std::size_t Samples, class T>
constexpr void infer_block(std::span<const T, L::param_count> params,
                           std::span<T, Samples * state_size_of<L>()> state,
                           std::span<const T, Samples * L::in_size> x, std::span<T, Samples * L::out_size> y) {
  if constexpr (has_state<L>) {
    static_assert(Samples == 1, "staticgrad: a layer with state runs one sample at a time");
    L::template step<T>(params, state, x, y);
  } else {
    infer_block<L, Samples, T>(params, x, y);
  }
}

template <class L, std::size_t Samples, class T>
constexpr void forward_block(std::span<const T, L::param_count> params,
                             std::span<const T, Samples * state_size_of<L>()> state,
                             std::span<T, Samples * state_size_of<L>()> next_state,
                             std::span<T, Samples * L::cache_size> cache, std::span<const T, Samples * L::in_size> x,
                             std::span<T, Samples * L::out_size> y) {
  if constexpr (has_state<L>) {
    static_assert(Samples == 1, "staticgrad: a layer with state runs one sample at a time");
    L::template forward_step<T>(params, state, next_state, cache, x, y);
  } else {
    forward_block<L, Samples, T>(params, cache, x, y);
  }
}

template <BackwardMode Mode, class L, std::size_t Samples, class T>
constexpr void backward_block(std::span<const T, L::param_count> params,
                              std::span<const T, Samples * state_size_of<L>()> state,
                              std::span<const T, Samples * L::cache_size> cache,
                              std::span<const T, Samples * L::in_size> x, std::span<const T, Samples * L::out_size> y,
                              std::span<const T, Samples * L::out_size> dy,
                              std::span<const T, Samples * state_size_of<L>()> d_next_state,
                              std::span<T, Samples * state_size_of<L>()> d_state, std::span<T, L::param_count> dparams,
                              std::span<T, Samples * L::in_size> dx) {
  if constexpr (has_state<L>) {
    static_assert(Samples == 1, "staticgrad: a layer with state runs one sample at a time");
    L::template backward_step<Mode, T>(params, state, cache, x, y, dy, d_next_state, d_state, dparams, dx);
  } else {
    backward_block<Mode, L, Samples, T>(params, cache, x, y, dy, dparams, dx);
  }
}

}  // namespace staticgrad::detail
