// Why weights do not start at zero (seed 000, "Weight Initialization"): a 2 → 3 network
// whose weights all start equal keeps three identical hidden neurons however long it
// trains; from random weights the three neurons become different.
#include <array>
#include <cstddef>
#include <cstdio>
#include <vector>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

using Net = sg::Sequential<sg::Dense<2, 3, sg::Tanh>, sg::Dense<3, 1>>;

template <class Scheme>
void train_and_show(const char* title, const Scheme& scheme) {
  const std::vector<std::array<double, 2>> xs{{1, 2}, {-1, 0.5}, {0.3, -2}, {2, -1}};
  const std::vector<std::array<double, 1>> ys{{1}, {-1}, {0.5}, {0}};
  sg::Model<Net, double> model{17, scheme};
  sg::SGD<Net, double> sgd{{.lr = 0.1}};
  const auto history = sg::fit(model, sgd, sg::MSE{}, xs, ys, {.epochs = 500, .batch_size = 4});
  std::printf("%s: loss %.4f -> %.4f after 500 steps\n", title, history.front(), history.back());
  const auto hidden = model.layer<0>();
  for (std::size_t o = 0; o < 3; ++o)
    std::printf("  hidden neuron h%zu: weights (%+.4f, %+.4f), bias %+.4f\n", o + 1,
                hidden.weight(o, 0), hidden.weight(o, 1), hidden.bias(o));
}

int main() {
  std::printf("Inputs x = (x1, x2), 3 tanh hidden neurons, 1 output, MSE, SGD.\n\n");
  train_and_show("All-zero weights", sg::init::Zeros{});
  std::printf("  -> every neuron computes tanh(0) = 0, so no weight but the output bias ever\n"
              "     gets a gradient: three copies of one dead neuron.\n\n");
  train_and_show("All weights 0.3", sg::init::Constant{0.3});
  std::printf("  -> the weights move, but the three neurons move together: one neuron, copied.\n\n");
  train_and_show("Random weights (Xavier)", sg::init::XavierUniform{});
  std::printf("  -> symmetry broken: three different neurons.\n");
  return 0;
}
