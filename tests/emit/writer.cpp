// Trains a small classifier, then writes it as a header (with emit_header) and, beside it,
// the outputs the trained model gives on a few inputs, as exact hex floats.
//   writer <header path> <expected outputs path>
#include <array>
#include <cstdio>
#include <fstream>
#include <ios>
#include <memory>

#include <staticgrad/staticgrad.hpp>

#include "../../examples/datasets.hpp"
#include "probes.hpp"

namespace sg = staticgrad;

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const auto data = datasets::spirals<float>(200, 3);
  auto model = std::make_unique<sg::Model<emitted::Net, float>>(5);
  sg::Adam<emitted::Net, float> adam{{.lr = 0.01}};
  sg::fit(*model, adam, sg::SoftmaxCrossEntropy{}, data.points, data.labels, {.epochs = 20, .batch_size = 16});
  std::ofstream header(argv[1]);
  sg::emit_header(*model, "spirals", header);
  std::ofstream expected(argv[2]);
  expected << std::hexfloat;
  for (const auto& x : emitted::probes) {
    const auto y = (*model)(x);
    expected << static_cast<double>(y[0]) << " " << static_cast<double>(y[1]) << "\n";
  }
  return header && expected ? 0 : 1;
}
