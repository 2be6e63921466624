/// @file Defines staticgrad::Frozen<L>: layer L with its parameters fixed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/detail/wrapper.hpp>

namespace staticgrad {

/// Layer L (any layer, Sequential or Residual included) whose parameters do not train.
///
/// They stay in the model, in the flat order, and in saved files, but the generated
/// backward pass contains no code for them: their slice of a Gradients is never written
/// (it holds zeros: a Gradients starts zeroed, and the value_and_grad that returns one
/// zeroes it), the optimizers skip them, and the input gradient flows through L only when
/// a trainable layer before it needs it. A frozen first half of a network costs little
/// more than its forward pass.
/// @tparam L the layer to freeze (checked: the diagnostic names `check_frozen_layer<L>`)
template <class L>
struct Frozen : detail::wrapper_of<L> {
  // Instantiating the check reports the problem; see detail/checks.hpp.
  static_assert(sizeof(detail::check_frozen_layer<L>) > 0);
  using base = detail::wrapper_of<L>;
  using base::in_size, base::out_size, base::param_count, base::valid;

  using frozen_layer = L;
  /// L's state (core/steps.hpp).
  static constexpr std::size_t state_size = detail::state_size_of<L>();
  static constexpr bool freezes_children = true;
  static constexpr std::string_view summary_label = "Frozen";
  template <class C>
  using rebind = Frozen<C>;
  static constexpr auto name() { return detail::composite_name<"Frozen", valid, L>(); }
  static constexpr bool stochastic = detail::is_stochastic<L>;  // freezing stops parameters, not noise
  static constexpr std::size_t cache_size = detail::network_sizes<L>::cache_size;

  template <class T>
  static constexpr void infer(std::span<const T, param_count> params, std::span<const T, in_size> x,
                              std::span<T, out_size> y) {
    L::template infer<T>(params, x, y);
  }

  template <class T>
  static constexpr void forward(std::span<const T, param_count> params, std::span<T, cache_size> cache,
                                std::span<const T, in_size> x, std::span<T, out_size> y) {
    L::template forward<T>(params, cache, x, y);
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count> params, std::span<const T, cache_size> cache,
                                 std::span<const T, in_size> x, std::span<const T, out_size> y,
                                 std::span<const T, out_size> dy, std::span<T, param_count> dparams,
                                 std::span<T, in_size> dx) {
    if constexpr (Mode.input_grad)
      L::template backward<BackwardMode{.accumulate = Mode.accumulate, .input_grad = true, .param_grad = false}, T>(
          params, cache, x, y, dy, dparams, dx);
  }

  /// One time step of L (core/steps.hpp).
  template <class T>
  static constexpr void step(std::span<const T, param_count> params, std::span<T, state_size> state,
                             std::span<const T, in_size> x, std::span<T, out_size> y) {
    L::template step<T>(params, state, x, y);
  }

  template <class T>
  static constexpr void forward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                     std::span<T, state_size> next_state, std::span<T, cache_size> cache,
                                     std::span<const T, in_size> x, std::span<T, out_size> y) {
    L::template forward_step<T>(params, state, next_state, cache, x, y);
  }

  /// Back through L without its parameter gradient. When nothing before it needs the input
  /// gradient, L's own earlier steps need no state gradient either: it is zero.
  template <BackwardMode Mode, class T>
  static constexpr void backward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                      std::span<const T, cache_size> cache, std::span<const T, in_size> x,
                                      std::span<const T, out_size> y, std::span<const T, out_size> dy,
                                      std::span<const T, state_size> d_next_state, std::span<T, state_size> d_state,
                                      std::span<T, param_count> dparams, std::span<T, in_size> dx) {
    if constexpr (Mode.input_grad)
      L::template backward_step<BackwardMode{.accumulate = Mode.accumulate, .input_grad = true, .param_grad = false},
                                T>(params, state, cache, x, y, dy, d_next_state, d_state, dparams, dx);
    else
      std::fill(d_state.begin(), d_state.end(), T{0});
  }

};

/// A frozen layer's parameters are named as L's.
template <class L, class T>
class LayerView<Frozen<L>, T> : public LayerView<L, T> {
 public:
  using LayerView<L, T>::LayerView;
};

}  // namespace staticgrad
