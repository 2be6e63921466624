/// @file Where each layer that owns parameters sits in the flat array, in order, and which
/// runs of it train (everything but Frozen layers).
#pragma once

#include <array>
#include <cstddef>

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

namespace staticgrad::detail {

/// A run [offset, offset + size) of the flat parameter array that belongs to one layer.
struct parameter_range {
  std::size_t offset = 0;
  std::size_t size = 0;
};

/// A composite's children: a chain's layers (Sequential, Residual) or a DAG's branches
/// (Concat, Sum); their parameters sit one after the other either way.
template <class L>
concept Composite = requires { typename L::layers; } || requires { typename L::branches; };

template <class L>
struct children_of {
  using type = typename L::layers;
};
template <class L>
  requires requires { typename L::branches; }
struct children_of<L> {
  using type = typename L::branches;
};

// RangesOf<Child>::get() for each child, shifted to where the child's parameters sit.
template <template <class> class RangesOf, class... Ls>
constexpr auto children_ranges(boost::mp11::mp_list<Ls...>) {
  std::array<parameter_range, (RangesOf<Ls>::get().size() + ... + 0)> all{};
  std::size_t count = 0, offset = 0;
  const auto append = [&](const auto& ranges, std::size_t size) {
    for (const auto& r : ranges) all[count++] = {offset + r.offset, r.size};
    offset += size;
  };
  (append(RangesOf<Ls>::get(), Ls::param_count), ...);
  return all;
}

template <class L>
struct parameter_layers_of {
  static constexpr auto get() {
    if constexpr (requires { typename L::frozen_layer; })  // Frozen<L>: L's layers, untrained
      return parameter_layers_of<typename L::frozen_layer>::get();
    else if constexpr (Composite<L>)
      return children_ranges<parameter_layers_of>(typename children_of<L>::type{});
    else if constexpr (L::param_count > 0)
      return std::array<parameter_range, 1>{{{0, L::param_count}}};
    else
      return std::array<parameter_range, 0>{};
  }
};

/// The leaf layers that own parameters (Dense, LayerNorm, RMSNorm, ...), depth first, as
/// ranges of the flat array: what "per layer" means for gradient norms.
template <class L>
constexpr auto parameter_layers() {
  return parameter_layers_of<L>::get();
}

/// How many of leaf L's leading parameters do not train (a LoRA layer's base weights).
template <class L>
constexpr std::size_t leading_frozen_count() {
  if constexpr (requires { L::frozen_count; }) return L::frozen_count;
  else return 0;
}

/// Whether any of L's parameters train: it has some, and not all of them are Frozen.
template <class L>
struct has_trainable_params_impl {
  static constexpr bool value = L::param_count > leading_frozen_count<L>();
};
template <class L>
  requires requires { typename L::frozen_layer; }
struct has_trainable_params_impl<L> {
  static constexpr bool value = false;
};
template <class L>
  requires Composite<L>
struct has_trainable_params_impl<L> {
  template <class Child>
  using trains = boost::mp11::mp_bool<has_trainable_params_impl<Child>::value>;
  static constexpr bool value = boost::mp11::mp_any_of<typename children_of<L>::type, trains>::value;
};
template <class L>
using has_trainable_params = boost::mp11::mp_bool<has_trainable_params_impl<L>::value>;

// Each trainable leaf's range, depth first (adjacent ranges not joined yet).
template <class L>
struct trainable_leaves_of {
  static constexpr auto get() {
    if constexpr (!has_trainable_params<L>::value)
      return std::array<parameter_range, 0>{};
    else if constexpr (Composite<L>)
      return children_ranges<trainable_leaves_of>(typename children_of<L>::type{});
    else
      return std::array<parameter_range, 1>{{{leading_frozen_count<L>(), L::param_count - leading_frozen_count<L>()}}};
  }
};

// How many runs the trainable leaves form once adjacent ones are joined.
template <std::size_t N>
constexpr std::size_t joined_count(const std::array<parameter_range, N>& leaves) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < N; ++i)
    if (i == 0 || leaves[i - 1].offset + leaves[i - 1].size != leaves[i].offset) ++count;
  return count;
}

/// The runs of Net's flat array that train, as few as possible: the optimizers update
/// these and nothing else (one run, the whole array, when nothing is frozen).
template <class Net>
constexpr auto trainable_ranges() {
  constexpr auto leaves = trainable_leaves_of<Net>::get();
  std::array<parameter_range, joined_count(leaves)> runs{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    if (i > 0 && leaves[i - 1].offset + leaves[i - 1].size == leaves[i].offset) runs[count - 1].size += leaves[i].size;
    else runs[count++] = leaves[i];
  }
  return runs;
}

// How many gaps the sorted runs leave in [0, total).
template <std::size_t N>
constexpr std::size_t gap_count(const std::array<parameter_range, N>& runs, std::size_t total) {
  std::size_t gaps = 0, end = 0;
  for (const auto run : runs) {
    if (run.offset > end) ++gaps;
    end = run.offset + run.size;
  }
  return end < total ? gaps + 1 : gaps;
}

/// The runs of Net's flat array that do not train (Frozen layers): what trainable_ranges
/// leaves out.
template <class Net>
constexpr auto frozen_ranges() {
  constexpr auto trained = trainable_ranges<Net>();
  std::array<parameter_range, gap_count(trained, Net::param_count)> gaps{};
  std::size_t n = 0, end = 0;
  for (const auto run : trained) {
    if (run.offset > end) gaps[n++] = {end, run.offset - end};
    end = run.offset + run.size;
  }
  if (end < Net::param_count) gaps[n] = {end, Net::param_count - end};
  return gaps;
}

/// Whether parameter i of Net trains.
template <class Net>
constexpr bool trains(std::size_t i) {
  for (const auto run : trainable_ranges<Net>())
    if (i >= run.offset && i < run.offset + run.size) return true;
  return false;
}

}  // namespace staticgrad::detail
