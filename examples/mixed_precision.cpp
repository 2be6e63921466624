// Mixed-precision training against float, on two jobs: the spiral classifier of
// classifier.cpp (2-64-64-2 ReLU, Adam at 0.005, batches of 32) and the deepest network of
// the depth experiment (depth.cpp: 1-10x5-1 tanh, full-batch gradient descent at 0.001).
// Mixed precision: bfloat16 weights, activations and activation gradients in the passes
// (sg::Bf16Training), float master weights and float optimizer state
// (sg::MixedPrecision). Both runs start from the same weights and see the same batches.
//
// Writes, into the output directory (default out/mixed_precision):
//   classifier_loss.csv   each epoch's mean loss, float and bfloat16
//   depth_loss.csv        the loss at every 10th step, float and bfloat16
// examples/plot.py turns them into loss.png (./dev.sh example mixed_precision).
//
//   mixed_precision [classifier epochs] [depth steps] [output directory]
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <type_traits>
#include <vector>

#include <staticgrad/staticgrad.hpp>

#include "datasets.hpp"

namespace sg = staticgrad;

using Classifier = sg::Sequential<sg::Dense<2, 64, sg::ReLU>, sg::Dense<64, 64, sg::ReLU>, sg::Dense<64, 2>>;
using Deep = sg::Sequential<sg::Dense<1, 10, sg::Tanh>, sg::Dense<10, 10, sg::Tanh>, sg::Dense<10, 10, sg::Tanh>,
                            sg::Dense<10, 10, sg::Tanh>, sg::Dense<10, 10, sg::Tanh>, sg::Dense<10, 1>>;

template <class Net>
struct Run {
  std::vector<double> losses;  // every `record_every` epochs
  double seconds = 0;
  std::unique_ptr<sg::Model<Net, float>> trained;  // the float weights training produced
};

// Net trained from `start` by Optimizer at learning rate lr, in float or (Mixed) in mixed
// precision.
template <bool Mixed, template <class, class> class Optimizer, class Net, class Loss, class Inputs, class Targets>
Run<Net> train(const sg::Model<Net, float>& start, double lr, const Loss& loss, const Inputs& inputs,
               const Targets& targets, sg::FitOptions options, std::size_t record_every) {
  using Trained = std::conditional_t<Mixed, sg::Bf16Training<Net>, Net>;
  auto model = std::make_unique<sg::Model<Trained, float>>();
  std::ranges::copy(start.flat(), model->flat().begin());
  using Plain = Optimizer<Trained, float>;
  using Used = std::conditional_t<Mixed, sg::MixedPrecision<Plain>, Plain>;
  const auto optimizer = [&] {
    if constexpr (Mixed) return std::make_unique<Used>(*model, typename Plain::Options{.lr = lr});
    else return std::make_unique<Used>(typename Plain::Options{.lr = lr});
  }();
  Run<Net> run;
  const auto begin = std::chrono::steady_clock::now();
  sg::fit(*model, *optimizer, loss, inputs, targets, options, [&](const sg::FitStep<Trained, float>& step) {
    if (step.epoch_end && step.epoch % record_every == 0) run.losses.push_back(step.epoch_loss);
  });
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  if constexpr (Mixed) run.trained = std::make_unique<sg::Model<Net, float>>(optimizer->float_model());
  else run.trained = std::move(model);
  return run;
}

// Both runs' losses side by side.
template <class Net>
void write_losses(const std::filesystem::path& path, const Run<Net>& plain, const Run<Net>& mixed,
                  std::size_t record_every) {
  std::ofstream out(path);
  out << "step,float,bfloat16\n";
  for (std::size_t i = 0; i < plain.losses.size(); ++i)
    out << i * record_every << "," << plain.losses[i] << "," << mixed.losses[i] << "\n";
}

int main(int argc, char** argv) {
  const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100;
  const std::size_t steps = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 50000;
  const std::filesystem::path out = argc > 3 ? argv[3] : "out/mixed_precision";
  std::filesystem::create_directories(out);

  const auto train_set = datasets::spirals<float>(1000, 1);
  const auto test_set = datasets::spirals<float>(1000, 2);
  const auto start = std::make_unique<sg::Model<Classifier, float>>(7);
  const sg::FitOptions classifier_options{.epochs = epochs, .batch_size = 32, .seed = 3};
  const auto plain = train<false, sg::Adam>(*start, 0.005, sg::SoftmaxCrossEntropy{}, train_set.points,
                                            train_set.labels, classifier_options, 1);
  const auto mixed = train<true, sg::Adam>(*start, 0.005, sg::SoftmaxCrossEntropy{}, train_set.points,
                                           train_set.labels, classifier_options, 1);
  const auto accuracy = [&](const sg::Model<Classifier, float>& model) {
    return *sg::evaluate(model, sg::SoftmaxCrossEntropy{}, test_set.points, test_set.labels).accuracy;
  };
  std::printf("Two spirals, 2-64-64-2 ReLU, Adam, %zu epochs of batches of 32:\n", epochs);
  std::printf("  float     loss %.4f  test accuracy %.3f  %.1f ms an epoch\n", plain.losses.back(),
              accuracy(*plain.trained), 1e3 * plain.seconds / static_cast<double>(epochs));
  std::printf("  bfloat16  loss %.4f  test accuracy %.3f  %.1f ms an epoch (%.2fx float's time)\n",
              mixed.losses.back(), accuracy(*mixed.trained), 1e3 * mixed.seconds / static_cast<double>(epochs),
              mixed.seconds / plain.seconds);
  write_losses(out / "classifier_loss.csv", plain, mixed, 1);

  const auto data = datasets::seed003_data<float>();
  const sg::Model<Deep, float> deep{1, sg::init::LeCunNormal{}};
  const sg::FitOptions depth_options{.epochs = steps, .batch_size = data.inputs.size(), .shuffle = false};
  constexpr std::size_t record_every = 10;
  const auto deep_plain =
      train<false, sg::SGD>(deep, 0.001, sg::HalfSquaredError{}, data.inputs, data.targets, depth_options, record_every);
  const auto deep_mixed =
      train<true, sg::SGD>(deep, 0.001, sg::HalfSquaredError{}, data.inputs, data.targets, depth_options, record_every);
  std::printf("Seed-003 regression, 1-10x5-1 tanh, full-batch gradient descent, lr 0.001, %zu steps:\n", steps);
  std::printf("  float     loss %.4f -> %.4f  %.1f us a step\n", deep_plain.losses.front(), deep_plain.losses.back(),
              1e6 * deep_plain.seconds / static_cast<double>(steps));
  std::printf("  bfloat16  loss %.4f -> %.4f  %.1f us a step (%.2fx float's time)\n", deep_mixed.losses.front(),
              deep_mixed.losses.back(), 1e6 * deep_mixed.seconds / static_cast<double>(steps),
              deep_mixed.seconds / deep_plain.seconds);
  write_losses(out / "depth_loss.csv", deep_plain, deep_mixed, record_every);
  std::printf("wrote %s and %s\n", (out / "classifier_loss.csv").c_str(), (out / "depth_loss.csv").c_str());
  // Mixed precision should learn about as well: within twice float's final loss
  const bool learned = mixed.losses.back() < 2 * plain.losses.back() + 0.01 &&
                       deep_mixed.losses.back() < 2 * deep_plain.losses.back() + 0.01;
  return learned ? 0 : 1;
}
