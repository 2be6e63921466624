/// @file Defines staticgrad::StateView, a typed view of one layer's part of a
/// staticgrad::State.
#pragma once

#include <cstddef>
#include <span>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/detail/traversal.hpp>

namespace staticgrad {

/// A view of layer L's part of a State. Composites reach their layers' parts with
/// `layer<I>()` (looking through Frozen, as model.layer<I>() does); every view has
/// `flat()`, and layers name theirs (GRU: `h()`).
template <class L, class T>
class StateView {
 public:
  static constexpr std::size_t size = detail::state_size_of<L>();
  constexpr explicit StateView(std::span<T, size> state) : state_(state) {}
  /// The layer's state, all of it.
  constexpr std::span<T, size> flat() const { return state_; }

  /// The state of layer I of a composite.
  template <std::size_t I>
    requires detail::CompositeLayer<L>
  constexpr auto layer() const {
    if constexpr (detail::is_wrapper<L>()) {
      return inner().template layer<I>();
    } else {
      using children = typename L::children;
      static_assert(I < boost::mp11::mp_size<children>::value, "staticgrad: layer<I>(): I is past the last layer");
      using C = boost::mp11::mp_at_c<children, I < boost::mp11::mp_size<children>::value ? I : 0>;
      return unwrapped<C>(state_.template subspan<L::child_state_offset[I], detail::state_size_of<C>()>());
    }
  }

 protected:
  std::span<T, size> state_;

 private:
  // The view of a child, through any wrappers (Frozen) around it.
  template <class C, std::size_t N>
  static constexpr auto unwrapped(std::span<T, N> state) {
    if constexpr (detail::CompositeLayer<C> && detail::is_wrapper<C>())
      return unwrapped<boost::mp11::mp_front<typename C::children>>(state);
    else
      return StateView<C, T>(state);
  }
  constexpr auto inner() const { return unwrapped<boost::mp11::mp_front<typename L::children>>(state_); }
};

}  // namespace staticgrad
