// Frozen<X> where X is not a layer spec.
// EXPECT: check_frozen_layer<float, staticgrad::detail::layer_member::in_size>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Frozen<sg::Dense<3, 4>>, sg::Dense<4, 2>>;
#else
using Net = sg::Sequential<sg::Frozen<float>, sg::Dense<4, 2>>;
#endif

int main() {
  sg::Model<Net, float> model{};
  return model(std::array<float, 3>{})[0] > 0 ? 0 : 1;
}
