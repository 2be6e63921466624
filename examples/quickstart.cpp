// The README's demo: train a small network on a toy function, watch the loss fall, then
// measure inference latency and check that nothing was allocated.
//
// Network: 1 → 16 (tanh) → 16 (tanh) → 1, learning y = sin(2x) on [−π/2, π/2] with Adam
// and mini-batches of 16.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <numbers>
#include <vector>

#include <staticgrad/staticgrad.hpp>

#include "count_allocations.hpp"

namespace sg = staticgrad;

using Net = sg::Sequential<sg::Dense<1, 16, sg::Tanh>, sg::Dense<16, 16, sg::Tanh>, sg::Dense<16, 1>>;

int main() {
  std::vector<std::array<float, 1>> xs, ys;
  for (int i = 0; i < 128; ++i) {
    const float x = static_cast<float>(-std::numbers::pi / 2 + std::numbers::pi * i / 127);
    xs.push_back({x});
    ys.push_back({std::sin(2 * x)});
  }

  sg::Model<Net, float> model{42};
  sg::Adam<Net, float> adam{{.lr = 0.01}};
  std::printf("Training 1-16-16-1 (tanh) on sin(2x), Adam, batches of 16:\n");
  sg::fit(model, adam, sg::MSE{}, xs, ys, {.epochs = 300, .batch_size = 16, .seed = 1},
          [](const sg::FitStep<Net, float>& step) {
            if (step.epoch_end && (step.epoch % 50 == 0 || step.epoch == 299))
              std::printf("  epoch %3zu  mean loss %.6f\n", step.epoch, static_cast<double>(step.epoch_loss));
          });

  const std::array<float, 1> probe{0.5f};
  std::printf("model(0.5) = %.4f, sin(1.0) = %.4f\n", static_cast<double>(model(probe)[0]), std::sin(1.0));

  // Latency: the median of 101 timings of 10,000 inferences each.
  std::vector<double> ns_per_call(101);
  const std::size_t allocations_before = allocations;
  volatile float sink = 0;
  std::array<float, 1> x{0.0f};
  for (double& ns : ns_per_call) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10000; ++i) {
      x[0] = static_cast<float>(i) * 1e-4f;
      sink = sink + model(x)[0];
    }
    ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / 1e4;
  }
  const std::size_t allocated = allocations - allocations_before;
  std::nth_element(ns_per_call.begin(), ns_per_call.begin() + 50, ns_per_call.end());
  std::printf("Inference: %.1f ns per call (median), %zu heap allocations in 1,010,000 calls\n",
              ns_per_call[50], allocated);
  return allocated == 0 ? 0 : 1;
}
