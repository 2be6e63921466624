/// @file Defines staticgrad::Checkpoint<L>: layer L whose backward pass recomputes its forward.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <staticgrad/core/blocks.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/detail/wrapper.hpp>

namespace staticgrad {

template <class L>
struct Checkpoint;

namespace detail {

/// Net with every Checkpoint<L> replaced by L: what the network keeps without them.
template <class L>
struct without_checkpoints {
  using type = L;
};
template <class C>
using without_checkpoints_t = typename without_checkpoints<C>::type;
template <CompositeLayer L>
struct without_checkpoints<L> {
  using type = with_children<L, without_checkpoints_t>;
};
template <class L>
struct without_checkpoints<Checkpoint<L>> {
  using type = typename without_checkpoints<L>::type;
};

}  // namespace detail

/// Layer L (Sequential<...> for several) whose forward pass keeps nothing for the backward
/// pass: the backward pass runs L's forward again, from the input the network keeps anyway,
/// into a cache on the stack that lives only while L's gradient is computed. The network's
/// cache shrinks by L's (its cache_size is 0 here, or 4 with Dropout in L: where the
/// training step's random calls stood, so that the forward pass again draws the same
/// masks), at the price of a second forward pass through L; the gradients are bit for bit
/// those of the same network without the checkpoint. Checkpointing the segments of a deep
/// chain, `Sequential<Checkpoint<Sequential<...>>, Checkpoint<Sequential<...>>, ...>`,
/// keeps one segment's cache at a time.
///
/// With state (GRU, LSTM, a composite holding them): through a sequence, a layer that runs
/// step by step (GRU, LSTM) keeps its state before each step only, and each step's backward
/// pass runs that step again; one that runs layer by layer (Sequential, Residual, branches,
/// Conv1D) keeps its state before the first step, and its backward pass runs all the steps
/// again. The parameters, their names and paths, and its State are L's.
template <class L>
struct Checkpoint : detail::wrapper_of<L> {
  // Instantiating the check reports the problem; see detail/checks.hpp.
  static_assert(sizeof(detail::check_checkpoint_layer<L>) > 0);
  using base = detail::wrapper_of<L>;
  using base::in_size, base::out_size, base::param_count, base::valid;

  // L's cache offsets (the wrapper's) are those of the cache it is recomputed into.
  static constexpr std::size_t state_size = detail::state_size_of<L>();
  static constexpr std::string_view summary_label = "Checkpoint";
  template <class C>
  using rebind = Checkpoint<C>;
  static constexpr auto name() { return detail::composite_name<"Checkpoint", valid, L>(); }
  /// With Dropout in L, the count of random calls at L's start (detail::training_state), in
  /// four parts of 16 bits: exact in any T.
  static constexpr std::size_t cache_size = detail::is_stochastic<L> ? 4 : 0;
  /// What the backward pass recomputes, per sample or step.
  static constexpr std::size_t recomputed_cache_size = detail::network_sizes<L>::cache_size;

  /// Whether L runs a sequence layer by layer (its own forward_steps), which the checkpoint
  /// then recomputes whole. Public: clang checks the access of a constraint from the
  /// caller's side, and would take the private one as unsatisfied.
  template <std::size_t Steps>
  static constexpr bool layer_by_layer = detail::has_state<L> && requires { L::template steps_workspace<Steps>; };

  /// The stack the backward pass takes while it recomputes Len steps of a sequence (L's
  /// cache and outputs, for a step or for all of them), with what checkpoints inside L take
  /// in their turn (detail::recompute_scalars).
  template <std::size_t Len>
  static constexpr std::size_t recompute_scalars = [] {
    if constexpr (layer_by_layer<Len>)
      return detail::steps_workspace_of<L, Len>() + Len * out_size + detail::recompute_scalars<L, Len>();
    else if constexpr (detail::has_state<L>)
      return recomputed_cache_size + state_size + out_size + detail::recompute_scalars<L, 1>();
    else return Len * (recomputed_cache_size + out_size) + detail::recompute_scalars<L, Len>();
  }();

  template <class T>
  static constexpr void infer(std::span<const T, param_count> params, std::span<const T, in_size> x,
                              std::span<T, out_size> y) {
    L::template infer<T>(params, x, y);
  }

  template <std::size_t Samples, class T>
  static void infer_block(std::span<const T, param_count> params, std::span<const T, Samples * in_size> x,
                          std::span<T, Samples * out_size> y) {
    detail::infer_block<L, Samples, T>(params, x, y);
  }

  // L's forward pass, as the network without the checkpoint runs it (the same outputs, bit
  // for bit), into a cache that is dropped.
  template <class T>
  static constexpr void forward(std::span<const T, param_count> params, std::span<T, cache_size> kept,
                                std::span<const T, in_size> x, std::span<T, out_size> y) {
    forward_block<1, T>(params, kept, x, y);
  }

  template <std::size_t Samples, class T>
  static void forward_block(std::span<const T, param_count> params, std::span<T, Samples * cache_size> kept,
                            std::span<const T, Samples * in_size> x, std::span<T, Samples * out_size> y) {
    keep_random_calls(kept);
    std::array<T, Samples * recomputed_cache_size> cache;
    detail::forward_block<L, Samples, T>(params, cache, x, y);
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count> params, std::span<const T, cache_size> kept,
                                 std::span<const T, in_size> x, std::span<const T, out_size> y,
                                 std::span<const T, out_size> dy, std::span<T, param_count> dparams,
                                 std::span<T, in_size> dx) {
    backward_block<Mode, 1, T>(params, kept, x, y, dy, dparams, dx);
  }

