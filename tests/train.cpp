// The training loop: it learns the seed-003 function and the two spirals, it cannot break
// symmetric initial weights, it is deterministic, and its callback can stop it.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

#include "../examples/datasets.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;

TEST_CASE("fit: [1,10,10,1] tanh learns the seed-003 function") {
  using Net = sg::Sequential<sg::Dense<1, 10, sg::Tanh>, sg::Dense<10, 10, sg::Tanh>, sg::Dense<10, 1>>;
  const auto data = datasets::seed003_data<double>();
  sg::Model<Net, double> model{1, sg::init::LeCunNormal{}};
  sg::Adam<Net, double> adam{{.lr = 0.01}};
  const auto history = sg::fit(model, adam, sg::HalfSquaredError{}, data.inputs, data.targets,
                               {.epochs = 1500, .batch_size = data.inputs.size(), .shuffle = false});
  REQUIRE(history.size() == 1500);  // full batch: one step per epoch
  // ½·MSE starts near 3.9. Working gradients reach < 0.006 on every seed tried; a wrong
  // gradient does not get below 1.
  CHECK(history.front() > 3.0);
  CHECK(history.back() < 0.05);
}

TEST_CASE("fit: two spirals, softmax cross-entropy, Adam, mini-batches: test accuracy >= 0.95") {
  using Net = sg::Sequential<sg::Dense<2, 64, sg::ReLU>, sg::Dense<64, 64, sg::ReLU>, sg::Dense<64, 2>>;
  const auto train = datasets::spirals<float>(1000, 1);
  const auto test = datasets::spirals<float>(1000, 2);
  auto model = std::make_unique<sg::Model<Net, float>>(7);
  auto adam = std::make_unique<sg::Adam<Net, float>>(sg::Adam<Net, float>::Options{.lr = 0.005});
  sg::fit(*model, *adam, sg::SoftmaxCrossEntropy{}, train.points, train.labels,
          {.epochs = 100, .batch_size = 32, .seed = 3});
  std::size_t correct = 0;
  for (std::size_t i = 0; i < test.points.size(); ++i) {
    const auto logits = (*model)(test.points[i]);
    correct += (logits[1] > logits[0] ? 1u : 0u) == test.labels[i];
  }
  CHECK(static_cast<double>(correct) / static_cast<double>(test.points.size()) >= 0.95);
}

TEST_CASE("fit: neurons that start identical stay identical (seed 000, weight initialization)") {
  // A 2→3→1 network; every weight starts equal, so the three hidden neurons compute the
  // same thing, receive the same gradient and get the same update, forever.
  using Net = sg::Sequential<sg::Dense<2, 3, sg::Tanh>, sg::Dense<3, 1>>;
  const std::vector<std::array<double, 2>> xs{{1, 2}, {-1, 0.5}, {0.3, -2}};
  const std::vector<std::array<double, 1>> ys{{1}, {-1}, {0.5}};
  const auto train = [&](sg::Model<Net, double>& model) {
    sg::SGD<Net, double> sgd{{.lr = 0.1}};
    sg::fit(model, sgd, sg::MSE{}, xs, ys, {.epochs = 200, .batch_size = 3, .shuffle = false});
  };
  SUBCASE("from one constant: the hidden layer stays one neuron copied three times") {
    sg::Model<Net, double> model{0, sg::init::Constant{0.3}};
    train(model);
    const auto hidden = model.layer<0>();
    CHECK(hidden.weight(0, 0) != 0.3);  // it did learn
    for (std::size_t o = 1; o < 3; ++o) {
      CHECK(hidden.weight(o, 0) == hidden.weight(0, 0));
      CHECK(hidden.weight(o, 1) == hidden.weight(0, 1));
      CHECK(hidden.bias(o) == hidden.bias(0));
    }
  }
  SUBCASE("from random weights: the neurons differ") {
    sg::Model<Net, double> model{5};
    train(model);
    CHECK(model.layer<0>().weight(1, 0) != model.layer<0>().weight(0, 0));
    CHECK(model.layer<0>().weight(2, 1) != model.layer<0>().weight(0, 1));
  }
}

TEST_CASE("fit: the same seed gives bit-identical parameters") {
  using Net = sg::Sequential<sg::Dense<2, 16, sg::Tanh>, sg::Dense<16, 2>>;
  const auto data = datasets::spirals<float>(200, 4);
  const auto run = [&] {
    auto model = std::make_unique<sg::Model<Net, float>>(11);
    sg::AdamW<Net, float> adamw{{.lr = 0.01}};
    sg::fit(*model, adamw, sg::SoftmaxCrossEntropy{}, data.points, data.labels,
            {.epochs = 5, .batch_size = 16, .seed = 21, .clip_norm = 1.0});
    return model;
  };
  const auto a = run(), b = run();
  CHECK(std::memcmp(a->flat().data(), b->flat().data(), sizeof(float) * sg::param_count<Net>) == 0);
}

