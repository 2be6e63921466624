/// @file Where each layer that owns parameters sits in the flat array, in order, and which
/// runs of it train (everything but Frozen layers and a LoRA layer's base weights); both
/// from the one walk of detail/traversal.hpp.
#pragma once

#include <array>
#include <cstddef>

#include <boost/mp11/integral.hpp>

#include <staticgrad/detail/traversal.hpp>

namespace staticgrad::detail {

/// A run [offset, offset + size) of the flat parameter array that belongs to one layer.
struct parameter_range {
  std::size_t offset = 0;
  std::size_t size = 0;
};

/// How many of leaf L's leading parameters do not train (a LoRA layer's base weights).
template <class L>
constexpr std::size_t leading_frozen_count() {
  if constexpr (requires { L::frozen_count; }) return L::frozen_count;
  else return 0;
}

// The ranges of Net's leaves that `keep(node)` selects, each trimmed by `trim(node)`
// leading parameters, in the flat order: first counted, then listed.
template <class Net, class Keep, class Trim>
constexpr std::size_t count_leaves(Keep keep, Trim trim) {
  std::size_t count = 0;
  visit_leaves<Net>([&](auto node) { count += keep(node) && trim(node) < decltype(node)::layer::param_count; });
  return count;
}
template <std::size_t Count, class Net, class Keep, class Trim>
constexpr std::array<parameter_range, Count> leaf_ranges(Keep keep, Trim trim) {
  std::array<parameter_range, Count> ranges{};
  std::size_t count = 0;
  visit_leaves<Net>([&](auto node) {
    using N = decltype(node);
    if (keep(node) && trim(node) < N::layer::param_count)
      ranges[count++] = {N::param_offset + trim(node), N::layer::param_count - trim(node)};
  });
  return ranges;
}

inline constexpr auto every_leaf = [](auto) { return true; };
inline constexpr auto untrimmed = [](auto) { return std::size_t{0}; };
inline constexpr auto trained_leaf = [](auto node) { return !decltype(node)::frozen; };
inline constexpr auto base_weights = [](auto node) { return leading_frozen_count<typename decltype(node)::layer>(); };

/// The leaf layers that own parameters (Dense, LayerNorm, RMSNorm, ...), depth first, as
/// ranges of the flat array: what "per layer" means for gradient norms.
template <class L>
constexpr auto parameter_layers() {
  return leaf_ranges<count_leaves<L>(every_leaf, untrimmed), L>(every_leaf, untrimmed);
}

// Each trainable leaf's range, depth first (adjacent ranges not joined yet).
template <class L>
constexpr auto trainable_leaves() {
  return leaf_ranges<count_leaves<L>(trained_leaf, base_weights), L>(trained_leaf, base_weights);
}

/// Whether any of L's parameters train: it has some, and not all of them are Frozen.
template <class L>
using has_trainable_params = boost::mp11::mp_bool<count_leaves<L>(trained_leaf, base_weights) != 0>;

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
  constexpr auto leaves = trainable_leaves<Net>();
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
