// Something that is not a layer spec inside a Sequential.
// EXPECT: check_is_layer<1, int, staticgrad::detail::layer_member::in_size>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Dense<3, 4>, sg::Activation<sg::ReLU, 4>, sg::Dense<4, 2>>;
#else
using Net = sg::Sequential<sg::Dense<3, 4>, int, sg::Dense<4, 2>>;
#endif

int main() {
  sg::Model<Net, float> model{};
  return model(std::array<float, 3>{})[0] > 0 ? 0 : 1;
}