TEST_CASE("fit: training is bit-identical with g++ and clang, at any optimization level") {
  // Without -march flags that let the compiler fuse a*b + c into one rounding (FMA), every
  // operation is rounded as written; CI builds this with g++ -O3, clang -O2 and clang -O0.
  using Net = sg::Sequential<sg::LayerNorm<2>, sg::Dense<2, 16, sg::Tanh>,
                             sg::Residual<sg::Dense<16, 16, sg::GELU>>, sg::Dense<16, 2>>;
  const auto data = datasets::spirals<float>(200, 4);
  auto model = std::make_unique<sg::Model<Net, float>>(11);
  sg::AdamW<Net, float> adamw{{.lr = 0.01}};
  sg::fit(*model, adamw, sg::SoftmaxCrossEntropy{}, data.points, data.labels,
          {.epochs = 5, .batch_size = 16, .seed = 21, .clip_norm = 1.0});
  CHECK(sgtest::fingerprint(*model) == 15693978884174240663ull);
}

TEST_CASE("fit: the callback sees every step and can stop training") {
  using Net = sg::Sequential<sg::Dense<2, 8, sg::ReLU>, sg::Dense<8, 4, sg::ReLU>, sg::Dense<4, 2>>;
  static_assert(sg::parameter_layer_count<Net> == 3);
  const auto data = datasets::spirals<double>(100, 5);
  sg::Model<Net, double> model{2};
  sg::SGD<Net, double> sgd{{.lr = 0.05}};
  std::size_t calls = 0, epoch_ends = 0;
  const auto history = sg::fit(model, sgd, sg::SoftmaxCrossEntropy{}, data.points, data.labels,
                               {.epochs = 10, .batch_size = 30},
                               [&](const sg::FitStep<Net, double>& step) {
                                 CHECK(step.step == calls);
                                 CHECK(step.grad_norms[0] > 0);
                                 ++calls;
                                 if (step.epoch_end) ++epoch_ends;
                                 return step.epoch < 2 || !step.epoch_end;  // stop after epoch 2
                               });
  // 100 samples in batches of 30: 4 steps per epoch (the last one of 10 samples).
  CHECK(calls == 12);
  CHECK(epoch_ends == 3);
  CHECK(history.size() == 12);
}

TEST_CASE("fit: bad arguments are refused with a message") {
  using Net = sg::Sequential<sg::Dense<2, 2>>;
  sg::Model<Net, double> model{};
  sg::SGD<Net, double> sgd{};
  const std::vector<std::array<double, 2>> xs(3), ys(2);
  CHECK_THROWS_WITH_AS(sg::fit(model, sgd, sg::MSE{}, xs, ys, {}), "staticgrad::fit: 3 inputs but 2 targets",
                       std::invalid_argument);
  CHECK_THROWS_AS(sg::fit(model, sgd, sg::MSE{}, xs, xs, {.batch_size = 0}), std::invalid_argument);
  for (const double clip_norm : {-1.0, std::nan(""), -std::numeric_limits<double>::infinity()}) {
    CAPTURE(clip_norm);
    CHECK_THROWS_WITH_AS(sg::fit(model, sgd, sg::MSE{}, xs, xs, {.clip_norm = clip_norm}),
                         doctest::Contains("staticgrad::fit: clip_norm must be >= 0 (0: no clipping)"),
                         std::invalid_argument);
  }
  // A bad class index anywhere in the data: refused before the first step.
  sg::Model<Net, double> classifier{1};
  const auto before = sgtest::fingerprint(classifier);
  const std::vector<std::size_t> labels{0, 1, 2};
  CHECK_THROWS_AS(sg::fit(classifier, sgd, sg::SoftmaxCrossEntropy{}, xs, labels, {.batch_size = 1, .shuffle = false}),
                  std::out_of_range);
  CHECK(sgtest::fingerprint(classifier) == before);
}

