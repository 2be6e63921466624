// PyTorch golden values (tests/data/golden.txt, written by tools/make_golden.py): outputs,
// mean losses and mean gradients of equivalent torch networks, in double.
#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "support/golden_file.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {

// Both sides compute in double and differ only in the order of operations: most values
// agree to 1e-13; gradients of ~1e-8 that come from cancellation (LayerNorm) to ~2e-8.
constexpr double tolerance = 1e-6;

template <class Net, class Loss>
void check_case(const sgtest::GoldenCase& golden) {
  const auto model = sgtest::golden_model<Net>(golden);
  const auto inputs = sgtest::to_arrays<Net::in_size>(golden.inputs);

  for (std::size_t s = 0; s < inputs.size(); ++s) {
    const auto y = (*model)(inputs[s]);
    for (std::size_t o = 0; o < Net::out_size; ++o)
      CHECK(sgtest::relative_error(y[o], golden.outputs[s][o], 1e-12) < tolerance);
  }
  const auto result = sgtest::golden_value_and_grad<Loss>(*model, golden);
  CHECK(sgtest::relative_error(result.loss, golden.loss, 1e-12) < tolerance);
  double worst = 0;
  for (std::size_t i = 0; i < sg::param_count<Net>; ++i)
    worst = std::max(worst, sgtest::relative_error(result.grads.flat()[i], golden.grads[i], 1e-12));
  CHECK(worst < tolerance);
}

template <class Act>
using TwoLayer = sg::Sequential<sg::Dense<4, 5, Act>, sg::Dense<5, 3>>;
using ResidualClassifier =
    sg::Sequential<sg::Dense<4, 6, sg::GELU>, sg::Residual<sg::Dense<6, 6, sg::Tanh>, sg::Dense<6, 6>>,
                   sg::Dense<6, 3>>;

using Check = void (*)(const sgtest::GoldenCase&);
const std::map<std::string, Check> networks = {
    {"activation_Identity", check_case<TwoLayer<sg::Identity>, sg::MSE>},
    {"activation_ReLU", check_case<TwoLayer<sg::ReLU>, sg::MSE>},
    {"activation_LeakyReLU", check_case<TwoLayer<sg::LeakyReLU>, sg::MSE>},
    {"activation_Sigmoid", check_case<TwoLayer<sg::Sigmoid>, sg::MSE>},
    {"activation_Tanh", check_case<TwoLayer<sg::Tanh>, sg::MSE>},
    {"activation_GELU", check_case<TwoLayer<sg::GELU>, sg::MSE>},
    {"activation_GELUTanh", check_case<TwoLayer<sg::GELUTanh>, sg::MSE>},
    {"activation_SiLU", check_case<TwoLayer<sg::SiLU>, sg::MSE>},
    {"activation_Softplus", check_case<TwoLayer<sg::Softplus>, sg::MSE>},
    {"activation_ELU", check_case<TwoLayer<sg::ELU>, sg::MSE>},
    {"activation_HardTanh", check_case<TwoLayer<sg::HardTanh>, sg::MSE>},
    {"activation_Mish", check_case<TwoLayer<sg::Mish>, sg::MSE>},
    {"softmax", check_case<sg::Sequential<sg::Dense<4, 5, sg::Tanh>, sg::Dense<5, 3>, sg::Softmax<3>>, sg::MSE>},
    {"layernorm",
     check_case<sg::Sequential<sg::LayerNorm<4>, sg::Dense<4, 3, sg::Tanh>>, sg::HalfSquaredError>},
    {"rmsnorm",
     check_case<sg::Sequential<sg::Dense<4, 6>, sg::RMSNorm<6>, sg::Dense<6, 2, sg::Sigmoid>>, sg::MSE>},
    {"residual_class_index", check_case<ResidualClassifier, sg::SoftmaxCrossEntropy>},
    {"residual_probabilities", check_case<ResidualClassifier, sg::SoftmaxCrossEntropy>},
    {"activation_layers_bce",
     check_case<sg::Sequential<sg::Dense<4, 5>, sg::Activation<sg::SiLU, 5>,
                               sg::Activation<sg::Softplus, 5>, sg::Dense<5, 3>>,
                sg::BCEWithLogits>},
    {"nested", check_case<sg::Sequential<sg::Sequential<sg::Dense<2, 3, sg::Tanh>, sg::Dense<3, 3, sg::LeakyReLU>>,
                                         sg::Residual<sg::LayerNorm<3>, sg::Dense<3, 3, sg::GELUTanh>>,
                                         sg::Dense<3, 1>>,
                          sg::MSE>},
    {"issue_example",
     check_case<sg::Sequential<sg::LayerNorm<8>, sg::Dense<8, 32, sg::GELU>,
                               sg::Residual<sg::Dense<32, 32, sg::Tanh>>, sg::Dense<32, 3>>,
                sg::MSE>},
    // PyTorch: requires_grad_(False) on the frozen modules (their gradients compare as zeros).
    {"frozen", check_case<sg::Sequential<sg::Dense<3, 4, sg::Tanh>,
                                         sg::Frozen<sg::Sequential<sg::Dense<4, 4, sg::SiLU>, sg::LayerNorm<4>>>,
                                         sg::Dense<4, 2>>,
                          sg::MSE>},
    // PyTorch: tools/make_golden.py's LoRALinear, the base Linear frozen.
    {"lora", check_case<sg::Sequential<sg::LoRA<sg::Dense<3, 5, sg::Tanh>, 2, 4>,
                                       sg::Residual<sg::LoRA<sg::Dense<5, 5, sg::GELU>, 3, 3>>,
                                       sg::LoRA<sg::Dense<5, 2>, 1, 2>>,
                        sg::MSE>},
    // PyTorch: torch.cat of the branches' outputs, and their sum.
    {"concat_sum",
     check_case<sg::Sequential<sg::Dense<3, 4, sg::Tanh>,
                               sg::Concat<sg::Dense<4, 2, sg::SiLU>, sg::Sequential<sg::Dense<4, 3, sg::ReLU>, sg::Dense<3, 3>>>,
                               sg::Sum<sg::Dense<5, 3, sg::Sigmoid>, sg::Dense<5, 3>>, sg::Dense<3, 2>>,
                sg::SoftmaxCrossEntropy>},
    // PyTorch: nn.PReLU(N), slopes drawn at random like every other parameter.
    {"prelu", check_case<sg::Sequential<sg::Dense<3, 6>, sg::PReLU<6>, sg::Dense<6, 2, sg::Tanh>, sg::PReLU<2>>, sg::MSE>},
    // PyTorch: FiLM on an input [x0, x1, c]: y = [x0, x1] * tanh(Linear(c)) + Linear(c).
    {"film", check_case<sg::Sequential<sg::Sum<sg::Product<sg::Slice<0, 2, 3>, sg::Sequential<sg::Slice<2, 1, 3>, sg::Dense<1, 2, sg::Tanh>>>,
                                              sg::Sequential<sg::Slice<2, 1, 3>, sg::Dense<1, 2>>>,
                                       sg::Dense<2, 2>>,
                        sg::MSE>},
};

}  // namespace

TEST_CASE("golden: every network matches PyTorch") {
  const auto cases = sgtest::read_data_file("golden.txt");
  CHECK(cases.size() == networks.size());
  for (const auto& entry : cases) {
    const std::string& name = entry.first;  // not a structured binding: CAPTURE is a lambda
    CAPTURE(name);
    const auto network = networks.find(name);
    REQUIRE_MESSAGE(network != networks.end(), "no network for golden case " << name);
    network->second(entry.second);
  }
}
