/// @file Defines staticgrad::emit_standalone: a trained model's inference as plain C++17
/// or C99 source with its weights as static arrays, which needs nothing but the standard
/// library (for a microcontroller's toolchain).
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <ios>
#include <ostream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/detail/spec_name.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/io/header.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

/// The language emit_standalone writes.
enum class StandaloneLanguage { cpp17, c99 };

namespace detail {

/// Writes the body of the inference function, one loop per operation, as a layer's
/// record(r, x) calls them (the protocol the tape uses: tape/network.hpp).
class standalone_writer {
 public:
  standalone_writer(bool is_float, StandaloneLanguage language) : float_(is_float), cpp_(language == StandaloneLanguage::cpp17) {
    body_ << std::hexfloat;
  }

  /// A vector of the function: an array or a pointer into one, and its size.
  struct value {
    standalone_writer* writer;
    std::string name;
    std::size_t size;

    friend value operator+(const value& a, const value& b) { return a.writer->elementwise(a, b, "+"); }
    friend value operator-(const value& a, const value& b) { return a.writer->elementwise(a, b, "-"); }
    friend value operator*(const value& a, const value& b) { return a.writer->elementwise(a, b, "*"); }
  };

  const char* scalar() const { return float_ ? "float" : "double"; }
  std::string literal(double v) const {
    std::ostringstream os;
    os << std::hexfloat << v << (float_ ? "f" : "");
    return os.str();
  }
  /// A <math.h> / <cmath> function for the scalar type.
  std::string math(const std::string& name) const { return cpp_ ? "std::" + name : name + (float_ ? "f" : ""); }
  std::string body() const { return body_.str(); }

  value named(std::string name, std::size_t size) { return {this, std::move(name), size}; }
  /// A new array of `size` values.
  value fresh(std::size_t size) {
    value v{this, "v" + std::to_string(count_++), size};
    body_ << "  " << scalar() << " " << v.name << "[" << size << "];\n";
    return v;
  }
  // A loop over i < n running `statement`.
  void loop(std::size_t n, const std::string& statement) {
    body_ << "  for (int i = 0; i < " << n << "; ++i) " << statement << "\n";
  }
  void line(const std::string& text) { body_ << "  " << text << "\n"; }

  value constants(std::span<const double> values) {
    value v{this, "c" + std::to_string(count_++), values.size()};
    body_ << "  static const " << scalar() << " " << v.name << "[" << values.size() << "] = {";
    for (std::size_t i = 0; i < values.size(); ++i) body_ << (i ? ", " : "") << literal(values[i]);
    body_ << "};\n";
    return v;
  }

  value elementwise(const value& a, const value& b, const char* op) {
    if (a.size != b.size) throw std::logic_error("staticgrad::emit_standalone: operands of different sizes");
    const value z = fresh(a.size);
    loop(a.size, z.name + "[i] = " + a.name + "[i] " + op + " " + b.name + "[i];");
    return z;
  }

  value affine(const value& w, const value& b, const value& x) {
    const value z = fresh(b.size);
    loop(b.size, z.name + "[i] = " + b.name + "[i];");
    line("for (int j = 0; j < " + std::to_string(x.size) + "; ++j)");
    line("  for (int i = 0; i < " + std::to_string(b.size) + "; ++i) " + z.name + "[i] += " + x.name + "[j] * " +
         w.name + "[j * " + std::to_string(b.size) + " + i];");
    return z;
  }

  template <class Act>
  value activation(const value& x) {
    const value y = fresh(x.size);
    loop(x.size, y.name + "[i] = " + activation_of<Act>(x.name + "[i]") + ";");
    return y;
  }

