// The tape written by hand as micrograd and PyTorch users write it: a default scalar type,
// constants on either side of + − · /, negation, division, pow, exp, log, sqrt, the named
// activations, variables whose gradient backward() computes (inputs too), loss.backward();
// checked against the derivatives worked out by hand.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/tape.hpp>

namespace tape = staticgrad::tape;

TEST_CASE("tape by hand: every operation's gradient is the derivative worked out by hand") {
  tape::Tape t;  // double, as PyTorch's default would be float: our default is double
  static_assert(std::is_same_v<decltype(t), tape::Tape<double>>);
  const double a0 = 2, b0 = -3;
  auto a = t.variable(a0), b = t.variable(b0);
  // f = e^(ab)/(a + 1) + ½b² − (3 − √a) + log(a)/4 − (−b)·a
  auto f = tape::exp(a * b) / (a + 1.0) + 0.5 * tape::pow(b, 2.0) - (3.0 - tape::sqrt(a)) + tape::log(a) / 4.0 -
           (-b) * a;
  f.backward();
  const double e = std::exp(a0 * b0);
  CHECK(f.value()[0] ==
        doctest::Approx(e / (a0 + 1) + 0.5 * b0 * b0 - (3 - std::sqrt(a0)) + std::log(a0) / 4 + b0 * a0).epsilon(1e-14));
  const double df_da = (b0 * e * (a0 + 1) - e) / ((a0 + 1) * (a0 + 1)) + 1 / (2 * std::sqrt(a0)) + 1 / (4 * a0) + b0;
  const double df_db = a0 * e / (a0 + 1) + b0 + a0;
  CHECK(a.grad()[0] == doctest::Approx(df_da).epsilon(1e-14));
  CHECK(b.grad()[0] == doctest::Approx(df_db).epsilon(1e-14));

  // A constant gets no gradient; a second backward() starts from zero again.
  auto c = t.input(5.0);
  auto g = a * c - 1.0;
  g.backward();
  CHECK(c.grad().empty());
  CHECK(a.grad()[0] == 5.0);
  CHECK(b.grad()[0] == 0.0);
}

TEST_CASE("tape by hand: an input's gradient, over vectors, in float") {
  // ∂/∂x of Σ w ⊙ x² / 2 is w ⊙ x: a saliency map's shape.
  tape::Tape<float> t;
  const std::vector<float> xs{1.5f, -2.0f, 0.25f}, ws{0.5f, 3.0f, -1.0f};
  auto x = t.variable(xs);
  auto w = t.input(ws);
  auto loss = tape::sum(w * tape::pow(x, 2.0f) / 2.0f);
  loss.backward();
  for (std::size_t i = 0; i < xs.size(); ++i) CHECK(x.grad()[i] == doctest::Approx(ws[i] * xs[i]).epsilon(1e-6));
  CHECK(w.grad().empty());
  CHECK_THROWS_WITH_AS(tape::sum(x) / x, doctest::Contains("staticgrad::tape::divide: sizes 1 and 3"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(x.backward(), doctest::Contains("the loss must be one scalar, not 3 values"),
                       std::invalid_argument);
}

TEST_CASE("tape by hand: elu, hard_tanh and mish with PyTorch's definitions and derivatives") {
  const std::vector<double> xs{-1.5, -0.5, 0.3, 2.0};
  const auto check = [&](auto op, auto value, auto derivative) {
    tape::Tape t;
    auto x = t.variable(xs);
    auto y = op(x);
    tape::sum(y).backward();
    for (std::size_t i = 0; i < xs.size(); ++i) {
      CAPTURE(xs[i]);
      CHECK(y.value()[i] == doctest::Approx(value(xs[i])).epsilon(1e-15));
      CHECK(x.grad()[i] == doctest::Approx(derivative(xs[i])).epsilon(1e-15));
    }
  };
  check([](auto x) { return tape::elu(x); }, [](double x) { return x > 0 ? x : std::exp(x) - 1; },
        [](double x) { return x > 0 ? 1.0 : std::exp(x); });
  check([](auto x) { return tape::hard_tanh(x); }, [](double x) { return std::clamp(x, -1.0, 1.0); },
        [](double x) { return x > -1 && x < 1 ? 1.0 : 0.0; });
  // mish(x) = x·tanh(softplus(x)); mish'(x) = tanh(sp) + x·σ(x)·(1 − tanh²(sp))
  check([](auto x) { return tape::mish(x); }, [](double x) { return x * std::tanh(std::log1p(std::exp(x))); },
        [](double x) {
          const double t = std::tanh(std::log1p(std::exp(x)));
          return t + x / (1 + std::exp(-x)) * (1 - t * t);
        });
}
