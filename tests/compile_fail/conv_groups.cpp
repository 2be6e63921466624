// A grouped convolution whose groups do not divide its output channels (6 into 4 groups).
// EXPECT: check_conv_groups<4, 6, 4>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Conv1D<4, 8, 3, 1, sg::Tanh, 4>, sg::Dense<8, 1>>;
#else
using Net = sg::Sequential<sg::Conv1D<4, 6, 3, 1, sg::Tanh, 4>, sg::Dense<6, 1>>;
#endif

int main() {
  sg::Model<Net, float> model{};
  sg::State<Net, float> state;
  return model(std::array<float, 4>{}, state)[0] > 0 ? 0 : 1;
}
