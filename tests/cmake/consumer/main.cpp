// A program that uses staticgrad as a dependency: seed 000's worked example, one sample
// and a batch of it, built with OpenMP exactly when EXPECT_OPENMP says (the target it links).
#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

int main() {
  sg::Model<sg::Sequential<sg::Dense<1, 1, sg::ReLU>, sg::Dense<1, 1>>, double> model{};
  const std::array<double, 4> params{1.5, 0.5, 0.8, 0.1};
  for (std::size_t i = 0; i < params.size(); ++i) model.flat()[i] = params[i];
  const auto [loss, grads] =
      sg::value_and_grad(model, sg::MSE{}, std::array<double, 1>{2}, std::array<double, 1>{5});
#ifdef _OPENMP
  constexpr bool openmp = true;
#else
  constexpr bool openmp = false;
#endif
  static_assert(openmp == EXPECT_OPENMP, "the target linked brings OpenMP exactly when it should");
  std::vector<std::array<double, 1>> xs(1000, {2}), ys(1000, {5});
  const double batch_loss = sg::value_and_grad(model, sg::MSE{}, xs, ys).loss;
  std::printf("consumer: loss %.2f from %s, %s\n", loss, ORIGIN, openmp ? "with OpenMP" : "without OpenMP");
  return grads.flat()[2] < -14.69 && grads.flat()[2] > -14.71 && std::abs(batch_loss - loss) < 1e-12 ? 0 : 1;
}
