// Vanishing gradients (seed 000, section 03): the gradient norm of every layer of four
// 20-layer networks at initialization, on the same batch. A plain sigmoid stack multiplies
// twenty factors ≤ 0.25 and its early layers get almost nothing; ReLU with He init keeps
// the norms level; residual blocks x + σ(Wx + b) give every layer a direct path back;
// batch normalization before each sigmoid keeps its inputs where its slope is largest.
//
// Prints a table and writes out/vanishing/grad_norms.csv (./dev.sh example vanishing also
// plots it). The 20-layer types are built with Boost.Mp11: mp_repeat_c repeats a layer,
// mp_append joins the parts, mp_rename makes the list a Sequential.
//
//   vanishing [output directory]
#include <array>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;
namespace mp = boost::mp11;

// Sequential<First, Middle × 18, Last>: 20 layers.
template <class First, class Middle, class Last>
using Deep = mp::mp_rename<mp::mp_append<mp::mp_list<First>, mp::mp_repeat_c<mp::mp_list<Middle>, 18>,
                                         mp::mp_list<Last>>,
                           sg::Sequential>;

using PlainSigmoid = Deep<sg::Dense<16, 32, sg::Sigmoid>, sg::Dense<32, 32, sg::Sigmoid>, sg::Dense<32, 1>>;
using ReLUHe = Deep<sg::Dense<16, 32, sg::ReLU>, sg::Dense<32, 32, sg::ReLU>, sg::Dense<32, 1>>;
using ResidualSigmoid =
    Deep<sg::Dense<16, 32>, sg::Residual<sg::Dense<32, 32, sg::Sigmoid>>, sg::Dense<32, 1>>;
template <std::size_t In>
using NormalizedSigmoidLayer = sg::Sequential<sg::Dense<In, 32>, sg::BatchNorm<32>, sg::Activation<sg::Sigmoid, 32>>;
using BatchNormSigmoid = Deep<NormalizedSigmoidLayer<16>, NormalizedSigmoidLayer<32>, sg::Dense<32, 1>>;

constexpr std::size_t depth = 20;
static_assert(sg::parameter_layer_count<PlainSigmoid> == depth);
static_assert(sg::parameter_layer_count<ResidualSigmoid> == depth);
// A BatchNorm after each Dense but the last.
static_assert(sg::parameter_layer_count<BatchNormSigmoid> == 2 * depth - 1);

// Per-layer gradient norms at initialization (each layer's default: Xavier for sigmoid,
// He for ReLU), for the mean MSE of one batch (BatchNorm in training: by the batch's
// statistics). Only the Dense layers' norms, every other one with BatchNorm.
template <class Net>
std::array<double, depth> norms_at_init(const std::vector<std::array<double, 16>>& xs,
                                        const std::vector<std::array<double, 1>>& ys) {
  const auto model = std::make_unique<sg::Model<Net, double>>(3);
  const auto grads = std::make_unique<sg::Gradients<Net, double>>();
  sg::value_and_grad(*model, sg::MSE{}, xs, ys, *grads);
  const auto norms = sg::grad_norms(*grads);
  constexpr std::size_t stride = norms.size() / depth + (norms.size() % depth != 0);
  std::array<double, depth> dense{};
  for (std::size_t l = 0; l < depth; ++l) dense[l] = norms[l * stride];
  return dense;
}

int main(int argc, char** argv) {
  const std::filesystem::path out = argc > 1 ? argv[1] : "out/vanishing";
  sg::init::Rng rng(8);
  std::vector<std::array<double, 16>> xs(64);
  std::vector<std::array<double, 1>> ys(64);
  for (auto& x : xs)
    for (auto& v : x) v = rng.normal();
  for (auto& y : ys) y[0] = rng.normal();

  const auto sigmoid = norms_at_init<PlainSigmoid>(xs, ys);
  const auto relu = norms_at_init<ReLUHe>(xs, ys);
  const auto residual = norms_at_init<ResidualSigmoid>(xs, ys);
  const auto normalized = norms_at_init<BatchNormSigmoid>(xs, ys);

  std::filesystem::create_directories(out);
  std::ofstream csv(out / "grad_norms.csv");
  csv << "layer,plain sigmoid,ReLU + He,residual sigmoid,BatchNorm sigmoid\n";
  std::printf("Gradient norm per layer at initialization, 20-layer networks, one batch of 64:\n");
  std::printf("%5s %15s %15s %17s %18s\n", "layer", "plain sigmoid", "ReLU + He", "residual sigmoid",
              "BatchNorm sigmoid");
  for (std::size_t l = 0; l < depth; ++l) {
    std::printf("%5zu %15.3e %15.3e %17.3e %18.3e\n", l + 1, sigmoid[l], relu[l], residual[l], normalized[l]);
    csv << l + 1 << "," << sigmoid[l] << "," << relu[l] << "," << residual[l] << "," << normalized[l] << "\n";
  }
  std::printf("first/last layer: plain sigmoid %.1e, ReLU + He %.1e, residual %.1e, BatchNorm %.1e\n",
              sigmoid[0] / sigmoid[depth - 1], relu[0] / relu[depth - 1], residual[0] / residual[depth - 1],
              normalized[0] / normalized[depth - 1]);
  std::printf("wrote %s\n", (out / "grad_norms.csv").c_str());
  return 0;
}
