/// @file Defines the operations of staticgrad::tape: affine, +, −, ⊙, /, with constants
/// too, pow, exp, log, sqrt, activations, layer_norm, rms_norm, concat, sum and the losses,
/// with their backward passes.
///
/// Every operation works on whole vectors and computes its value when it is recorded.
/// Shapes are checked at run time: a mismatch throws std::invalid_argument naming the
/// operation and both shapes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <staticgrad/activations.hpp>
#include <staticgrad/detail/math.hpp>
#include <staticgrad/tape/tape.hpp>

namespace staticgrad::tape {

namespace detail {
inline std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

// Operands already checked by Tape::of.
template <class T>
void require_same_size(const char* operation, const Tape<T>& t, Var<T> x, Var<T> y) {
  if (t.size(x) != t.size(y))
    Tape<T>::fail(operation, "sizes " + std::to_string(t.size(x)) + " and " + std::to_string(t.size(y)) +
                                 " differ");
}

template <class T, class Act>
void activation_backward(const T* x, const T* y, const T* dy, T* dx, std::size_t n) {
  staticgrad::detail::activation_gradient<true, Act>(n, Act::derivative_from_output ? y : x, dy, dx);
}
}  // namespace detail

/// W ᵀx + b, with W an [In][Out] matrix (rows In, cols Out), b of Out and x of In values.
template <class T>
Var<T> affine(Var<T> w, Var<T> b, Var<T> x) {
  Tape<T>& t = Tape<T>::of("affine", w, b, x);
  const auto& wn = t.node(w);
  if (wn.rows != t.size(x) || wn.rows * wn.cols != t.size(w))
    Tape<T>::fail("affine", "W is " + detail::shape(wn.rows, wn.cols) + " ([In][Out]) but x has " +
                                std::to_string(t.size(x)) + " values");
  if (t.size(b) != wn.cols)
    Tape<T>::fail("affine", "W is " + detail::shape(wn.rows, wn.cols) + " ([In][Out]) but b has " +
                                std::to_string(t.size(b)) + " values");
  const std::size_t in = wn.rows, out = wn.cols;
  const bool needs = t.node(w).needs_grad || t.node(b).needs_grad || t.node(x).needs_grad;
  const auto id = t.push({.op = Op::affine, .a = t.id(w), .b = t.id(b), .c = t.id(x)}, out, 0, needs);
  const T* wv = t.value_of(t.id(w));
  const T* bv = t.value_of(t.id(b));
  const T* xv = t.value_of(t.id(x));
  T* z = t.output_of(id);
  for (std::size_t o = 0; o < out; ++o) z[o] = bv[o];
  for (std::size_t i = 0; i < in; ++i) {
    const T xi = xv[i];
    const T* row = wv + i * out;
    for (std::size_t o = 0; o < out; ++o) z[o] += xi * row[o];
  }
  return t.var(id);
}

namespace detail {
template <class T, class F>
Var<T> elementwise(const char* name, Op op, Var<T> x, Var<T> y, F f) {
  Tape<T>& t = Tape<T>::of(name, x, y);
  require_same_size(name, t, x, y);
  const auto id = t.push({.op = op, .a = t.id(x), .b = t.id(y)}, t.size(x), 0,
                         t.node(x).needs_grad || t.node(y).needs_grad);
  const T* xv = t.value_of(t.id(x));
  const T* yv = t.value_of(t.id(y));
  T* z = t.output_of(id);
  for (std::size_t i = 0; i < t.size(x); ++i) z[i] = f(xv[i], yv[i]);
  return t.var(id);
}
}  // namespace detail

template <class T>
Var<T> operator+(Var<T> x, Var<T> y) {
  return detail::elementwise("add", Op::add, x, y, [](T a, T b) { return a + b; });
}
template <class T>
Var<T> operator-(Var<T> x, Var<T> y) {
  return detail::elementwise("subtract", Op::subtract, x, y, [](T a, T b) { return a - b; });
}
/// Element-wise product.
template <class T>
Var<T> operator*(Var<T> x, Var<T> y) {
  return detail::elementwise("multiply", Op::multiply, x, y, [](T a, T b) { return a * b; });
}

/// Element-wise quotient.
template <class T>
Var<T> operator/(Var<T> x, Var<T> y) {
  return detail::elementwise("divide", Op::divide, x, y, [](T a, T b) { return a / b; });
}

namespace detail {
// f(x, c) element-wise for a constant c, kept in the node's scratch for the backward pass.
template <class T, class F>
Var<T> with_constant(const char* name, Op op, Var<T> x, T c, F f) {
  Tape<T>& t = Tape<T>::of(name, x);
  const auto id = t.push({.op = op, .a = t.id(x)}, t.size(x), 1, t.node(x).needs_grad);
  const T* xv = t.value_of(t.id(x));
  T* z = t.output_of(id);
  for (std::size_t i = 0; i < t.size(x); ++i) z[i] = f(xv[i], c);
  *t.scratch_of(id) = c;
  return t.var(id);
}
template <class T>
Var<T> scale(const char* name, Var<T> x, T c) {
  return with_constant(name, Op::scale, x, c, [](T v, T k) { return v * k; });
}
}  // namespace detail

// A constant on either side of +, −, · and /, as in PyTorch (x * 2.0, 1.0 - x, x / 4.0):
// the constant's type is the tape's.
template <class T>
Var<T> operator*(Var<T> x, std::type_identity_t<T> c) {
  return detail::scale("multiply", x, c);
}
template <class T>
Var<T> operator*(std::type_identity_t<T> c, Var<T> x) {
  return x * c;
}
template <class T>
Var<T> operator/(Var<T> x, std::type_identity_t<T> c) {
  return detail::scale("divide", x, T{1} / c);
}
template <class T>
Var<T> operator+(Var<T> x, std::type_identity_t<T> c) {
  return detail::with_constant("add", Op::shift, x, c, [](T v, T k) { return v + k; });
}
template <class T>
Var<T> operator+(std::type_identity_t<T> c, Var<T> x) {
  return x + c;
}
template <class T>
Var<T> operator-(Var<T> x, std::type_identity_t<T> c) {
  return x + (-c);
}
template <class T>
Var<T> operator-(Var<T> x) {
  return x * T{-1};
}
template <class T>
Var<T> operator-(std::type_identity_t<T> c, Var<T> x) {
  return -x + c;
}
/// x^p element-wise, for a constant exponent p.
template <class T>
Var<T> pow(Var<T> x, std::type_identity_t<T> p) {
  return detail::with_constant("pow", Op::power, x, p, [](T v, T k) { return std::pow(v, k); });
}

namespace detail {
// exp, log and sqrt as activation functors: their derivatives from the output or the input.
struct Exp {
  static constexpr bool derivative_from_output = true;
  template <class X>
  static X value(X z) { return std::exp(z); }
  template <class X>
  static constexpr X derivative(X y) { return y; }
};
struct Log {
  static constexpr bool derivative_from_output = false;
  template <class X>
  static X value(X z) { return std::log(z); }
  template <class X>
  static constexpr X derivative(X z) { return X{1} / z; }
};
struct Sqrt {
  static constexpr bool derivative_from_output = true;
  template <class X>
  static X value(X z) { return std::sqrt(z); }
  template <class X>
  static constexpr X derivative(X y) { return X{1} / (X{2} * y); }
};
}  // namespace detail

/// φ(x) element-wise, for any activation functor (staticgrad's or a user's).
template <ActivationFunction Act, class T>
Var<T> activation(Var<T> x) {
  Tape<T>& t = Tape<T>::of("activation", x);
  typename Tape<T>::Node node{.op = Op::activation, .a = t.id(x)};
  node.activation_backward = &detail::activation_backward<T, Act>;
  const auto id = t.push(node, t.size(x), 0, t.node(x).needs_grad);
  const T* xv = t.value_of(t.id(x));
  T* y = t.output_of(id);
  staticgrad::detail::activation_values<Act>(t.size(x), xv, y);
  return t.var(id);
}
template <class T> Var<T> relu(Var<T> x) { return activation<ReLU>(x); }
template <class T> Var<T> leaky_relu(Var<T> x) { return activation<LeakyReLU>(x); }
template <class T> Var<T> sigmoid(Var<T> x) { return activation<Sigmoid>(x); }
template <class T> Var<T> tanh(Var<T> x) { return activation<Tanh>(x); }
template <class T> Var<T> gelu(Var<T> x) { return activation<GELU>(x); }
template <class T> Var<T> gelu_tanh(Var<T> x) { return activation<GELUTanh>(x); }
template <class T> Var<T> silu(Var<T> x) { return activation<SiLU>(x); }
template <class T> Var<T> softplus(Var<T> x) { return activation<Softplus>(x); }
template <class T> Var<T> elu(Var<T> x) { return activation<ELU>(x); }
template <class T> Var<T> hard_tanh(Var<T> x) { return activation<HardTanh>(x); }
template <class T> Var<T> mish(Var<T> x) { return activation<Mish>(x); }
template <class T> Var<T> exp(Var<T> x) { return activation<detail::Exp>(x); }
template <class T> Var<T> log(Var<T> x) { return activation<detail::Log>(x); }
template <class T> Var<T> sqrt(Var<T> x) { return activation<detail::Sqrt>(x); }

/// (x − mean) / sqrt(var + ε) ⊙ gain + bias, as staticgrad::LayerNorm.
template <class T>
Var<T> layer_norm(Var<T> x, Var<T> gain, Var<T> bias, T epsilon = static_cast<T>(1e-5)) {
  Tape<T>& t = Tape<T>::of("layer_norm", x, gain, bias);
  detail::require_same_size("layer_norm", t, x, gain);
  detail::require_same_size("layer_norm", t, x, bias);
  const std::size_t n = t.size(x);
  const bool needs = t.node(x).needs_grad || t.node(gain).needs_grad || t.node(bias).needs_grad;
  const auto id = t.push({.op = Op::layer_norm, .a = t.id(x), .b = t.id(gain), .c = t.id(bias)}, n,
                         n + 1, needs);  // scratch: x̂, then 1/σ
  staticgrad::detail::layer_norm_forward(t.value_of(t.id(x)), t.value_of(t.id(gain)), t.value_of(t.id(bias)), n,
                                         epsilon, t.output_of(id), t.scratch_of(id));
  return t.var(id);
}

/// x / sqrt(mean(x²) + ε) ⊙ gain, as staticgrad::RMSNorm.
template <class T>
Var<T> rms_norm(Var<T> x, Var<T> gain, T epsilon = static_cast<T>(1e-6)) {
  Tape<T>& t = Tape<T>::of("rms_norm", x, gain);
  detail::require_same_size("rms_norm", t, x, gain);
  const std::size_t n = t.size(x);
  const auto id = t.push({.op = Op::rms_norm, .a = t.id(x), .b = t.id(gain)}, n, 1,
                         t.node(x).needs_grad || t.node(gain).needs_grad);  // scratch: 1/rms
  t.scratch_of(id)[0] = staticgrad::detail::rms_norm_forward(t.value_of(t.id(x)), t.value_of(t.id(gain)), n,
                                                             epsilon, t.output_of(id));
  return t.var(id);
}

/// softmax(x) = e^x / Σ e^x over x's values, as staticgrad::Softmax.
template <class T>
Var<T> softmax(Var<T> x) {
  Tape<T>& t = Tape<T>::of("softmax", x);
  const auto id = t.push({.op = Op::softmax, .a = t.id(x)}, t.size(x), 0, t.node(x).needs_grad);
  staticgrad::detail::softmax(t.value_of(t.id(x)), t.output_of(id), t.size(x));
  return t.var(id);
}

/// The values of x, then those of y, in one vector.
template <class T>
Var<T> concat(Var<T> x, Var<T> y) {
  Tape<T>& t = Tape<T>::of("concat", x, y);
  const auto id = t.push({.op = Op::concat, .a = t.id(x), .b = t.id(y)}, t.size(x) + t.size(y), 0,
                         t.node(x).needs_grad || t.node(y).needs_grad);
  T* z = t.output_of(id);
  std::copy_n(t.value_of(t.id(x)), t.size(x), z);
  std::copy_n(t.value_of(t.id(y)), t.size(y), z + t.size(x));
  return t.var(id);
}

/// count values of x from `first` on (a recurrent layer's gates are parts of one vector).
template <class T>
Var<T> slice(Var<T> x, std::size_t first, std::size_t count) {
  Tape<T>& t = Tape<T>::of("slice", x);
  if (first > t.size(x) || count > t.size(x) - first)
    Tape<T>::fail("slice", "values [" + std::to_string(first) + ", " + std::to_string(first + count) + ") of " +
                               std::to_string(t.size(x)));
  const auto id = t.push({.op = Op::slice, .a = t.id(x), .index = first}, count, 0, t.node(x).needs_grad);
  std::copy_n(t.value_of(t.id(x)) + first, count, t.output_of(id));
  return t.var(id);
}

/// The sum of all values.
template <class T>
Var<T> sum(Var<T> x) {
  Tape<T>& t = Tape<T>::of("sum", x);
  const auto id = t.push({.op = Op::sum, .a = t.id(x)}, 1, 0, t.node(x).needs_grad);
  T total{};
  const T* xv = t.value_of(t.id(x));
  for (std::size_t i = 0; i < t.size(x); ++i) total += xv[i];
  t.output_of(id)[0] = total;
  return t.var(id);
}

namespace detail {
// A loss that sums term(prediction_i, target_i) over the n values and divides the sum by
// divisor(n).
template <class T, class Term, class Divisor>
Var<T> summed_loss(const char* name, Op op, Var<T> prediction, Var<T> target, Term term, Divisor divisor) {
  Tape<T>& t = Tape<T>::of(name, prediction, target);
  require_same_size(name, t, prediction, target);
  const std::size_t n = t.size(prediction);
  const auto id = t.push({.op = op, .a = t.id(prediction), .b = t.id(target)}, 1, 0,
                         t.node(prediction).needs_grad);
  const T* p = t.value_of(t.id(prediction));
  const T* y = t.value_of(t.id(target));
  T sum{};
  for (std::size_t i = 0; i < n; ++i) sum += term(p[i], y[i]);
  t.output_of(id)[0] = sum / divisor(n);
  return t.var(id);
}

template <class T>
constexpr auto mean_of = [](std::size_t n) { return static_cast<T>(n); };
}  // namespace detail

/// Mean squared error over the values, as staticgrad::MSE.
template <class T>
Var<T> mse(Var<T> prediction, Var<T> target) {
  return detail::summed_loss("mse", Op::mse, prediction, target,
                             [](T p, T y) { return (p - y) * (p - y); }, detail::mean_of<T>);
}

/// ½‖prediction − target‖², as staticgrad::HalfSquaredError.
template <class T>
Var<T> half_squared_error(Var<T> prediction, Var<T> target) {
  return detail::summed_loss("half_squared_error", Op::half_squared_error, prediction, target,
                             [](T p, T y) { return (p - y) * (p - y); }, [](std::size_t) { return T{2}; });
}

/// Softmax cross-entropy with a class index, as staticgrad::SoftmaxCrossEntropy.
template <class T>
Var<T> softmax_cross_entropy(Var<T> logits, std::size_t target_class) {
  Tape<T>& t = Tape<T>::of("softmax_cross_entropy", logits);
  const std::size_t n = t.size(logits);
  if (target_class >= n)  // the generated engine's exception (SoftmaxCrossEntropy) and words
    throw std::out_of_range("staticgrad::tape::softmax_cross_entropy: class index " + std::to_string(target_class) +
                            " is not below the " + std::to_string(n) + " outputs");
  const auto id = t.push({.op = Op::cross_entropy_index, .a = t.id(logits), .index = target_class},
                         1, n, t.node(logits).needs_grad);  // scratch: softmax
  const T* z = t.value_of(t.id(logits));
  const T log_sum = staticgrad::detail::softmax(z, t.scratch_of(id), n);
  t.output_of(id)[0] = log_sum - z[target_class];
  return t.var(id);
}

/// Softmax cross-entropy with a probability vector as the target.
template <class T>
Var<T> softmax_cross_entropy(Var<T> logits, Var<T> target_probabilities) {
  Tape<T>& t = Tape<T>::of("softmax_cross_entropy", logits, target_probabilities);
  detail::require_same_size("softmax_cross_entropy", t, logits, target_probabilities);
  const std::size_t n = t.size(logits);
  const auto id = t.push({.op = Op::cross_entropy_probabilities, .a = t.id(logits),
                          .b = t.id(target_probabilities)},
                         1, n, t.node(logits).needs_grad);  // scratch: softmax
  const T* z = t.value_of(t.id(logits));
  const T* p = t.value_of(t.id(target_probabilities));
  const T log_sum = staticgrad::detail::softmax(z, t.scratch_of(id), n);
  T loss{};
  for (std::size_t i = 0; i < n; ++i) loss += p[i] * (log_sum - z[i]);
  t.output_of(id)[0] = loss;
  return t.var(id);
}

/// Sigmoid + binary cross-entropy, averaged over the values, as staticgrad::BCEWithLogits.
template <class T>
Var<T> bce_with_logits(Var<T> logits, Var<T> target) {
  return detail::summed_loss(
      "bce_with_logits", Op::bce_with_logits, logits, target,
      [](T z, T y) { return std::max(z, T{0}) - z * y + std::log1p(std::exp(-std::abs(z))); },
      detail::mean_of<T>);
}

template <class T>
void Tape<T>::backward_node(const Node& n, std::uint32_t id) {
  const T* dy = grad_of(id);
  const T* y = value_of(id);
  switch (n.op) {
    case Op::input:
    case Op::parameter:
      return;
    case Op::affine: {
      const std::size_t in = nodes_[n.a].rows, out = nodes_[n.a].cols;
      const T* w = value_of(n.a);
      const T* x = value_of(n.c);
      if (T* dw = grad_of(n.a)) {
        for (std::size_t i = 0; i < in; ++i)
          for (std::size_t o = 0; o < out; ++o) dw[i * out + o] += x[i] * dy[o];
      }
      if (T* db = grad_of(n.b)) {
        for (std::size_t o = 0; o < out; ++o) db[o] += dy[o];
      }
      if (T* dx = grad_of(n.c)) {
        for (std::size_t i = 0; i < in; ++i) {
          T sum{};
          for (std::size_t o = 0; o < out; ++o) sum += w[i * out + o] * dy[o];
          dx[i] += sum;
        }
      }
      return;
    }
    case Op::add:
    case Op::subtract: {
      const T sign = n.op == Op::add ? T{1} : T{-1};
      if (T* da = grad_of(n.a))
        for (std::size_t i = 0; i < n.size; ++i) da[i] += dy[i];
      if (T* db = grad_of(n.b))
        for (std::size_t i = 0; i < n.size; ++i) db[i] += sign * dy[i];
      return;
    }
    case Op::multiply: {
      const T* a = value_of(n.a);
      const T* b = value_of(n.b);
      if (T* da = grad_of(n.a))
        for (std::size_t i = 0; i < n.size; ++i) da[i] += dy[i] * b[i];
      if (T* db = grad_of(n.b))
        for (std::size_t i = 0; i < n.size; ++i) db[i] += dy[i] * a[i];
      return;
    }
    case Op::divide: {
      const T* a = value_of(n.a);
      const T* b = value_of(n.b);
      if (T* da = grad_of(n.a))
        for (std::size_t i = 0; i < n.size; ++i) da[i] += dy[i] / b[i];
      if (T* db = grad_of(n.b))
        for (std::size_t i = 0; i < n.size; ++i) db[i] -= dy[i] * a[i] / (b[i] * b[i]);
      return;
    }
    case Op::scale:
      if (T* dx = grad_of(n.a)) {
        const T c = values_[n.offset + n.size];
        for (std::size_t i = 0; i < n.size; ++i) dx[i] += c * dy[i];
      }
      return;
    case Op::shift:
      if (T* dx = grad_of(n.a))
        for (std::size_t i = 0; i < n.size; ++i) dx[i] += dy[i];
      return;
    case Op::power:
      if (T* dx = grad_of(n.a)) {
        const T c = values_[n.offset + n.size];
        const T* x = value_of(n.a);
        for (std::size_t i = 0; i < n.size; ++i) dx[i] += dy[i] * c * std::pow(x[i], c - T{1});
      }
      return;
    case Op::activation:
      if (T* dx = grad_of(n.a)) n.activation_backward(value_of(n.a), y, dy, dx, n.size);
      return;
    case Op::layer_norm: {
      namespace sd = staticgrad::detail;
      const T* x_hat = values_.data() + n.offset + n.size;  // then 1/σ
      if (T* dgain = grad_of(n.b)) sd::layer_norm_gain_grad<true>(dy, x_hat, n.size, dgain);
      if (T* dbias = grad_of(n.c))
        for (std::size_t i = 0; i < n.size; ++i) dbias[i] += dy[i];
      if (T* dx = grad_of(n.a)) sd::layer_norm_input_grad<true>(dy, value_of(n.b), x_hat, n.size, dx);
      return;
    }
    case Op::rms_norm: {
      namespace sd = staticgrad::detail;
      const T inv_rms = values_[n.offset + n.size];
      if (T* dg = grad_of(n.b)) sd::rms_norm_param_grad<true>(dy, value_of(n.a), inv_rms, n.size, dg);
      if (T* dx = grad_of(n.a)) sd::rms_norm_input_grad<true>(dy, value_of(n.b), value_of(n.a), inv_rms, n.size, dx);
      return;
    }
    case Op::softmax:
      if (T* dx = grad_of(n.a)) staticgrad::detail::softmax_input_grad<true>(y, dy, n.size, dx);
      return;
    case Op::sum:
      if (T* dx = grad_of(n.a))
        for (std::size_t i = 0; i < nodes_[n.a].size; ++i) dx[i] += dy[0];
      return;
    case Op::slice:
      if (T* dx = grad_of(n.a))
        for (std::size_t i = 0; i < n.size; ++i) dx[n.index + i] += dy[i];
      return;
    case Op::concat: {
      const std::size_t split = nodes_[n.a].size;
      if (T* da = grad_of(n.a))
        for (std::size_t i = 0; i < split; ++i) da[i] += dy[i];
      if (T* db = grad_of(n.b))
        for (std::size_t i = split; i < n.size; ++i) db[i - split] += dy[i];
      return;
    }
    case Op::mse:
    case Op::half_squared_error: {
      const std::size_t size = nodes_[n.a].size;
      const T* p = value_of(n.a);
      const T* target = value_of(n.b);
      T* dp = grad_of(n.a);
      for (std::size_t i = 0; i < size; ++i) {
        const T diff = p[i] - target[i];
        dp[i] += dy[0] * (n.op == Op::mse ? T{2} * diff / static_cast<T>(size) : diff);
      }
      return;
    }
    case Op::cross_entropy_index:
    case Op::cross_entropy_probabilities: {
      const std::size_t size = nodes_[n.a].size;
      const T* probs = values_.data() + n.offset + n.size;
      T* dz = grad_of(n.a);
      if (n.op == Op::cross_entropy_index) {
        for (std::size_t i = 0; i < size; ++i)
          dz[i] += dy[0] * (probs[i] - (i == n.index ? T{1} : T{0}));
      } else {
        const T* target = value_of(n.b);
        T mass{};
        for (std::size_t i = 0; i < size; ++i) mass += target[i];
        for (std::size_t i = 0; i < size; ++i) dz[i] += dy[0] * (probs[i] * mass - target[i]);
      }
      return;
    }
    case Op::bce_with_logits: {
      const std::size_t size = nodes_[n.a].size;
      const T* z = value_of(n.a);
      const T* target = value_of(n.b);
      T* dz = grad_of(n.a);
      for (std::size_t i = 0; i < size; ++i)
        dz[i] += dy[0] * (Sigmoid::value(z[i]) - target[i]) / static_cast<T>(size);
      return;
    }
  }
}

}  // namespace staticgrad::tape
