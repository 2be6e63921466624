// A Dense chain whose third layer takes 5 inputs where the second gives 4.
// EXPECT: check_layer_link<2, 4, 5>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

#ifdef STATICGRAD_COMPILE_FAIL_OK
using Net = sg::Sequential<sg::Dense<3, 4>, sg::Dense<4, 4>, sg::Dense<4, 2>, sg::Dense<2, 1>>;
#else
using Net = sg::Sequential<sg::Dense<3, 4>, sg::Dense<4, 4>, sg::Dense<5, 2>, sg::Dense<7, 1>>;
#endif

int main() {
  sg::Model<Net, float> model{};
  const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, std::array<float, 3>{},
                                                std::array<float, 1>{});
  return model(std::array<float, 3>{})[0] > loss ? 0 : 1;
}
