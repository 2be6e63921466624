// BatchNorm: training on a batch against PyTorch (tests/data/batch_norm.txt: the gradient,
// three SGD steps with the running statistics, evaluation after), the gradient by central
// differences inside composites, the same bits on any number of threads, the two modes,
// and a batch of one.
#include <array>
#include <cmath>
#include <cstddef>
#include <map>
#include <memory>
#include <ratio>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

#include "support/golden_file.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {

// Both sides compute in double, in different orders. A bias just before a BatchNorm has a
// gradient of 0 (the mean takes it away), which both compute as ±1e-16: compared absolutely.
constexpr double tolerance = 1e-9;

template <class Net, class Loss>
void check_golden(const sgtest::GoldenCase& golden) {
  const auto model = sgtest::golden_model<Net>(golden);
  sg::SGD<Net, double> sgd({.lr = 0.1});
  REQUIRE(golden.steps.size() == 3);
  for (std::size_t k = 0; k < golden.steps.size(); ++k) {
    CAPTURE(k);
    const auto result = sgtest::golden_value_and_grad<Loss>(*model, golden);
    if (k == 0) {
      CHECK(sgtest::relative_error(result.loss, golden.loss, 1e-12) < tolerance);
      for (std::size_t i = 0; i < sg::param_count<Net>; ++i)
        CHECK(sgtest::relative_error(result.grads.flat()[i], golden.grads[i], 1e-6) < tolerance);
    }
    sgd.step(*model, result.grads);
    for (std::size_t i = 0; i < sg::param_count<Net>; ++i)  // the running statistics among them
      CHECK(sgtest::relative_error(model->flat()[i], golden.steps[k][i], 1e-12) < tolerance);
  }
  const auto inputs = sgtest::to_arrays<Net::in_size>(golden.inputs);
  for (std::size_t s = 0; s < inputs.size(); ++s) {
    const auto y = (*model)(inputs[s]);
    for (std::size_t o = 0; o < Net::out_size; ++o)
      CHECK(sgtest::relative_error(y[o], golden.eval_outputs[s][o], 1e-12) < tolerance);
  }
}

using Check = void (*)(const sgtest::GoldenCase&);
const std::map<std::string, Check> networks = {
    {"mlp", check_golden<sg::Sequential<sg::Dense<3, 5, sg::Tanh>, sg::BatchNorm<5>, sg::Dense<5, 4, sg::ReLU>,
                                        sg::BatchNorm<4, std::ratio<1, 100>, std::ratio<1, 5>>, sg::Dense<4, 2>>,
                         sg::MSE>},
    {"residual_classifier",
     check_golden<sg::Sequential<sg::Dense<4, 4>, sg::Residual<sg::BatchNorm<4>, sg::Dense<4, 4, sg::Tanh>>,
                                 sg::Dense<4, 3>>,
                  sg::SoftmaxCrossEntropy>},
    {"first_layer", check_golden<sg::Sequential<sg::BatchNorm<3>, sg::Dense<3, 2, sg::Sigmoid>>, sg::MSE>},
};

template <std::size_t In, std::size_t Out, class T = double>
struct Batch {
  std::vector<std::array<T, In>> inputs;
  std::vector<std::array<T, Out>> targets;
};

template <std::size_t In, std::size_t Out, class T = double>
Batch<In, Out, T> random_batch(std::size_t count, std::uint64_t seed) {
  sg::init::Rng rng(seed);
  Batch<In, Out, T> batch;
  for (std::size_t s = 0; s < count; ++s) {
    auto x = sgtest::random_vector<T, In>(rng, 2.0);
    x[0] += T{3};  // a feature whose mean is far from 0
    batch.inputs.push_back(x);
    batch.targets.push_back(sgtest::random_vector<T, Out>(rng));
  }
  return batch;
}

// value_and_grad's batch-coupled gradient against central differences of the batch's
// training loss. Relative, but absolute below 1e-4: a bias before a BatchNorm has a
// gradient of 0, which both sides compute as rounding noise.
template <class Net>
bool gradient_checks(const sg::Model<Net, double>& model, const Batch<Net::in_size, Net::out_size>& batch,
                     sg::Training key = {}) {
  const auto report =
      sg::gradcheck(model, sg::MSE{}, batch.inputs, batch.targets, {.tolerance = 1e-5, .floor = 1e-4, .training = key});
  CAPTURE(report.overall.relative);
  return report.passed;
}

}  // namespace

TEST_CASE("batch norm: training, running statistics and evaluation match PyTorch") {
  const auto cases = sgtest::read_data_file("batch_norm.txt");
  CHECK(cases.size() == networks.size());
  for (const auto& entry : cases) {
    const std::string& name = entry.first;
    CAPTURE(name);
    const auto network = networks.find(name);
    REQUIRE_MESSAGE(network != networks.end(), "no network for case " << name);
    network->second(entry.second);
  }
}

