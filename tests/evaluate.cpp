// evaluate: the mean loss by inference alone (value_and_grad's to rounding, the same bits
// for any number of threads), a classifier's accuracy, and the arguments it refuses.
#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <staticgrad/staticgrad.hpp>

#include "../examples/count_allocations.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {

// Large enough that 500 samples make several shards (detail::shard_samples).
using Net = sg::Sequential<sg::Dense<8, 32, sg::Tanh>, sg::Dense<32, 4>>;
constexpr std::size_t count = 500;
static_assert(count > 2 * sg::detail::shard_samples<Net, double>);

std::vector<std::array<double, 8>> random_inputs(sg::init::Rng& rng) {
  std::vector<std::array<double, 8>> xs(count);
  for (auto& x : xs) x = sgtest::random_vector<double, 8>(rng);
  return xs;
}

std::size_t largest(const std::array<double, 4>& y) {
  return static_cast<std::size_t>(std::max_element(y.begin(), y.end()) - y.begin());
}

}  // namespace

TEST_CASE("evaluate: the mean loss is value_and_grad's, the same bits on any number of threads") {
  sg::init::Rng rng(4);
  const sg::Model<Net, double> model{2};
  const auto xs = random_inputs(rng);
  std::vector<std::array<double, 4>> ys(count);
  for (auto& y : ys) y = sgtest::random_vector<double, 4>(rng);
  const auto evaluation = sg::evaluate(model, sg::MSE{}, xs, ys);
  CHECK(evaluation.samples == count);
  CHECK(!evaluation.accuracy);
  CHECK(sgtest::relative_error(evaluation.loss, sg::value_and_grad(model, sg::MSE{}, xs, ys).loss, 1e-12) < 1e-12);
#ifdef _OPENMP
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const double one_thread = sg::evaluate(model, sg::MSE{}, xs, ys).loss;
  omp_set_num_threads(2);
  const double two_threads = sg::evaluate(model, sg::MSE{}, xs, ys).loss;
  omp_set_num_threads(threads);
  CHECK(one_thread == evaluation.loss);
  CHECK(two_threads == evaluation.loss);
#endif
  const std::size_t before = allocations;
  const double again = sg::evaluate(model, sg::MSE{}, xs, ys).loss;
  CHECK(allocations == before);
  CHECK(again == evaluation.loss);
}

TEST_CASE("evaluate: a classifier's accuracy, for class indices and probability targets") {
  sg::init::Rng rng(5);
  const sg::Model<Net, double> model{3};
  const auto xs = random_inputs(rng);
  std::vector<std::size_t> labels(count);
  std::vector<std::array<double, 4>> one_hot(count);
  std::size_t right = 0;
  for (std::size_t s = 0; s < count; ++s) {
    labels[s] = rng.index(4);
    one_hot[s][labels[s]] = 1;
    right += static_cast<std::size_t>(largest(model(xs[s])) == labels[s]);
  }
  CHECK(right > 0);
  CHECK(right < count);
  const auto by_index = sg::evaluate(model, sg::SoftmaxCrossEntropy{}, xs, labels);
  CHECK(by_index.accuracy == static_cast<double>(right) / count);
  CHECK(sgtest::relative_error(by_index.loss, sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, xs, labels).loss,
                               1e-12) < 1e-12);
  const auto by_probabilities = sg::evaluate(model, sg::SoftmaxCrossEntropy{}, xs, one_hot);
  CHECK(by_probabilities.accuracy == by_index.accuracy);
  CHECK(by_probabilities.loss == doctest::Approx(by_index.loss).epsilon(1e-12));

  // One logit against a 0/1 target: right when it is on the target's side of 0.
  using Binary = sg::Sequential<sg::Dense<8, 1>>;
  const sg::Model<Binary, double> binary{4};
  std::vector<double> targets(count);
  std::size_t binary_right = 0;
  for (std::size_t s = 0; s < count; ++s) {
    targets[s] = static_cast<double>(rng.index(2));
    binary_right += static_cast<std::size_t>((binary(xs[s])[0] > 0) == (targets[s] > 0.5));
  }
  CHECK(sg::evaluate(binary, sg::BCEWithLogits{}, xs, targets).accuracy == static_cast<double>(binary_right) / count);
}

TEST_CASE("evaluate: an empty data set, a count that differs, a class index out of range are refused") {
  const sg::Model<Net, double> model{2};
  const std::vector<std::array<double, 8>> none, three(3);
  const std::vector<std::size_t> two_labels{0, 1}, bad_label{0, 1, 4};
  CHECK_THROWS_AS(sg::evaluate(model, sg::SoftmaxCrossEntropy{}, none, std::vector<std::size_t>{}),
                  std::invalid_argument);
  CHECK_THROWS_AS(sg::evaluate(model, sg::SoftmaxCrossEntropy{}, three, two_labels), std::invalid_argument);
  CHECK_THROWS_AS(sg::evaluate(model, sg::SoftmaxCrossEntropy{}, three, bad_label), std::out_of_range);
}
