// Finite-difference checks (double, central differences) of every layer, activation and
// loss, on many networks with random parameters, inputs and targets.
#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include <doctest/doctest.h>

#include "support/networks.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;
using sgtest::random_vector;

TEST_CASE_TEMPLATE_DEFINE("gradcheck: generated gradients match central differences", C, gradcheck_cases) {
  using Net = typename C::Net;
  const typename C::Loss loss{};
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    CAPTURE(seed);
    sg::init::Rng rng(seed);
    sg::Model<Net, double> model{};
    sgtest::randomize(model, rng);
    const auto x = random_vector<double, Net::in_size>(rng);
    const auto target = C::target(rng);

    // The loss against an independent evaluation, then the gradient against central
    // differences of that loss (staticgrad::gradcheck: step 1e-5, relative error floor 1e-3).
    CHECK(sg::value_and_grad(model, loss, x, target).loss ==
          doctest::Approx(sgtest::loss_value(model, loss, x, target)).epsilon(1e-14));
    CHECK(sg::gradcheck(model, loss, x, target).overall.relative < 1e-6);
  }
}
TEST_CASE_TEMPLATE_APPLY(gradcheck_cases, sgtest::AllCases);

TEST_CASE("gradcheck: a batch gives the mean loss and the mean gradient") {
  using Net = sgtest::ResidualClassifier;
  sg::init::Rng rng(7);
  sg::Model<Net, double> model{};
  sgtest::randomize(model, rng);
  std::vector<std::array<double, 3>> xs;
  std::vector<std::size_t> labels;
  for (int s = 0; s < 5; ++s) {
    xs.push_back(random_vector<double, 3>(rng));
    labels.push_back(static_cast<std::size_t>(s % 4));
  }
  const sg::SoftmaxCrossEntropy loss{};
  const auto mean_loss = [&](const sg::Model<Net, double>& m) {
    double sum = 0;
    for (std::size_t s = 0; s < xs.size(); ++s) sum += sgtest::loss_value(m, loss, xs[s], labels[s]);
    return sum / static_cast<double>(xs.size());
  };
  const auto [value, grads] = sg::value_and_grad(model, loss, xs, labels);
  CHECK(value == doctest::Approx(mean_loss(model)).epsilon(1e-14));
  CHECK(sg::gradcheck(model, loss, xs, labels).overall.relative < 1e-6);

  SUBCASE("the batch is the mean of the single-sample gradients") {
    std::vector<double> sum(Net::param_count, 0.0);
    for (std::size_t s = 0; s < xs.size(); ++s) {
      const auto single = sg::value_and_grad(model, loss, xs[s], labels[s]);
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += single.grads.flat()[i];
    }
    for (std::size_t i = 0; i < sum.size(); ++i)
      CHECK(grads.flat()[i] == doctest::Approx(sum[i] / 5).epsilon(1e-13));
  }
}
