// Dropout: identity in evaluation; in training a mask keyed by Training{seed, step} that
// zeroes about P of the values and scales the rest by 1/(1 − P), the same in both engines,
// reused by the backward pass, reproducible.
#include <array>
#include <cmath>
#include <cstddef>
#include <ratio>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {
using Net = sg::Sequential<sg::Dense<3, 8, sg::Tanh>, sg::Dropout<8, std::ratio<1, 4>>, sg::Dense<8, 2>>;
using Plain = sg::Sequential<sg::Dense<3, 8, sg::Tanh>, sg::Dense<8, 2>>;
const std::array<double, 3> x{0.1, -0.4, 0.3};
const std::array<double, 2> y{1.0, 0.0};

template <class Model>
auto gradients(const Model& model, sg::Training training) {
  return sg::value_and_grad(model, sg::MSE{}, x, y, training);
}
}  // namespace

static_assert(sg::detail::is_stochastic<Net> && !sg::detail::is_stochastic<Plain>);
static_assert(sg::detail::is_stochastic<sg::Residual<sg::Dropout<4>>>);
static_assert(sg::param_count<Net> == sg::param_count<Plain>);

TEST_CASE("Dropout: evaluation is the identity") {
  const sg::Model<Net, double> model{3};
  sg::Model<Plain, double> plain{};
  std::copy(model.flat().begin(), model.flat().end(), plain.flat().begin());
  CHECK(model(x) == plain(x));
}

TEST_CASE("Dropout: about P of the values are zeroed, the rest scaled by 1/(1 - P)") {
  using Wide = sg::Dropout<1000, std::ratio<1, 4>>;
  std::array<double, 1000> mask{};
  std::size_t zeros = 0, total = 0;
  for (std::uint64_t step = 0; step < 10; ++step) {
    const sg::detail::training_scope scope(sg::Training{7, step});
    Wide::draw_mask<double>(mask);
    for (double m : mask) {
      CHECK((m == 0.0 || m == 4.0 / 3.0));
      zeros += m == 0.0;
      ++total;
    }
  }
  const double fraction = static_cast<double>(zeros) / static_cast<double>(total);
  CHECK(fraction == doctest::Approx(0.25).epsilon(0.06));  // 10,000 draws: σ ≈ 0.0043
}

TEST_CASE("Dropout: the same key gives the same masks, another step or seed, others") {
  const sg::Model<Net, double> model{3};
  const auto first = gradients(model, {1, 5});
  const auto again = gradients(model, {1, 5});
  CHECK(first.loss == again.loss);
  CHECK(sgtest::fingerprint(first.grads) == sgtest::fingerprint(again.grads));
  CHECK(gradients(model, {1, 6}).loss != first.loss);
  CHECK(gradients(model, {2, 5}).loss != first.loss);
}

TEST_CASE("Dropout: the backward pass uses the forward pass's mask, both engines draw the same") {
  sg::Model<Net, double> model{};
  sg::init::Rng rng{4};
  sgtest::randomize(model, rng);
  for (std::uint64_t step = 0; step < 5; ++step) {
    CAPTURE(step);
    const sg::Training training{9, step};
    CHECK(sg::gradcheck(model, sg::MSE{}, x, y, {.training = training}).overall.relative < 1e-6);
    const auto generated = gradients(model, training);
    const auto taped = sg::tape::value_and_grad(model, sg::MSE{}, x, y, training);
    CHECK(taped.loss == doctest::Approx(generated.loss).epsilon(1e-14));
    for (std::size_t i = 0; i < sg::param_count<Net>; ++i)
      CHECK(taped.grads.flat()[i] == doctest::Approx(generated.grads.flat()[i]).epsilon(1e-12));
  }
  // A batch: each sample draws its own mask, in the same order in both engines.
  const std::vector<std::array<double, 3>> xs{x, x, x};
  const std::vector<std::array<double, 2>> ys{y, y, y};
  const auto batch = sg::value_and_grad(model, sg::MSE{}, xs, ys, sg::Training{3, 1});
  CHECK(batch.loss != doctest::Approx(gradients(model, {3, 1}).loss).epsilon(1e-12));
  CHECK(sg::tape::value_and_grad(model, sg::MSE{}, xs, ys, sg::Training{3, 1}).loss ==
        doctest::Approx(batch.loss).epsilon(1e-14));
  // The tape cannot refuse at compile time: it throws.
  CHECK_THROWS_AS(sg::tape::value_and_grad(model, sg::MSE{}, x, y), std::invalid_argument);
}

TEST_CASE("Dropout: fit trains with it, reproducibly") {
  std::vector<std::array<double, 3>> xs;
  std::vector<std::array<double, 2>> ys;
  sg::init::Rng rng{2};
  for (int i = 0; i < 64; ++i) {
    xs.push_back(sgtest::random_vector<double, 3>(rng));
    ys.push_back({std::sin(xs.back()[0]), xs.back()[1] * xs.back()[2]});
  }
  const auto run = [&] {
    sg::Model<Net, double> model{5};
    sg::Adam<Net, double> adam{{.lr = 1e-2}};
    const auto losses = sg::fit(model, adam, sg::MSE{}, xs, ys, {.epochs = 30, .batch_size = 16, .seed = 4});
    return std::pair(losses, sgtest::fingerprint(model));
  };
  const auto [losses, fingerprint] = run();
  CHECK(losses.back() < losses.front() / 2);
  CHECK(run().second == fingerprint);
}
