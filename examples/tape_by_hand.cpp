// The dynamic tape, used the way micrograd or PyTorch users work: write the forward pass
// with tape::Var and its operations, call backward(), read the gradients. Then the same
// network as a type, run by both engines: switching engines is one word.
#include <array>
#include <cstdio>
#include <span>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;
namespace tape = staticgrad::tape;

using Net = sg::Sequential<sg::Dense<2, 3, sg::Tanh>, sg::Dense<3, 1>>;

int main() {
  sg::Model<Net, double> model{7};
  const std::array<double, 2> x{0.5, -1.5};
  const std::array<double, 1> y{0.25};

  // By hand: parameters are views of the model's flat array ([In][Out] weights, then
  // biases); their gradients are added into `grads`.
  sg::Gradients<Net, double> grads;
  const std::span<const double> p = model.flat();
  const std::span<double> g = grads.flat();
  tape::Tape<double> t;
  const auto w1 = t.parameter(p.subspan(0, 6), g.subspan(0, 6), 2, 3);
  const auto b1 = t.parameter(p.subspan(6, 3), g.subspan(6, 3), 3);
  const auto w2 = t.parameter(p.subspan(9, 3), g.subspan(9, 3), 3, 1);
  const auto b2 = t.parameter(p.subspan(12, 1), g.subspan(12, 1), 1);
  const auto hidden = tape::tanh(tape::affine(w1, b1, t.input(x)));
  const auto loss = tape::mse(tape::affine(w2, b2, hidden), t.input(y));
  t.backward(loss);
  std::printf("by hand on the tape (%zu nodes): loss %.6f, dL/dhidden = [%.4f, %.4f, %.4f]\n",
              t.node_count(), loss.value()[0], hidden.grad()[0], hidden.grad()[1], hidden.grad()[2]);

  // The same network, both engines.
  const auto generated = sg::value_and_grad(model, sg::MSE{}, x, y);
  const auto taped = tape::value_and_grad(model, sg::MSE{}, x, y);
  std::printf("%-12s %10s %12s %12s\n", "", "loss", "dL/dw1(0,0)", "dL/db2");
  std::printf("%-12s %10.6f %12.6f %12.6f\n", "by hand", loss.value()[0], grads.layer<0>().weight(0, 0),
              grads.layer<1>().bias(0));
  std::printf("%-12s %10.6f %12.6f %12.6f\n", "tape", taped.loss, taped.grads.layer<0>().weight(0, 0),
              taped.grads.layer<1>().bias(0));
  std::printf("%-12s %10.6f %12.6f %12.6f\n", "generated", generated.loss,
              generated.grads.layer<0>().weight(0, 0), generated.grads.layer<1>().bias(0));
  return taped.loss == generated.loss ? 0 : 1;
}
