/// @file Defines the activation functions Identity, ReLU, LeakyReLU, Sigmoid, Tanh, GELU,
/// GELUTanh, SiLU and Softplus, with PyTorch's defaults and derivatives.
///
/// Each activation is an empty type with static `value(z)` and `derivative(u)`. When
/// `derivative_from_output` is true, `derivative` takes the output φ(z), so a Dense layer
/// need not keep its pre-activations for the backward pass.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <string_view>

#include <staticgrad/core/concepts.hpp>
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
  template <class T>
  static constexpr T value(T z) {
    return z < T{0} ? T{0} : z;  // not z > 0 ? z : 0, which would turn a NaN into 0
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

/// φ(z) = 1 / (1 + e^(−z)), evaluated without overflow for large |z|.
struct Sigmoid {
  static constexpr std::string_view name = "Sigmoid";
  static constexpr bool derivative_from_output = true;
  using default_init = init::XavierUniform;
  template <class T>
  static T value(T z) {
    if (z >= T{0}) return T{1} / (T{1} + std::exp(-z));
    const T e = std::exp(z);
    return e / (T{1} + e);
  }
  template <class T>
  static constexpr T derivative(T y) {
    return y * (T{1} - y);
  }
};

/// φ(z) = tanh(z).
struct Tanh {
  static constexpr std::string_view name = "Tanh";
  static constexpr bool derivative_from_output = true;
  using default_init = init::XavierUniform;
  template <class T>
  static T value(T z) {
    return std::tanh(z);
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
  using default_init = init::HeNormal;
  template <class T>
  static T value(T z) {
    return T{0.5} * z * (T{1} + std::erf(z * static_cast<T>(std::numbers::sqrt2 / 2)));
  }
  template <class T>
  static T derivative(T z) {
    const T cdf = T{0.5} * (T{1} + std::erf(z * static_cast<T>(std::numbers::sqrt2 / 2)));
    const T pdf = static_cast<T>(std::numbers::inv_sqrtpi / std::numbers::sqrt2) *
                  std::exp(T{-0.5} * z * z);
    return cdf + z * pdf;
  }
};

/// φ(z) = ½z(1 + tanh(√(2/π)(z + 0.044715z³))) (torch.nn.GELU(approximate='tanh')).
struct GELUTanh {
  static constexpr std::string_view name = "GELUTanh";
  static constexpr bool derivative_from_output = false;
  using default_init = init::HeNormal;
  static constexpr double k = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;  // √(2/π)
  static constexpr double c = 0.044715;
  template <class T>
  static T value(T z) {
    const T t = std::tanh(static_cast<T>(k) * (z + static_cast<T>(c) * z * z * z));
    return T{0.5} * z * (T{1} + t);
  }
  template <class T>
  static T derivative(T z) {
    const T t = std::tanh(static_cast<T>(k) * (z + static_cast<T>(c) * z * z * z));
    const T du = static_cast<T>(k) * (T{1} + static_cast<T>(3 * c) * z * z);
    return T{0.5} * (T{1} + t) + T{0.5} * z * (T{1} - t * t) * du;
  }
};

/// φ(z) = z·σ(z) (torch.nn.SiLU, also called swish).
struct SiLU {
  static constexpr std::string_view name = "SiLU";
  static constexpr bool derivative_from_output = false;
  using default_init = init::HeNormal;
  template <class T>
  static T value(T z) {
    return z * Sigmoid::value(z);
  }
  template <class T>
  static T derivative(T z) {
    const T s = Sigmoid::value(z);
    return s * (T{1} + z * (T{1} - s));
  }
};

/// φ(z) = log(1 + e^z), and z itself above the threshold 20 (torch.nn.Softplus()).
struct Softplus {
  static constexpr std::string_view name = "Softplus";
  static constexpr bool derivative_from_output = false;
  using default_init = init::HeNormal;
  static constexpr double threshold = 20.0;
  template <class T>
  static T value(T z) {
    return z > static_cast<T>(threshold) ? z : std::log1p(std::exp(z));
  }
  template <class T>
  static T derivative(T z) {
    return z > static_cast<T>(threshold) ? T{1} : Sigmoid::value(z);
  }
};

namespace detail {

/// v ← φ(v), element-wise over a whole span (the place for vectorized math).
template <ActivationFunction Act, class T, std::size_t N>
constexpr void apply_activation(std::span<T, N> v) {
  for (std::size_t i = 0; i < N; ++i) v[i] = Act::value(v[i]);
}

/// dz = dy ⊙ φ'(u), where u is φ's output or input as `Act::derivative_from_output` says.
/// u, dy and dz never overlap; saying so (__restrict, as in core/kernels.hpp) lets even
/// short loops vectorize, without a run-time overlap check.
template <ActivationFunction Act, class T, std::size_t N>
constexpr void activation_backward(const T* __restrict u, const T* __restrict dy,
                                   T* __restrict dz) {
  for (std::size_t i = 0; i < N; ++i) dz[i] = dy[i] * Act::derivative(u[i]);
}

}  // namespace detail
}  // namespace staticgrad
