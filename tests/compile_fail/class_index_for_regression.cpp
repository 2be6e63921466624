// A class index as the target of a regression loss.
// EXPECT: check_class_index_target<staticgrad::MSE, false>
#include <cstddef>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

int main() {
  sg::Model<sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 2>>, float> model{};
#ifdef STATICGRAD_COMPILE_FAIL_OK
  const sg::SoftmaxCrossEntropy loss{};
#else
  const sg::MSE loss{};
#endif
  return sg::value_and_grad(model, loss, std::array<float, 3>{}, std::size_t{1}).loss > 0 ? 0 : 1;
}
