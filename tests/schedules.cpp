// Learning-rate schedules against torch.optim.lr_scheduler (tests/data/lr_schedules.txt):
// the learning rate, and OneCycleLR's momentum, at every epoch from 0 on; then with fit,
// and the arguments they refuse.
#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

#include "../examples/count_allocations.hpp"
#include "support/golden_file.hpp"

namespace sg = staticgrad;

namespace {

using Net = sg::Sequential<sg::Dense<2, 1>>;

double momentum_of(const sg::SGD<Net, double>& sgd) { return sgd.options().momentum; }
double momentum_of(const sg::Adam<Net, double>& adam) { return adam.options().betas[0]; }

// Epoch 0's values at construction, then one scheduler step per epoch, as PyTorch counts.
// PyTorch computes some schedules recursively from the last rate, we in closed form: the
// same to rounding.
template <class Optimizer, class Schedule>
void check_schedule(const sgtest::GoldenCase& expected, Optimizer& optimizer, Schedule schedule) {
  REQUIRE(!expected.steps.empty());
  sg::LRScheduler scheduler(optimizer, schedule);
  for (std::size_t epoch = 0; epoch < expected.steps.size(); ++epoch) {
    CAPTURE(epoch);
    if (epoch > 0) {
      const std::size_t before = allocations;
      scheduler.step();
      CHECK(allocations == before);
    }
    CHECK(scheduler.last_epoch() == epoch);
    CHECK(std::abs(scheduler.last_lr() - expected.steps[epoch][0]) <= 1e-15);
    if (expected.steps[epoch].size() == 2) CHECK(std::abs(momentum_of(optimizer) - expected.steps[epoch][1]) <= 1e-15);
  }
}

}  // namespace

TEST_CASE("schedules: the learning rate at every epoch is torch.optim.lr_scheduler's") {
  const auto cases = sgtest::read_data_file("lr_schedules.txt");
  // PyTorch's optimizers in the file: SGD with momentum 0.9 and Adam, both at lr 0.1.
  sg::SGD<Net, double> sgd({.lr = 0.1, .momentum = 0.9});
  sg::Adam<Net, double> adam({.lr = 0.1});
  SUBCASE("StepLR") { check_schedule(cases.at("StepLR"), sgd, sg::StepLR{.step_size = 3, .gamma = 0.5}); }
  SUBCASE("MultiStepLR") {
    check_schedule(cases.at("MultiStepLR"), sgd, sg::MultiStepLR{.milestones = {2, 5, 9}, .gamma = 0.3});
  }
  SUBCASE("ExponentialLR") { check_schedule(cases.at("ExponentialLR"), sgd, sg::ExponentialLR{.gamma = 0.9}); }
  SUBCASE("CosineAnnealingLR, past T_max") {
    check_schedule(cases.at("CosineAnnealingLR"), sgd, sg::CosineAnnealingLR{.T_max = 10, .eta_min = 0.001});
  }
  SUBCASE("LinearLR") {
    check_schedule(cases.at("LinearLR"), sgd, sg::LinearLR{.start_factor = 0.25, .end_factor = 1.0, .total_iters = 4});
  }
  SUBCASE("OneCycleLR, with SGD's momentum cycled") {
    check_schedule(cases.at("OneCycleLR"), sgd, sg::OneCycleLR{.max_lr = 0.5, .total_steps = 20});
  }
  SUBCASE("OneCycleLR in three linear phases, with Adam's betas[0] cycled") {
    check_schedule(cases.at("OneCycleLR_three_phase_linear_adam"), adam,
                   sg::OneCycleLR{.max_lr = 0.5, .total_steps = 17, .pct_start = 0.25,
                                  .anneal_strategy = sg::OneCycleLR::Anneal::linear, .three_phase = true});
  }
  SUBCASE("SequentialLR: a linear warm-up, then a cosine") {
    check_schedule(cases.at("SequentialLR"), sgd,
                   sg::SequentialLR({5}, sg::LinearLR{.start_factor = 0.1}, sg::CosineAnnealingLR{.T_max = 10}));
  }
}

