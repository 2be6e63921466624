// Inference on 4 inputs for a network that takes 3.
// EXPECT: check_input_size<3, 4>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

int main() {
  sg::Model<sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 2>>, float> model{};
#ifdef STATICGRAD_COMPILE_FAIL_OK
  const std::array<float, 3> x{1, 2, 3};
#else
  const std::array<float, 4> x{1, 2, 3, 4};
#endif
  return model(x)[0] > 0 ? 0 : 1;
}
