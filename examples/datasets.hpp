// Data sets for the examples (and their tests): generated, deterministic, no downloads.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <vector>

#include <staticgrad/init.hpp>

namespace datasets {

/// The regression target of the backpropagation text (seed 003):
/// y = a·cos(bx) + x·sin(cx) − d·tanh(ex), with its constants.
inline double seed003_function(double x) {
  const double a = 0.19677237, b = 0.75164323, c = 1.1048082, d = 1.61985818, e = -0.37817787;
  return a * std::cos(b * x) + x * std::sin(c * x) - d * std::tanh(e * x);
}

template <class T>
struct Regression {
  std::vector<std::array<T, 1>> inputs, targets;
};

/// seed003_function on x = −5, −4.95, …, 5 (201 points), as in the text.
template <class T>
Regression<T> seed003_data() {
  Regression<T> data;
  for (int i = 0; i <= 200; ++i) {
    const double x = -5.0 + 0.05 * i;
    data.inputs.push_back({static_cast<T>(x)});
    data.targets.push_back({static_cast<T>(seed003_function(x))});
  }
  return data;
}

template <class T>
struct Classification {
  std::vector<std::array<T, 2>> points;
  std::vector<std::size_t> labels;
};

/// Two interleaved spirals, `count` points (half per class), with a little noise.
template <class T>
Classification<T> spirals(std::size_t count, std::uint64_t seed) {
  staticgrad::init::Rng rng(seed);
  Classification<T> data;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t label = i % 2;
    const double t = 0.25 + 3.0 * rng.uniform01();  // radius grows with the angle
    const double angle = 1.75 * std::numbers::pi * t + std::numbers::pi * static_cast<double>(label);
    data.points.push_back({static_cast<T>(t * std::cos(angle) + 0.08 * rng.normal()),
                           static_cast<T>(t * std::sin(angle) + 0.08 * rng.normal())});
    data.labels.push_back(label);
  }
  return data;
}

}  // namespace datasets
