/// @file Defines staticgrad::emit_header: a trained model as a C++ header, exact and
/// constexpr.
#pragma once

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ios>
#include <iterator>
#include <ostream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <staticgrad/detail/spec_name.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/detail/type_name.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

/// Writes a header that defines, in `namespace name`: `network` (the network's type),
/// `scalar`, `parameters` (a constexpr std::array, hexadecimal floating literals, so every
/// bit survives) and `model`, a constexpr Model built from them: the weights live in
/// read-only data and the model needs no loading. A quantized model's packed words
/// (staticgrad::quantize: bf16 or int8 weights, for flash-limited devices) are written as
/// their bits where they are not finite floats. Throws std::invalid_argument for a name
/// that cannot name a namespace (not an identifier, or a keyword such as `class`; `std`
/// too) or a parameter that is not finite.
namespace detail {

/// Whether `name` can name a namespace: an identifier that is not a keyword of C++20
/// (nor one of its alternative tokens, such as `and`).
inline bool namespace_name(const std::string& name) {
  static constexpr std::string_view keywords[] = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
      "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval", "constexpr",
      "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete",
      "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for",
      "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
      "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
      "requires", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct",
      "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
      "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq", "std"};
  const bool identifier = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                          name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
                              std::string::npos;
  return identifier && std::find(std::begin(keywords), std::end(keywords), name) == std::end(keywords);
}

/// The parameters as exact literals (hexadecimal, `suffix` after each), four to a line;
/// throws std::invalid_argument, naming `who`, for one that is not finite, unless `raw_words`
/// (a quantized network's packed words: any bits) allows it, written then as its bits.
template <class T>
void write_parameter_literals(std::span<const T> parameters, const char* suffix, const char* who, std::ostream& os,
                              bool raw_words = false) {
  std::ostringstream values;
  values << std::hexfloat;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    values << (i % 4 == 0 ? "    " : " ");
    if (std::isfinite(parameters[i])) {
      values << static_cast<double>(parameters[i]) << suffix;
    } else if (raw_words && std::is_same_v<T, float>) {
      values << "std::bit_cast<float>(0x" << std::hex << std::bit_cast<std::uint32_t>(static_cast<float>(parameters[i]))
             << "u)" << std::hexfloat;
    } else {
      throw std::invalid_argument(std::string(who) + ": parameter " + std::to_string(i) + " is not finite");
    }
    values << "," << (i % 4 == 3 || i + 1 == parameters.size() ? "\n" : "");
  }
  os << values.str();
}

}  // namespace detail

template <class Net, class T>
void emit_header(const Model<Net, T>& model, const std::string& name, std::ostream& os) {
  if (!detail::namespace_name(name))
    throw std::invalid_argument("staticgrad::emit_header: '" + name + "' cannot name a namespace (a C++ identifier "
                                "that is not a keyword)");
  const char* scalar = std::is_same_v<T, float> ? "float" : "double";
  const char* suffix = std::is_same_v<T, float> ? "f" : "";
  const std::string spec = detail::spec_name<Net>();
  os << "// Written by staticgrad::emit_header: the parameters of\n// " << spec
     << "\n#pragma once\n\n#include <array>\n\n#include <staticgrad/staticgrad.hpp>\n\nnamespace " << name
     << " {\n\nusing network = " << detail::full_type_name<Net>() << ";\nusing scalar = " << scalar
     << ";\n\ninline constexpr std::array<scalar, " << param_count<Net> << "> parameters{\n";
  detail::write_parameter_literals<T>(model.flat(), suffix, "staticgrad::emit_header", os,
                                      detail::any_layer<detail::inference_only, Net>());
  os << "};\n\ninline constexpr staticgrad::Model<network, scalar> model{parameters};\n\n}  // namespace "
     << name << "\n";
}

}  // namespace staticgrad
