// A convolution of 4 input channels after one that gives 8.
// EXPECT: check_layer_link<1, 8, 4>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Conv1D<1, 8, 3, 1, sg::Tanh>, sg::Conv1D<8, 8, 3, 2, sg::Tanh>, sg::Dense<8, 1>>;
#else
using Net = sg::Sequential<sg::Conv1D<1, 8, 3, 1, sg::Tanh>, sg::Conv1D<4, 8, 3, 2, sg::Tanh>, sg::Dense<8, 1>>;
#endif

int main() {
  sg::Model<Net, float> model{};
  sg::State<Net, float> state;
  return model(std::array<float, 1>{}, state)[0] > 0 ? 0 : 1;
}
