/// @file The one way to walk a network type: every layer, composites before their
/// children, each with its path (as model.layer<I>() reaches it: "1.0.2"), where its
/// parameters and its cache start in the network's flat arrays, and whether it is frozen.
/// Everything that goes through a network layer by layer (names in files, per-layer
/// gradient norms, the trainable ranges, summary, merge) is built on it, so that a
/// composite is taught once: by the members it declares (see core/concepts.hpp).
///
///     detail::visit_leaves<Net>([&](auto node) {
///       using N = decltype(node);   // N::layer, N::param_offset, N::frozen, N::path() …
///     });
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

namespace staticgrad::detail {

/// A composite layer: it declares its children (`using children = mp_list<…>`) and where
/// each child's parameters, cache and state start in its own (`child_param_offset`,
/// `child_cache_offset`, `child_state_offset`, arrays indexed by child).
template <class L>
concept CompositeLayer = requires {
  typename L::children;
  L::child_param_offset;
  L::child_cache_offset;
  L::child_state_offset;
};

template <template <class> class Test, class L>
constexpr bool any_layer();
template <template <class> class Test, class... Ls>
constexpr bool any_layer_of(boost::mp11::mp_list<Ls...>) {
  return (any_layer<Test, Ls>() || ...);
}
/// Whether L or a layer anywhere inside it passes Test (Test<layer>::value), by the
/// types alone.
template <template <class> class Test, class L>
constexpr bool any_layer() {
  if constexpr (Test<L>::value) return true;
  else if constexpr (CompositeLayer<L>) return any_layer_of<Test>(boost::mp11::mp_rename<typename L::children, boost::mp11::mp_list>{});
  else return false;
}

template <class L, std::size_t Len>
constexpr std::size_t recompute_scalars();
template <std::size_t Len, class... Ls>
constexpr std::size_t recompute_scalars_of(boost::mp11::mp_list<Ls...>) {
  return std::max({std::size_t{0}, recompute_scalars<Ls, Len>()...});
}
/// The scalars that the checkpoints inside L (staticgrad::Checkpoint) put on the stack while
/// one of them recomputes its block over Len steps of a sequence: the most of any of them
/// (they recompute one at a time), each with those nested in it.
template <class L, std::size_t Len>
constexpr std::size_t recompute_scalars() {
  if constexpr (requires { L::template recompute_scalars<Len>; }) return L::template recompute_scalars<Len>;
  else if constexpr (CompositeLayer<L>)
    return recompute_scalars_of<Len>(boost::mp11::mp_rename<typename L::children, boost::mp11::mp_list>{});
  else return 0;
}

/// Whether layer L runs inference only (staticgrad::QuantizedDense): a network holding one
/// cannot train.
template <class L>
struct inference_only : std::bool_constant<requires { requires L::inference_only; }> {};

/// Composite L with each child C replaced by F<C> (merge, fold and the network without
/// checkpoints rebuild networks this way).
template <class L, template <class> class F>
using with_children = boost::mp11::mp_apply<L::template rebind, boost::mp11::mp_transform<F, typename L::children>>;

/// Whether composite L is a transparent wrapper (Frozen): its child has L's path, as
/// model.layer<I>() looks through it.
template <class L>
constexpr bool is_wrapper() {
  if constexpr (requires { L::wrapper; }) return L::wrapper;
  else return false;
}

/// Whether composite L freezes everything inside it (Frozen).
template <class L>
constexpr bool freezes() {
  if constexpr (requires { L::freezes_children; }) return L::freezes_children;
  else return false;
}

/// One layer of a network, where the walk found it: its parameters, cache and state
/// (staticgrad::State) start at the offsets given, in the network's flat arrays. `Parents` are the composites around
/// it, outermost first, and `Steps` its index in each of them (an mp_list of mp_size_t).
template <class L, std::size_t ParamOffset, std::size_t CacheOffset, std::size_t StateOffset, bool Frozen, class Steps,
          class Parents>
struct layer_node {
  using layer = L;
  using steps = Steps;
  using parents = Parents;
  static constexpr std::size_t param_offset = ParamOffset;
  static constexpr std::size_t cache_offset = CacheOffset;
  static constexpr std::size_t state_offset = StateOffset;
  static constexpr bool frozen = Frozen;
  static constexpr bool composite = CompositeLayer<L>;

  /// "1.0.2": the indices of model.layer<1>().layer<0>().layer<2>(), which looks through
  /// wrappers; "" for the network.
  static std::string path() {
    std::string text;
    boost::mp11::mp_for_each<boost::mp11::mp_iota<boost::mp11::mp_size<Steps>>>([&](auto level) {
      constexpr std::size_t d = decltype(level)::value;
      if constexpr (!is_wrapper<boost::mp11::mp_at_c<Parents, d>>()) {
        if (!text.empty()) text += '.';
        text += std::to_string(boost::mp11::mp_at_c<Steps, d>::value);
      }
    });
    return text;
  }
};

/// Child I of composite node Node.
template <class Node, std::size_t I>
using child_node =
    layer_node<boost::mp11::mp_at_c<typename Node::layer::children, I>,
               Node::param_offset + Node::layer::child_param_offset[I],
               Node::cache_offset + Node::layer::child_cache_offset[I],
               Node::state_offset + Node::layer::child_state_offset[I], Node::frozen || freezes<typename Node::layer>(),
               boost::mp11::mp_push_back<typename Node::steps, boost::mp11::mp_size_t<I>>,
               boost::mp11::mp_push_back<typename Node::parents, typename Node::layer>>;

/// The node of network Net itself.
template <class Net>
using root_node = layer_node<Net, 0, 0, 0, false, boost::mp11::mp_list<>, boost::mp11::mp_list<>>;

template <class Node, class F>
constexpr void visit_node(F& f);

// The children of composite node Node, each visited.
template <class Node, class F>
constexpr void visit_children(F& f) {
  boost::mp11::mp_for_each<boost::mp11::mp_iota<boost::mp11::mp_size<typename Node::layer::children>>>(
      [&](auto index) { visit_node<child_node<Node, decltype(index)::value>>(f); });
}

template <class Node, class F>
constexpr void visit_node(F& f) {
  f(Node{});
  if constexpr (Node::composite) visit_children<Node>(f);
}

/// Calls f(layer_node<…>{}) for Net and for every layer inside it, depth first, each
/// composite before its children.
template <class Net, class F>
constexpr void visit_layers(F&& f) {
  visit_node<root_node<Net>>(f);
}

/// Calls f(layer_node<…>{}) for every leaf layer of Net (a layer that is not a composite),
/// input side first.
template <class Net, class F>
constexpr void visit_leaves(F&& f) {
  visit_layers<Net>([&](auto node) {
    if constexpr (!decltype(node)::composite) f(node);
  });
}

}  // namespace staticgrad::detail
