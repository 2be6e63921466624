/// @file Defines staticgrad::summary: a table of a network's layers and what they cost.
#pragma once

#include <cstddef>
#include <cstdio>
#include <ostream>
#include <string>
#include <type_traits>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/detail/sequences.hpp>
#include <staticgrad/detail/spec_name.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/diagnostics.hpp>
#include <staticgrad/layers/checkpoint.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

namespace detail {

// One table line.
inline void summary_row(std::ostream& os, const std::string& index, const std::string& name,
                        std::size_t in, std::size_t out, std::size_t params, std::size_t flop_count,
                        std::size_t cache_bytes) {
  char line[200];
  std::snprintf(line, sizeof line, "%-8s %-34s %6zu %6zu %10zu %10zu %10zu\n", index.c_str(),
                name.c_str(), in, out, params, flop_count, cache_bytes);
  os << line;
}

// How summary labels layer L: a composite by its summary_label, a leaf by its name.
template <class L>
std::string summary_label() {
  if constexpr (requires { L::summary_label; }) return std::string(L::summary_label);
  else return spec_name<L>();
}

// One row per layer, nested ones indented; a wrapper (Frozen) is no row of its own but
// the first word of its child's.
template <class T, class Net>
void summary_rows(std::ostream& os) {
  visit_layers<Net>([&](auto node) {
    using N = decltype(node);
    using L = typename N::layer;
    if constexpr (!is_wrapper<L>()) {
      std::string label;  // appends, not +: g++ 12 -O3 gives a false -Wrestrict on +
      std::size_t depth = 0;
      boost::mp11::mp_for_each<typename N::parents>([&]<class Parent>(Parent) { depth += !is_wrapper<Parent>(); });
      label.append(2 * depth, ' ');
      if constexpr (boost::mp11::mp_size<typename N::parents>::value > 0) {
        using parent = boost::mp11::mp_back<typename N::parents>;
        if constexpr (is_wrapper<parent>()) (label += parent::summary_label) += ' ';
      }
      label += summary_label<L>();
      summary_row(os, N::path(), label, L::in_size, L::out_size, L::param_count, L::flops, L::cache_size * sizeof(T));
    }
  });
}

}  // namespace detail

/// Writes a table of Net's layers (nested ones indented, numbered as model.layer<I>()
/// reaches them): input and output sizes, parameters, forward FLOPs and the bytes each
/// keeps for the backward pass; then the totals and what one value_and_grad needs.
/// @tparam Net the network spec
/// @tparam T   the scalar type (for the byte counts); float by default
template <class Net, class T = float>
void summary(std::ostream& os) {
  char line[200];
  std::snprintf(line, sizeof line, "%-8s %-34s %6s %6s %10s %10s %10s\n", "layer", "", "in", "out",
                "params", "FLOPs", "cache B");
  os << line;
  detail::summary_rows<T, Net>(os);
  const std::size_t parameter_bytes = param_count<Net> * sizeof(T);
  // value_and_grad keeps the cache, the output and its gradient on the stack, and returns
  // a Gradients the size of the parameters (the overload that writes into a caller's
  // Gradients does not).
  const std::size_t stack = (Net::cache_size + 2 * Net::out_size) * sizeof(T);
  os << "total: " << param_count<Net> << " parameters (" << parameter_bytes << " bytes), "
     << flops<Net> << " forward FLOPs\n";
  if constexpr (!std::is_same_v<typename detail::without_checkpoints<Net>::type, Net>) {
    // Checkpoint's rows show what its layers hold while their forward pass is recomputed.
    constexpr std::size_t without = detail::without_checkpoints<Net>::type::cache_size;
    os << "checkpoints: " << Net::cache_size * sizeof(T) << " bytes of cache kept per sample, "
       << without * sizeof(T) << " without them; the backward pass recomputes the rest, one checkpoint at a time\n";
  }
  if constexpr (trainable_param_count<Net> != param_count<Net>)
    os << "trainable: " << trainable_param_count<Net> << " of them (the rest Frozen, LoRA base weights or BatchNorm running statistics)\n";
  if constexpr (detail::has_state<Net>) {
    // Through a sequence, the backward pass keeps what every layer needs of every step
    // (detail/sequences.hpp): as many bytes per step for any length.
    constexpr std::size_t state = detail::state_size_of<Net>();
    os << "state: " << state << " scalars per stream (" << state * sizeof(T) << " bytes)\n"
       << "value_and_grad through a sequence: " << detail::sequence_workspace_bytes<Net, T, 1>
       << " bytes on the stack per step, plus " << parameter_bytes << " bytes for the returned Gradients\n";
  } else {
    os << "value_and_grad: " << stack << " bytes of cache on the stack, plus " << parameter_bytes
       << " bytes for the returned Gradients\n";
  }
}

}  // namespace staticgrad
