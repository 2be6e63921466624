/// @file Defines the activation functions Identity, ReLU, LeakyReLU, HardTanh, ELU, Sigmoid,
/// Tanh, GELU, GELUTanh, SiLU, Softplus and Mish, with PyTorch's defaults and derivatives.
///
/// Each activation is an empty type with static `value(z)` and `derivative(u)`. When
/// `derivative_from_output` is true, `derivative` takes the output φ(z), so a Dense layer
/// keeps nothing for the backward pass; otherwise it keeps φ'(z), computed with φ(z).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/simd.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// φ(z) = z. Piecewise linear: usable in constant expressions.
struct Identity {
  static constexpr std::string_view name = "Identity";
  static constexpr bool derivative_from_output = true;
  using default_init = init::LeCunNormal;
  template <class T>
  static constexpr T value(T z) {
    return z;
  }
  template <class T>
  static constexpr T derivative(T /*y*/) {
    return T{1};
  }
};

/// φ(z) = max(0, z); φ'(0) = 0 and NaN stays NaN, as in PyTorch. Usable in constant
/// expressions.
struct ReLU {
  static constexpr std::string_view name = "ReLU";
  static constexpr bool derivative_from_output = true;
  using default_init = init::HeNormal;
  static constexpr bool register_value = true;  // value also takes a SIMD register
  template <class T>
  static constexpr T value(T z) {
    return detail::simd::positive_part(z);
  }
  template <class T>
  static constexpr T derivative(T y) {
    return y > T{0} ? T{1} : T{0};
  }
};

/// φ(z) = z for z > 0, else 0.01·z (PyTorch's default slope). Usable in constant expressions.
struct LeakyReLU {
  static constexpr std::string_view name = "LeakyReLU";
  static constexpr bool derivative_from_output = true;
  using default_init = init::HeNormal;
  static constexpr double negative_slope = 0.01;
  template <class T>
  static constexpr T value(T z) {
    return z > T{0} ? z : static_cast<T>(negative_slope) * z;
  }
  template <class T>
  static constexpr T derivative(T y) {  // the sign of y is the sign of z
    return y > T{0} ? T{1} : static_cast<T>(negative_slope);
  }
};

/// φ(z) = z clamped to [−1, 1] (torch.nn.Hardtanh()); φ' is 1 strictly inside, 0 on and
/// beyond the bounds, as in PyTorch. Usable in constant expressions.
struct HardTanh {
  static constexpr std::string_view name = "HardTanh";
  static constexpr bool derivative_from_output = true;
  using default_init = init::XavierUniform;
  template <class T>
  static constexpr T value(T z) {
    return z < T{-1} ? T{-1} : z > T{1} ? T{1} : z;  // NaN stays NaN
  }
  template <class T>
  static constexpr T derivative(T y) {  // y is strictly inside exactly when z is
    return y > T{-1} && y < T{1} ? T{1} : T{0};
  }
};

// The activations below that call exp, tanh or erf are written once, generically: X is
// a number or a SIMD register of numbers (core/simd.hpp), and `vectorized` says so, so that
// whole spans go through xsimd's vectorized math.

/// φ(z) = 1 / (1 + e^(−z)), evaluated without overflow for large |z|.
struct Sigmoid {
  static constexpr std::string_view name = "Sigmoid";
  static constexpr bool derivative_from_output = true;
  static constexpr bool vectorized = true;
  using default_init = init::XavierUniform;
  // Always inlined, as the formula it calls: a recurrent step's gates wait for it.
  template <class X>
  [[gnu::always_inline]] static X value(X z) {
    return detail::simd::sigmoid(z);
  }
  template <class T>
  static constexpr T derivative(T y) {
    return y * (T{1} - y);
  }
};

/// φ(z) = z for z > 0, else α(e^z − 1), α = 1 (torch.nn.ELU()).
struct ELU {
  static constexpr std::string_view name = "ELU";
  static constexpr bool derivative_from_output = true;
  static constexpr bool vectorized = true;
  using default_init = init::HeNormal;
  static constexpr double alpha = 1.0;
  template <class X>
  static X value(X z) {
    namespace s = detail::simd;
    return s::select(z > s::constant<X>(0), z, s::constant<X>(alpha) * (s::exp(z) - s::constant<X>(1)));
  }
  template <class T>
  static constexpr T derivative(T y) {  // for z ≤ 0, αe^z = y + α
    return y > T{0} ? T{1} : y + static_cast<T>(alpha);
  }
};

/// φ(z) = tanh(z).
struct Tanh {
  static constexpr std::string_view name = "Tanh";
  static constexpr bool derivative_from_output = true;
  static constexpr bool vectorized = true;
  using default_init = init::XavierUniform;
  // Always inlined, as Sigmoid's.
  template <class X>
  [[gnu::always_inline]] static X value(X z) {
    return detail::simd::fast_tanh(z);
  }
  template <class T>
  static constexpr T derivative(T y) {
    return T{1} - y * y;
  }
};

