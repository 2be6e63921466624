// Gradient diagnostics: per-layer norms follow the flat order through nested composites.
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

TEST_CASE("grad_norms: one L2 norm per layer that owns parameters, input side first") {
  using Net = sg::Sequential<sg::LayerNorm<2>, sg::Activation<sg::ReLU, 2>,
                             sg::Residual<sg::Dense<2, 2, sg::Tanh>, sg::RMSNorm<2>>, sg::Dense<2, 1>>;
  static_assert(sg::parameter_layer_count<Net> == 4);  // LayerNorm, Dense, RMSNorm, Dense
  static_assert(sg::parameter_layer_sizes<Net> == std::array<std::size_t, 4>{4, 6, 2, 3});
  sg::Gradients<Net, double> grads;
  auto flat = grads.flat();
  for (std::size_t i = 0; i < flat.size(); ++i) flat[i] = 1.0;
  const auto norms = sg::grad_norms(grads);
  CHECK(norms[0] == doctest::Approx(std::sqrt(4.0)));  // LayerNorm: gain 2 + bias 2
  CHECK(norms[1] == doctest::Approx(std::sqrt(6.0)));  // Dense<2,2>: 4 + 2
  CHECK(norms[2] == doctest::Approx(std::sqrt(2.0)));  // RMSNorm<2>
  CHECK(norms[3] == doctest::Approx(std::sqrt(3.0)));  // Dense<2,1>
  CHECK(sg::global_norm(grads) == doctest::Approx(std::sqrt(15.0)));
}

TEST_CASE("gradcheck: passes for the generated gradient, one sample and a batch, float and double") {
  using Net = sg::Sequential<sg::LayerNorm<4>, sg::Dense<4, 8, sg::GELU>,
                             sg::Residual<sg::Dense<8, 8, sg::Tanh>>, sg::Dense<8, 3>>;
  const sg::Model<Net, float> model{3};
  const std::array<float, 4> x{0.5f, -1.f, 2.f, 0.25f};
  const auto single = sg::gradcheck(model, sg::SoftmaxCrossEntropy{}, x, std::size_t{1});
  CHECK(single.passed);
  CHECK(single.overall.relative < 1e-6);
  CHECK(single.layers.size() == 4);
  CHECK(single.layers[1].absolute <= single.overall.absolute);

  const std::vector<std::array<float, 4>> xs{x, {1.f, 2.f, 3.f, 4.f}};
  const std::vector<std::array<float, 3>> ys{{1.f, 0.f, 0.f}, {0.f, 0.f, 1.f}};
  CHECK(sg::gradcheck(model, sg::MSE{}, xs, ys).passed);
}

TEST_CASE("gradcheck: a step too large for the curvature fails, and says where") {
  using Net = sg::Sequential<sg::Dense<2, 4, sg::Tanh>, sg::Dense<4, 1>>;
  const sg::Model<Net, double> model{1};
  const std::array<double, 2> x{1.5, -2.0};
  const std::array<double, 1> y{0.5};
  const auto report = sg::gradcheck(model, sg::MSE{}, x, y, {.step = 0.5});
  CHECK_FALSE(report.passed);
  CHECK(report.overall.relative > 1e-4);
  CHECK(report.layers[0].relative > 1e-4);  // tanh's curvature is in the first layer
}

TEST_CASE("all_finite: a NaN input reaches the loss and the gradients, and is reported") {
  using Net = sg::Sequential<sg::Dense<2, 3, sg::ReLU>, sg::Dense<3, 1>>;
  sg::Model<Net, double> model{2};
  CHECK(sg::all_finite(model));
  const std::array<double, 2> bad{std::nan(""), 1.0};
  const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, bad, std::array<double, 1>{0.0});
  CHECK(std::isnan(loss));
  CHECK_FALSE(sg::all_finite(grads));
  model.flat()[0] = std::numeric_limits<double>::infinity();
  CHECK_FALSE(sg::all_finite(model));
}

