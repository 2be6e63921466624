// A Residual whose body maps 4 inputs to 6 outputs: x + f(x) is undefined.
// EXPECT: check_residual_shape<4, 6>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Residual<sg::Dense<4, 6, sg::ReLU>, sg::Dense<6, 4>>, sg::Dense<4, 1>>;
#else
using Net = sg::Sequential<sg::Residual<sg::Dense<4, 6, sg::ReLU>>, sg::Dense<6, 1>>;
#endif

int main() {
  sg::Model<Net, float> model{};
  const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, std::array<float, 4>{},
                                                std::array<float, 1>{});
  return model(std::array<float, 4>{})[0] > loss ? 0 : 1;
}
