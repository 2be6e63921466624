// A transformer's feed-forward half, as a type: pre-norm residual blocks
//     x + W₂·GELU(W₁·LayerNorm(x) + b₁) + b₂      (Residual<LayerNorm<D>, Dense<D,4D,GELU>, Dense<4D,D>>)
// stacked six deep on a 32-wide residual stream, with a final LayerNorm and a classifier
// head, trained with AdamW and gradient clipping, as transformers are. (Attention, which
// mixes tokens, is not here: each sample is one token.)
//
// Task: 8 inputs, 4 classes, the class being the largest of four nonlinear scores.
//   transformer_ffn [EPOCHS]   (30 by default; ctest runs 6)
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;
namespace mp = boost::mp11;

constexpr std::size_t D = 32, Classes = 4, Depth = 6;
using Block = sg::Residual<sg::LayerNorm<D>, sg::Dense<D, 4 * D, sg::GELU>, sg::Dense<4 * D, D>>;
using Net = mp::mp_rename<mp::mp_append<mp::mp_list<sg::Dense<8, D>>, mp::mp_repeat_c<mp::mp_list<Block>, Depth>,
                                        mp::mp_list<sg::LayerNorm<D>, sg::Dense<D, Classes>>>,
                          sg::Sequential>;

struct Data {
  std::vector<std::array<float, 8>> xs;
  std::vector<std::size_t> labels;
};

Data make_data(std::size_t count, std::uint64_t seed) {
  sg::init::Rng rng{seed};
  Data data;
  for (std::size_t n = 0; n < count; ++n) {
    std::array<float, 8> x{};
    for (auto& v : x) v = static_cast<float>(rng.normal());
    std::array<double, Classes> score{};
    for (std::size_t k = 0; k < Classes; ++k)
      score[k] = std::sin(x[k] + x[(k + 3) % 8]) + 0.5 * x[k + 4] * x[(k + 1) % 4];
    std::size_t best = 0;
    for (std::size_t k = 1; k < Classes; ++k) best = score[k] > score[best] ? k : best;
    data.xs.push_back(x);
    data.labels.push_back(best);
  }
  return data;
}

// The fraction of samples whose largest logit is their class (sg::evaluate: the data set
// through inference alone, in one batch).
double accuracy(const sg::Model<Net, float>& model, const Data& data) {
  return *sg::evaluate(model, sg::SoftmaxCrossEntropy{}, data.xs, data.labels).accuracy;
}

int main(int argc, char** argv) {
  const std::size_t epochs = argc > 1 ? static_cast<std::size_t>(std::atoi(argv[1])) : 30;
  sg::summary<Net>(std::cout);
  const Data train = make_data(4000, 1), test = make_data(1000, 2);
  const auto model = std::make_unique<sg::Model<Net, float>>(3);
  sg::AdamW<Net, float> optimizer{{.lr = 1e-3, .weight_decay = 0.01}};
  std::printf("\nAdamW (lr 1e-3, weight decay 0.01), gradient norm clipped at 1, batches of 32:\n");
  std::printf("test accuracy before training %.3f\n", accuracy(*model, test));
  std::size_t clipped = 0;
  sg::fit(*model, optimizer, sg::SoftmaxCrossEntropy{}, train.xs, train.labels,
          {.epochs = epochs, .batch_size = 32, .seed = 4, .clip_norm = 1.0}, [&](const sg::FitStep<Net, float>& step) {
            double squared = 0;  // the norm before clipping, from the per-layer norms
            for (float norm : step.grad_norms) squared += static_cast<double>(norm) * norm;
            clipped += std::sqrt(squared) > 1.0;
            if (step.epoch_end && (step.epoch % 5 == 4 || step.epoch + 1 == epochs))
              std::printf("  epoch %2zu  loss %.4f  test accuracy %.3f\n", step.epoch + 1,
                          static_cast<double>(step.epoch_loss), accuracy(*model, test));
          });
  const double final_accuracy = accuracy(*model, test);
  std::printf("test accuracy %.3f; the gradient norm was clipped in %zu of %zu steps\n", final_accuracy, clipped,
              epochs * ((train.xs.size() + 31) / 32));
  return final_accuracy > 0.7 ? 0 : 1;
}