  value layer_norm(const value& x, const value& gain, const value& bias, double epsilon) {
    const value y = fresh(x.size);
    const std::string n = std::to_string(x.size), s = scalar();
    line("{");
    line("  " + s + " mean = 0, variance = 0;");
    line("  for (int i = 0; i < " + n + "; ++i) mean += " + x.name + "[i];");
    line("  mean /= " + n + ";");
    line("  for (int i = 0; i < " + n + "; ++i) variance += (" + x.name + "[i] - mean) * (" + x.name + "[i] - mean);");
    line("  variance /= " + n + ";");
    line("  const " + s + " scale = 1 / " + math("sqrt") + "(variance + " + literal(epsilon) + ");");
    line("  for (int i = 0; i < " + n + "; ++i) " + y.name + "[i] = (" + x.name + "[i] - mean) * scale * " + gain.name +
         "[i] + " + bias.name + "[i];");
    line("}");
    return y;
  }

  // BatchNorm in evaluation: by the running statistics.
  value batch_norm(const value& x, const value& mean, const value& variance, const value& gain, const value& bias,
                   double epsilon) {
    const value y = fresh(x.size);
    line("for (int i = 0; i < " + std::to_string(x.size) + "; ++i) " + y.name + "[i] = (" + x.name + "[i] - " +
         mean.name + "[i]) * (1 / " + math("sqrt") + "(" + variance.name + "[i] + " + literal(epsilon) + ")) * " +
         gain.name + "[i] + " + bias.name + "[i];");
    return y;
  }

  value rms_norm(const value& x, const value& gain, double epsilon) {
    const value y = fresh(x.size);
    const std::string n = std::to_string(x.size), s = scalar();
    line("{");
    line("  " + s + " squares = 0;");
    line("  for (int i = 0; i < " + n + "; ++i) squares += " + x.name + "[i] * " + x.name + "[i];");
    line("  const " + s + " scale = 1 / " + math("sqrt") + "(squares / " + n + " + " + literal(epsilon) + ");");
    line("  for (int i = 0; i < " + n + "; ++i) " + y.name + "[i] = " + x.name + "[i] * scale * " + gain.name + "[i];");
    line("}");
    return y;
  }

  value softmax(const value& x) {
    const value y = fresh(x.size);
    const std::string n = std::to_string(x.size), s = scalar();
    line("{");
    line("  " + s + " shift = " + x.name + "[0], sum = 0;");
    line("  for (int i = 1; i < " + n + "; ++i) if (" + x.name + "[i] > shift) shift = " + x.name + "[i];");
    line("  for (int i = 0; i < " + n + "; ++i) sum += " + y.name + "[i] = " + math("exp") + "(" + x.name +
         "[i] - shift);");
    line("  for (int i = 0; i < " + n + "; ++i) " + y.name + "[i] /= sum;");
    line("}");
    return y;
  }

  value concat(const value& a, const value& b) {
    const value z = fresh(a.size + b.size);
    loop(a.size, z.name + "[i] = " + a.name + "[i];");
    loop(b.size, z.name + "[" + std::to_string(a.size) + " + i] = " + b.name + "[i];");
    return z;
  }

  value slice(const value& x, std::size_t first, std::size_t count) {
    return named("(" + x.name + " + " + std::to_string(first) + ")", count);
  }

