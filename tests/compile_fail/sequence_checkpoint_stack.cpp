// A sequence whose backward pass keeps little, but whose Checkpoint recomputes a wide block
// over every step at once: the recomputation counts towards the stack a thread holds (the
// network keeps 0.7 MB, the block's backward pass recomputes 4.3 MB).
// EXPECT: more than a thread's stack holds
#include <cstddef>

#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

using Block = sg::Sequential<sg::Dense<4, 256, sg::Tanh>, sg::Dense<256, 4>>;
using Net = sg::Sequential<sg::GRU<1, 4>, sg::Checkpoint<Block>, sg::Dense<4, 1>>;
#ifdef STATICGRAD_COMPILE_FAIL_OK
constexpr std::size_t steps = 256;
#else
constexpr std::size_t steps = 4096;  // 4096 × (Block's 256 cached and 4 output values) × 4 bytes
#endif

int main() {
  const sg::Model<Net, float> model{1};
  sg::Sequence<float, steps, 1> xs{}, ys{};
  return sg::value_and_grad(model, sg::MSE{}, xs, ys).loss >= 0 ? 0 : 1;
}
