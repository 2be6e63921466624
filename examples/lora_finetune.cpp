// Fine-tuning with LoRA: a network pretrained on one function is adapted to a related one by
// training small low-rank adapters only; the base weights do not move. Then merge() folds
// the adapters into plain Dense layers for deployment.
//
// Pretrain 1-32-32-1 (tanh) on y = sin(2x); fine-tune on y = sin(2x) + 0.3·cos(5x) with
// rank-4 adapters on every layer (LoRA<Dense<…>, 4>), Adam, batches of 16, 200 epochs.
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

using Pretrained = sg::Sequential<sg::Dense<1, 32, sg::Tanh>, sg::Dense<32, 32, sg::Tanh>, sg::Dense<32, 1>>;
using Adapted = sg::Sequential<sg::LoRA<sg::Dense<1, 32, sg::Tanh>, 4>, sg::LoRA<sg::Dense<32, 32, sg::Tanh>, 4>,
                               sg::LoRA<sg::Dense<32, 1>, 4>>;
static_assert(std::is_same_v<sg::merged_t<Adapted>, Pretrained>);

struct Task {
  std::vector<std::array<float, 1>> xs, ys;
};

template <class F>
Task sample(F f) {
  Task task;
  for (int i = 0; i < 256; ++i) {
    const double x = -std::numbers::pi / 2 + std::numbers::pi * i / 255;
    task.xs.push_back({static_cast<float>(x)});
    task.ys.push_back({static_cast<float>(f(x))});
  }
  return task;
}

template <class Net>
double mse(const sg::Model<Net, float>& model, const Task& task) {
  double sum = 0;
  for (std::size_t i = 0; i < task.xs.size(); ++i) {
    const double error = model(task.xs[i])[0] - task.ys[i][0];
    sum += error * error;
  }
  return sum / static_cast<double>(task.xs.size());
}

template <class Net>
double ns_per_inference(const sg::Model<Net, float>& model) {
  volatile float sink = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200000; ++i) sink = sink + model(std::array<float, 1>{static_cast<float>(i % 100) * 0.01f})[0];
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / 200000;
}

// Whether a LoRA layer's base weights equal a Dense layer's.
template <std::size_t In, std::size_t Out, class AdaptedView, class PlainView>
bool same_base(const AdaptedView& adapted, const PlainView& plain) {
  for (std::size_t o = 0; o < Out; ++o) {
    if (adapted.bias(o) != plain.bias(o)) return false;
    for (std::size_t i = 0; i < In; ++i)
      if (adapted.weight(o, i) != plain.weight(o, i)) return false;
  }
  return true;
}

int main() {
  const Task original = sample([](double x) { return std::sin(2 * x); });
  const Task shifted = sample([](double x) { return std::sin(2 * x) + 0.3 * std::cos(5 * x); });

  sg::Model<Pretrained, float> pretrained{1};
  sg::Adam<Pretrained, float> pretrain_optimizer{{.lr = 0.01}};
  sg::fit(pretrained, pretrain_optimizer, sg::MSE{}, original.xs, original.ys, {.epochs = 300, .batch_size = 16, .seed = 1});
  std::printf("pretrained on sin(2x): mse %.2e; on the new task sin(2x) + 0.3 cos(5x): mse %.2e\n",
              mse(pretrained, original), mse(pretrained, shifted));

  auto adapted = sg::with_adapters<Adapted>(pretrained, 2);
  std::printf("LoRA rank 4 on every layer: %zu of %zu parameters train (%.0f%%)\n", sg::trainable_param_count<Adapted>,
              sg::param_count<Adapted>,
              100.0 * static_cast<double>(sg::trainable_param_count<Adapted>) / sg::param_count<Adapted>);
  sg::Adam<Adapted, float> optimizer{{.lr = 0.01}};
  sg::fit(adapted, optimizer, sg::MSE{}, shifted.xs, shifted.ys, {.epochs = 200, .batch_size = 16, .seed = 2},
          [&](const sg::FitStep<Adapted, float>& step) {
            if (step.epoch_end && step.epoch % 50 == 49)
              std::printf("  fine-tuning epoch %3zu: mse on the new task %.2e\n", step.epoch + 1, mse(adapted, shifted));
          });

  const auto merged = sg::merge(adapted);
  const bool base_unchanged = same_base<1, 32>(adapted.layer<0>(), pretrained.layer<0>()) &&
                              same_base<32, 32>(adapted.layer<1>(), pretrained.layer<1>()) &&
                              same_base<32, 1>(adapted.layer<2>(), pretrained.layer<2>());
  std::printf("base weights unchanged by fine-tuning: %s\n", base_unchanged ? "yes" : "NO");
  std::printf("merged into plain Dense layers: mse %.2e (adapted %.2e); inference %.0f ns merged, %.0f ns with adapters\n",
              mse(merged, shifted), mse(adapted, shifted), ns_per_inference(merged), ns_per_inference(adapted));
  return base_unchanged && mse(adapted, shifted) < mse(pretrained, shifted) / 10 ? 0 : 1;
}