 private:
  // φ(u) for the built-in activations, with PyTorch's definitions.
  template <class Act>
  std::string activation_of(const std::string& u) const {
    if constexpr (std::is_same_v<Act, Identity>) return u;
    else if constexpr (std::is_same_v<Act, ReLU>) return "(" + u + " > 0 ? " + u + " : 0)";
    else if constexpr (std::is_same_v<Act, LeakyReLU>) return "(" + u + " > 0 ? " + u + " : " + literal(0.01) + " * " + u + ")";
    else if constexpr (std::is_same_v<Act, Sigmoid>) return "1 / (1 + " + math("exp") + "(-" + u + "))";
    else if constexpr (std::is_same_v<Act, Tanh>) return math("tanh") + "(" + u + ")";
    else if constexpr (std::is_same_v<Act, SiLU>) return u + " / (1 + " + math("exp") + "(-" + u + "))";
    else if constexpr (std::is_same_v<Act, Softplus>)
      return "(" + u + " > 20 ? " + u + " : " + math("log1p") + "(" + math("exp") + "(" + u + ")))";
    else if constexpr (std::is_same_v<Act, HardTanh>)
      return "(" + u + " < -1 ? -1 : " + u + " > 1 ? 1 : " + u + ")";
    else if constexpr (std::is_same_v<Act, ELU>) return "(" + u + " > 0 ? " + u + " : " + math("exp") + "(" + u + ") - 1)";
    else if constexpr (std::is_same_v<Act, Mish>)
      return u + " * " + math("tanh") + "(" + u + " > 20 ? " + u + " : " + math("log1p") + "(" + math("exp") + "(" + u + ")))";
    else if constexpr (std::is_same_v<Act, GELU>)
      return literal(0.5) + " * " + u + " * (1 + " + math("erf") + "(" + u + " * " + literal(0.70710678118654752440) + "))";
    else if constexpr (std::is_same_v<Act, GELUTanh>)
      return literal(0.5) + " * " + u + " * (1 + " + math("tanh") + "(" + literal(0.79788456080286535588) + " * (" + u +
             " + " + literal(0.044715) + " * " + u + " * " + u + " * " + u + ")))";
    else throw std::invalid_argument(std::string("staticgrad::emit_standalone: cannot write the activation ") +
                                     std::string(Act::name) + " (a built-in one only)");
  }

  bool float_;
  bool cpp_;
  std::ostringstream body_;
  std::size_t count_ = 0;
};

/// What a layer's record(r, x) works with when it is written out (see tape/network.hpp's
/// recording, whose interface this is).
template <class T, class Node>
class standalone_recording {
 public:
  using value = standalone_writer::value;
  using scalar = T;

  explicit standalone_recording(standalone_writer& writer) : writer_(writer) {}

  value parameter(std::size_t offset, std::size_t rows, std::size_t cols = 1) const {
    return writer_.named("(p + " + std::to_string(Node::param_offset + offset) + ")", rows * cols);
  }
  value frozen_parameter(std::size_t offset, std::size_t rows, std::size_t cols = 1) const {
    return parameter(offset, rows, cols);
  }
  value input(std::span<const T> values) const {
    std::vector<double> wide(values.begin(), values.end());
    return writer_.constants(wide);
  }
  bool training() const { return false; }

  template <std::size_t I>
  value child(const value& x) const {
    using Child = child_node<Node, I>;
    standalone_recording<T, Child> r(writer_);
    return Child::layer::record(r, x);
  }

  value affine(const value& w, const value& b, const value& x) const { return writer_.affine(w, b, x); }
  template <class Act>
  value activation(const value& x) const {
    return writer_.template activation<Act>(x);
  }
  value layer_norm(const value& x, const value& gain, const value& bias, T epsilon) const {
    return writer_.layer_norm(x, gain, bias, static_cast<double>(epsilon));
  }
  value rms_norm(const value& x, const value& gain, T epsilon) const {
    return writer_.rms_norm(x, gain, static_cast<double>(epsilon));
  }
  value batch_norm(const value& x, const value& mean, const value& variance, const value& gain, const value& bias,
                   T epsilon) const {
    return writer_.batch_norm(x, mean, variance, gain, bias, static_cast<double>(epsilon));
  }
  value softmax(const value& x) const { return writer_.softmax(x); }
  value concat(const value& a, const value& b) const { return writer_.concat(a, b); }
  value slice(const value& x, std::size_t first, std::size_t count) const { return writer_.slice(x, first, count); }

