// Branches of a Concat that read different input sizes.
// EXPECT: check_branch_input<1, 4, 3>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Dense<2, 4>, sg::Concat<sg::Dense<4, 2>, sg::Dense<4, 3>>, sg::Dense<5, 1>>;
#else
using Net = sg::Sequential<sg::Dense<2, 4>, sg::Concat<sg::Dense<4, 2>, sg::Dense<3, 3>>, sg::Dense<5, 1>>;
#endif

int main() {
  sg::Model<Net, float> model{};
  return model(std::array<float, 2>{})[0] > 0 ? 0 : 1;
}
