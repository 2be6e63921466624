// The embed example, part 1 of 2 (the workstation): trains a network to imitate an audio
// saturator and saves it. Part 2, embed_deploy, loads the file and runs it in real time.
//
//   embed_train FILE      ./dev.sh example embed   runs both parts
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <vector>

#include <staticgrad/staticgrad.hpp>

#include "embed_net.hpp"

namespace sg = staticgrad;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed_train FILE\n");
    return 2;
  }
  // Training audio: chords of random tones at random levels, the saturator's output as target.
  sg::init::Rng rng{7};
  std::vector<std::array<float, 4>> inputs;
  std::vector<std::array<float, 1>> targets;
  std::array<float, 4> history{};
  for (int note = 0; note < 40; ++note) {
    const double level = rng.uniform(0.1, 1.0);
    const double f1 = rng.uniform(60.0, 2000.0), f2 = rng.uniform(60.0, 2000.0);
    for (int n = 0; n < 1000; ++n) {
      const double t = n / embed::sample_rate;
      embed::push(history, static_cast<float>(level * (0.6 * std::sin(2 * std::numbers::pi * f1 * t) +
                                                       0.4 * std::sin(2 * std::numbers::pi * f2 * t))));
      inputs.push_back(history);
      targets.push_back({embed::saturator(history)});
    }
  }

  sg::Model<embed::Net, float> model{1};
  sg::Adam<embed::Net, float> adam{{.lr = 3e-3}};
  std::printf("embed_train: %zu samples of audio, network 4-16-16-1 (tanh), Adam, batches of 32\n", inputs.size());
  sg::fit(model, adam, sg::MSE{}, inputs, targets, {.epochs = 12, .batch_size = 32, .seed = 1},
          [](const sg::FitStep<embed::Net, float>& step) {
            if (step.epoch_end && step.epoch % 3 == 2)
              std::printf("  epoch %2zu  mean loss %.2e\n", step.epoch + 1, static_cast<double>(step.epoch_loss));
          });
  const std::filesystem::path file = argv[1];
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  sg::save(model, file);
  std::printf("embed_train: saved %zu parameters to %s\n", sg::param_count<embed::Net>, argv[1]);
}
