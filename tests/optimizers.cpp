// Optimizers against PyTorch (tests/data/optimizers.txt): five steps of each configuration,
// every parameter compared after every step, in double. Then clipping, option checks,
// and the float path.
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
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
         return wrap(sg::AdamW<Net, double>{{.lr = 0.02, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6,
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
  CHECK_THROWS_AS((sg::Adam<Net, double>{{.beta1 = 1.0}}), std::invalid_argument);
  CHECK_THROWS_AS((sg::AdamW<Net, double>{{.weight_decay = -0.1}}), std::invalid_argument);
  CHECK(sg::AdamW<Net, double>{}.options().weight_decay == 0.01);
  CHECK(sg::Adam<Net, double>{}.options().weight_decay == 0.0);
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
}
