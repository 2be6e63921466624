/// @file Compile-time layout of composite layers: validity, offsets into the flat arrays.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/detail/checks.hpp>

namespace staticgrad::detail {

/// False for a composite whose own checks failed (its error is already reported), so
/// that enclosing composites report nothing more about it.
template <class L>
constexpr bool layer_is_valid() {
  if constexpr (requires { L::valid; }) return L::valid;
  else return true;
}

/// Whether L is a layer that failed its own checks and said so (a LoRA of something other
/// than a Dense): it may lack the members of a layer, and nothing more is said about it.
template <class L>
constexpr bool reported_invalid() {
  if constexpr (requires { L::valid; }) return !L::valid;
  else return false;
}

/// A layer spec that passed its checks: usable by Model and value_and_grad.
template <class L>
concept ValidLayer = Layer<L> && layer_is_valid<L>();

/// Sizes of a layer or network, or zeros for one that is not valid (already reported).
template <class Net>
struct network_sizes {
  static constexpr std::size_t in_size = 0, out_size = 0, param_count = 0, cache_size = 0;
};
template <ValidLayer Net>
struct network_sizes<Net> {
  static constexpr std::size_t in_size = Net::in_size, out_size = Net::out_size,
                               param_count = Net::param_count, cache_size = Net::cache_size;
};

template <std::size_t N>
constexpr std::array<std::size_t, N + 1> prefix_sums(const std::array<std::size_t, N>& sizes) {
  std::array<std::size_t, N + 1> sums{};
  for (std::size_t i = 0; i < N; ++i) sums[i + 1] = sums[i] + sizes[i];
  return sums;
}

template <std::size_t N>
constexpr std::size_t first_false(const std::array<bool, N>& flags) {
  for (std::size_t i = 0; i < N; ++i)
    if (!flags[i]) return i;
  return N;
}

// The first i whose input size differs from the output size of i − 1, or N.
template <std::size_t N>
constexpr std::size_t first_bad_link(const std::array<std::size_t, N>& outs,
                                     const std::array<std::size_t, N>& ins) {
  for (std::size_t i = 1; i < N; ++i)
    if (outs[i - 1] != ins[i]) return i;
  return N;
}

template <class L>
constexpr std::size_t in_size_of() {
  if constexpr (Layer<L>) return L::in_size;
  else return 0;
}
template <class L>
constexpr std::size_t out_size_of() {
  if constexpr (Layer<L>) return L::out_size;
  else return 0;
}

/// What is wrong with a chain of layers, first problem only: `bad_layer` is the index of
/// the first argument that is not a layer spec, `bad_link` the index of the first layer
/// whose in_size differs from its predecessor's out_size (each is `count` when none).
template <class... Ls>
struct sequential_report {
  static constexpr std::size_t count = sizeof...(Ls);
  static constexpr std::array<std::size_t, count> ins{in_size_of<Ls>()...};
  static constexpr std::array<std::size_t, count> outs{out_size_of<Ls>()...};
  static constexpr std::size_t bad_layer = first_false<count>({(Layer<Ls> || reported_invalid<Ls>())...});
  // A composite that failed its own checks has reported already; say nothing more.
  static constexpr bool members_valid = (layer_is_valid<Ls>() && ...);
  static constexpr std::size_t bad_link = first_bad_link<count>(outs, ins);
  static constexpr bool valid = bad_layer == count && members_valid && bad_link == count;
};

/// The check that names the first problem of a chain (`check` is `no_problem` when none).
struct no_problem {};
template <class Report, class List,
          int Kind = Report::bad_layer < Report::count                              ? 1
                     : Report::members_valid && Report::bad_link < Report::count ? 2
                                                                                  : 0>
struct sequential_diagnostic {
  using check = no_problem;
};
template <class Report, class List>
struct sequential_diagnostic<Report, List, 1> {
  using check =
      check_is_layer<Report::bad_layer, boost::mp11::mp_at_c<List, Report::bad_layer>>;
};
template <class Report, class List>
struct sequential_diagnostic<Report, List, 2> {
  using check = check_layer_link<Report::bad_link, Report::outs[Report::bad_link - 1],
                                 Report::ins[Report::bad_link]>;
};

/// The layout of a chain of layers that failed its checks: empty.
template <bool Valid, class... Ls>
struct sequential_layout {
  static constexpr std::size_t in_size = 0, out_size = 0, param_count = 0, cache_size = 0,
                               flops = 0;
  static constexpr std::size_t state_size = 0;
  static constexpr std::array<std::size_t, sizeof...(Ls) + 1> param_offset{}, cache_offset{}, state_offset{};
};

/// Where each layer's parameters and cache live in its chain's flat slices.
/// Cache block of layer i: its own cache, then its output (except for the last layer,
/// whose output is the chain's output, kept by the caller).
template <class... Ls>
struct sequential_layout<true, Ls...> {
  static constexpr std::size_t count = sizeof...(Ls);
  using list = boost::mp11::mp_list<Ls...>;
  static constexpr std::size_t in_size = boost::mp11::mp_front<list>::in_size;
  static constexpr std::size_t out_size = boost::mp11::mp_back<list>::out_size;
  static constexpr std::array<std::size_t, count + 1> param_offset =
      prefix_sums<count>({Ls::param_count...});
  static constexpr std::array<std::size_t, count + 1> cache_offset =
      prefix_sums<count>({(Ls::cache_size + Ls::out_size)...});
  static constexpr std::array<std::size_t, count + 1> state_offset = prefix_sums<count>({state_size_of<Ls>()...});
  static constexpr std::size_t state_size = state_offset[count];
  static constexpr std::size_t param_count = param_offset[count];
  static constexpr std::size_t cache_size = cache_offset[count] - out_size;
  static constexpr std::size_t flops = (Ls::flops + ...);
  /// Width of the two ping-pong buffers that hold intermediate values in infer/backward.
  static constexpr std::size_t buffer_width = std::max({Ls::out_size...});
};

/// The layout of a valid chain, from its layers as a list (for mp_apply).
template <class... Ls>
using sequential_layout_of = sequential_layout<true, Ls...>;

}  // namespace staticgrad::detail
