// A double input for a float model (no silent conversion on the hot path).
// EXPECT: check_scalar_type<double, float, false>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

int main() {
  sg::Model<sg::Sequential<sg::Dense<3, 2>>, float> model{};
#ifdef STATICGRAD_COMPILE_FAIL_OK
  const std::array<float, 3> x{1, 2, 3};
#else
  const std::array<double, 3> x{1, 2, 3};
#endif
  return model(x)[0] > 0 ? 0 : 1;
}
