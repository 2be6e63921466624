// value_and_grad of a network with state (a GRU) on one sample instead of a sequence.
// EXPECT: give it sequences (staticgrad::Sequence<T, Len, in_size>) and their targets
#include <array>

#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

using Net = sg::Sequential<sg::GRU<2, 4>, sg::Dense<4, 1>>;

int main() {
  const sg::Model<Net, float> model{1};
#ifdef STATICGRAD_COMPILE_FAIL_OK
  const sg::Sequence<float, 4, 2> x{};
  const sg::Sequence<float, 4, 1> y{};
#else
  const std::array<float, 2> x{};
  const std::array<float, 1> y{};
#endif
  return sg::value_and_grad(model, sg::MSE{}, x, y).loss > 0 ? 0 : 1;
}
