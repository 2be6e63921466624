// Targets given as numbers for a network with two outputs.
// EXPECT: check_scalar_target<2>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

int main() {
  sg::Model<sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 2>>, float> model{};
  const std::vector<std::array<float, 3>> xs(2);
#ifdef STATICGRAD_COMPILE_FAIL_OK
  const std::vector<std::array<float, 2>> ys(2);
#else
  const std::vector<float> ys(2);
#endif
  return sg::value_and_grad(model, sg::MSE{}, xs, ys).loss > 0 ? 0 : 1;
}
