// Branches of a Sum whose outputs differ in size: they cannot be added.
// EXPECT: check_elementwise_output<2, 4, 3>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Sum<sg::Dense<2, 4>, sg::Dense<2, 4, sg::Tanh>, sg::Dense<2, 4>>, sg::Dense<4, 1>>;
#else
using Net = sg::Sequential<sg::Sum<sg::Dense<2, 4>, sg::Dense<2, 4, sg::Tanh>, sg::Dense<2, 3>>, sg::Dense<4, 1>>;
#endif

int main() {
  sg::Model<Net, float> model{};
  return model(std::array<float, 2>{})[0] > 0 ? 0 : 1;
}