/// φ(z) = z·Φ(z) with the exact normal CDF Φ (torch.nn.GELU()).
struct GELU {
  static constexpr std::string_view name = "GELU";
  static constexpr bool derivative_from_output = false;
  static constexpr bool vectorized = true;
  using default_init = init::HeNormal;
  template <class X>
  static X value(X z) {
    namespace s = detail::simd;
    return s::constant<X>(0.5) * z * (s::constant<X>(1) + s::erf(z * s::constant<X>(std::numbers::sqrt2 / 2)));
  }
  template <class X>
  static X derivative(X z) {
    namespace s = detail::simd;
    const X cdf = s::constant<X>(0.5) * (s::constant<X>(1) + s::erf(z * s::constant<X>(std::numbers::sqrt2 / 2)));
    const X pdf = s::constant<X>(std::numbers::inv_sqrtpi / std::numbers::sqrt2) * s::exp(s::constant<X>(-0.5) * z * z);
    return cdf + z * pdf;
  }
};

/// φ(z) = ½z(1 + tanh(√(2/π)(z + 0.044715z³))) (torch.nn.GELU(approximate='tanh')).
struct GELUTanh {
  static constexpr std::string_view name = "GELUTanh";
  static constexpr bool derivative_from_output = false;
  static constexpr bool vectorized = true;
  using default_init = init::HeNormal;
  static constexpr double k = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;  // √(2/π)
  static constexpr double c = 0.044715;
  template <class X>
  static X value(X z) {
    namespace s = detail::simd;
    const X t = s::tanh(s::constant<X>(k) * (z + s::constant<X>(c) * z * z * z));
    return s::constant<X>(0.5) * z * (s::constant<X>(1) + t);
  }
  template <class X>
  static X derivative(X z) {
    namespace s = detail::simd;
    const X t = s::tanh(s::constant<X>(k) * (z + s::constant<X>(c) * z * z * z));
    const X du = s::constant<X>(k) * (s::constant<X>(1) + s::constant<X>(3 * c) * z * z);
    return s::constant<X>(0.5) * (s::constant<X>(1) + t) + s::constant<X>(0.5) * z * (s::constant<X>(1) - t * t) * du;
  }
};

/// φ(z) = z·σ(z) (torch.nn.SiLU, also called swish).
struct SiLU {
  static constexpr std::string_view name = "SiLU";
  static constexpr bool derivative_from_output = false;
  static constexpr bool vectorized = true;
  using default_init = init::HeNormal;
  template <class X>
  static X value(X z) {
    return z * Sigmoid::value(z);
  }
  template <class X>
  static X derivative(X z) {
    const X s = Sigmoid::value(z);
    const X one = detail::simd::constant<X>(1);
    return s * (one + z * (one - s));
  }
};

/// φ(z) = log(1 + e^z), and z itself above the threshold 20 (torch.nn.Softplus()).
struct Softplus {
  static constexpr std::string_view name = "Softplus";
  static constexpr bool derivative_from_output = false;
  static constexpr bool vectorized = true;
  using default_init = init::HeNormal;
  static constexpr double threshold = 20.0;
  template <class X>
  static X value(X z) {
    namespace s = detail::simd;
    return s::select(z > s::constant<X>(threshold), z, s::log1p(s::exp(z)));
  }
  template <class X>
  static X derivative(X z) {
    namespace s = detail::simd;
    return s::select(z > s::constant<X>(threshold), s::constant<X>(1), Sigmoid::value(z));
  }
};

/// φ(z) = z·tanh(softplus(z)) (torch.nn.Mish()).
struct Mish {
  static constexpr std::string_view name = "Mish";
  static constexpr bool derivative_from_output = false;
  static constexpr bool vectorized = true;
  using default_init = init::HeNormal;
  template <class X>
  static X value(X z) {
    return z * detail::simd::tanh(Softplus::value(z));
  }
  template <class X>
  static X derivative(X z) {
    const X t = detail::simd::tanh(Softplus::value(z));
    return t + z * Sigmoid::value(z) * (detail::simd::constant<X>(1) - t * t);
  }
};