TEST_CASE("schedules: fit's callback steps the scheduler at each epoch's end") {
  sg::Model<Net, double> model{1};
  sg::SGD<Net, double> sgd({.lr = 0.2});
  sg::LRScheduler scheduler(sgd, sg::StepLR{.step_size = 2, .gamma = 0.5});
  const std::vector<std::array<double, 2>> xs{{1, 0}, {0, 1}, {1, 1}};
  const std::vector<std::array<double, 1>> ys{{1}, {-1}, {0}};
  std::vector<double> rates;
  sg::fit(model, sgd, sg::MSE{}, xs, ys, {.epochs = 5, .batch_size = 2}, [&](const sg::FitStep<Net, double>& step) {
    rates.push_back(sgd.options().lr);  // the rate this step used
    if (step.epoch_end) scheduler.step();
  });
  CHECK(rates == std::vector<double>{0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05});
  CHECK(scheduler.last_epoch() == 5);  // ready for a sixth epoch, at 0.2 · 0.5^⌊5/2⌋
  CHECK(scheduler.last_lr() == 0.05);
}

TEST_CASE("schedules: what PyTorch refuses is refused") {
  sg::SGD<Net, double> sgd({.lr = 0.1});
  CHECK_THROWS_WITH_AS(sg::LRScheduler(sgd, sg::StepLR{.step_size = 0}), "staticgrad::StepLR: step_size must be positive",
                       std::invalid_argument);
  CHECK_THROWS_AS(sg::LRScheduler(sgd, sg::CosineAnnealingLR{.T_max = 0}), std::invalid_argument);
  CHECK_THROWS_AS(sg::LRScheduler(sgd, sg::LinearLR{.total_iters = 0}), std::invalid_argument);
  CHECK_THROWS_WITH_AS(sg::SequentialLR({5, 3}, sg::ExponentialLR{}, sg::ExponentialLR{}, sg::ExponentialLR{}),
                       "staticgrad::SequentialLR: the milestones must not decrease", std::invalid_argument);
  sg::LRScheduler one_cycle(sgd, sg::OneCycleLR{.max_lr = 1, .total_steps = 2});
  one_cycle.step();
  CHECK_THROWS_WITH_AS(one_cycle.step(), "staticgrad::OneCycleLR: step 2 is past total_steps = 2", std::out_of_range);
  // The momentum a schedule sets is checked as the constructors check it.
  sg::SGD<Net, double> nesterov({.lr = 0.1, .momentum = 0.9, .nesterov = true});
  CHECK_THROWS_AS(nesterov.set_momentum(0), std::invalid_argument);
  sg::Adam<Net, double> adam({.lr = 0.1});
  CHECK_THROWS_AS(adam.set_momentum(1), std::invalid_argument);
  CHECK(adam.options().betas[0] == 0.9);
}

TEST_CASE("optimizers: SGD's momentum buffer starts at the first step with momentum, as PyTorch's") {
  // Two steps without momentum, then two with: the third step's update is its own
  // gradient (the buffer starts there), not 0.9 × nothing + gradient of an old buffer.
  using Single = sg::Sequential<sg::Dense<1, 1>>;
  sg::Model<Single, double> model{};
  sg::Gradients<Single, double> grads{};
  grads.flat()[0] = 1;
  grads.flat()[1] = 2;
  sg::SGD<Single, double> sgd({.lr = 0.5});
  sgd.step(model, grads);
  sgd.step(model, grads);
  CHECK(model.flat()[0] == -1.0);
  sgd.set_momentum(0.9);
  sgd.step(model, grads);
  CHECK(model.flat()[0] == -1.5);  // buffer = g
  sgd.step(model, grads);
  CHECK(model.flat()[0] == -1.5 - 0.5 * 1.9);  // buffer = 0.9 g + g
}
