// Optimizers against PyTorch (tests/data/optimizers.txt): five steps of each configuration,
// every parameter compared after every step, in double. Then clipping, option checks,
// and the float path.
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "support/golden_file.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {

using Net = sg::Sequential<sg::Dense<3, 4, sg::Tanh>, sg::Dense<4, 2>>;
using Model = sg::Model<Net, double>;
using Grads = sg::Gradients<Net, double>;
using Step = std::function<void(Model&, const Grads&)>;

// Each case of the file, as the same optimizer configured in staticgrad.
std::map<std::string, std::function<Step()>> optimizers() {
  const auto wrap = [](auto optimizer) {
    auto shared = std::make_shared<decltype(optimizer)>(optimizer);
    return Step([shared](Model& m, const Grads& g) { shared->step(m, g); });
  };
  return {
      {"sgd", [=] { return wrap(sg::SGD<Net, double>{{.lr = 0.1}}); }},
      {"sgd_momentum_dampening",
       [=] { return wrap(sg::SGD<Net, double>{{.lr = 0.1, .momentum = 0.9, .dampening = 0.1}}); }},
      {"sgd_nesterov_weight_decay",
       [=] {
         return wrap(sg::SGD<Net, double>{
             {.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01}});
       }},
      {"adam", [=] { return wrap(sg::Adam<Net, double>{{.lr = 0.01}}); }},
      {"adam_weight_decay_amsgrad",
       [=] { return wrap(sg::Adam<Net, double>{{.lr = 0.01, .weight_decay = 0.1, .amsgrad = true}}); }},
      {"adamw", [=] { return wrap(sg::AdamW<Net, double>{{.lr = 0.01}}); }},
      {"adamw_amsgrad_betas",
       [=] {
         return wrap(sg::AdamW<Net, double>{{.lr = 0.02, .betas = {0.8, 0.99}, .eps = 1e-6,
                                             .weight_decay = 0.05, .amsgrad = true}});
       }},
  };
}

}  // namespace

TEST_CASE("optimizers: every parameter after every step matches PyTorch") {
  const auto cases = sgtest::read_data_file("optimizers.txt");
  const auto configured = optimizers();
  CHECK(cases.size() == configured.size());
  for (const auto& entry : cases) {
    const std::string& name = entry.first;
    const sgtest::GoldenCase& golden = entry.second;
    CAPTURE(name);
    REQUIRE(configured.count(name) == 1);
    REQUIRE(golden.params.size() == sg::param_count<Net>);
    auto model = std::make_unique<Model>();
    std::copy(golden.params.begin(), golden.params.end(), model->flat().begin());
    const auto xs = sgtest::to_arrays<3>(golden.inputs);
    const auto ys = sgtest::to_arrays<2>(golden.targets);
    const Step step = configured.at(name)();
    REQUIRE(golden.steps.size() == 5);
    for (std::size_t s = 0; s < golden.steps.size(); ++s) {
      CAPTURE(s);
      const auto [loss, grads] = sg::value_and_grad(*model, sg::MSE{}, xs, ys);
      step(*model, grads);
      double worst = 0;
      for (std::size_t i = 0; i < sg::param_count<Net>; ++i)
        worst = std::max(worst, sgtest::relative_error(model->flat()[i], golden.steps[s][i], 1e-12));
      CHECK(worst < 1e-6);
    }
  }
}

TEST_CASE("optimizers: options PyTorch refuses are refused") {
  CHECK_THROWS_AS((sg::SGD<Net, double>{{.lr = -1}}), std::invalid_argument);
  CHECK_THROWS_AS((sg::SGD<Net, double>{{.lr = 0.1, .nesterov = true}}), std::invalid_argument);
  CHECK_THROWS_AS((sg::SGD<Net, double>{{.lr = 0.1, .momentum = 0.9, .dampening = 0.5, .nesterov = true}}),
                  std::invalid_argument);
  CHECK_THROWS_AS((sg::Adam<Net, double>{{.betas = {1.0, 0.999}}}), std::invalid_argument);
  CHECK_THROWS_AS((sg::AdamW<Net, double>{{.weight_decay = -0.1}}), std::invalid_argument);
  CHECK(sg::AdamW<Net, double>{}.options().weight_decay == 0.01);
  CHECK(sg::Adam<Net, double>{}.options().weight_decay == 0.0);
}

// torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov) and
// torch.optim.Adam/AdamW(params, lr, betas, eps, weight_decay, amsgrad): every option is
// spelled as PyTorch spells it (what this compiles is the check), with PyTorch's defaults.
TEST_CASE("optimizers: every option has PyTorch's name and default") {
  const sg::SGD<Net, double>::Options sgd{.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = false,
                                          .weight_decay = 1e-4};
  const sg::Adam<Net, double>::Options adam{.lr = 1e-3, .betas = {0.8, 0.99}, .eps = 1e-7, .weight_decay = 0.1,
                                            .amsgrad = true};
  const sg::AdamW<Net, double>::Options adamw{.lr = 1e-3, .betas = {0.8, 0.99}, .eps = 1e-7, .weight_decay = 0.1,
                                              .amsgrad = true};
  CHECK(sg::SGD<Net, double>{sgd}.options().weight_decay == 1e-4);
  CHECK(sg::Adam<Net, double>{adam}.options().betas[1] == 0.99);
  CHECK(sg::AdamW<Net, double>{adamw}.options().amsgrad);
  const sg::Adam<Net, double>::Options adam_defaults{};
  CHECK(adam_defaults.betas == std::array<double, 2>{0.9, 0.999});
  CHECK(adam_defaults.eps == 1e-8);
  CHECK(sg::SGD<Net, double>::Options{}.momentum == 0);
}

