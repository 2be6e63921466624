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
///
/// Inference over consecutive steps of one stream may go layer by layer instead of step by
/// step (infer_steps below): a layer may provide
///
///     template <std::size_t Steps, class T>
///     static void infer_steps(params, state, x, y);   // x [Steps][in_size], y [Steps][out_size]
///
/// which leaves the state after the last step, as Steps calls of `step` would, its outputs
/// equal to theirs up to rounding (a convolution over all steps as one matrix product).
///
/// Training through time goes layer by layer too (forward_steps and backward_steps below):
/// a layer may provide
///
///     template <std::size_t Steps> static constexpr std::size_t steps_workspace;
///     template <std::size_t Steps, class T>
///     static void forward_steps(params, state, work, x, y);
///     template <BackwardMode Mode, std::size_t Steps, class T>
///     static void backward_steps(params, work, x, y, dy, dparams, dx);
///
/// forward_steps is Steps calls of forward_step from `state` (left at the state after
/// them), keeping in `work` (steps_workspace scalars) what backward_steps needs;
/// backward_steps is their vector-Jacobian product with the state at the start taken as a
/// constant (no gradient flows into it) and no gradient from after the last step:
/// truncated backpropagation through time, as a sequence's value_and_grad runs it. It may
/// use `work` as scratch. Parameter gradients are summed over the steps (Mode.accumulate:
/// added to dparams).
#pragma once

#include <algorithm>
#include <array>
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

/// Steps consecutive time steps of one stream through L, from `state`, which is left at the
/// state after them: L's own infer_steps (Sequential: layer after layer; Conv1D: all steps
/// as one matrix product), else, without state, the steps as a block of samples (Dense:
/// matrix-matrix kernels), else one step after another.
template <class L, std::size_t Steps, class T>
void infer_steps(std::span<const T, L::param_count> params, std::span<T, state_size_of<L>()> state,
                 std::span<const T, Steps * L::in_size> x, std::span<T, Steps * L::out_size> y) {
  if constexpr (requires { L::template infer_steps<Steps, T>(params, state, x, y); }) {
    L::template infer_steps<Steps, T>(params, state, x, y);
  } else if constexpr (!has_state<L>) {
    infer_block<L, Steps, T>(params, x, y);
  } else {
    for (std::size_t t = 0; t < Steps; ++t)
      L::template step<T>(params, state, sample_row<L::in_size>(x, t), sample_row<L::out_size>(y, t));
  }
}

/// The scalars forward_steps keeps for backward_steps over Steps steps of L: L's own
/// steps_workspace, else, with state, the state before each step and each step's cache,
/// else each step's cache.
template <class L, std::size_t Steps>
constexpr std::size_t steps_workspace_of() {
  if constexpr (requires { L::template steps_workspace<Steps>; }) return L::template steps_workspace<Steps>;
  else return Steps * (state_size_of<L>() + L::cache_size);
}

/// Training's forward pass over Steps time steps of one stream through L, from `state`
/// (left at the state after them): L's own forward_steps, else, without state, the steps
/// as a block of samples, else one forward_step after another, each state kept.
template <class L, std::size_t Steps, class T>
void forward_steps(std::span<const T, L::param_count> params, std::span<T, state_size_of<L>()> state,
                   std::span<T, steps_workspace_of<L, Steps>()> work, std::span<const T, Steps * L::in_size> x,
                   std::span<T, Steps * L::out_size> y) {
  constexpr std::size_t S = state_size_of<L>(), C = L::cache_size;
  if constexpr (requires { L::template forward_steps<Steps, T>(params, state, work, x, y); }) {
    L::template forward_steps<Steps, T>(params, state, work, x, y);
  } else if constexpr (!has_state<L>) {
    forward_block<L, Steps, T>(params, work, x, y);
  } else {
    static_assert(!requires { L::template steps_workspace<Steps>; },
                  "a layer's steps_workspace sizes its own forward_steps and backward_steps: declare them with it");
    for (std::size_t t = 0; t < Steps; ++t) {
      const auto before = sample_row<S>(work, t);
      std::copy(state.begin(), state.end(), before.begin());
      L::template forward_step<T>(params, before, state, std::span<T, C>(work.data() + Steps * S + t * C, C),
                                  sample_row<L::in_size>(x, t), sample_row<L::out_size>(y, t));
    }
  }
}

/// The backward pass of forward_steps (truncated: no gradient into the state it started
/// from, none from after its last step).
template <BackwardMode Mode, class L, std::size_t Steps, class T>
void backward_steps(std::span<const T, L::param_count> params, std::span<T, steps_workspace_of<L, Steps>()> work,
                    std::span<const T, Steps * L::in_size> x, std::span<const T, Steps * L::out_size> y,
                    std::span<const T, Steps * L::out_size> dy, std::span<T, L::param_count> dparams,
                    std::span<T, Steps * L::in_size> dx) {
  constexpr std::size_t S = state_size_of<L>(), C = L::cache_size, In = L::in_size, Out = L::out_size;
  if constexpr (requires { L::template backward_steps<Mode, Steps, T>(params, work, x, y, dy, dparams, dx); }) {
    L::template backward_steps<Mode, Steps, T>(params, work, x, y, dy, dparams, dx);
  } else if constexpr (!has_state<L>) {
    backward_block<Mode, L, Steps, T>(params, std::span<const T, Steps * C>(work), x, y, dy, dparams, dx);
  } else {
    // ∂L/∂(the state after step t) and ∂L/∂(the state before it), alternating: the one
    // written by step t is read by step t − 1. After the last step it is zero.
    std::array<T, 2 * S> d_states{};
    for (std::size_t t = Steps; t-- > 0;) {
      const auto run = [&]<BackwardMode StepMode>() {
        L::template backward_step<StepMode, T>(
            params, std::span<const T, S>(sample_row<S>(work, t)), std::span<const T, C>(work.data() + Steps * S + t * C, C),
            sample_row<In>(x, t), sample_row<Out>(y, t), sample_row<Out>(dy, t),
            std::span<const T, S>(d_states.data() + (t + 1) % 2 * S, S), std::span<T, S>(d_states.data() + t % 2 * S, S),
            dparams, sample_row<In>(dx, t));
      };
      // The last step first: it writes the gradient (or adds it, as Mode says); the others add.
      if (t + 1 == Steps) run.template operator()<Mode>();
      else run.template operator()<BackwardMode{.accumulate = true, .input_grad = Mode.input_grad, .param_grad = Mode.param_grad}>();
    }
  }
}

}  // namespace staticgrad::detail
