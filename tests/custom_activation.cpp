// Dual numbers and custom activations: each Dual function's derivative against its formula,
// derived derivatives against the built-in activations' hand-written ones, and names.
// (Finite differences and the tape check networks of custom activations in gradcheck.cpp
// and tape.cpp.)
#include <cmath>
#include <numbers>
#include <string>

#include <doctest/doctest.h>

#include "support/networks.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;
using D = sg::Dual<double>;

namespace {
// Written as a user would: generic code, std functions found for double, Dual's by ADL.
struct GeluErf {
  template <class X>
  X operator()(X x) const {
    using std::erf;
    return x * (1 + erf(x / std::numbers::sqrt2)) / 2;
  }
};
struct Named {
  static constexpr std::string_view name = "Parabola";
  using default_init = sg::init::HeNormal;
  template <class X>
  X operator()(X x) const {
    return x * x;
  }
};
namespace inner {
template <int K>
struct Scaled {
  template <class X>
  X operator()(X x) const {
    using std::tanh;
    return tanh(x * K);
  }
};
}  // namespace inner

double derivative_of(D (*f)(D), double x) { return f(D{x, 1.0}).derivative; }
}  // namespace

TEST_CASE("Dual: every function's derivative is its formula") {
  for (const double x : {0.3, 1.1, 2.5}) {
    CAPTURE(x);
    CHECK(derivative_of([](D v) { return exp(v); }, x) == doctest::Approx(std::exp(x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return expm1(v); }, x) == doctest::Approx(std::exp(x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return log(v); }, x) == doctest::Approx(1 / x).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return log1p(v); }, x) == doctest::Approx(1 / (1 + x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return sqrt(v); }, x) == doctest::Approx(0.5 / std::sqrt(x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return pow(v, 3); }, x) == doctest::Approx(3 * x * x).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return sin(v); }, x) == doctest::Approx(std::cos(x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return cos(v); }, x) == doctest::Approx(-std::sin(x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return tanh(v); }, x) ==
          doctest::Approx(1 / (std::cosh(x) * std::cosh(x))).epsilon(1e-14));
    CHECK(derivative_of([](D v) { return sinh(v); }, x) == doctest::Approx(std::cosh(x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return cosh(v); }, x) == doctest::Approx(std::sinh(x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return atan(v); }, x) == doctest::Approx(1 / (1 + x * x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return erf(v); }, x) ==
          doctest::Approx(2 / std::sqrt(std::numbers::pi) * std::exp(-x * x)).epsilon(1e-15));
    CHECK(derivative_of([](D v) { return -abs(-v); }, x) == -1.0);
    // Products, quotients and constants: d/dx (2 − x)·x / (1 + x) = (2 − 2x − x²) / (1 + x)².
    CHECK(derivative_of([](D v) { return (2 - v) * v / (1 + v); }, x) ==
          doctest::Approx((2 - 2 * x - x * x) / ((1 + x) * (1 + x))).epsilon(1e-14));
  }
  // Branches follow the value.
  const auto leaky = [](D v) { return v > 0 ? v : 0.01 * v; };
  CHECK(leaky(D{2.0, 1.0}).derivative == 1.0);
  CHECK(leaky(D{-2.0, 1.0}).derivative == 0.01);
}

TEST_CASE("Derived: derivatives from dual numbers equal the built-in activations' formulas") {
  for (const double z : {-3.0, -0.7, 0.0, 0.4, 2.2}) {
    CAPTURE(z);
    CHECK(sg::Derived<sgtest::Swish>::value(z) == doctest::Approx(sg::SiLU::value(z)).epsilon(1e-15));
    CHECK(sg::Derived<sgtest::Swish>::derivative(z) == doctest::Approx(sg::SiLU::derivative(z)).epsilon(1e-14));
    CHECK(sg::Derived<GeluErf>::value(z) == doctest::Approx(sg::GELU::value(z)).epsilon(1e-15));
    CHECK(sg::Derived<GeluErf>::derivative(z) == doctest::Approx(sg::GELU::derivative(z)).epsilon(1e-14));
    // float runs the same code in float.
    CHECK(sg::Derived<sgtest::Swish>::derivative(static_cast<float>(z)) ==
          doctest::Approx(sg::SiLU::derivative(z)).epsilon(1e-6));
  }
}

TEST_CASE("Derived: a network of custom activations equals the one of built-in activations") {
  using Custom = sg::Sequential<sg::Dense<3, 5, sgtest::Swish>, sg::Dense<5, 2, GeluErf>>;
  using Builtin = sg::Sequential<sg::Dense<3, 5, sg::SiLU>, sg::Dense<5, 2, sg::GELU>>;
  sg::init::Rng rng{8};
  sg::Model<Custom, double> custom{};
  sgtest::randomize(custom, rng);
  sg::Model<Builtin, double> builtin{};
  std::copy(custom.flat().begin(), custom.flat().end(), builtin.flat().begin());
  const auto x = sgtest::random_vector<double, 3>(rng);
  const auto target = sgtest::random_vector<double, 2>(rng);
  const auto [loss, grads] = sg::value_and_grad(custom, sg::MSE{}, x, target);
  const auto [builtin_loss, builtin_grads] = sg::value_and_grad(builtin, sg::MSE{}, x, target);
  CHECK(loss == doctest::Approx(builtin_loss).epsilon(1e-14));
  for (std::size_t i = 0; i < sg::param_count<Custom>; ++i) {
    CAPTURE(i);
    CHECK(grads.flat()[i] == doctest::Approx(builtin_grads.flat()[i]).epsilon(1e-12));
  }
}

TEST_CASE("Derived: names and default initialization") {
  CHECK(sg::detail::spec_name<sg::Dense<2, 3, sgtest::Swish>>() == "Dense<2,3,Swish>");
  CHECK(sg::detail::spec_name<sg::Activation<Named, 3>>() == "Activation<Parabola,3>");
  CHECK(sg::detail::spec_name<sg::Dense<2, 3, inner::Scaled<2>>>() == "Dense<2,3,Scaled<2>>");
  CHECK(std::is_same_v<sg::Derived<Named>::default_init, sg::init::HeNormal>);
  CHECK(std::is_same_v<sg::Derived<sgtest::Swish>::default_init, sg::init::XavierUniform>);
  // The same type as written: Dense<…, Swish> is Dense<…, Derived<Swish>> inside.
  CHECK(std::is_same_v<sg::Dense<2, 3, sgtest::Swish>::activation, sg::Derived<sgtest::Swish>>);
}