TEST_CASE("optimizers: NaN and infinite options are refused, by the constructor and by set_lr") {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS((sg::Adam<Net, double>{{.lr = nan}}), "staticgrad::Adam: lr must be a finite number >= 0, not nan",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS((sg::AdamW<Net, double>{{.eps = nan}}),
                       "staticgrad::AdamW: eps must be a finite number >= 0, not nan", std::invalid_argument);
  CHECK_THROWS_AS((sg::AdamW<Net, double>{{.weight_decay = nan}}), std::invalid_argument);
  CHECK_THROWS_AS((sg::Adam<Net, double>{{.lr = inf}}), std::invalid_argument);
  CHECK_THROWS_WITH_AS((sg::Adam<Net, double>{{.betas = {0.9, nan}}}), "staticgrad::Adam: betas[1] must be in [0, 1), not nan",
                       std::invalid_argument);
  CHECK_THROWS_AS((sg::SGD<Net, double>{{.lr = nan}}), std::invalid_argument);
  CHECK_THROWS_AS((sg::SGD<Net, double>{{.momentum = nan}}), std::invalid_argument);
  CHECK_THROWS_AS((sg::SGD<Net, double>{{.dampening = nan}}), std::invalid_argument);
  CHECK_THROWS_AS((sg::SGD<Net, double>{{.weight_decay = inf}}), std::invalid_argument);
  sg::Adam<Net, double> adam{};
  CHECK_THROWS_AS(adam.set_lr(nan), std::invalid_argument);
  CHECK_THROWS_AS(adam.set_lr(-1), std::invalid_argument);
  CHECK(adam.options().lr == 1e-3);
  sg::SGD<Net, double> sgd{};
  CHECK_THROWS_AS(sgd.set_lr(nan), std::invalid_argument);
  CHECK(sgd.options().lr == 1e-3);
}

TEST_CASE_TEMPLATE("train_step: a step that throws leaves the model, the optimizer and the gradient as they were",
                   Optimizer, sg::SGD<Net, double>, sg::Adam<Net, double>) {
  // Dampening makes SGD's first step (b = g) differ from the later ones.
  const auto make = [] {
    if constexpr (std::is_same_v<Optimizer, sg::Adam<Net, double>>) return Optimizer{{.lr = 0.01}};
    else return Optimizer{{.lr = 0.1, .momentum = 0.9, .dampening = 0.5}};
  };
  const std::vector<std::array<double, 3>> xs{{0.5, -1, 2}, {1, 0.25, -0.5}, {-1, 1, 0}};
  const std::vector<std::size_t> good{0, 1, 1}, last_bad{0, 1, 2};
  const std::vector<std::size_t> too_few{0, 1};
  Model fresh_model{3}, model{3};
  Optimizer fresh = make(), thrown = make();
  Grads grads, fresh_grads;
  grads.flat()[0] = 42;
  const auto before = sgtest::fingerprint(model);
  const sg::SoftmaxCrossEntropy loss{};
  CHECK_THROWS_AS(sg::train_step(model, thrown, loss, xs[0], std::size_t{2}, grads), std::out_of_range);
  CHECK_THROWS_AS(sg::train_step(model, thrown, loss, xs, last_bad, grads), std::out_of_range);
  CHECK_THROWS_AS(sg::train_step(model, thrown, loss, xs, too_few, grads), std::invalid_argument);
  CHECK(sgtest::fingerprint(model) == before);
  CHECK(grads.flat()[0] == 42);
  for (int step = 0; step < 3; ++step) {
    sg::train_step(model, thrown, loss, xs, good, grads);
    sg::train_step(fresh_model, fresh, loss, xs, good, fresh_grads);
  }
  CHECK(sgtest::fingerprint(model) == sgtest::fingerprint(fresh_model));
  if constexpr (std::is_same_v<Optimizer, sg::Adam<Net, double>>) CHECK(thrown.steps() == 3);
}

TEST_CASE("optimizers: float models train with the same rules") {
  sg::Model<Net, float> model{3};
  sg::Adam<Net, float> adam{{.lr = 0.05}};
  const std::array<float, 3> x{0.5f, -1.f, 2.f};
  const std::array<float, 2> y{0.25f, -0.5f};
  const float before = sg::value_and_grad(model, sg::MSE{}, x, y).loss;
  for (int i = 0; i < 50; ++i) adam.step(model, sg::value_and_grad(model, sg::MSE{}, x, y).grads);
  CHECK(sg::value_and_grad(model, sg::MSE{}, x, y).loss < 0.01f * before);
  CHECK(adam.steps() == 50);
}

TEST_CASE("clipping: by global norm as torch.nn.utils.clip_grad_norm_, and by value") {
  Grads grads;
  grads.flat()[0] = 3;
  grads.flat()[5] = -4;  // norm 5
  SUBCASE("above the limit: scaled to the limit, the old norm returned") {
    CHECK(sg::clip_grad_norm(grads, 1.0) == doctest::Approx(5.0));
    CHECK(sg::global_norm(grads) == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(grads.flat()[0] == doctest::Approx(0.6).epsilon(1e-6));
  }
  SUBCASE("below the limit: untouched") {
    CHECK(sg::clip_grad_norm(grads, 10.0) == doctest::Approx(5.0));
    CHECK(grads.flat()[5] == -4);
  }
  SUBCASE("by value") {
    sg::clip_grad_value(grads, 3.5);
    CHECK(grads.flat()[0] == 3);
    CHECK(grads.flat()[5] == -3.5);
  }
  SUBCASE("an infinite limit: untouched") {
    CHECK(sg::clip_grad_norm(grads, std::numeric_limits<double>::infinity()) == doctest::Approx(5.0));
    sg::clip_grad_value(grads, std::numeric_limits<double>::infinity());
    CHECK(grads.flat()[5] == -4);
  }
  SUBCASE("a negative or NaN limit is refused, the gradient untouched") {
    CHECK_THROWS_WITH_AS(sg::clip_grad_norm(grads, std::nan("")),
                         "staticgrad::clip_grad_norm: max_norm must be >= 0, not nan", std::invalid_argument);
    CHECK_THROWS_AS(sg::clip_grad_norm(grads, -1.0), std::invalid_argument);
    CHECK_THROWS_WITH_AS(sg::clip_grad_value(grads, -1.0),
                         "staticgrad::clip_grad_value: limit must be >= 0, not -1.000000", std::invalid_argument);
    CHECK_THROWS_AS(sg::clip_grad_value(grads, std::nan("")), std::invalid_argument);
    CHECK(grads.flat()[0] == 3);
    CHECK(grads.flat()[5] == -4);
  }
}
