// A layer of one's own (per_feature_scale.hpp) in a network: trained with fit, checked on
// the dynamic tape, saved and loaded through both file formats.
//
// The inputs come in very different scales (x₀ in thousands, x₃ in thousandths); a
// PerFeatureScale in front of a tanh network learns to bring them to one scale.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <vector>

#include <staticgrad/io/safetensors.hpp>
#include <staticgrad/staticgrad.hpp>

#include "per_feature_scale.hpp"

namespace sg = staticgrad;

using Net = sg::Sequential<PerFeatureScale<4>, sg::Dense<4, 16, sg::Tanh>, sg::Dense<16, 1>>;

int main(int argc, char** argv) {
  const std::filesystem::path folder = argc > 1 ? argv[1] : "out/own_layer";
  std::filesystem::create_directories(folder);

  // y = sin(x₀/1000) + x₁ − (x₂/10)² + 200·x₃, each xᵢ/scaleᵢ in [−1, 1].
  const std::array<float, 4> scales{1000, 1, 10, 0.005f};
  sg::init::Rng rng(5);
  std::vector<std::array<float, 4>> xs;
  std::vector<std::array<float, 1>> ys;
  for (int s = 0; s < 512; ++s) {
    std::array<float, 4> x;
    for (std::size_t i = 0; i < 4; ++i) x[i] = scales[i] * static_cast<float>(rng.uniform(-1, 1));
    xs.push_back(x);
    ys.push_back({std::sin(x[0] / 1000) + x[1] - (x[2] / 10) * (x[2] / 10) + 200 * x[3]});
  }

  sg::summary<Net>(std::cout);
  sg::Model<Net, float> model{1};
  sg::Adam<Net, float> adam{{.lr = 0.01}};
  const auto losses = sg::fit(model, adam, sg::MSE{}, xs, ys, {.epochs = 200, .batch_size = 32, .seed = 2});
  std::printf("mse: %.4f after the first step, %.5f after the last\n", static_cast<double>(losses.front()),
              static_cast<double>(losses.back()));
  std::printf("learned gains:");
  for (std::size_t i = 0; i < 4; ++i) std::printf(" %.3g", static_cast<double>(model.flat()[i]));
  std::printf("  (the large input shrunk, the small one grown)\n");

  // The same network on the dynamic tape: its record() gives the same gradient.
  const auto generated = sg::value_and_grad(model, sg::MSE{}, xs[0], ys[0]);
  const auto taped = sg::tape::value_and_grad(model, sg::MSE{}, xs[0], ys[0]);
  double worst = 0;
  for (std::size_t i = 0; i < sg::param_count<Net>; ++i)
    worst = std::max(worst, std::abs(static_cast<double>(generated.grads.flat()[i] - taped.grads.flat()[i])));
  std::printf("tape and generated gradients differ by at most %.2g\n", worst);

  // Both file formats, through its name() and tensors.
  sg::save(model, folder / "model.sgrd");
  sg::save_safetensors(model, folder / "model.safetensors");
  sg::Model<Net, float> from_binary{}, from_safetensors{};
  sg::load(from_binary, folder / "model.sgrd");
  sg::load_safetensors(from_safetensors, folder / "model.safetensors");
  const bool same = from_binary.flat()[0] == model.flat()[0] && from_safetensors(xs[7]) == model(xs[7]) &&
                    from_binary(xs[7]) == model(xs[7]);
  std::printf("tensors in the safetensors file:");
  for (const auto& name : sg::tensor_names<Net>()) std::printf(" %s", name.c_str());
  std::printf("\nloaded from both files, the same outputs: %s\n", same ? "yes" : "no");
  return same && losses.back() < 0.01f * losses.front() ? 0 : 1;
}
