// A network with state (a GRU) asked for one output without the stream's State.
// EXPECT: pass the stream's staticgrad::State, model(x, state)
#include <array>

#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

using Net = sg::Sequential<sg::GRU<2, 4>, sg::Dense<4, 1>>;

int main() {
  const sg::Model<Net, float> model{1};
#ifdef STATICGRAD_COMPILE_FAIL_OK
  sg::State<Net, float> state;
  return model(std::array<float, 2>{}, state)[0] > 0 ? 0 : 1;
#else
  return model(std::array<float, 2>{})[0] > 0 ? 0 : 1;
#endif
}
