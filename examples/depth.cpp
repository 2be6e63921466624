// Is deeper better? The experiment of the backpropagation text (seed 003, section 4):
// regression of y = a·cos(bx) + x·sin(cx) − d·tanh(ex) on x = −5 … 5 (step 0.05) by tanh
// networks of widths [1,10,1], [1,10,10,1] and [1,10,10,10,10,10,1], LeCun init, full-batch
// gradient descent with learning rate 0.001 for 50,000 steps, loss ½·MSE.
//
// Writes, into the output directory (default out/depth):
//   loss.csv                 the loss of each network at every 10th step
//   grad_rms_<network>.csv   each layer's gradient, as RMS per parameter (its norm over the
//                            square root of its size, so that layers of different sizes
//                            compare), at every 10th step
// examples/plot.py turns them into loss.png and grad_rms.png (./dev.sh example depth).
//
//   depth [steps] [output directory]
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <staticgrad/staticgrad.hpp>

#include "datasets.hpp"

namespace sg = staticgrad;

using Shallow = sg::Sequential<sg::Dense<1, 10, sg::Tanh>, sg::Dense<10, 1>>;
using Two = sg::Sequential<sg::Dense<1, 10, sg::Tanh>, sg::Dense<10, 10, sg::Tanh>, sg::Dense<10, 1>>;
using Five = sg::Sequential<sg::Dense<1, 10, sg::Tanh>, sg::Dense<10, 10, sg::Tanh>,
                            sg::Dense<10, 10, sg::Tanh>, sg::Dense<10, 10, sg::Tanh>,
                            sg::Dense<10, 10, sg::Tanh>, sg::Dense<10, 1>>;

constexpr std::size_t record_every = 10;

// Trains one network; returns its recorded losses, writes its gradient sizes.
template <class Net>
std::vector<double> run(const char* name, std::size_t steps, const std::filesystem::path& out) {
  const auto data = datasets::seed003_data<double>();
  sg::Model<Net, double> model{1, sg::init::LeCunNormal{}};
  sg::SGD<Net, double> sgd{{.lr = 0.001}};
  std::ofstream norms(out / ("grad_rms_" + std::string(name) + ".csv"));
  norms << "step";
  for (std::size_t l = 1; l <= sg::parameter_layer_count<Net>; ++l) norms << ",layer " << l;
  norms << "\n";
  std::vector<double> losses;
  sg::fit(model, sgd, sg::HalfSquaredError{}, data.inputs, data.targets,
          {.epochs = steps, .batch_size = data.inputs.size(), .shuffle = false},
          [&](const sg::FitStep<Net, double>& step) {
            if (step.step % record_every != 0) return;
            losses.push_back(step.loss);
            norms << step.step;
            for (std::size_t l = 0; l < step.grad_norms.size(); ++l)
              norms << "," << step.grad_norms[l] / std::sqrt(sg::parameter_layer_sizes<Net>[l]);
            norms << "\n";
          });
  std::printf("  %-18s loss %.4f -> %.4f\n", name, losses.front(), losses.back());
  return losses;
}

int main(int argc, char** argv) {
  const std::size_t steps = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 50000;
  const std::filesystem::path out = argc > 2 ? argv[2] : "out/depth";
  std::filesystem::create_directories(out);
  std::printf("Seed-003 regression, full-batch gradient descent, lr 0.001, %zu steps:\n", steps);
  const auto shallow = run<Shallow>("1-10-1", steps, out);
  const auto two = run<Two>("1-10-10-1", steps, out);
  const auto five = run<Five>("1-10x5-1", steps, out);

  std::ofstream loss(out / "loss.csv");
  loss << "step,1-10-1,1-10-10-1,1-10x5-1\n";
  for (std::size_t i = 0; i < shallow.size(); ++i)
    loss << i * record_every << "," << shallow[i] << "," << two[i] << "," << five[i] << "\n";
  std::printf("wrote %s\n", (out / "loss.csv").c_str());
  return 0;
}