namespace {
// A network whose layers take both backward paths (wide: matrix-matrix; narrow: one sample
// at a time), with a Frozen layer and a Residual, for train_step against the unfused step.
using StepNet = sg::Sequential<sg::Dense<6, 40, sg::Tanh>, sg::Frozen<sg::Dense<40, 40, sg::ReLU>>,
                               sg::Residual<sg::Dense<40, 40, sg::GELU>>, sg::Dense<40, 5>>;
template <class Optimizer>
struct StepCase {
  static Optimizer make();
};
using SgdMomentum = sg::SGD<StepNet, float>;
using PlainAdam = sg::Adam<StepNet, float>;
using AmsgradAdamW = sg::AdamW<StepNet, float>;
template <>
SgdMomentum StepCase<SgdMomentum>::make() {
  return SgdMomentum{{.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-3}};
}
template <>
PlainAdam StepCase<PlainAdam>::make() {
  return PlainAdam{{.lr = 1e-2, .weight_decay = 1e-3}};
}
template <>
AmsgradAdamW StepCase<AmsgradAdamW>::make() {
  return AmsgradAdamW{{.lr = 1e-2, .amsgrad = true}};
}
static_assert(sg::detail::StepsByRange<SgdMomentum, StepNet, float> && sg::detail::StepsByRange<PlainAdam, StepNet, float> &&
              sg::detail::StepsByRange<AmsgradAdamW, StepNet, float>);
// An optimizer that only has step(): train_step steps after the backward pass.
struct HalvingStep {
  void step(sg::Model<StepNet, float>& model, const sg::Gradients<StepNet, float>& grads) {
    for (std::size_t i = 0; i < model.flat().size(); ++i) model.flat()[i] -= grads.flat()[i] / 2;
  }
};
static_assert(!sg::detail::StepsByRange<HalvingStep, StepNet, float>);
template <>
HalvingStep StepCase<HalvingStep>::make() {
  return {};
}
}  // namespace

TEST_CASE_TEMPLATE("train_step: the same model, gradient and loss as value_and_grad then step, bit for bit", Optimizer,
                   SgdMomentum, PlainAdam, AmsgradAdamW, HalvingStep) {
  sg::init::Rng rng(17);
  std::vector<std::array<float, 6>> xs;
  std::vector<std::size_t> labels;
  // One sample, two whole blocks of samples, blocks and a rest, and shards split across
  // threads (whose optimizer steps after the whole gradient).
  constexpr std::size_t sharded = 2 * sg::detail::shard_samples<StepNet, float> + 3;
  for (std::size_t s = 0; s < sharded; ++s) {
    xs.push_back(sgtest::random_vector<float, 6>(rng));
    labels.push_back(s % 5);
  }
  for (const std::size_t batch : {std::size_t{1}, std::size_t{32}, std::size_t{37}, sharded}) {
    CAPTURE(batch);
    const auto fused = std::make_unique<sg::Model<StepNet, float>>(4);
    const auto unfused = std::make_unique<sg::Model<StepNet, float>>(*fused);
    auto fused_optimizer = std::make_unique<Optimizer>(StepCase<Optimizer>::make());
    auto unfused_optimizer = std::make_unique<Optimizer>(StepCase<Optimizer>::make());
    const auto fused_grads = std::make_unique<sg::Gradients<StepNet, float>>();
    const auto unfused_grads = std::make_unique<sg::Gradients<StepNet, float>>();
    const auto x = std::span(xs.data(), batch);
    const auto y = std::span(labels.data(), batch);
    for (int step = 0; step < 3; ++step) {
      const float fused_loss = batch == 1 ? sg::train_step(*fused, *fused_optimizer, sg::SoftmaxCrossEntropy{}, xs[0],
                                                           labels[0], *fused_grads)
                                          : sg::train_step(*fused, *fused_optimizer, sg::SoftmaxCrossEntropy{}, x, y,
                                                           *fused_grads);
      const float unfused_loss = batch == 1 ? sg::value_and_grad(*unfused, sg::SoftmaxCrossEntropy{}, xs[0], labels[0],
                                                                 *unfused_grads)
                                            : sg::value_and_grad(*unfused, sg::SoftmaxCrossEntropy{}, x, y, *unfused_grads);
      unfused_optimizer->step(*unfused, *unfused_grads);
      CHECK(fused_loss == unfused_loss);
      CHECK(std::memcmp(fused_grads->flat().data(), unfused_grads->flat().data(), sizeof(float) * fused_grads->flat().size()) == 0);
      CHECK(std::memcmp(fused->flat().data(), unfused->flat().data(), sizeof(float) * fused->flat().size()) == 0);
    }
    CHECK(std::memcmp(fused->flat().data(), sg::Model<StepNet, float>(4).flat().data(), sizeof(float) * fused->flat().size()) != 0);
    const auto frozen = fused->layer<1>().flat();
    const auto frozen_start = sg::Model<StepNet, float>(4);
    CHECK(std::equal(frozen.begin(), frozen.end(), frozen_start.layer<1>().flat().begin()));
  }
}
