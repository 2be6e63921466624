/// @file Defines staticgrad::receptive_field<Net>: how many time steps of its input one
/// output of a network depends on.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/core/steps.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/layers/branches.hpp>

namespace staticgrad {

namespace detail {

/// Unbounded: a recurrent layer's output depends on every step before it.
inline constexpr std::size_t whole_past = std::numeric_limits<std::size_t>::max();

constexpr std::size_t add_histories(std::size_t a, std::size_t b) {
  return a == whole_past || b == whole_past ? whole_past : a + b;
}

/// How many steps before the current one L's output depends on: a Conv1D's (Kernel − 1) ·
/// Dilation, a layer without state's none, a recurrent layer's all; a chain's
/// (Sequential, Residual) the sum over its layers, branches' the longest.
template <class L>
constexpr std::size_t history_of() {
  if constexpr (requires { L::history; }) {
    return L::history;
  } else if constexpr (CompositeLayer<L>) {
    std::size_t longest = 0, chained = 0;
    boost::mp11::mp_for_each<typename L::children>([&]<class C>(C) {
      longest = std::max(longest, history_of<C>());
      chained = add_histories(chained, history_of<C>());
    });
    return BranchSet<L> ? longest : chained;
  } else {
    return has_state<L> ? whole_past : 0;
  }
}

}  // namespace detail

/// How many consecutive steps of its input one output of Net depends on, the current step
/// included: 1 without state, (Kernel − 1) · Dilation + 1 for a Conv1D, the sum of the
/// histories along a chain plus 1 (a WaveNet's stack of dilations), the largest over
/// branches; `std::numeric_limits<std::size_t>::max()` with a GRU or an LSTM, which see the
/// whole past. A window of a long signal needs this many steps of warmup before its outputs
/// are those of the whole signal.
template <class Net>
inline constexpr std::size_t receptive_field = detail::add_histories(detail::history_of<Net>(), 1);

}  // namespace staticgrad