TEST_CASE("batch norm: the batch-coupled gradient is the derivative of the training loss, in every composite") {
  SUBCASE("two in a chain, the second with its own ε and momentum") {
    using Net = sg::Sequential<sg::Dense<3, 4, sg::Tanh>, sg::BatchNorm<4>, sg::Dense<4, 3>,
                               sg::BatchNorm<3, std::ratio<1, 100>, std::ratio<1, 5>>, sg::Dense<3, 2>>;
    CHECK(gradient_checks(sg::Model<Net, double>{3}, random_batch<3, 2>(9, 1)));
  }
  SUBCASE("in branches, a residual and a checkpoint") {
    using Net = sg::Sequential<sg::Dense<3, 4>,
                               sg::Concat<sg::BatchNorm<4>, sg::Sequential<sg::Dense<4, 2, sg::SiLU>, sg::BatchNorm<2>>>,
                               sg::Residual<sg::Checkpoint<sg::Sequential<sg::BatchNorm<6>, sg::Dense<6, 6, sg::Tanh>>>>,
                               sg::Dense<6, 2>>;
    CHECK(gradient_checks(sg::Model<Net, double>{4}, random_batch<3, 2>(7, 2)));
  }
  SUBCASE("with Dropout: every pass draws the same masks") {
    using Net = sg::Sequential<sg::Dense<3, 6, sg::ReLU>, sg::Dropout<6, std::ratio<1, 4>>, sg::BatchNorm<6>,
                               sg::Dense<6, 2>>;
    CHECK(gradient_checks(sg::Model<Net, double>{5}, random_batch<3, 2>(8, 3), sg::Training{7, 1}));
  }
}

TEST_CASE_TEMPLATE("batch norm: a batch of several shards gives the same bits on any number of threads", T, float,
                   double) {
  using Net = sg::Sequential<sg::Dense<5, 16, sg::Tanh>, sg::BatchNorm<16>, sg::Dense<16, 8, sg::ReLU>,
                             sg::BatchNorm<8>, sg::Dense<8, 3>>;
  constexpr std::size_t count = 3 * sg::detail::shard_samples<Net, T> + 17;
  const auto batch = random_batch<5, 3, T>(count, 4);
  const auto model = std::make_unique<sg::Model<Net, T>>(6);
  const auto train = [&](int threads) {
    auto result = std::make_unique<sg::LossAndGradients<Net, T>>();
    auto trained = std::make_unique<sg::Model<Net, T>>(*model);
    sg::SGD<Net, T> sgd({.lr = 0.05});
    sgtest::on_threads(threads, [&] {
      *result = sg::value_and_grad(*trained, sg::MSE{}, batch.inputs, batch.targets);
      sgd.step(*trained, result->grads);
    });
    return std::pair(result->loss, sgtest::fingerprint(*trained));
  };
  const auto one = train(1);
  CHECK(train(2) == one);
  CHECK(train(3) == one);
}

TEST_CASE("batch norm: training uses the batch's statistics, everything else the running ones") {
  using Net = sg::Sequential<sg::Dense<3, 4, sg::Tanh>, sg::BatchNorm<4>, sg::Dense<4, 2>>;
  auto model = std::make_unique<sg::Model<Net, double>>(8);
  const auto batch = random_batch<3, 2>(10, 5);
  const double training = sg::value_and_grad(*model, sg::MSE{}, batch.inputs, batch.targets).loss;
  const double evaluation = sg::evaluate(*model, sg::MSE{}, batch.inputs, batch.targets).loss;
  CHECK(std::abs(training - evaluation) > 1e-3);  // the classic mistake would make them equal

  // The batch statistics that training normalizes by, from the Dense layer's outputs.
  std::array<double, 4> mean{}, squares{};
  sg::Model<sg::Dense<3, 4, sg::Tanh>, double> first;
  std::copy_n(model->flat().begin(), first.flat().size(), first.flat().begin());
  for (const auto& x : batch.inputs) {
    const auto h = first(x);
    for (std::size_t i = 0; i < 4; ++i) mean[i] += h[i] / 10;
  }
  for (const auto& x : batch.inputs) {
    const auto h = first(x);
    for (std::size_t i = 0; i < 4; ++i) squares[i] += (h[i] - mean[i]) * (h[i] - mean[i]);
  }

  // With a learning rate of 0 only the running statistics move: to the batch's mean and
  // unbiased variance, at momentum 0.1 a step.
  sg::SGD<Net, double> frozen_weights({.lr = 0.0});
  auto grads = std::make_unique<sg::Gradients<Net, double>>();
  for (int step = 0; step < 300; ++step) {
    sg::value_and_grad(*model, sg::MSE{}, batch.inputs, batch.targets, *grads);
    frozen_weights.step(*model, *grads);
  }
  const auto norm = model->layer<1>();
  CHECK(norm.batches_tracked() == 300.0);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(norm.running_mean(i) == doctest::Approx(mean[i]).epsilon(1e-9));
    CHECK(norm.running_var(i) == doctest::Approx(squares[i] / 9).epsilon(1e-9));
  }
  // Evaluation now normalizes by the unbiased variance, training by the biased one: close,
  // not equal.
  const double trained = sg::value_and_grad(*model, sg::MSE{}, batch.inputs, batch.targets).loss;
  const double evaluated = sg::evaluate(*model, sg::MSE{}, batch.inputs, batch.targets).loss;
  CHECK(evaluated == doctest::Approx(trained).epsilon(0.2));
  CHECK(evaluated != trained);
}