TEST_CASE("summary: one line per layer, nested ones indented, with the totals") {
  using Net = sg::Sequential<sg::LayerNorm<8>, sg::Dense<8, 32, sg::GELU>,
                             sg::Residual<sg::Dense<32, 32, sg::Tanh>>, sg::Dense<32, 3>>;
  std::ostringstream out;
  sg::summary<Net>(out);
  const std::string table = out.str();
  CAPTURE(table);
  CHECK(table.find("Dense<8,32,GELU>") != std::string::npos);
  CHECK(table.find("2.0          Dense<32,32,Tanh>") != std::string::npos);  // model.layer<2>().layer<0>()
  CHECK(table.find("Residual (x + f(x))") != std::string::npos);
  CHECK(table.find("total: 1459 parameters (5836 bytes), 2912 forward FLOPs") != std::string::npos);
  CHECK(table.find("value_and_grad: ") != std::string::npos);
}

TEST_CASE("first_nonfinite_layer: names the innermost layer where a NaN or an infinity appears") {
  using Net = sg::Sequential<sg::Dense<2, 3, sg::Tanh>, sg::Residual<sg::Dense<3, 3>, sg::Dense<3, 3, sg::ReLU>>,
                             sg::Dense<3, 1>>;
  sg::Model<Net, double> model{4};
  const std::array<double, 2> x{0.5, -1.0};
  CHECK_FALSE(sg::first_nonfinite_layer(model, x).has_value());

  model.layer<1>().layer<1>().weight(2, 0) = std::numeric_limits<double>::infinity();
  const auto found = sg::first_nonfinite_layer(model, x);
  REQUIRE(found.has_value());
  CHECK(*found == "layer 1.1 (Dense<3,3,ReLU>)");

  const std::array<double, 2> nan_input{std::nan(""), 0.0};
  CHECK(sg::first_nonfinite_layer(sg::Model<Net, double>{4}, nan_input) == std::optional<std::string>("layer 0 (Dense<2,3,Tanh>)"));
}

TEST_CASE("first_nonfinite_layer: looks inside branches and Frozen layers") {
  using Net = sg::Sequential<sg::Dense<2, 3, sg::Tanh>,
                             sg::Sum<sg::Dense<3, 3>, sg::Frozen<sg::Sequential<sg::Dense<3, 2>, sg::Dense<2, 3>>>>,
                             sg::Concat<sg::Activation<sg::Tanh, 3>, sg::Dense<3, 1>>, sg::Dense<4, 1>>;
  const std::array<double, 2> x{0.5, -1.0};
  sg::Model<Net, double> model{4};
  CHECK_FALSE(sg::first_nonfinite_layer(model, x).has_value());
  model.layer<1>().layer<1>().layer<1>().bias(2) = std::numeric_limits<double>::infinity();
  CHECK(sg::first_nonfinite_layer(model, x) == std::optional<std::string>("layer 1.1.1 (Dense<2,3,Identity>)"));
  sg::Model<Net, double> concat{4};
  concat.layer<2>().layer<1>().weight(0, 1) = std::nan("");
  CHECK(sg::first_nonfinite_layer(concat, x) == std::optional<std::string>("layer 2.1 (Dense<3,1,Identity>)"));
}

TEST_CASE("first_nonfinite_layer: an infinite input that no layer passes on is still found") {
  // −∞ through ReLU: every output finite, the loss finite, the first layer's gradient NaN (∞ · 0).
  using Net = sg::Sequential<sg::Dense<1, 2, sg::ReLU>, sg::Dense<2, 1>>;
  sg::Model<Net, double> model{};
  model.layer<0>().weight(0, 0) = 1;
  model.layer<0>().weight(1, 0) = 2;
  model.layer<1>().weight(0, 0) = 1;
  const std::array<double, 1> x{-std::numeric_limits<double>::infinity()};
  const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, x, std::array<double, 1>{1.0});
  CHECK(std::isfinite(loss));
  CHECK_FALSE(sg::all_finite(grads));
  CHECK(sg::first_nonfinite_layer(model, x) == std::optional<std::string>("the input"));
}

TEST_CASE("gradcheck: options that cannot measure anything are refused") {
  using Net = sg::Sequential<sg::Dense<2, 1>>;
  const sg::Model<Net, double> model{1};
  const std::array<double, 2> x{1, 2};
  const std::array<double, 1> y{0};
  for (const double step : {0.0, -1e-5, std::nan("")}) {
    CAPTURE(step);
    CHECK_THROWS_AS(sg::gradcheck(model, sg::MSE{}, x, y, {.step = step}), std::invalid_argument);
  }
  CHECK_THROWS_AS(sg::gradcheck(model, sg::MSE{}, x, y, {.tolerance = std::nan("")}), std::invalid_argument);
}