 private:
  standalone_writer& writer_;
};

template <class Net>
struct check_standalone_weights {
  static_assert(!any_layer<inference_only, Net>(), "staticgrad::emit_standalone writes float and double weights; a quantized network (bf16, "
                       "int8) bakes into a header with emit_header");
};

/// emit_standalone's work, for a network of float or double weights.
template <class Net, class T>
void write_standalone(const Model<Net, T>& model, const std::string& name, std::ostream& os,
                      StandaloneLanguage language) {
  static_assert(!detail::has_state<Net>,
                "staticgrad::emit_standalone: this network carries state from one time step to the next; "
                "emit_standalone writes networks without state");
  if (!detail::namespace_name(name))
    throw std::invalid_argument("staticgrad::emit_standalone: '" + name + "' cannot name the code (a C++ identifier "
                                "that is not a keyword)");
  const bool cpp = language == StandaloneLanguage::cpp17;
  detail::standalone_writer writer(std::is_same_v<T, float>, language);
  using Root = detail::root_node<Net>;
  detail::standalone_recording<T, Root> recording(writer);
  const auto y = Net::record(recording, writer.named("x", Net::in_size));
  writer.loop(Net::out_size, "y[i] = " + y.name + "[i];");

  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string s = writer.scalar();
  os << (cpp ? "// " : "/* ") << "Written by staticgrad::emit_standalone: the inference of\n"
     << (cpp ? "// " : "   ") << detail::spec_name<Net>() << ",\n"
     << (cpp ? "// " : "   ") << "needing nothing but the standard library." << (cpp ? "\n" : " */\n");
  if (cpp) {
    os << "#pragma once\n\n#include <cmath>\n#include <cstddef>\n\nnamespace " << name
       << " {\n\ninline constexpr std::size_t in_size = " << Net::in_size << ", out_size = " << Net::out_size
       << ";\n\ninline constexpr " << s << " parameters[" << std::max<std::size_t>(param_count<Net>, 1) << "] = {\n";
  } else {
    os << "#ifndef " << upper << "_H\n#define " << upper << "_H\n\n#include <math.h>\n\n#define " << upper
       << "_IN_SIZE " << Net::in_size << "\n#define " << upper << "_OUT_SIZE " << Net::out_size << "\n\nstatic const "
       << s << " " << name << "_parameters[" << std::max<std::size_t>(param_count<Net>, 1) << "] = {\n";
  }
  detail::write_parameter_literals<T>(model.flat(), std::is_same_v<T, float> ? "f" : "", "staticgrad::emit_standalone", os);
  if (cpp) {
    os << "};\n\n/// The outputs y[0 … out_size) for the input x[0 … in_size).\ninline void infer(const " << s << "* x, " << s
       << "* y) {\n  const " << s << "* p = parameters;\n"
       << writer.body() << "}\n\n}  // namespace " << name << "\n";
  } else {
    os << "};\n\n/* The outputs y[0 .. " << upper << "_OUT_SIZE) for the input x[0 .. " << upper
       << "_IN_SIZE). */\nstatic inline void " << name << "_infer(const " << s << "* x, " << s << "* y) {\n  const " << s
       << "* p = " << name << "_parameters;\n"
       << writer.body() << "}\n\n#endif\n";
  }
}

}  // namespace detail

/// Writes `model`'s inference as source that includes nothing but the standard library:
/// the parameters as a static array of exact hexadecimal literals, and a function that
/// computes the outputs for one input, one loop per operation, with the standard library's
/// tanh, exp and erf (the outputs equal the model's to rounding). C++17: `namespace name`
/// with `in_size`, `out_size`, `parameters` and `void infer(const float* x, float* y)`.
/// C99: `name_parameters`, `NAME_IN_SIZE`, `NAME_OUT_SIZE` and
/// `void name_infer(const float* x, float* y)`, static, for one translation unit (link
/// with -lm). Networks without state of the built-in layers and activations (a custom
/// activation throws std::invalid_argument, naming it); the checks of emit_header on the
/// name and the values.
template <class Net, class T>
void emit_standalone(const Model<Net, T>& model, const std::string& name, std::ostream& os,
                     StandaloneLanguage language = StandaloneLanguage::cpp17) {
  if constexpr (detail::any_layer<detail::inference_only, Net>())
    static_assert(sizeof(detail::check_standalone_weights<Net>) > 0);
  else detail::write_standalone(model, name, os, language);
}

}  // namespace staticgrad