  template <BackwardMode Mode, std::size_t Samples, class T>
  static void backward_block(std::span<const T, param_count> params, std::span<const T, Samples * cache_size> kept,
                             std::span<const T, Samples * in_size> x, std::span<const T, Samples * out_size> y,
                             std::span<const T, Samples * out_size> dy, std::span<T, param_count> dparams,
                             std::span<T, Samples * in_size> dx) {
    if constexpr (Mode.param_grad || Mode.input_grad) {
      std::array<T, Samples * recomputed_cache_size> cache;
      std::array<T, Samples * out_size> y_again;  // equal to y; L's forward needs somewhere to write it
      {
        // L's forward pass again from where the first one started: the same random calls,
        // the same masks; then the count as the rest of the backward pass left it
        const detail::replayed_random_calls replay(random_calls_kept(kept));
        detail::forward_block<L, Samples, T>(params, cache, x, y_again);
      }
      detail::backward_block<Mode, L, Samples, T>(params, cache, x, y, dy, dparams, dx);
    }
  }

  /// One time step of L (core/steps.hpp).
  template <class T>
  static constexpr void step(std::span<const T, param_count> params, std::span<T, state_size> state,
                             std::span<const T, in_size> x, std::span<T, out_size> y) {
    L::template step<T>(params, state, x, y);
  }

  template <std::size_t Steps, class T>
  static void infer_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                          std::span<const T, Steps * in_size> x, std::span<T, Steps * out_size> y) {
    detail::infer_steps<L, Steps, T>(params, state, x, y);
  }

  // A step of L whose cache is dropped: the caller keeps the state before it, from which
  // backward_step runs it again.
  template <class T>
  static void forward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                           std::span<T, state_size> next_state, std::span<T, cache_size> kept,
                           std::span<const T, in_size> x, std::span<T, out_size> y) {
    keep_random_calls(kept);
    std::array<T, recomputed_cache_size> cache;
    L::template forward_step<T>(params, state, next_state, cache, x, y);
  }

  template <BackwardMode Mode, class T>
  static void backward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                            std::span<const T, cache_size> kept, std::span<const T, in_size> x,
                            std::span<const T, out_size> y, std::span<const T, out_size> dy,
                            std::span<const T, state_size> d_next_state, std::span<T, state_size> d_state,
                            std::span<T, param_count> dparams, std::span<T, in_size> dx) {
    std::array<T, recomputed_cache_size> cache;
    std::array<T, state_size> next_again;
    std::array<T, out_size> y_again;
    {
      const detail::replayed_random_calls replay(random_calls_kept(kept));
      L::template forward_step<T>(params, state, next_again, cache, x, y_again);
    }
    L::template backward_step<Mode, T>(params, state, cache, x, y, dy, d_next_state, d_state, dparams, dx);
  }

  /// Through Steps steps of a layer that runs layer by layer: the state before the first
  /// step is kept, and the backward pass runs all the steps again from it.
  template <std::size_t Steps>
    requires layer_by_layer<Steps>
  static constexpr std::size_t steps_workspace = state_size;

  template <std::size_t Steps, class T>
    requires layer_by_layer<Steps>
  static void forward_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                            std::span<T, steps_workspace<Steps>> work, std::span<const T, Steps * in_size> x,
                            std::span<T, Steps * out_size> y) {
    std::copy(state.begin(), state.end(), work.begin());
    std::array<T, detail::steps_workspace_of<L, Steps>()> dropped;
    detail::forward_steps<L, Steps, T>(params, state, dropped, x, y);
  }

  template <BackwardMode Mode, std::size_t Steps, class T>
    requires layer_by_layer<Steps>
  static void backward_steps(std::span<const T, param_count> params, std::span<T, steps_workspace<Steps>> work,
                             std::span<const T, Steps * in_size> x, std::span<const T, Steps * out_size> y,
                             std::span<const T, Steps * out_size> dy, std::span<T, param_count> dparams,
                             std::span<T, Steps * in_size> dx) {
    std::array<T, detail::steps_workspace_of<L, Steps>()> recomputed;
    std::array<T, Steps * out_size> y_again;
    detail::forward_steps<L, Steps, T>(params, work, recomputed, x, y_again);  // leaves work at the end state
    detail::backward_steps<Mode, L, Steps, T>(params, recomputed, x, y, dy, dparams, dx);
  }

 private:
  template <class Kept>
  static void keep_random_calls(Kept kept) {
    if constexpr (cache_size > 0)
      for (std::size_t part = 0; part < 4; ++part)
        kept[part] = static_cast<typename Kept::value_type>(detail::current_training.calls >> (16 * part) & 0xffff);
  }
  // The count of random calls that forward_block or forward_step kept; without Dropout in L
  // nothing was kept or is drawn, and the current count stands.
  template <class T, std::size_t Kept>
  static std::uint64_t random_calls_kept(std::span<const T, Kept> kept) {
    std::uint64_t calls = detail::current_training.calls;
    if constexpr (cache_size > 0) {
      calls = 0;
      for (std::size_t part = 0; part < 4; ++part) calls |= static_cast<std::uint64_t>(kept[part]) << (16 * part);
    }
    return calls;
  }
};

/// A checkpointed layer's parameters are named as L's.
template <class L, class T>
class LayerView<Checkpoint<L>, T> : public LayerView<L, T> {
 public:
  using LayerView<L, T>::LayerView;
};

}  // namespace staticgrad
