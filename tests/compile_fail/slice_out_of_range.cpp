// A Slice that reaches past its input: [2, 5) of 4 inputs.
// EXPECT: check_slice_range<2, 3, 4>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Dense<3, 4>, sg::Slice<1, 3, 4>, sg::Dense<3, 1>>;
#else
using Net = sg::Sequential<sg::Dense<3, 4>, sg::Slice<2, 3, 4>, sg::Dense<3, 1>>;
#endif

int main() {
  sg::Model<Net, float> model{};
  return model(std::array<float, 3>{})[0] > 0 ? 0 : 1;
}
