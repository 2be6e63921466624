/// @file Moving between a network with LoRA adapters and the plain network under it:
/// staticgrad::merge folds trained adapters into the weights (for deployment: a plain
/// Dense costs no more than before fine-tuning), staticgrad::with_adapters puts a
/// pretrained plain model under fresh adapters (to start fine-tuning).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

namespace detail {

/// A layer with its LoRA adapters folded in: a layer's `merged` (LoRA's Dense), a
/// composite rebuilt from its merged children, any other layer itself.
template <class L>
struct merged {
  using type = L;
};
template <class L>
  requires requires { typename L::merged; }
struct merged<L> {
  using type = typename L::merged;
};
template <class C>
using merged_child = typename merged<C>::type;
template <CompositeLayer L>
struct merged<L> {
  using type = with_children<L, merged_child>;
};

}  // namespace detail

/// Net with every LoRA<Dense<…>, …> replaced by its Dense: what merge returns.
template <class Net>
using merged_t = typename detail::merged<Net>::type;

namespace detail {

/// Calls f(node, offset in merged_t<Net>) for each leaf node of Net (detail/traversal.hpp),
/// input side first: the leaves of the two networks correspond one to one.
template <class Net, class F>
void for_each_leaf_merged(F&& f) {
  constexpr auto merged_offsets = [] {
    std::array<std::size_t, count_leaves<merged_t<Net>>(every_leaf, untrimmed)> offsets{};
    std::size_t count = 0;
    visit_leaves<merged_t<Net>>([&](auto node) {
      if constexpr (decltype(node)::layer::param_count > 0) offsets[count++] = decltype(node)::param_offset;
    });
    return offsets;
  }();
  std::size_t leaf = 0;
  visit_leaves<Net>([&](auto node) {
    if constexpr (decltype(node)::layer::param_count > 0) f(node, merged_offsets[leaf++]);
  });
}

}  // namespace detail

/// The plain network with each LoRA layer's adapters folded into its weights:
/// W ← W + (α/r)·A·B (in the [In][Out] layout). Its outputs equal the LoRA network's (to
/// rounding), and it runs as fast as the network before fine-tuning. A layer that folds
/// declares `using merged = …` (the layer it becomes, whose parameters lead its own) and
/// `merge(params, merged_params)`.
template <class Net, class T>
Model<merged_t<Net>, T> merge(const Model<Net, T>& model) {
  Model<merged_t<Net>, T> plain{};
  detail::for_each_leaf_merged<Net>([&](auto node, std::size_t merged_offset) {
    using L = typename decltype(node)::layer;
    const std::size_t offset = decltype(node)::param_offset;
    const auto from = model.flat().subspan(offset, L::param_count);
    const auto to = plain.flat().subspan(merged_offset, merged_t<L>::param_count);
    if constexpr (requires { typename L::merged; }) {
      L::template merge<T>(from.template first<L::param_count>(), to.template first<merged_t<L>::param_count>());
    } else {
      std::copy(from.begin(), from.end(), to.begin());
    }
  });
  return plain;
}

/// A model of Net (a network with LoRA layers) whose base layers hold `pretrained`'s
/// parameters and whose adapters start fresh (A random from `seed`, B zero): its outputs
/// are pretrained's, and fine-tuning it trains the adapters only.
template <class Net, class T>
Model<Net, T> with_adapters(const Model<merged_t<Net>, T>& pretrained, std::uint64_t seed) {
  Model<Net, T> model{seed};
  detail::for_each_leaf_merged<Net>([&](auto node, std::size_t merged_offset) {
    const auto from = pretrained.flat().subspan(merged_offset, merged_t<typename decltype(node)::layer>::param_count);
    std::copy(from.begin(), from.end(), model.flat().begin() + static_cast<std::ptrdiff_t>(decltype(node)::param_offset));
  });
  return model;
}

}  // namespace staticgrad