namespace detail {

template <class Act>
concept VectorizedActivation = requires { requires Act::vectorized; };

// Whether φ' goes through SIMD registers: from the output it is a polynomial, which plain
// loops vectorize by themselves.
template <class Act>
concept VectorizedDerivative = VectorizedActivation<Act> && !Act::derivative_from_output;

/// out = φ(in) over n values; in may be out. Both engines use it, so they compute the
/// same numbers.
template <ActivationFunction Act, class T>
void activation_values(std::size_t n, const T* in, T* out) {
  if constexpr (VectorizedActivation<Act>) simd::map([](auto z) { return Act::value(z); }, n, out, in);
  else for (std::size_t i = 0; i < n; ++i) out[i] = Act::value(in[i]);
}

/// out = φ(in) over N values (in may be out): fewer than a register's in the narrowest
/// register that holds them (simd::small_register), as the values a layer has just
/// written are read fastest. Always inlined: for a few values a call costs what φ does.
template <ActivationFunction Act, class T, std::size_t N>
[[gnu::always_inline]] inline void activation_values(const T* in, T* out) {
#ifndef STATICGRAD_NO_SIMD
  if constexpr (VectorizedActivation<Act> && !std::is_void_v<simd::small_register<T, N>>) {
    return simd::store_small<N>(Act::value(simd::load_small<simd::small_register<T, N>, N>(in)), out);
  }
#endif
  activation_values<Act>(N, in, out);
}

/// dz (+)= dy ⊙ φ'(u) over n values, u being φ's output or input as
/// `Act::derivative_from_output` says.
template <bool Accumulate, ActivationFunction Act, class T>
void activation_gradient(std::size_t n, const T* u, const T* dy, T* dz) {
  if constexpr (VectorizedDerivative<Act> && Accumulate)
    simd::map([](auto x, auto d, auto sum) { return sum + d * Act::derivative(x); }, n, dz, u, dy, dz);
  else if constexpr (VectorizedDerivative<Act>)
    simd::map([](auto x, auto d) { return d * Act::derivative(x); }, n, dz, u, dy);
  else if constexpr (Accumulate)
    for (std::size_t i = 0; i < n; ++i) dz[i] += dy[i] * Act::derivative(u[i]);
  else
    for (std::size_t i = 0; i < n; ++i) dz[i] = dy[i] * Act::derivative(u[i]);
}

// A cheap φ whose value also takes a register (ReLU) stays a plain loop, which g++
// vectorizes where it fills registers; but a span of exactly one narrower register (four
// floats on AVX-512: 3-4-4-2's layers) it wrote lane by lane, so that span takes the register.
template <class Act>
concept RegisterValue = requires { requires Act::register_value; };

/// v ← φ(v), element-wise over a whole span: in SIMD registers when φ is written for them.
template <ActivationFunction Act, class T, std::size_t N>
constexpr void apply_activation(std::span<T, N> v) {
  if constexpr (VectorizedActivation<Act>) {
    if (!std::is_constant_evaluated()) return activation_values<Act, T, N>(v.data(), v.data());
  }
#ifndef STATICGRAD_NO_SIMD
  if constexpr (RegisterValue<Act> && !std::is_void_v<simd::exact_register<T, N>>) {
    using R = simd::exact_register<T, N>;
    if (!std::is_constant_evaluated()) return Act::value(R::load_unaligned(v.data())).store_unaligned(v.data());
  }
#endif
  for (std::size_t i = 0; i < N; ++i) v[i] = Act::value(v[i]);
}

/// y = φ(x), element-wise, x read where it is (x may be y).
template <ActivationFunction Act, class T, std::size_t N>
constexpr void apply_activation(std::span<const T, N> x, std::span<T, N> y) {
  if constexpr (VectorizedActivation<Act>) {
    if (!std::is_constant_evaluated()) return activation_values<Act, T, N>(x.data(), y.data());
  }
  std::copy(x.begin(), x.end(), y.begin());
  apply_activation<Act>(y);
}

/// dz = dy ⊙ φ'(u), where u is φ's output or input as `Act::derivative_from_output` says.
/// u, dy and dz never overlap; saying so (__restrict, as in core/kernels.hpp) lets even
/// short loops vectorize, without a run-time overlap check.
template <ActivationFunction Act, class T, std::size_t N>
constexpr void activation_backward(const T* __restrict u, const T* __restrict dy,
                                   T* __restrict dz) {
  if constexpr (VectorizedDerivative<Act>) {
    if (!std::is_constant_evaluated()) return activation_gradient<false, Act>(N, u, dy, dz);
  }
  for (std::size_t i = 0; i < N; ++i) dz[i] = dy[i] * Act::derivative(u[i]);
}

/// The forward pass of training through φ: v ← φ(v), keeping in `derivative` φ'(v) for the
/// backward pass when φ' cannot be had from the output. Both in one pass, so that what φ and
/// φ' share (GELU's erf, SiLU's sigmoid) is computed once.
template <ActivationFunction Act, class T, std::size_t N>
constexpr void activation_forward(std::span<T, N> v, T* __restrict derivative) {
  if constexpr (Act::derivative_from_output) {
    apply_activation<Act>(v);
  } else {
    if constexpr (VectorizedActivation<Act>) {
      if (!std::is_constant_evaluated())
        return simd::map_pair([](auto z) { return std::pair{Act::value(z), Act::derivative(z)}; }, N, v.data(),
                              derivative, v.data());
    }
    for (std::size_t i = 0; i < N; ++i) {
      derivative[i] = Act::derivative(v[i]);
      v[i] = Act::value(v[i]);
    }
  }
}

/// dz = dy ⊙ φ'(z) after activation_forward: from φ's output y, or from the kept φ'(z).
template <ActivationFunction Act, class T, std::size_t N>
constexpr void activation_backward_kept(const T* __restrict y, const T* __restrict kept, const T* __restrict dy,
                                        T* __restrict dz) {
  if constexpr (Act::derivative_from_output) activation_backward<Act, T, N>(y, dy, dz);
  else for (std::size_t i = 0; i < N; ++i) dz[i] = dy[i] * kept[i];
}

}  // namespace detail
}  // namespace staticgrad
