// A target of 3 values for a network with 2 outputs.
// EXPECT: check_target_size<2, 3>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

int main() {
  sg::Model<sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 2>>, float> model{};
#ifdef STATICGRAD_COMPILE_FAIL_OK
  const std::array<float, 2> target{1, 2};
#else
  const std::array<float, 3> target{1, 2, 3};
#endif
  return sg::value_and_grad(model, sg::MSE{}, std::array<float, 3>{}, target).loss > 0 ? 0 : 1;
}
