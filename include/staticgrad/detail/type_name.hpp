/// @file A type's name as the compiler spells it, at compile time.
#pragma once

#include <string_view>

namespace staticgrad::detail {

/// T spelled in full, e.g. "staticgrad::Dense<3, 4, staticgrad::ReLU>" or "my::Swish": valid
/// C++ for a type declared at namespace scope. Read from this function's
/// __PRETTY_FUNCTION__, "... [with T = <type>; ...]" (g++) or "... [T = <type>]" (clang).
template <class T>
constexpr std::string_view full_type_name() {
  const std::string_view function = __PRETTY_FUNCTION__;
  const auto start = function.find("T = ") + 4;
  return function.substr(start, function.find_first_of(";]", start) - start);
}

/// T's name without its namespaces (template arguments kept), e.g. "Swish", "Scaled<2>".
template <class T>
constexpr std::string_view short_type_name() {
  const std::string_view full = full_type_name<T>();
  const auto last_scope = full.rfind("::", full.find('<'));
  return last_scope == std::string_view::npos ? full : full.substr(last_scope + 2);
}

}  // namespace staticgrad::detail
