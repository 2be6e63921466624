/// @file The canonical spelling of a network spec, e.g.
/// "Sequential<Dense<3,4,ReLU>,Dense<4,2,Identity>>", from the name() that every layer
/// declares (core/layer_name.hpp): what a saved file records, what summary prints, and,
/// hashed, the structure fingerprint — all known to the compiler.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/hana/string.hpp>

namespace staticgrad {

namespace detail {

template <class L>
struct check_layer_name {
  static_assert(requires { L::name(); },
                "staticgrad: this layer has no name() to spell it in saved files and summaries; "
                "give it `static constexpr auto name() { return staticgrad::layer_name<\"Kind\", sizes...>(); }` "
                "(see check_layer_name<layer>)");
};

/// FNV-1a, 64 bits.
constexpr std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return hash;
}

template <class L>
constexpr std::string_view spec_name_of() {
  static_assert(sizeof(check_layer_name<L>) > 0);
  if constexpr (requires { L::name(); }) return boost::hana::to<char const*>(L::name());
  else return "?";
}

/// The canonical spelling of layer spec L, at compile time.
template <class L>
inline constexpr std::string_view spec_name_v = spec_name_of<L>();

/// The same as a std::string.
template <class L>
std::string spec_name() {
  return std::string(spec_name_v<L>);
}

}  // namespace detail

/// A hash of Net's canonical spelling (FNV-1a of e.g.
/// "Sequential<Dense<3,4,ReLU>,Dense<4,2,Identity>>"), computed by the compiler: saved
/// files carry it, and two networks of the same structure share it.
template <class Net>
inline constexpr std::uint64_t structure_fingerprint = detail::fnv1a(detail::spec_name_v<Net>);

}  // namespace staticgrad
