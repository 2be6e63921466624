// A dropout rate outside [0, 1).
// EXPECT: check_dropout_rate<3, 2>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dropout<4, std::ratio<1, 2>>, sg::Dense<4, 2>>;
#else
using Net = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dropout<4, std::ratio<3, 2>>, sg::Dense<4, 2>>;
#endif

int main() {
  const sg::Model<Net, float> model{1};
  return model(std::array<float, 3>{})[0] > 0 ? 0 : 1;
}
