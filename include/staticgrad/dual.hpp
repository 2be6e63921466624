/// @file Defines staticgrad::Dual<T>, a forward-mode dual number v + d·ε (ε² = 0): running
/// a function on Dual{x, 1} gives f(x) and f'(x) at once. It is how custom activations get
/// their derivative (custom_activation.hpp).
///
/// Generic code reaches the functions below by argument-dependent lookup, the usual idiom
/// for numeric code that takes any number type:
///
///     template <class X> X operator()(X x) const { using std::exp; return x / (1 + exp(-x)); }
#pragma once

#include <cmath>
#include <compare>
#include <concepts>
#include <numbers>
#include <type_traits>

namespace staticgrad {

/// value + derivative·ε, with ε² = 0.
template <std::floating_point T>
struct Dual {
  T value{};
  T derivative{};

  constexpr Dual() = default;
  constexpr Dual(T v, T d = T{0}) : value(v), derivative(d) {}  // implicit: a number is a constant

  constexpr Dual& operator+=(Dual y) { return *this = *this + y; }
  constexpr Dual& operator-=(Dual y) { return *this = *this - y; }
  constexpr Dual& operator*=(Dual y) { return *this = *this * y; }
  constexpr Dual& operator/=(Dual y) { return *this = *this / y; }

  friend constexpr Dual operator+(Dual x) { return x; }
  friend constexpr Dual operator-(Dual x) { return {-x.value, -x.derivative}; }
  friend constexpr Dual operator+(Dual x, Dual y) { return {x.value + y.value, x.derivative + y.derivative}; }
  friend constexpr Dual operator-(Dual x, Dual y) { return {x.value - y.value, x.derivative - y.derivative}; }
  friend constexpr Dual operator*(Dual x, Dual y) {
    return {x.value * y.value, x.derivative * y.value + x.value * y.derivative};
  }
  friend constexpr Dual operator/(Dual x, Dual y) {
    return {x.value / y.value, (x.derivative * y.value - x.value * y.derivative) / (y.value * y.value)};
  }
  // Plain numbers mix in as constants (1 + x, 0.5 * x, x / 2).
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr Dual operator+(Dual x, S s) { return x + Dual(static_cast<T>(s)); }
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr Dual operator+(S s, Dual x) { return Dual(static_cast<T>(s)) + x; }
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr Dual operator-(Dual x, S s) { return x - Dual(static_cast<T>(s)); }
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr Dual operator-(S s, Dual x) { return Dual(static_cast<T>(s)) - x; }
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr Dual operator*(Dual x, S s) { return {x.value * static_cast<T>(s), x.derivative * static_cast<T>(s)}; }
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr Dual operator*(S s, Dual x) { return x * s; }
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr Dual operator/(Dual x, S s) { return {x.value / static_cast<T>(s), x.derivative / static_cast<T>(s)}; }
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr Dual operator/(S s, Dual x) { return Dual(static_cast<T>(s)) / x; }

  // Comparisons look at values: branches (x > 0 ? x : 0.01 * x) follow the value.
  friend constexpr auto operator<=>(Dual x, Dual y) { return x.value <=> y.value; }
  friend constexpr bool operator==(Dual x, Dual y) { return x.value == y.value; }
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr auto operator<=>(Dual x, S s) { return x.value <=> static_cast<T>(s); }
  template <class S>
    requires std::is_arithmetic_v<S>
  friend constexpr bool operator==(Dual x, S s) { return x.value == static_cast<T>(s); }
};

namespace detail {
// f(x) with f'(x) = slope: the chain rule, once for every function below.
template <class T>
constexpr Dual<T> chain(Dual<T> x, T value, T slope) {
  return {value, slope * x.derivative};
}
}  // namespace detail

template <class T>
Dual<T> exp(Dual<T> x) {
  const T e = std::exp(x.value);
  return detail::chain(x, e, e);
}
template <class T>
Dual<T> expm1(Dual<T> x) {
  return detail::chain(x, std::expm1(x.value), std::exp(x.value));
}
template <class T>
Dual<T> log(Dual<T> x) {
  return detail::chain(x, std::log(x.value), T{1} / x.value);
}
template <class T>
Dual<T> log1p(Dual<T> x) {
  return detail::chain(x, std::log1p(x.value), T{1} / (T{1} + x.value));
}
template <class T>
Dual<T> sqrt(Dual<T> x) {
  const T root = std::sqrt(x.value);
  return detail::chain(x, root, T{0.5} / root);
}
template <class T, class S>
  requires std::is_arithmetic_v<S>
Dual<T> pow(Dual<T> x, S exponent) {
  const T p = static_cast<T>(exponent);
  return detail::chain(x, std::pow(x.value, p), p * std::pow(x.value, p - T{1}));
}
template <class T>
Dual<T> sin(Dual<T> x) {
  return detail::chain(x, std::sin(x.value), std::cos(x.value));
}
template <class T>
Dual<T> cos(Dual<T> x) {
  return detail::chain(x, std::cos(x.value), -std::sin(x.value));
}
template <class T>
Dual<T> tanh(Dual<T> x) {
  const T t = std::tanh(x.value);
  return detail::chain(x, t, T{1} - t * t);
}
template <class T>
Dual<T> sinh(Dual<T> x) {
  return detail::chain(x, std::sinh(x.value), std::cosh(x.value));
}
template <class T>
Dual<T> cosh(Dual<T> x) {
  return detail::chain(x, std::cosh(x.value), std::sinh(x.value));
}
template <class T>
Dual<T> atan(Dual<T> x) {
  return detail::chain(x, std::atan(x.value), T{1} / (T{1} + x.value * x.value));
}
template <class T>
Dual<T> erf(Dual<T> x) {
  const T slope = static_cast<T>(2 / std::sqrt(std::numbers::pi)) * std::exp(-x.value * x.value);
  return detail::chain(x, std::erf(x.value), slope);
}
/// |x|, with derivative 0 at 0 (as PyTorch's subgradient).
template <class T>
constexpr Dual<T> abs(Dual<T> x) {
  return {x.value < 0 ? -x.value : x.value, x.value < 0 ? -x.derivative : x.value > 0 ? x.derivative : T{0}};
}
template <class T>
constexpr Dual<T> fabs(Dual<T> x) {
  return abs(x);
}

}  // namespace staticgrad
