/// @file The canonical spelling of a network spec, e.g.
/// "Sequential<Dense<3,4,ReLU>,Dense<4,2,Identity>>", as a compile-time string (a
/// boost::hana::string built from the type): what a saved file records, what summary
/// prints, and, hashed, the structure fingerprint — all known to the compiler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <boost/hana/string.hpp>

#include <staticgrad/layers/activation.hpp>
#include <staticgrad/layers/branches.hpp>
#include <staticgrad/layers/dense.hpp>
#include <staticgrad/layers/dropout.hpp>
#include <staticgrad/layers/frozen.hpp>
#include <staticgrad/layers/lora.hpp>
#include <staticgrad/layers/norm.hpp>
#include <staticgrad/layers/residual.hpp>
#include <staticgrad/layers/sequential.hpp>

namespace staticgrad {

namespace detail {

namespace hana = boost::hana;

// A constexpr string_view (an activation's `name`) as a hana::string.
template <const std::string_view& Text, std::size_t... I>
constexpr auto to_hana_string(std::index_sequence<I...>) {
  return hana::string_c<Text[I]...>;
}
template <const std::string_view& Text>
constexpr auto to_hana_string() {
  return to_hana_string<Text>(std::make_index_sequence<Text.size()>{});
}

// N in decimal.
template <std::uintmax_t N>
constexpr auto decimal() {
  constexpr char last = static_cast<char>('0' + N % 10);
  if constexpr (N < 10) return hana::string_c<last>;
  else return decimal<N / 10>() + hana::string_c<last>;
}

template <class L>
struct spec_name_of {
  static_assert(sizeof(L) == 0, "staticgrad: this layer has no canonical name for saved files");
};

template <class L>
constexpr auto spec_string() {
  return spec_name_of<L>::get();
}

// The strings with commas between them.
template <class First, class... Rest>
constexpr auto joined(First first, Rest... rest) {
  if constexpr (sizeof...(Rest) == 0) return first;
  else return first + hana::string_c<','> + joined(rest...);
}

// "Name<" arguments ">", the arguments already hana strings.
template <class Name, class... Arguments>
constexpr auto spelled(Name name, Arguments... arguments) {
  return name + hana::string_c<'<'> + joined(arguments...) + hana::string_c<'>'>;
}

template <std::size_t In, std::size_t Out, class Act>
struct spec_name_of<Dense<In, Out, Act>> {
  static constexpr auto get() {
    return spelled(BOOST_HANA_STRING("Dense"), decimal<In>(), decimal<Out>(),
                   to_hana_string<Dense<In, Out, Act>::activation::name>());
  }
};
template <class Act, std::size_t N>
struct spec_name_of<Activation<Act, N>> {
  static constexpr auto get() {
    return spelled(BOOST_HANA_STRING("Activation"), to_hana_string<Activation<Act, N>::activation::name>(),
                   decimal<N>());
  }
};
template <std::size_t N>
struct spec_name_of<LayerNorm<N>> {
  static constexpr auto get() { return spelled(BOOST_HANA_STRING("LayerNorm"), decimal<N>()); }
};
template <std::size_t N>
struct spec_name_of<RMSNorm<N>> {
  static constexpr auto get() { return spelled(BOOST_HANA_STRING("RMSNorm"), decimal<N>()); }
};
template <std::size_t N, class P>
struct spec_name_of<Dropout<N, P>> {  // the rate as a fraction, e.g. Dropout<64,1/10>
  static constexpr auto get() {
    return spelled(BOOST_HANA_STRING("Dropout"), decimal<N>(),
                   decimal<static_cast<std::uintmax_t>(P::num)>() + hana::string_c<'/'> +
                       decimal<static_cast<std::uintmax_t>(P::den)>());
  }
};
template <class Base, std::size_t Rank, std::size_t Alpha>
struct spec_name_of<LoRA<Base, Rank, Alpha>> {
  static constexpr auto get() {
    return spelled(BOOST_HANA_STRING("LoRA"), spec_string<Base>(), decimal<Rank>(), decimal<Alpha>());
  }
};
template <class L>
struct spec_name_of<Frozen<L>> {
  static constexpr auto get() { return spelled(BOOST_HANA_STRING("Frozen"), spec_string<L>()); }
};
template <class... Ls>
struct spec_name_of<Sequential<Ls...>> {
  static constexpr auto get() { return spelled(BOOST_HANA_STRING("Sequential"), spec_string<Ls>()...); }
};
template <class... Ls>
struct spec_name_of<Residual<Ls...>> {
  static constexpr auto get() { return spelled(BOOST_HANA_STRING("Residual"), spec_string<Ls>()...); }
};
template <class... Bs>
struct spec_name_of<Concat<Bs...>> {
  static constexpr auto get() { return spelled(BOOST_HANA_STRING("Concat"), spec_string<Bs>()...); }
};
template <class... Bs>
struct spec_name_of<Sum<Bs...>> {
  static constexpr auto get() { return spelled(BOOST_HANA_STRING("Sum"), spec_string<Bs>()...); }
};

/// FNV-1a, 64 bits.
constexpr std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return hash;
}

/// The canonical spelling of layer spec L, at compile time.
template <class L>
inline constexpr std::string_view spec_name_v = hana::to<char const*>(spec_string<L>());

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
