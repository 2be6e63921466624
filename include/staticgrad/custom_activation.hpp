/// @file Custom activations: the user writes the function only, as a generic callable, and
/// staticgrad::Derived<F> derives its derivative by running the same code on dual numbers.
///
///     struct Swish {  // x·σ(x)
///       template <class X> X operator()(X x) const { using std::exp; return x / (1 + exp(-x)); }
///     };
///     using Net = sg::Sequential<sg::Dense<4, 16, Swish>, sg::Dense<16, 1>>;
///
/// Dense and Activation take such a callable wherever they take an activation (it becomes
/// Derived<Swish>). Optional members of F: `static constexpr std::string_view name` (how
/// saved files spell it; by default the type's own name) and `using default_init = …`
/// (by default init::XavierUniform, the choice for smooth, zero-centred functions).
#pragma once

#include <concepts>
#include <string_view>
#include <type_traits>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/detail/type_name.hpp>
#include <staticgrad/dual.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// A function of one number written generically: F{}(x) for double and for Dual<double>.
template <class F>
concept ScalarFunction = std::is_empty_v<F> && std::default_initializable<F> && requires(const F f, double x) {
  { f(x) } -> std::convertible_to<double>;
  { f(Dual<double>{x, 1.0}) } -> std::convertible_to<Dual<double>>;
};

namespace detail {

template <class F>
constexpr std::string_view derived_name() {
  if constexpr (requires { std::string_view(F::name); }) return F::name;
  else return short_type_name<F>();
}

template <class F>
struct derived_init {
  using type = init::XavierUniform;
};
template <class F>
  requires requires { typename F::default_init; }
struct derived_init<F> {
  using type = typename F::default_init;
};

}  // namespace detail

/// The activation φ = F, with φ' from forward-mode dual numbers through F's own code:
/// exact to rounding (no finite differences), for whatever F computes.
template <ScalarFunction F>
struct Derived {
  static constexpr std::string_view name = detail::derived_name<F>();
  static constexpr bool derivative_from_output = false;
  using default_init = typename detail::derived_init<F>::type;
  template <class T>
  static T value(T z) {
    return static_cast<T>(F{}(z));
  }
  template <class T>
  static T derivative(T z) {
    return Dual<T>(F{}(Dual<T>{z, T{1}})).derivative;
  }
};

/// What a layer accepts as its activation: an activation type, or a generic function.
template <class A>
concept ActivationLike = ActivationFunction<A> || ScalarFunction<A>;

namespace detail {

/// Reports an activation argument that is neither (see detail/checks.hpp for the pattern).
template <class A>
struct check_activation {
  static_assert(ActivationLike<A>,
                "staticgrad: the activation is neither an activation type (static value, "
                "derivative, derivative_from_output) nor a generic function of one number "
                "(F{}(x) for double and for staticgrad::Dual<double>; see check_activation<type>)");
};

/// What a layer's activation argument means: an activation as is, a ScalarFunction as
/// Derived<F>; anything else has been reported and stands in as Identity, so that the
/// one error is the only one.
template <class A>
struct activation_of {
  using type = Identity;
};
template <ActivationFunction A>
struct activation_of<A> {
  using type = A;
};
template <class A>
  requires(!ActivationFunction<A> && ScalarFunction<A>)
struct activation_of<A> {
  using type = Derived<A>;
};
template <class A>
using activation_t = typename activation_of<A>::type;

}  // namespace detail

}  // namespace staticgrad
