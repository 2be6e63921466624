// LoRA adapts a Dense layer; here it is given an activation layer.
// EXPECT: check_lora<
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Dense<3, 4>, sg::LoRA<sg::Dense<4, 4, sg::ReLU>, 2>, sg::Dense<4, 2>>;
#else
using Net = sg::Sequential<sg::Dense<3, 4>, sg::LoRA<sg::Activation<sg::ReLU, 4>, 2>, sg::Dense<4, 2>>;
#endif

int main() {
  const sg::Model<Net, float> model{1};
  return model(std::array<float, 3>{})[0] > 0 ? 0 : 1;
}
