// value_and_grad of one sample through a BatchNorm: training normalizes by the batch's
// statistics, and one sample has none (PyTorch raises an error too).
// EXPECT: BatchNorm trains on a batch of at least 2 samples
#include <array>
#include <vector>

#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

int main() {
  using Net = sg::Sequential<sg::Dense<2, 3>, sg::BatchNorm<3>, sg::Dense<3, 1>>;
  const sg::Model<Net, float> model{1};
#ifdef STATICGRAD_COMPILE_FAIL_OK
  const std::vector<std::array<float, 2>> x{{1, 2}, {3, 4}};
  const std::vector<std::array<float, 1>> y{{0}, {1}};
#else
  const std::array<float, 2> x{1, 2};
  const std::array<float, 1> y{0};
#endif
  return sg::value_and_grad(model, sg::MSE{}, x, y).loss > 0 ? 0 : 1;
}
