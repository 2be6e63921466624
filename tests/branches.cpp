// Concat and Sum: each branch sees the same input; outputs joined or added, parameters one
// branch after the other, names and views per branch. (Finite differences and the tape
// cover their gradients in gradcheck.cpp and tape.cpp.)
#include <array>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/io/safetensors.hpp>

#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {
using Left = sg::Dense<3, 2, sg::Tanh>;
using Right = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 2>>;
using Joined = sg::Concat<Left, Right, sg::Activation<sg::Sigmoid, 3>>;
using Added = sg::Sum<Left, Right>;

// A model of one branch holding that branch's slice of the whole model's parameters.
template <class Branch, class Net>
sg::Model<Branch, double> branch_model(const sg::Model<Net, double>& whole, std::size_t offset) {
  sg::Model<Branch, double> branch{};
  for (std::size_t i = 0; i < sg::param_count<Branch>; ++i) branch.flat()[i] = whole.flat()[offset + i];
  return branch;
}
}  // namespace

static_assert(Joined::in_size == 3 && Joined::out_size == 2 + 2 + 3);
static_assert(Added::in_size == 3 && Added::out_size == 2);
static_assert(sg::param_count<Joined> == sg::param_count<Left> + sg::param_count<Right>);
static_assert(sg::flops<Added> == sg::flops<Left> + sg::flops<Right> + 2);

TEST_CASE("Concat and Sum: outputs are the branches' outputs, joined or added") {
  const sg::Model<Joined, double> joined{4};
  const sg::Model<Added, double> added{4};
  const std::array<double, 3> x{0.5, -1.0, 0.25};
  const auto left = branch_model<Left>(joined, 0)(x);
  const auto right = branch_model<Right>(joined, sg::param_count<Left>)(x);
  const auto y = joined(x);
  CHECK(y[0] == left[0]);
  CHECK(y[1] == left[1]);
  CHECK(y[2] == right[0]);
  CHECK(y[3] == right[1]);
  CHECK(y[4] == doctest::Approx(1 / (1 + std::exp(-0.5))).epsilon(1e-15));
  CHECK(y[6] == doctest::Approx(1 / (1 + std::exp(-0.25))).epsilon(1e-15));

  const auto sum = added(x);
  const auto left_of_sum = branch_model<Left>(added, 0)(x);
  const auto right_of_sum = branch_model<Right>(added, sg::param_count<Left>)(x);
  CHECK(sum[0] == doctest::Approx(left_of_sum[0] + right_of_sum[0]).epsilon(1e-15));
  CHECK(sum[1] == doctest::Approx(left_of_sum[1] + right_of_sum[1]).epsilon(1e-15));
  // The forward pass that keeps a cache gives the same output as inference.
  CHECK(sg::value_and_grad(added, sg::MSE{}, x, std::array<double, 2>{}).loss ==
        doctest::Approx(((sum[0] * sum[0]) + (sum[1] * sum[1])) / 2).epsilon(1e-14));
}

TEST_CASE("Concat and Sum: views, spec names, tensor names and the summary name each branch") {
  sg::Model<Added, double> model{1};
  model.layer<1>().layer<0>().weight(3, 2) = 0.75;
  CHECK(model.flat()[sg::param_count<Left> + 2 * 4 + 3] == 0.75);  // [In][Out] inside branch 1's first layer
  CHECK(sg::detail::spec_name<Joined>() ==
        "Concat<Dense<3,2,Tanh>,Sequential<Dense<3,4,ReLU>,Dense<4,2,Identity>>,Activation<Sigmoid,3>>");
  using Net = sg::Sequential<sg::Dense<2, 3>, Added>;
  CHECK(sg::tensor_names<Net>() == std::vector<std::string>{"0.weight", "0.bias", "1.0.0.weight", "1.0.0.bias",
                                                            "1.1.0.weight", "1.1.0.bias", "1.1.2.weight",
                                                            "1.1.2.bias"});
  std::ostringstream table;
  sg::summary<Net, double>(table);
  CHECK(table.str().find("Sum (branches)") != std::string::npos);
  CHECK(table.str().find("1.1.1") != std::string::npos);  // branch 1's second layer
}
