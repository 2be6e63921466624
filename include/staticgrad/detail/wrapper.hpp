/// @file What a composite that wraps one layer (Frozen, Checkpoint) shares with L.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>

#include <boost/mp11/list.hpp>

#include <staticgrad/core/tensors.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad::detail {

/// The base of a wrapper of layer L (detail/traversal.hpp): L is its only child, at the
/// wrapper's own offsets, with the wrapper's path (model.layer<I>() looks through it), its
/// sizes, flops, PyTorch names and initialization; on the tape the wrapper is L. A derived
/// wrapper declares what it changes (Frozen: no parameter gradient; Checkpoint: no cache).
template <class L>
struct wrapper_of {
  /// False when L is not a valid layer (the error names it); the members are then empty.
  static constexpr bool valid = ValidLayer<L>;
  using children = boost::mp11::mp_list<L>;
  static constexpr std::array<std::size_t, 1> child_param_offset{0}, child_cache_offset{0}, child_state_offset{0};
  static constexpr bool wrapper = true;
  /// In PyTorch: L, named as L.
  static constexpr std::size_t torch_modules = detail::torch_modules<L>();
  static constexpr bool torch_sequential = detail::torch_sequential<L>();
  template <std::size_t>
  static std::string torch_prefix() {
    return {};
  }
  static constexpr std::size_t in_size = network_sizes<L>::in_size;
  static constexpr std::size_t out_size = network_sizes<L>::out_size;
  static constexpr std::size_t param_count = network_sizes<L>::param_count;
  static constexpr std::size_t flops = [] {
    if constexpr (valid) return L::flops;
    else return std::size_t{0};
  }();

  /// L, on whatever records it (see Sequential::record).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return r.template child<0>(x);
  }

  /// As L's.
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng& rng, const Scheme& scheme) {
    L::template initialize<T>(params, rng, scheme);
  }
};

}  // namespace staticgrad::detail
