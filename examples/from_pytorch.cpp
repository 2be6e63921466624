// Runs a network trained in PyTorch: loads its state_dict from safetensors into the same
// network written as a staticgrad type, and shows that the outputs match PyTorch's.
//
//   ./dev.sh example from_pytorch   trains in PyTorch first when python3-torch is installed
//                                   (examples/from_pytorch.py), else uses a committed file
//   from_pytorch MODEL.safetensors REFERENCE.txt [SAVED.safetensors]
// REFERENCE.txt holds inputs and PyTorch's outputs; SAVED, when given, receives the model
// written back by save_safetensors (the round-trip test loads it into PyTorch).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <staticgrad/io/safetensors.hpp>
#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

// nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.LayerNorm(16), nn.Linear(16, 16), nn.GELU(),
//               nn.Linear(16, 3)): tensors "0.*", "2.*", "3.*", "5.*".
using Net = sg::Sequential<sg::Dense<4, 16, sg::Tanh>, sg::LayerNorm<16>, sg::Dense<16, 16, sg::GELU>,
                           sg::Dense<16, 3>>;

struct Sample {
  std::array<float, 4> x;
  std::array<float, 3> torch_y;
};

std::vector<Sample> read_reference(const char* path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot open ") + path);
  std::vector<Sample> samples;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::array<float, 7> values{};
    for (float& value : values) {
      std::string field;
      fields >> field;
      value = std::strtof(field.c_str(), nullptr);  // hex floats: exact
    }
    samples.push_back({{values[0], values[1], values[2], values[3]}, {values[4], values[5], values[6]}});
  }
  return samples;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: from_pytorch MODEL.safetensors REFERENCE.txt [SAVED.safetensors]\n");
    return 2;
  }
  try {
    sg::Model<Net, float> model{};
    sg::load_safetensors(model, argv[1]);
    std::printf("loaded %s into %zu parameters; tensors:", argv[1], sg::param_count<Net>);
    for (const auto& name : sg::tensor_names<Net>()) std::printf(" %s", name.c_str());
    std::printf("\n%-36s%s\n", "PyTorch", "staticgrad");

    double worst = 0;
    for (const Sample& sample : read_reference(argv[2])) {
      const auto y = model(sample.x);
      for (std::size_t i = 0; i < 3; ++i) {
        std::printf("%s%10.6f", i == 0 ? "" : " ", static_cast<double>(sample.torch_y[i]));
        worst = std::max(worst, std::abs(static_cast<double>(y[i] - sample.torch_y[i])));
      }
      std::printf("    ");
      for (std::size_t i = 0; i < 3; ++i) std::printf(" %10.6f", static_cast<double>(y[i]));
      std::printf("\n");
    }
    std::printf("\nlargest difference: %.2e (float arithmetic, different summation order)\n", worst);
    if (argc > 3) {
      sg::save_safetensors(model, argv[3]);
      std::printf("wrote the model back to %s\n", argv[3]);
    }
    if (worst > 1e-5) {
      std::printf("outputs DIFFER from PyTorch's\n");
      return 1;
    }
    std::printf("outputs match PyTorch's\n");
  } catch (const std::exception& error) {
    std::fprintf(stderr, "from_pytorch: %s\n", error.what());
    return 1;
  }
}
