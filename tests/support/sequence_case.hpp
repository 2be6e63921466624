// The check of a network with state against PyTorch over a sequence (tests/data/sequences.txt,
// tools/make_golden.py): loss, gradient through time and end state, and the outputs both
// over the whole sequence and streamed one step at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "golden_file.hpp"
#include "testing.hpp"

namespace sgtest {

namespace sg = staticgrad;

template <class T, std::size_t Len, std::size_t N>
sg::Sequence<T, Len, N> to_sequence(const std::vector<std::vector<double>>& rows) {
  REQUIRE(rows.size() == Len);
  sg::Sequence<T, Len, N> steps;
  for (std::size_t t = 0; t < Len; ++t) {
    REQUIRE(rows[t].size() == N);
    std::copy(rows[t].begin(), rows[t].end(), steps[t].begin());
  }
  return steps;
}

// In double both sides differ in the order of operations only; in float by float's
// rounding (errors relative to the larger value, or to `error_floor` for values near 0).
template <class T>
constexpr double tolerance = std::is_same_v<T, double> ? 1e-10 : 2e-4;
template <class T>
constexpr double error_floor = std::is_same_v<T, double> ? 1e-12 : 1e-3;

template <class Net, std::size_t Len, class T>
void check_sequence_case(const sgtest::GoldenCase& golden) {
  CAPTURE(sizeof(T));
  REQUIRE(golden.params.size() == sg::param_count<Net>);
  const auto model = std::make_unique<sg::Model<Net, T>>();
  std::copy(golden.params.begin(), golden.params.end(), model->flat().begin());
  sg::State<Net, T> state;
  REQUIRE(golden.state.size() == state.flat().size());
  std::copy(golden.state.begin(), golden.state.end(), state.flat().begin());
  const sg::State<Net, T> start = state;
  const auto xs = to_sequence<T, Len, Net::in_size>(golden.inputs);
  const auto ys = to_sequence<T, Len, Net::out_size>(golden.targets);
  const auto near = [](T value, double expected) {
    return sgtest::relative_error(static_cast<double>(value), expected, error_floor<T>) < tolerance<T>;
  };

  const auto [loss, grads] = sg::value_and_grad(*model, sg::MSE{}, xs, ys, state);
  CHECK(near(loss, golden.loss));
  for (std::size_t i = 0; i < sg::param_count<Net>; ++i) {
    CAPTURE(i);
    CHECK(near(grads.flat()[i], golden.grads[i]));
  }
  for (std::size_t i = 0; i < state.flat().size(); ++i) CHECK(near(state.flat()[i], golden.final_state[i]));

  // Inference one step at a time: PyTorch's outputs, and training's end state to rounding
  // (bit for bit where the rings hold the network's inputs; a ring after other layers holds
  // their outputs as each path computed them). Over the whole sequence, each layer runs
  // many steps at once (matrix products, which sum in another order): the same to rounding.
  auto streamed = start;
  auto whole = start;
  const auto outputs = (*model)(xs, whole);
  const auto rounding = [](T a, T b) {
    return sgtest::relative_error(static_cast<double>(a), static_cast<double>(b), 1.0) <=
           64 * std::numeric_limits<T>::epsilon();
  };
  for (std::size_t t = 0; t < Len; ++t) {
    const auto y = (*model)(xs[t], streamed);
    for (std::size_t o = 0; o < Net::out_size; ++o) {
      CHECK(rounding(y[o], outputs[t][o]));
      CHECK(near(y[o], golden.outputs[t][o]));
    }
  }
  for (std::size_t i = 0; i < state.flat().size(); ++i) {
    CHECK(rounding(streamed.flat()[i], state.flat()[i]));
    CHECK(rounding(whole.flat()[i], state.flat()[i]));
  }
}

/// The case named `name` of tests/data/sequences.txt, in double, then in float.
template <class Net, std::size_t Len>
void check_sequence_case_in_double_and_float(const std::map<std::string, GoldenCase>& cases, const char* name) {
  check_sequence_case<Net, Len, double>(cases.at(name));
  check_sequence_case<Net, Len, float>(cases.at(name));
}

}  // namespace sgtest
