// fit's conveniences: the progress display (a line per epoch off a terminal) and early
// stopping on validation data, as Keras' fit users know them.
#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

namespace {

using Net = sg::Sequential<sg::Dense<2, 1>>;

struct Data {
  std::vector<std::array<double, 2>> xs;
  std::vector<std::array<double, 1>> ys;
};

// y = sign · (x0 + x1) on 10 points.
Data make_data(double sign) {
  Data data;
  for (int i = 0; i < 10; ++i) {
    const double x0 = 0.1 * i - 0.4, x1 = 0.3 - 0.05 * i * i / 4;
    data.xs.push_back({x0, x1});
    data.ys.push_back({sign * (x0 + x1)});
  }
  return data;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("fit: progress off a terminal is one line per epoch: epoch, step, loss, samples per second, time left") {
  const Data data = make_data(1);
  sg::Model<Net, double> model{1};
  sg::SGD<Net, double> sgd({.lr = 0.1});
  std::ostringstream shown;
  const auto history = sg::fit(model, sgd, sg::MSE{}, data.xs, data.ys, {.epochs = 3, .batch_size = 4, .progress = &shown});
  const auto lines = lines_of(shown.str());
  REQUIRE(lines.size() == 3);
  for (std::size_t epoch = 0; epoch < 3; ++epoch) {
    CAPTURE(lines[epoch]);
    CHECK(lines[epoch].starts_with("epoch " + std::to_string(epoch + 1) + "/3  step 3/3  loss "));
    CHECK(lines[epoch].find(" samples/s  ") != std::string::npos);
    CHECK(lines[epoch].ends_with(" left"));
  }
  // The loss shown is the epoch's mean, as FitStep::epoch_loss.
  const double last_epoch = (history[6] + history[7] + history[8]) / 3;
  std::ostringstream expected;
  expected.precision(6);
  expected << "loss " << last_epoch << " ";
  CHECK(lines[2].find(expected.str()) != std::string::npos);
}

TEST_CASE("fit: early stopping on validation data, with the best weights restored") {
  // Training pulls the model toward y = x0 + x1, the validation data wants the opposite:
  // the validation loss is best after the first epoch and grows from there.
  const Data train = make_data(1), validation = make_data(-1);
  sg::Model<Net, double> model{};
  sg::SGD<Net, double> sgd({.lr = 0.5});
  sg::EarlyStopping stop(model, sg::MSE{}, validation.xs, validation.ys, {.patience = 2, .restore_best_weights = true});
  const auto history = sg::fit(model, sgd, sg::MSE{}, train.xs, train.ys, {.epochs = 50, .batch_size = 5}, stop);
  CHECK(history.size() == 3 * 2);  // the best epoch, then two without improvement
  CHECK(stop.best_epoch() == 0);
  CHECK(stop.stopped_epoch() == std::optional<std::size_t>{2});
  CHECK(stop.last_loss() > stop.best_loss());
  CHECK(sg::evaluate(model, sg::MSE{}, validation.xs, validation.ys).loss == stop.best_loss());

  // The restored weights are the first epoch's, bit for bit.
  sg::Model<Net, double> one_epoch{};
  sg::SGD<Net, double> sgd_again({.lr = 0.5});
  sg::fit(one_epoch, sgd_again, sg::MSE{}, train.xs, train.ys, {.epochs = 1, .batch_size = 5});
  CHECK(std::ranges::equal(model.flat(), one_epoch.flat()));

  // Without patience it stops at the first epoch that does not improve; min_delta < 0 is refused.
  sg::Model<Net, double> impatient_model{};
  sg::EarlyStopping impatient(impatient_model, sg::MSE{}, validation.xs, validation.ys);
  sg::SGD<Net, double> sgd_third({.lr = 0.5});
  CHECK(sg::fit(impatient_model, sgd_third, sg::MSE{}, train.xs, train.ys, {.epochs = 50, .batch_size = 5}, impatient)
            .size() == 2 * 2);
  CHECK_THROWS_AS(sg::EarlyStopping(model, sg::MSE{}, validation.xs, validation.ys, {.min_delta = -1}),
                  std::invalid_argument);
}
