// Two interleaved spirals (1000 generated points, 2 classes): a 2-64-64-2 ReLU network
// trained with softmax cross-entropy, Adam and mini-batches of 32; train and test accuracy.
#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <staticgrad/staticgrad.hpp>

#include "datasets.hpp"

namespace sg = staticgrad;

using Net = sg::Sequential<sg::Dense<2, 64, sg::ReLU>, sg::Dense<64, 64, sg::ReLU>, sg::Dense<64, 2>>;

// The fraction of points whose largest logit is their class, over the data set in one batch
// (sg::evaluate: inference alone, on OpenMP's threads).
template <class Data>
double accuracy(const sg::Model<Net, float>& model, const Data& data) {
  return *sg::evaluate(model, sg::SoftmaxCrossEntropy{}, data.points, data.labels).accuracy;
}

int main(int argc, char** argv) {
  const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100;
  const auto train = datasets::spirals<float>(1000, 1);
  const auto test = datasets::spirals<float>(1000, 2);
  auto model = std::make_unique<sg::Model<Net, float>>(7);
  auto adam = std::make_unique<sg::Adam<Net, float>>(sg::Adam<Net, float>::Options{.lr = 0.005});
  std::printf("Two spirals, 1000 training and 1000 test points; 2-64-64-2 ReLU, Adam, batches of 32\n");
  sg::fit(*model, *adam, sg::SoftmaxCrossEntropy{}, train.points, train.labels,
          {.epochs = epochs, .batch_size = 32, .seed = 3}, [&](const sg::FitStep<Net, float>& step) {
            if (step.epoch_end && (step.epoch % 20 == 19 || step.epoch + 1 == epochs))
              std::printf("  epoch %3zu  loss %.4f  train accuracy %.3f\n", step.epoch + 1,
                          static_cast<double>(step.epoch_loss), accuracy(*model, train));
          });
  const double test_accuracy = accuracy(*model, test);
  std::printf("test accuracy %.3f\n", test_accuracy);
  return test_accuracy >= 0.95 ? 0 : 1;
}
