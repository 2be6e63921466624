// A program that uses staticgrad as a dependency: seed 000's worked example.
#include <array>
#include <cstdio>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

int main() {
  sg::Model<sg::Sequential<sg::Dense<1, 1, sg::ReLU>, sg::Dense<1, 1>>, double> model{};
  const std::array<double, 4> params{1.5, 0.5, 0.8, 0.1};
  for (std::size_t i = 0; i < params.size(); ++i) model.flat()[i] = params[i];
  const auto [loss, grads] =
      sg::value_and_grad(model, sg::MSE{}, std::array<double, 1>{2}, std::array<double, 1>{5});
  std::printf("consumer: loss %.2f from %s\n", loss, ORIGIN);
  return grads.flat()[2] < -14.69 && grads.flat()[2] > -14.71 ? 0 : 1;
}
