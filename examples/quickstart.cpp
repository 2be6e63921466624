// The README's demo: the worked example of the backprop primer (seed 000) computed by
// staticgrad — a 1-1-1 ReLU network, x = 2, target y = 5 — with every forward value, the
// loss and every gradient, then the README's larger network in float.
#include <array>
#include <cstddef>
#include <cstdio>
#include <vector>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

int main() {
  using Tiny = sg::Sequential<sg::Dense<1, 1, sg::ReLU>, sg::Dense<1, 1>>;
  sg::Model<Tiny, double> model{};
  model.layer<0>().weight(0, 0) = 1.5;  // w1
  model.layer<0>().bias(0) = 0.5;       // b1
  model.layer<1>().weight(0, 0) = 0.8;  // w2
  model.layer<1>().bias(0) = 0.1;       // b2
  const std::array<double, 1> x{2.0};
  const std::array<double, 1> y{5.0};

  // The hidden activation is the output of the first layer alone.
  sg::Model<sg::Sequential<sg::Dense<1, 1, sg::ReLU>>, double> first{};
  first.flat()[0] = model.flat()[0];
  first.flat()[1] = model.flat()[1];
  const double a = first(x)[0];

  const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, x, y);
  std::printf("Seed 000 worked example: x = 2, y = 5, w1 = 1.5, b1 = 0.5, w2 = 0.8, b2 = 0.1\n");
  std::printf("Forward:\n");
  std::printf("  a   = ReLU(w1*x + b1) = %.4g\n", a);
  std::printf("  y^  = w2*a + b2        = %.4g\n", model(x)[0]);
  std::printf("  L   = (y^ - y)^2       = %.4g\n", loss);
  std::printf("Backward (generated at compile time):\n");
  std::printf("  dL/dw2 = %+.4f\n", grads.layer<1>().weight(0, 0));
  std::printf("  dL/db2 = %+.4f\n", grads.layer<1>().bias(0));
  std::printf("  dL/dw1 = %+.4f\n", grads.layer<0>().weight(0, 0));
  std::printf("  dL/db1 = %+.4f\n", grads.layer<0>().bias(0));

  using Net = sg::Sequential<sg::LayerNorm<8>, sg::Dense<8, 32, sg::GELU>,
                             sg::Residual<sg::Dense<32, 32, sg::Tanh>>, sg::Dense<32, 3>>;
  const sg::Model<Net, float> net{42};
  const std::array<float, 8> input{0.5f, -1.f, 0.25f, 2.f, 0.f, 1.f, -0.5f, 0.75f};
  const auto logits = net(input);
  const auto [ce, ce_grads] = sg::value_and_grad(net, sg::SoftmaxCrossEntropy{}, input, std::size_t{2});
  std::printf("\nLayerNorm(8) -> Dense(8,32,GELU) -> x + Dense(32,32,Tanh)(x) -> Dense(32,3), float, seed 42:\n");
  std::printf("  %zu parameters, %zu forward FLOPs\n", sg::param_count<Net>, sg::flops<Net>);
  std::printf("  logits = [%.4f, %.4f, %.4f]\n", logits[0], logits[1], logits[2]);
  std::printf("  cross-entropy for class 2 = %.4f, dL/dweight(0, 0) of the last layer = %.4g\n", ce,
              static_cast<double>(ce_grads.layer<3>().weight(0, 0)));
  return 0;
}
