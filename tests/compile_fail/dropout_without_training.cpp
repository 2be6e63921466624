// value_and_grad on a network with Dropout and no Training key for its masks.
// EXPECT: this network has Dropout
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

using Net = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dropout<4>, sg::Dense<4, 2>>;

int main() {
  const sg::Model<Net, float> model{1};
  const std::array<float, 3> x{};
  const std::array<float, 2> y{};
#ifdef STATICGRAD_COMPILE_FAIL_OK
  return sg::value_and_grad(model, sg::MSE{}, x, y, sg::Training{1, 0}).loss > 0 ? 0 : 1;
#else
  return sg::value_and_grad(model, sg::MSE{}, x, y).loss > 0 ? 0 : 1;
#endif
}
