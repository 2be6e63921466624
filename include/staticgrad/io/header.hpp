/// @file Defines staticgrad::emit_header: a trained model as a C++ header, exact and
/// constexpr.
#pragma once

#include <cctype>
#include <cmath>
#include <cstddef>
#include <ios>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <staticgrad/detail/spec_name.hpp>
#include <staticgrad/detail/type_name.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

/// Writes a header that defines, in `namespace name`: `network` (the network's type),
/// `scalar`, `parameters` (a constexpr std::array, hexadecimal floating literals, so every
/// bit survives) and `model`, a constexpr Model built from them: the weights live in
/// read-only data and the model needs no loading. Throws std::invalid_argument for a name
/// that is not a C++ identifier or a parameter that is not finite.
template <class Net, class T>
void emit_header(const Model<Net, T>& model, const std::string& name, std::ostream& os) {
  const bool identifier = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                          name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
                              std::string::npos;
  if (!identifier) throw std::invalid_argument("staticgrad::emit_header: '" + name + "' is not a C++ identifier");
  const char* scalar = std::is_same_v<T, float> ? "float" : "double";
  const char* suffix = std::is_same_v<T, float> ? "f" : "";
  const std::string spec = detail::spec_name<Net>();
  os << "// Written by staticgrad::emit_header: the parameters of\n// " << spec
     << "\n#pragma once\n\n#include <array>\n\n#include <staticgrad/staticgrad.hpp>\n\nnamespace " << name
     << " {\n\nusing network = " << detail::full_type_name<Net>() << ";\nusing scalar = " << scalar
     << ";\n\ninline constexpr std::array<scalar, " << param_count<Net> << "> parameters{\n";
  std::ostringstream values;
  values << std::hexfloat;
  for (std::size_t i = 0; i < param_count<Net>; ++i) {
    const T value = model.flat()[i];
    if (!std::isfinite(value))
      throw std::invalid_argument("staticgrad::emit_header: parameter " + std::to_string(i) + " is not finite");
    values << (i % 4 == 0 ? "    " : " ") << static_cast<double>(value) << suffix << ","
           << (i % 4 == 3 || i + 1 == param_count<Net> ? "\n" : "");
  }
  os << values.str() << "};\n\ninline constexpr staticgrad::Model<network, scalar> model{parameters};\n\n}  // namespace "
     << name << "\n";
}

}  // namespace staticgrad
