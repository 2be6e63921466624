/// @file Defines staticgrad::State<Net, T>: what a network with state (GRU, …) carries from
/// one time step to the next, for one stream.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/state_view.hpp>

namespace staticgrad {

/// The state of every layer of Net that has one (GRU's h, …), in the network's order, for
/// one stream: zeros when built (PyTorch's h0 = 0), `reset()` makes them zeros again. The
/// model is not in it: one trained model serves as many streams as there are States.
///
///     sg::State<Net, float> left{}, right{};
///     float out = model(std::array<float, 1>{in}, left)[0];   // one step; left advances
///     state.layer<0>().h()[3] = 0.5f;                          // read or set a layer's state
/// @tparam Net the network spec
/// @tparam T   its scalar type
template <class Net, class T>
class State {
 public:
  static constexpr std::size_t size = detail::state_size_of<Net>();

  /// Every layer's state zero.
  constexpr State() : values_{} {}

  /// All of it, in the network's order.
  constexpr std::span<T, size> flat() { return values_; }
  constexpr std::span<const T, size> flat() const { return values_; }

  /// Back to zeros, as when built.
  constexpr void reset() { std::fill(values_.begin(), values_.end(), T{0}); }

  /// The state of layer I (for Sequential and Residual networks), as model.layer<I>()
  /// reaches its parameters.
  template <std::size_t I>
  constexpr auto layer() {
    return StateView<Net, T>(flat()).template layer<I>();
  }
  template <std::size_t I>
  constexpr auto layer() const {
    return StateView<Net, const T>(flat()).template layer<I>();
  }

 private:
  std::array<T, size> values_;
};

}  // namespace staticgrad
