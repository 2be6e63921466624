/// @file Defines staticgrad::Frozen<L>: layer L with its parameters fixed.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <boost/mp11/list.hpp>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/init.hpp>

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
struct Frozen {
  // Instantiating the check reports the problem; see detail/checks.hpp.
  static_assert(sizeof(detail::check_frozen_layer<L>) > 0);
  /// False when L is not a valid layer (the error names it); the members are then empty.
  static constexpr bool valid = detail::ValidLayer<L>;

  using frozen_layer = L;
  // A composite (detail/traversal.hpp) that wraps L: L has its path (model.layer<I>() looks
  // through Frozen), and everything in it is frozen.
  using children = boost::mp11::mp_list<L>;
  static constexpr std::array<std::size_t, 1> child_param_offset{0}, child_cache_offset{0}, child_state_offset{0};
  /// L's state (core/steps.hpp).
  static constexpr std::size_t state_size = detail::state_size_of<L>();
  static constexpr bool wrapper = true;
  static constexpr bool freezes_children = true;
  static constexpr std::string_view summary_label = "Frozen";
  template <class C>
  using rebind = Frozen<C>;
  static constexpr auto name() { return detail::composite_name<"Frozen", valid, L>(); }
  /// In PyTorch: L with requires_grad False, named as L.
  static constexpr std::size_t torch_modules = detail::torch_modules<L>();
  static constexpr bool torch_sequential = detail::torch_sequential<L>();
  template <std::size_t>
  static std::string torch_prefix() {
    return {};
  }
  static constexpr bool stochastic = detail::is_stochastic<L>;  // freezing stops parameters, not noise
  static constexpr std::size_t in_size = detail::network_sizes<L>::in_size;
  static constexpr std::size_t out_size = detail::network_sizes<L>::out_size;
  static constexpr std::size_t param_count = detail::network_sizes<L>::param_count;
  static constexpr std::size_t cache_size = detail::network_sizes<L>::cache_size;
  static constexpr std::size_t flops = [] {
    if constexpr (valid) return L::flops;
    else return std::size_t{0};
  }();

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

  /// L, on whatever records it (see Sequential::record), with its parameters as constants.
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return r.template child<0>(x);
  }

  /// As L's: a frozen layer starts like any other (and is usually loaded afterwards).
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng& rng, const Scheme& scheme) {
    L::template initialize<T>(params, rng, scheme);
  }
};

/// A frozen layer's parameters are named as L's.
template <class L, class T>
class LayerView<Frozen<L>, T> : public LayerView<L, T> {
 public:
  using LayerView<L, T>::LayerView;
};

}  // namespace staticgrad
