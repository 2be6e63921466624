// The dynamic tape against the generated engine: the same loss (1e-12 relative, double)
// and gradients (1e-10) on every kind of network with random values, single samples and
// batches; the lower-level Var API; and the tape's shape errors.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "support/networks.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;
namespace tape = staticgrad::tape;

namespace {
// The largest relative difference; entries smaller than `floor` are compared with it.
template <class Net>
double worst_difference(const sg::Gradients<Net, double>& a, const sg::Gradients<Net, double>& b,
                        double floor = 1e-30) {
  double worst = 0;
  for (std::size_t i = 0; i < sg::param_count<Net>; ++i)
    worst = std::max(worst, sgtest::relative_error(a.flat()[i], b.flat()[i], floor));
  return worst;
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("tape: the same loss and gradients as the generated engine", C, tape_cases) {
  using Net = typename C::Net;
  const typename C::Loss loss{};
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {  // 20 random networks of this kind
    CAPTURE(seed);
    sg::init::Rng rng(seed);
    sg::Model<Net, double> model{};
    sgtest::randomize(model, rng);
    const auto x = sgtest::random_vector<double, Net::in_size>(rng);
    const auto target = C::target(rng);
    const auto generated = sg::value_and_grad(model, loss, x, target);
    const auto taped = tape::value_and_grad(model, loss, x, target);
    CHECK(sgtest::relative_error(generated.loss, taped.loss, 1e-30) < 1e-12);
    // The engines sum a layer's inputs in different orders (the generated one in several
    // partial sums), and saturated units magnify the last-bit differences: tanh' = 1 − y²
    // near y = ±1 by 1/(1 − y²) (seen: 1e-11 on the wide layers with AVX-512).
    CHECK(worst_difference<Net>(generated.grads, taped.grads) < 1e-10);
    tape::Tape<double> t;
    const auto y_tape = tape::infer(t, model, x);
    const auto y_generated = model(x);
    for (std::size_t o = 0; o < Net::out_size; ++o)
      CHECK(sgtest::relative_error(y_tape[o], y_generated[o], 1e-30) < 1e-12);
  }
  SUBCASE("a batch") {
    sg::init::Rng rng(99);
    sg::Model<Net, double> model{};
    sgtest::randomize(model, rng);
    std::vector<std::array<double, Net::in_size>> xs;
    std::vector<decltype(C::target(rng))> targets;
    for (int s = 0; s < 37; ++s) {  // blocks of samples (model.hpp's block_samples) and a rest
      xs.push_back(sgtest::random_vector<double, Net::in_size>(rng));
      targets.push_back(C::target(rng));
    }
    const auto generated = sg::value_and_grad(model, loss, xs, targets);
    sg::Gradients<Net, double> taped;
    const double taped_loss = tape::value_and_grad(model, loss, xs, targets, taped);
    CHECK(sgtest::relative_error(generated.loss, taped_loss, 1e-30) < 1e-12);
    // A batch's gradient sums samples that may cancel, and the engines sum in different
    // orders: entries below a thousandth of the largest are compared with that.
    double largest = 0;
    for (const double g : taped.flat()) largest = std::max(largest, std::abs(g));
    CHECK(worst_difference<Net>(generated.grads, taped, largest * 1e-3) < 1e-12);
  }
}
TEST_CASE_TEMPLATE_APPLY(tape_cases, sgtest::AllCases);

TEST_CASE("tape: a forward pass written by hand with Var gets the generated gradient") {
  using Net = sg::Sequential<sg::Dense<3, 4, sg::Tanh>, sg::Residual<sg::Dense<4, 4, sg::SiLU>>, sg::Dense<4, 2>>;
  sg::Model<Net, double> model{5};
  const std::array<double, 3> x{0.5, -1.0, 2.0};
  const std::array<double, 2> y{0.25, -0.75};
  const auto expected = sg::value_and_grad(model, sg::MSE{}, x, y);

  // The same network, as a micrograd or PyTorch user writes it.
  sg::Gradients<Net, double> grads;
  const std::span<const double> p = model.flat();
  const std::span<double> g = grads.flat();
  tape::Tape<double> t;
  const auto w1 = t.parameter(p.subspan(0, 12), g.subspan(0, 12), 3, 4);
  const auto b1 = t.parameter(p.subspan(12, 4), g.subspan(12, 4), 4);
  const auto w2 = t.parameter(p.subspan(16, 16), g.subspan(16, 16), 4, 4);
  const auto b2 = t.parameter(p.subspan(32, 4), g.subspan(32, 4), 4);
  const auto w3 = t.parameter(p.subspan(36, 8), g.subspan(36, 8), 4, 2);
  const auto b3 = t.parameter(p.subspan(44, 2), g.subspan(44, 2), 2);
  const auto h = tape::tanh(tape::affine(w1, b1, t.input(x)));
  const auto r = h + tape::silu(tape::affine(w2, b2, h));
  const auto loss = tape::mse(tape::affine(w3, b3, r), t.input(y));
  t.backward(loss);

  CHECK(loss.value()[0] == doctest::Approx(expected.loss).epsilon(1e-14));
  CHECK(worst_difference<Net>(expected.grads, grads) < 1e-12);
  CHECK(h.grad().size() == 4);           // intermediate values have gradients too
  CHECK(t.input(x).grad().empty());      // inputs do not
  CHECK(t.node_count() == 16);
}

TEST_CASE("tape: shape errors name the operation and both shapes") {
  tape::Tape<double> t;
  const std::array<double, 6> w{}, v3{}, v5{};
  std::array<double, 6> dw{};
  const auto weights = t.parameter(std::span<const double>(w), std::span<double>(dw), 3, 2);
  const auto x3 = t.input(std::span<const double>(v3).first(3));
  const auto x5 = t.input(std::span<const double>(v5).first(5));
  const auto b2 = t.input(std::span<const double>(v3).first(2));
  CHECK_THROWS_WITH_AS(tape::affine(weights, b2, x5),
                       "staticgrad::tape::affine: W is 3x2 ([In][Out]) but x has 5 values",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(tape::affine(weights, x3, x3),
                       "staticgrad::tape::affine: W is 3x2 ([In][Out]) but b has 3 values",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(x3 + x5, "staticgrad::tape::add: sizes 3 and 5 differ", std::invalid_argument);
  CHECK_THROWS_WITH_AS(tape::layer_norm(x3, x5, x3), "staticgrad::tape::layer_norm: sizes 3 and 5 differ",
                       std::invalid_argument);
  // A bad class index throws what the generated engine throws for it.
  CHECK_THROWS_WITH_AS(tape::softmax_cross_entropy(x3, 3),
                       "staticgrad::tape::softmax_cross_entropy: class index 3 is not below the 3 outputs",
                       std::out_of_range);
  CHECK_THROWS_WITH_AS(t.backward(x3), "staticgrad::tape::backward: the loss must be one scalar, not 3 values",
                       std::invalid_argument);
  std::array<double, 4> too_few{};
  CHECK_THROWS_WITH_AS(t.parameter(std::span<const double>(w), std::span<double>(too_few), 3, 2),
                       "staticgrad::tape::parameter: 6 values, 4 gradients, shape 3x2", std::invalid_argument);
}

TEST_CASE("tape: an operand of another tape, or from before reset(), is refused on every path") {
  const std::array<double, 2> w{0.5, -0.25}, values{1, 2};
  std::array<double, 2> dw{};
  tape::Tape<double> a, b;
  const auto p_a = a.parameter(std::span<const double>(w), std::span<double>(dw), 2);
  for (int i = 0; i < 8; ++i) a.input(values);  // a's record is longer than b's
  const auto x_a = a.input(values);
  const auto y_b = b.input(values);
  const auto another = doctest::Contains("an operand was recorded on another tape");
  // Whichever operand comes first, and whether or not one needs a gradient.
  CHECK_THROWS_WITH_AS(p_a + y_b, another, std::invalid_argument);
  CHECK_THROWS_WITH_AS(y_b + p_a, another, std::invalid_argument);
  CHECK_THROWS_WITH_AS(x_a * y_b, another, std::invalid_argument);
  CHECK_THROWS_WITH_AS(tape::concat(y_b, x_a), another, std::invalid_argument);
  CHECK_THROWS_WITH_AS(tape::layer_norm(p_a, p_a, y_b), another, std::invalid_argument);
  CHECK_THROWS_WITH_AS(tape::affine(x_a, p_a, y_b), another, std::invalid_argument);
  // Targets, and backward().
  CHECK_THROWS_WITH_AS(tape::mse(p_a, y_b), "staticgrad::tape::mse: an operand was recorded on another tape",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(tape::softmax_cross_entropy(p_a, y_b), another, std::invalid_argument);
  const auto loss_b = tape::sum(y_b);
  CHECK_THROWS_WITH_AS(a.backward(loss_b), "staticgrad::tape::backward: an operand was recorded on another tape",
                       std::invalid_argument);
  CHECK(dw == std::array<double, 2>{});

  const auto loss_a = tape::sum(p_a * x_a);
  a.reset();
  const auto stale = doctest::Contains("recorded before the tape's reset()");
  CHECK_THROWS_WITH_AS(a.backward(loss_a), stale, std::invalid_argument);
  CHECK_THROWS_WITH_AS(loss_a.value(), stale, std::invalid_argument);
  CHECK_THROWS_WITH_AS(tape::tanh(x_a), stale, std::invalid_argument);
  CHECK(dw == std::array<double, 2>{});
}

TEST_CASE("tape: an input may be copied from a value of the same tape") {
  tape::Tape<double> t;
  const std::array<double, 3> values{1, -2, 3};
  auto x = t.input(values);
  for (int i = 0; i < 20; ++i) x = t.input(x.value());  // each may grow (move) the storage it reads
  CHECK(std::vector<double>(x.value().begin(), x.value().end()) == std::vector<double>{1, -2, 3});
  // A parameter is read in place when used, so it must not live in the tape's storage.
  CHECK_THROWS_WITH_AS(t.parameter(x.value(), {}, 3),
                       "staticgrad::tape::parameter: its values and gradients must live outside the tape, which "
                       "moves its own",
                       std::invalid_argument);
}

TEST_CASE("tape: backward visits only the loss and what it depends on") {
  const std::array<double, 2> w{0.5, -0.25}, b{0.1, 0.2}, x{1, 2}, target{0.3, 0.4};
  constexpr double inf = std::numeric_limits<double>::infinity();
  const std::array<double, 2> infinities{inf, -inf};
  const auto gradient = [&](bool record_after) {
    std::array<double, 4> grads{};
    tape::Tape<double> t;
    const auto weight = t.parameter(std::span<const double>(w), std::span<double>(grads).first(2), 1, 2);
    const auto bias = t.parameter(std::span<const double>(b), std::span<double>(grads).last(2), 2);
    const auto y = tape::affine(weight, bias, t.input(std::span<const double>(x).first(1)));
    const auto loss = tape::mse(y, t.input(target));
    if (record_after) tape::sum(y * t.input(infinities));  // an infinity after the loss
    t.backward(loss);
    return grads;
  };
  const auto expected = gradient(false);
  CHECK(std::isfinite(expected[0]));
  CHECK(gradient(true) == expected);
}

TEST_CASE("tape: float networks agree too (to float precision)") {
  using Net = sgtest::IssueExample;
  sg::Model<Net, float> model{42};
  const std::array<float, 8> x{1, 2, 3, 4, 5, 6, 7, 8};
  const auto generated = sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, x, std::size_t{2});
  const auto taped = tape::value_and_grad(model, sg::SoftmaxCrossEntropy{}, x, std::size_t{2});
  CHECK(taped.loss == doctest::Approx(generated.loss).epsilon(1e-6));
  for (std::size_t i = 0; i < sg::param_count<Net>; i += 37)
    CHECK(taped.grads.flat()[i] == doctest::Approx(generated.grads.flat()[i]).epsilon(1e-4));
}
