/// @file How a layer spells itself, e.g. "Dense<3,4,ReLU>": a compile-time string (a
/// boost::hana::string) that saved files record, summary prints, and the structure
/// fingerprint hashes. Every layer declares `static constexpr auto name()`; a layer of
/// one's own writes it with staticgrad::layer_name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/string.hpp>

namespace staticgrad {

namespace detail {

namespace hana = boost::hana;

/// A string literal as a template argument.
template <std::size_t N>
struct fixed_string {
  char text[N];
  constexpr fixed_string(const char (&literal)[N]) {  // NOLINT: implicit, to take a literal
    for (std::size_t i = 0; i < N; ++i) text[i] = literal[i];
  }
  constexpr std::string_view view() const { return {text, N - 1}; }
};

template <fixed_string Text, std::size_t... I>
constexpr auto hana_string(std::index_sequence<I...>) {
  return hana::string_c<Text.text[I]...>;
}
/// A literal as a hana::string.
template <fixed_string Text>
constexpr auto hana_string() {
  return hana_string<Text>(std::make_index_sequence<Text.view().size()>{});
}

template <const std::string_view& Text, std::size_t... I>
constexpr auto hana_string_of_view(std::index_sequence<I...>) {
  return hana::string_c<Text[I]...>;
}
/// A constexpr string_view (an activation's `name`) as a hana::string.
template <const std::string_view& Text>
constexpr auto hana_string() {
  return hana_string_of_view<Text>(std::make_index_sequence<Text.size()>{});
}

/// N in decimal.
template <std::uintmax_t N>
constexpr auto decimal() {
  constexpr char last = static_cast<char>('0' + N % 10);
  if constexpr (N < 10) return hana::string_c<last>;
  else return decimal<N / 10>() + hana::string_c<last>;
}

/// A std::ratio as "num/den", e.g. 1/10.
template <class Ratio>
constexpr auto fraction() {
  return decimal<static_cast<std::uintmax_t>(Ratio::num)>() + hana::string_c<'/'> +
         decimal<static_cast<std::uintmax_t>(Ratio::den)>();
}

// The strings with commas between them.
template <class First, class... Rest>
constexpr auto joined(First first, Rest... rest) {
  if constexpr (sizeof...(Rest) == 0) return first;
  else return first + hana::string_c<','> + joined(rest...);
}

/// "Kind<" arguments ">", the arguments already hana strings.
template <class Kind, class... Arguments>
constexpr auto spelled(Kind kind, Arguments... arguments) {
  if constexpr (sizeof...(Arguments) == 0) return kind;
  else return kind + hana::string_c<'<'> + joined(arguments...) + hana::string_c<'>'>;
}

// One argument of layer_name: a number in decimal, or a hana::string as it is.
template <auto Argument>
constexpr auto name_argument() {
  if constexpr (std::is_integral_v<decltype(Argument)>) return decimal<static_cast<std::uintmax_t>(Argument)>();
  else return Argument;
}

}  // namespace detail

/// The name "Kind<a,b,…>" of a layer, for its `static constexpr auto name()`: the
/// arguments are numbers (written in decimal) or other names. Two layers of different
/// kinds or sizes must have different names: files are matched by it.
///
///     static constexpr auto name() { return staticgrad::layer_name<"ScaleShift", N>(); }
template <detail::fixed_string Kind, auto... Arguments>
constexpr auto layer_name() {
  return detail::spelled(detail::hana_string<Kind>(), detail::name_argument<Arguments>()...);
}

namespace detail {

/// A composite's name, Kind<its children's names>; Kind alone once its checks failed (their
/// error names the problem, and a child may have no name to give).
template <fixed_string Kind, bool Valid, class... Children>
constexpr auto composite_name() {
  if constexpr (Valid) return layer_name<Kind, Children::name()...>();
  else return layer_name<Kind>();
}

}  // namespace detail

}  // namespace staticgrad
