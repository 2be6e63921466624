/// @file Defines staticgrad::emit_standalone: a trained model's inference as plain C++17
/// or C99 source with its weights as static arrays, which needs nothing but the standard
/// library (for a microcontroller's toolchain).
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
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
#include <staticgrad/layers/quantized_dense.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

/// The language emit_standalone writes.
enum class StandaloneLanguage { cpp17, c99 };

namespace detail {

/// Writes the body of the inference function, one loop per operation, as a layer's
/// record(r, x) calls them (the protocol the tape uses: tape/network.hpp).
class standalone_writer {
 public:
  /// `name` prefixes the C99 helpers; `packed` are the [offset, offset + size) ranges of the
  /// flat parameters that quantized layers hold, which go into arrays of their own format.
  standalone_writer(bool is_float, StandaloneLanguage language, std::string name,
                    std::vector<std::pair<std::size_t, std::size_t>> packed)
      : float_(is_float), cpp_(language == StandaloneLanguage::cpp17), name_(std::move(name)), packed_(std::move(packed)) {
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

  /// Where flat parameter `offset` sits in the float array, which leaves out the packed ranges.
  std::size_t float_offset(std::size_t offset) const {
    std::size_t packed_before = 0;
    for (const auto& [first, size] : packed_)
      if (first < offset) packed_before += size;
    return offset - packed_before;
  }
  /// Whether flat parameter i lies in a packed range.
  bool packed(std::size_t i) const {
    for (const auto& [first, size] : packed_)
      if (i >= first && i < first + size) return true;
    return false;
  }

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

  /// A QuantizedDense's y = W x + b from its packed parameters, computed as its kernels
  /// compute it: bfloat16 weights [Out][In] and the input rounded to bfloat16, sums in
  /// float; or int8 weights [Out][In] with a scale per output, the input quantized to
  /// 8 bits with one scale, exact integer sums scaled back to float.
  template <class Layer>
  value quantized_affine(const float* params, const value& x) {
    constexpr std::size_t In = Layer::in_size, Out = Layer::out_size;
    using Format = typename Layer::format;
    const std::string in = std::to_string(In), out = std::to_string(Out), s = scalar();
    std::vector<double> bias(Out);
    const value z = fresh(Out);
    if constexpr (std::is_same_v<Format, bf16>) {
      std::vector<long> bits(In * Out);
      for (std::size_t o = 0; o < Out; ++o) {
        bias[o] = Format::template bias<In, Out>(params, o);
        for (std::size_t k = 0; k < In; ++k) bits[o * In + k] = Format::template weight_bits<In, Out>(params, k, o);
      }
      uses_bf16_ = true;
      const value w = integer_constants(standard("uint16_t"), bits, true), b = constants(bias);
      // Products by pairs of inputs, as the kernels add them (each product exact in float)
      const auto product = [&](const std::string& k) {
        return helper("bf16_value") + "(" + w.name + "[i * " + in + " + " + k + "]) * rounded[" + k + "]";
      };
      line("{");
      line("  " + s + " rounded[" + in + "];");
      line("  for (int k = 0; k < " + in + "; ++k) rounded[k] = " + helper("bf16_rounded") + "(" + x.name + "[k]);");
      line("  for (int i = 0; i < " + out + "; ++i) {");
      line("    " + s + " sum = " + b.name + "[i];");
      line("    for (int k = 0; k + 1 < " + in + "; k += 2) sum += " + product("k") + " + " + product("k + 1") + ";");
      if (In % 2 == 1) line("    sum += " + product(std::to_string(In - 1)) + ";");
      line("    " + z.name + "[i] = sum;");
      line("  }");
      line("}");
    } else {
      std::vector<long> steps(In * Out);
      std::vector<double> scale(Out);
      for (std::size_t o = 0; o < Out; ++o) {
        bias[o] = Format::template vector<In, Out>(params, low_precision::int8_bias, o);
        scale[o] = Format::template vector<In, Out>(params, low_precision::int8_scale, o);
        for (std::size_t k = 0; k < In; ++k) steps[o * In + k] = Format::template weight_steps<In, Out>(params, k, o);
      }
      const value w = integer_constants(standard("int8_t"), steps, false), c = constants(scale),
                  b = constants(bias);
      const std::string magnitude = math("fabs") + "(" + x.name + "[k])";
      line("{");
      line("  " + s + " largest = 0;");
      line("  for (int k = 0; k < " + in + "; ++k) if (largest < " + magnitude + ") largest = " + magnitude + ";");
      line("  const " + s + " to_steps = largest > 0 ? 127 / largest : 0, step = largest / 127;");
      line("  int quantized[" + in + "];");
      line("  for (int k = 0; k < " + in + "; ++k) quantized[k] = " +
           cast("int", math("nearbyint") + "(" + x.name + "[k] * to_steps)") + ";");
      line("  for (int i = 0; i < " + out + "; ++i) {");
      line("    " + standard("int32_t") + " sum = 0;");
      line("    for (int k = 0; k < " + in + "; ++k) sum += quantized[k] * " + w.name + "[i * " + in + " + k];");
      line("    " + z.name + "[i] = " + cast(s, "sum") + " * (" + c.name + "[i] * step) + " + b.name + "[i];");
      line("  }");
      line("}");
    }
    return z;
  }

  /// The bfloat16 helpers quantized_affine's code calls, when it called them.
  std::string helpers() const {
    if (!uses_bf16_) return {};
    const std::string u32 = standard("uint32_t"), copy = standard("memcpy"),
                      inline_ = cpp_ ? "inline " : "static ";
    return (cpp_ ? "/// The float value of bfloat16 bits.\n" : "/* The float value of bfloat16 bits. */\n") + inline_ +
           "float " + helper("bf16_value") + "(" + standard("uint16_t") + " bits) {\n  const " + u32 +
           " word = " + cast(u32, "bits") + " << 16;\n  float value;\n  " + copy +
           "(&value, &word, sizeof value);\n  return value;\n}\n" +
           (cpp_ ? "/// x rounded to the nearest bfloat16, ties to even (a NaN stays a NaN).\n"
                 : "/* x rounded to the nearest bfloat16, ties to even (a NaN stays a NaN). */\n") +
           inline_ + "float " + helper("bf16_rounded") + "(float x) {\n  " + u32 + " word;\n  if (x != x) return x;\n  " +
           copy + "(&word, &x, sizeof word);\n  word = (word + 0x7fffu + ((word >> 16) & 1u)) & 0xffff0000u;\n  " + copy +
           "(&x, &word, sizeof x);\n  return x;\n}\n\n";
  }
  /// Whether the code needs <stdint.h> and <string.h> (or <cstdint>, <cstring>).
  bool uses_integers() const { return !packed_.empty(); }

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
  // A static array of integers, hexadecimal or decimal.
  value integer_constants(const std::string& type, const std::vector<long>& values, bool hex) {
    value v{this, "c" + std::to_string(count_++), values.size()};
    body_ << "  static const " << type << " " << v.name << "[" << values.size() << "] = {";
    for (std::size_t i = 0; i < values.size(); ++i) {
      body_ << (i ? "," : "") << (i % 16 == 0 ? "\n    " : " ");
      if (hex) body_ << "0x" << std::hex << values[i] << std::dec;
      else body_ << values[i];
    }
    body_ << "};\n";
    return v;
  }
  std::string cast(const std::string& type, const std::string& expression) const {
    return cpp_ ? "static_cast<" + type + ">(" + expression + ")" : "(" + type + ")(" + expression + ")";
  }
  // A name of the C standard library (uint16_t, memcpy, …) as the language spells it.
  std::string standard(const std::string& name) const { return cpp_ ? "std::" + name : name; }
  // A helper function's name: in C99, prefixed with the model's name (C++17 has its namespace).
  std::string helper(const std::string& base) const { return cpp_ ? base : name_ + "_" + base; }

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
  std::string name_;
  std::vector<std::pair<std::size_t, std::size_t>> packed_;
  bool uses_bf16_ = false;
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

  standalone_recording(standalone_writer& writer, std::span<const T> params) : writer_(writer), params_(params) {}

  value parameter(std::size_t offset, std::size_t rows, std::size_t cols = 1) const {
    return writer_.named("(p + " + std::to_string(writer_.float_offset(Node::param_offset + offset)) + ")", rows * cols);
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
    standalone_recording<T, Child> r(writer_, params_);
    return Child::layer::record(r, x);
  }

  /// This node's QuantizedDense (Layer).
  template <class Layer>
  value quantized_affine(const value& x) const {
    static_assert(std::is_same_v<T, float>);  // a quantized model is a Model<…, float>
    return writer_.template quantized_affine<Layer>(params_.data() + Node::param_offset, x);
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
  std::span<const T> params_;
};

}  // namespace detail

/// Writes `model`'s inference as source that includes nothing but the standard library:
/// the parameters as a static array of exact hexadecimal literals (none without any), and a function that
/// computes the outputs for one input, one loop per operation, with the standard library's
/// tanh, exp and erf (the outputs equal the model's to rounding). A quantized model's
/// layers (staticgrad::quantize) keep their format: bfloat16 weights as 16-bit and int8
/// weights as 8-bit integer arrays beside their float scales and biases, computed as the
/// library computes them (flash holds half or a quarter of float's bytes). C++17: `namespace name`
/// with `in_size`, `out_size`, `parameters` and `void infer(const float* x, float* y)`.
/// C99: `name_parameters`, `NAME_IN_SIZE`, `NAME_OUT_SIZE` and
/// `void name_infer(const float* x, float* y)`, static, for one translation unit (link
/// with -lm). Networks without state of the built-in layers and activations (a custom
/// activation throws std::invalid_argument, naming it); the checks of emit_header on the
/// name and the values.
template <class Net, class T>
void emit_standalone(const Model<Net, T>& model, const std::string& name, std::ostream& os,
                     StandaloneLanguage language = StandaloneLanguage::cpp17) {
  static_assert(!detail::has_state<Net>,
                "staticgrad::emit_standalone: this network carries state from one time step to the next; "
                "emit_standalone writes networks without state");
  if (!detail::namespace_name(name))
    throw std::invalid_argument("staticgrad::emit_standalone: '" + name + "' cannot name the code (a C++ identifier "
                                "that is not a keyword)");
  const bool cpp = language == StandaloneLanguage::cpp17;
  std::vector<std::pair<std::size_t, std::size_t>> packed;  // each quantized layer's parameters
  detail::visit_leaves<Net>([&](auto node) {
    using N = decltype(node);
    if constexpr (detail::inference_only<typename N::layer>::value) packed.emplace_back(N::param_offset, N::layer::param_count);
  });
  detail::standalone_writer writer(std::is_same_v<T, float>, language, name, packed);
  using Root = detail::root_node<Net>;
  detail::standalone_recording<T, Root> recording(writer, model.flat());
  const auto y = Net::record(recording, writer.named("x", Net::in_size));
  writer.loop(Net::out_size, "y[i] = " + y.name + "[i];");

  std::vector<T> floats;  // the parameters that quantized layers do not hold
  for (std::size_t i = 0; i < param_count<Net>; ++i)
    if (!writer.packed(i)) floats.push_back(model.flat()[i]);

  std::string upper = name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string s = writer.scalar(), parameters = cpp ? "parameters" : name + "_parameters";
  os << (cpp ? "// " : "/* ") << "Written by staticgrad::emit_standalone: the inference of\n"
     << (cpp ? "// " : "   ") << detail::spec_name<Net>() << ",\n"
     << (cpp ? "// " : "   ") << "needing nothing but the standard library." << (cpp ? "\n" : " */\n");
  if (cpp) {
    os << "#pragma once\n\n#include <cmath>\n#include <cstddef>\n"
       << (writer.uses_integers() ? "#include <cstdint>\n#include <cstring>\n" : "") << "\nnamespace " << name
       << " {\n\ninline constexpr std::size_t in_size = " << Net::in_size << ", out_size = " << Net::out_size << ";\n\n"
       << writer.helpers();
  } else {
    os << "#ifndef " << upper << "_H\n#define " << upper << "_H\n\n#include <math.h>\n"
       << (writer.uses_integers() ? "#include <stdint.h>\n#include <string.h>\n" : "") << "\n#define " << upper
       << "_IN_SIZE " << Net::in_size << "\n#define " << upper << "_OUT_SIZE " << Net::out_size << "\n\n"
       << writer.helpers();
  }
  if (!floats.empty()) {  // (a network of quantized layers alone has none)
    os << (cpp ? "inline constexpr " : "static const ") << s << " " << parameters << "[" << floats.size() << "] = {\n";
    detail::write_parameter_literals<T>(floats, std::is_same_v<T, float> ? "f" : "", "staticgrad::emit_standalone", os);
    os << "};\n\n";
  }
  const std::string pointer = floats.empty() ? "" : "  const " + s + "* p = " + parameters + ";\n";
  if (cpp) {
    os << "/// The outputs y[0 … out_size) for the input x[0 … in_size).\ninline void infer(const " << s << "* x, " << s
       << "* y) {\n" << pointer << writer.body() << "}\n\n}  // namespace " << name << "\n";
  } else {
    os << "/* The outputs y[0 .. " << upper << "_OUT_SIZE) for the input x[0 .. " << upper
       << "_IN_SIZE). */\nstatic inline void " << name << "_infer(const " << s << "* x, " << s << "* y) {\n" << pointer
       << writer.body() << "}\n\n#endif\n";
  }
}

}  // namespace staticgrad
