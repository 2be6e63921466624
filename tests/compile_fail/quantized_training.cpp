// A quantized model runs inference only; training it is an error that says what to do.
// EXPECT: runs inference only: train the float model, then quantize it
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

using Net = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 2>>;

int main() {
  const sg::Model<Net, float> model{1};
#ifdef STATICGRAD_COMPILE_FAIL_OK
  const auto& trained = model;
#else
  const auto trained = sg::quantize<sg::bf16>(model);
#endif
  const std::array<float, 3> x{1, 2, 3};
  const std::array<float, 2> y{0, 1};
  return sg::value_and_grad(trained, sg::MSE{}, x, y).loss > 0 ? 0 : 1;
}
