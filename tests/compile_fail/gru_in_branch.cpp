// A GRU as a branch of a Concat: branches with state are not supported yet.
// EXPECT: a branch with state (GRU) is not supported yet
#include <array>

#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::GRU<2, 4>, sg::Concat<sg::Dense<4, 2>, sg::Dense<4, 3>>>;
#else
using Net = sg::Sequential<sg::Concat<sg::GRU<2, 4>, sg::Dense<2, 3>>, sg::Dense<7, 1>>;
#endif

int main() {
  const sg::Model<Net, float> model{1};
  sg::State<Net, float> state;
  return model(std::array<float, 2>{}, state)[0] > 0 ? 0 : 1;
}
