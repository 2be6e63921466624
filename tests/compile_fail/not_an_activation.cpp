// A Dense layer's activation that is neither an activation type nor a generic function
// (this one takes only double, so dual numbers cannot run through it).
// EXPECT: check_activation<OnlyDouble>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
struct OnlyDouble {
  template <class X>
  X operator()(X x) const { return x * x; }
};
#else
struct OnlyDouble {
  double operator()(double x) const { return x * x; }
};
#endif
using Net = sg::Sequential<sg::Dense<3, 4, OnlyDouble>, sg::Dense<4, 2>>;

int main() {
  sg::Model<Net, float> model{};
  return model(std::array<float, 3>{})[0] > 0 ? 0 : 1;
}