TEST_CASE("batch norm: gradients that no batch wrote leave the running statistics alone") {
  using Net = sg::Sequential<sg::BatchNorm<2>, sg::Dense<2, 1>>;
  sg::Model<Net, float> model{1};
  const auto before = model;
  sg::Adam<Net, float> adam({.lr = 0.1});
  adam.step(model, sg::Gradients<Net, float>{});
  sg::update_running_statistics(model, sg::Gradients<Net, float>{});
  for (std::size_t i = 0; i < 5; ++i) CHECK(model.flat()[i] == before.flat()[i]);  // running mean, var, count
}

TEST_CASE("batch norm: a batch of one sample is refused and changes nothing") {
  using Net = sg::Sequential<sg::Dense<2, 3>, sg::BatchNorm<3>, sg::Dense<3, 1>>;
  sg::Model<Net, float> model{2};
  const auto before = sgtest::fingerprint(model);
  sg::SGD<Net, float> sgd({.lr = 0.1});
  sg::Gradients<Net, float> grads;
  const std::vector<std::array<float, 2>> one{{1.0f, 2.0f}};
  const std::vector<std::array<float, 1>> target{{0.5f}};
  CHECK_THROWS_WITH_AS(sg::value_and_grad(model, sg::MSE{}, one, target),
                       doctest::Contains("BatchNorm trains on batches of at least 2 samples"), std::invalid_argument);
  CHECK_THROWS_AS(sg::train_step(model, sgd, sg::MSE{}, one, target, grads), std::invalid_argument);
  CHECK(sgtest::fingerprint(model) == before);
  // One sample through the model is evaluation: the running statistics.
  CHECK(std::isfinite(model(one[0])[0]));
}

TEST_CASE("batch norm: fold puts the running statistics into the layer before, with the same outputs") {
  using Net = sg::Sequential<sg::Dense<3, 4>, sg::BatchNorm<4>, sg::Activation<sg::ReLU, 4>,
                             sg::Residual<sg::Dense<4, 4>, sg::BatchNorm<4, std::ratio<1, 100>>>,
                             sg::Concat<sg::BatchNorm<4>, sg::Dense<4, 2, sg::Tanh>>, sg::Dense<6, 2>>;
  // A BatchNorm after a layer with an activation, or beside others, stays.
  using Expected = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Residual<sg::Dense<4, 4>>,
                                  sg::Concat<sg::BatchNorm<4>, sg::Dense<4, 2, sg::Tanh>>, sg::Dense<6, 2>>;
  static_assert(std::is_same_v<sg::folded_t<Net>, Expected>);

  // Trained a few steps, so that the running statistics and γ, β are not their initial ones.
  auto model = std::make_unique<sg::Model<Net, double>>(3);
  const auto batch = random_batch<3, 2>(12, 9);
  sg::Adam<Net, double> adam({.lr = 0.05});
  auto grads = std::make_unique<sg::Gradients<Net, double>>();
  for (int step = 0; step < 5; ++step) sg::train_step(*model, adam, sg::MSE{}, batch.inputs, batch.targets, *grads);
  CHECK(model->layer<1>().running_var(0) != 1.0);

  const auto plain = sg::fold(*model);
  for (const auto& x : batch.inputs) {
    const auto expected = (*model)(x);
    const auto y = plain(x);
    for (std::size_t o = 0; o < 2; ++o) CHECK(y[o] == doctest::Approx(expected[o]).epsilon(1e-12));
  }
}

TEST_CASE("batch norm: fold into a causal convolution keeps the streamed outputs") {
  using Net = sg::Sequential<sg::Conv1D<2, 4, 3, 2>, sg::BatchNorm<4>, sg::Activation<sg::Tanh, 4>, sg::Dense<4, 1>>;
  static_assert(std::is_same_v<sg::folded_t<Net>, sg::Sequential<sg::Conv1D<2, 4, 3, 2, sg::Tanh>, sg::Dense<4, 1>>>);
  sg::Model<Net, float> model{4};
  auto norm = model.layer<1>();
  for (std::size_t i = 0; i < 4; ++i) {
    norm.running_mean(i) = 0.1f * static_cast<float>(i) - 0.2f;
    norm.running_var(i) = 0.5f + static_cast<float>(i);
    norm.gain(i) = 1.5f - 0.25f * static_cast<float>(i);
    norm.bias(i) = 0.05f * static_cast<float>(i);
  }
  const auto plain = sg::fold(model);
  sg::State<Net, float> state;
  sg::State<sg::folded_t<Net>, float> plain_state;
  for (int t = 0; t < 20; ++t) {
    const std::array<float, 2> x{std::sin(0.3f * static_cast<float>(t)), std::cos(0.7f * static_cast<float>(t))};
    CHECK(plain(x, plain_state)[0] == doctest::Approx(model(x, state)[0]).epsilon(1e-5));
  }
}
