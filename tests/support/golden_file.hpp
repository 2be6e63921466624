// Reads the reference files that tools/make_golden.py writes (tests/data/*.txt): cases of
// "key count values..." lines, numbers as exact hex floats.
#pragma once

#include <array>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

namespace sgtest {

struct GoldenCase {
  std::vector<double> params, grads, state, final_state;
  std::vector<std::vector<double>> inputs, targets, outputs, steps, eval_outputs;
  std::vector<std::size_t> classes;
  double loss = 0;
};

inline std::vector<double> read_values(std::istringstream& in) {
  std::size_t count = 0;
  in >> count;
  std::vector<double> values(count);
  for (auto& v : values) {
    std::string token;
    in >> token;
    v = std::strtod(token.c_str(), nullptr);  // exact for hex floats
  }
  return values;
}

inline std::map<std::string, GoldenCase> read_golden(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path);
  std::map<std::string, GoldenCase> cases;
  GoldenCase* current = nullptr;
  std::string text;
  while (std::getline(file, text)) {
    std::istringstream in(text);
    std::string key;
    in >> key;
    if (key == "case") {
      std::string name;
      in >> name;
      current = &cases[name];
    } else if (key == "params") current->params = read_values(in);
    else if (key == "input") current->inputs.push_back(read_values(in));
    else if (key == "target") current->targets.push_back(read_values(in));
    else if (key == "output") current->outputs.push_back(read_values(in));
    else if (key == "eval_output") current->eval_outputs.push_back(read_values(in));
    else if (key == "grads") current->grads = read_values(in);
    else if (key == "state") current->state = read_values(in);
    else if (key == "final_state") current->final_state = read_values(in);
    else if (key == "step") current->steps.push_back(read_values(in));
    else if (key == "loss") current->loss = read_values(in).at(0);
    else if (key == "class") {
      std::size_t k = 0;
      in >> k;
      current->classes.push_back(k);
    }
  }
  return cases;
}

template <std::size_t N>
std::vector<std::array<double, N>> to_arrays(const std::vector<std::vector<double>>& rows) {
  std::vector<std::array<double, N>> arrays(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    REQUIRE(rows[r].size() == N);
    std::copy(rows[r].begin(), rows[r].end(), arrays[r].begin());
  }
  return arrays;
}

/// A model of Net holding the case's parameters.
template <class Net>
std::unique_ptr<staticgrad::Model<Net, double>> golden_model(const GoldenCase& golden) {
  REQUIRE(golden.params.size() == staticgrad::param_count<Net>);
  auto model = std::make_unique<staticgrad::Model<Net, double>>();
  std::copy(golden.params.begin(), golden.params.end(), model->flat().begin());
  return model;
}

/// value_and_grad of `model` over the case's inputs and its targets: its class indices when
/// it has them and Loss takes them, else its target vectors.
template <class Loss, class Net>
auto golden_value_and_grad(const staticgrad::Model<Net, double>& model, const GoldenCase& golden) {
  const auto inputs = to_arrays<Net::in_size>(golden.inputs);
  if constexpr (Loss::accepts_class_index) {
    if (!golden.classes.empty()) return staticgrad::value_and_grad(model, Loss{}, inputs, golden.classes);
  }
  return staticgrad::value_and_grad(model, Loss{}, inputs, to_arrays<Net::out_size>(golden.targets));
}

/// The reference file `name` in tests/data.
inline std::map<std::string, GoldenCase> read_data_file(const std::string& name) {
  return read_golden(std::string(STATICGRAD_TEST_DATA) + "/" + name);
}

}  // namespace sgtest
