// The networks that both engines are checked on: every layer, activation and loss, as
// cases of (network, loss, kind of target), with random targets of the right kind.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>

#include <doctest/doctest.h>

#include "support/testing.hpp"

namespace sgtest {

struct VectorTarget {};       // any real vector
struct ProbabilityTarget {};  // positive, sums to 1
struct ClassTarget {};        // a class index

template <class N, class L, class Kind = VectorTarget>
struct Case {
  using Net = N;
  using Loss = L;

  static auto target(sg::init::Rng& rng) {
    if constexpr (std::is_same_v<Kind, ClassTarget>)
      return static_cast<std::size_t>(rng.uniform01() * Net::out_size);
    else if constexpr (std::is_same_v<Kind, ProbabilityTarget>)
      return random_probabilities<double, Net::out_size>(rng);
    else
      return random_vector<double, Net::out_size>(rng);
  }
};

template <class Act>
using TwoLayer = sg::Sequential<sg::Dense<3, 4, Act>, sg::Dense<4, 2>>;

using Nested = sg::Sequential<sg::Sequential<sg::Dense<2, 3, sg::Tanh>, sg::Dense<3, 3, sg::LeakyReLU>>,
                              sg::Residual<sg::LayerNorm<3>, sg::Dense<3, 3, sg::GELUTanh>>,
                              sg::Dense<3, 1>>;
using IssueExample = sg::Sequential<sg::LayerNorm<8>, sg::Dense<8, 32, sg::GELU>,
                                    sg::Residual<sg::Dense<32, 32, sg::Tanh>>, sg::Dense<32, 3>>;
using ResidualClassifier =
    sg::Sequential<sg::Dense<3, 5, sg::GELU>, sg::Residual<sg::Dense<5, 5, sg::Tanh>, sg::Dense<5, 5>>,
                   sg::Dense<5, 4>>;

template <class Act>
using TwoLayerCase = Case<TwoLayer<Act>, sg::MSE>;
using SoftplusCase = Case<TwoLayer<sg::Softplus>, sg::HalfSquaredError>;
using LayerNormCase = Case<sg::Sequential<sg::LayerNorm<5>, sg::Dense<5, 3, sg::Tanh>>, sg::HalfSquaredError>;
using RMSNormCase = Case<sg::Sequential<sg::Dense<4, 6>, sg::RMSNorm<6>, sg::Dense<6, 2, sg::Sigmoid>>, sg::MSE>;
using ClassIndexCase = Case<ResidualClassifier, sg::SoftmaxCrossEntropy, ClassTarget>;
using ProbabilityCase = Case<ResidualClassifier, sg::SoftmaxCrossEntropy, ProbabilityTarget>;
using BCECase = Case<sg::Sequential<sg::Dense<3, 4>, sg::Activation<sg::SiLU, 4>,
                                    sg::Activation<sg::Softplus, 4>, sg::Dense<4, 3>>,
                     sg::BCEWithLogits, ProbabilityTarget>;
using ActivationLayersCase = Case<sg::Sequential<sg::Dense<2, 3>, sg::Activation<sg::Sigmoid, 3>,
                                                 sg::Activation<sg::GELU, 3>, sg::Dense<3, 2>>,
                                  sg::MSE>;
// Softmax inside the network (its input gradient flows on) and as the output.
using SoftmaxCase = Case<sg::Sequential<sg::Dense<3, 4>, sg::Softmax<4>, sg::Dense<4, 3>, sg::Softmax<3>>, sg::MSE>;
using NestedCase = Case<Nested, sg::MSE>;
using IssueExampleCase = Case<IssueExample, sg::SoftmaxCrossEntropy, ClassTarget>;
// Frozen parts: first (no input gradient needed), in the middle of trainable layers (the
// input gradient must flow through them), composites, and last.
using FrozenFirstCase = Case<sg::Sequential<sg::Frozen<sg::Dense<3, 5, sg::Tanh>>, sg::Dense<5, 4, sg::GELU>,
                                            sg::Dense<4, 2>>,
                             sg::MSE>;
using FrozenMiddleCase =
    Case<sg::Sequential<sg::Dense<3, 4, sg::Tanh>, sg::Frozen<sg::Sequential<sg::Dense<4, 4, sg::SiLU>, sg::LayerNorm<4>>>,
                        sg::Frozen<sg::Residual<sg::Dense<4, 4, sg::Tanh>>>, sg::Dense<4, 3>>,
         sg::SoftmaxCrossEntropy, ClassTarget>;
// Branches: a Concat of a layer, a chain and an activation; a Sum with a frozen branch;
// a Concat inside a Sum inside a Residual.
using ConcatCase =
    Case<sg::Sequential<sg::Dense<3, 4, sg::Tanh>,
                        sg::Concat<sg::Dense<4, 2, sg::SiLU>, sg::Sequential<sg::Dense<4, 3, sg::ReLU>, sg::Dense<3, 3>>,
                                   sg::Activation<sg::Sigmoid, 4>>,
                        sg::Dense<9, 2>>,
         sg::MSE>;
using SumCase = Case<sg::Sequential<sg::Sum<sg::Dense<3, 4, sg::Tanh>, sg::Sequential<sg::Dense<3, 2, sg::GELU>, sg::Dense<2, 4>>,
                                            sg::Frozen<sg::Dense<3, 4, sg::Sigmoid>>>,
                                    sg::LayerNorm<4>, sg::Dense<4, 3>>,
                     sg::SoftmaxCrossEntropy, ClassTarget>;
using NestedBranchesCase =
    Case<sg::Sequential<sg::Dense<2, 4, sg::Tanh>,
                        sg::Residual<sg::Sum<sg::Concat<sg::Dense<4, 2>, sg::Dense<4, 2, sg::Tanh>>, sg::Dense<4, 4, sg::LeakyReLU>>>,
                        sg::Dense<4, 1>>,
         sg::HalfSquaredError>;
// A custom activation: only the function is written; its derivative comes from dual numbers.
struct Swish {
  template <class X>
  X operator()(X x) const {
    using std::exp;
    return x / (1 + exp(-x));
  }
};
struct Bumpy {  // smooth, with every Dual function in it
  template <class X>
  X operator()(X x) const {
    using std::atan, std::cos, std::erf, std::log1p, std::sin, std::sqrt, std::tanh;
    return sin(x) * cos(x / 2) + tanh(x) * erf(x) + log1p(x * x) - atan(x) + sqrt(1 + x * x) / 4;
  }
};
using CustomActivationCase =
    Case<sg::Sequential<sg::Dense<3, 4, Swish>, sg::Activation<Bumpy, 4>, sg::Dense<4, 2, Bumpy>>, sg::MSE>;
// LoRA adapters (base weights frozen), alone and inside a Residual.
using LoRACase = Case<sg::Sequential<sg::LoRA<sg::Dense<3, 5, sg::Tanh>, 2, 4>,
                                    sg::Residual<sg::LoRA<sg::Dense<5, 5, sg::GELU>, 3>>, sg::LoRA<sg::Dense<5, 2>, 1>>,
                      sg::MSE>;
using FrozenLastCase = Case<sg::Sequential<sg::Dense<2, 3, sg::Sigmoid>, sg::Frozen<sg::Dense<3, 2>>>,
                            sg::HalfSquaredError>;
// Layers wide enough for the batched matrix-matrix kernels (core/gemm.hpp) in double on
// SSE, AVX2 and AVX-512: 40 outputs are several tiles of registers with a partial last
// one, 9 are one register and a bit, 5 are a zero-padded register on AVX-512.
using WideCase = Case<sg::Sequential<sg::Dense<6, 40, sg::Tanh>, sg::Residual<sg::Dense<40, 40, sg::GELU>>,
                                     sg::Dense<40, 9, sg::Sigmoid>, sg::Dense<9, 5>>,
                      sg::SoftmaxCrossEntropy, ClassTarget>;

}  // namespace sgtest

// Short names for the ctest list.
TYPE_TO_STRING_AS("Dense(Identity)", sgtest::TwoLayerCase<staticgrad::Identity>);
TYPE_TO_STRING_AS("Dense(ReLU)", sgtest::TwoLayerCase<staticgrad::ReLU>);
TYPE_TO_STRING_AS("Dense(LeakyReLU)", sgtest::TwoLayerCase<staticgrad::LeakyReLU>);
TYPE_TO_STRING_AS("Dense(Sigmoid)", sgtest::TwoLayerCase<staticgrad::Sigmoid>);
TYPE_TO_STRING_AS("Dense(Tanh)", sgtest::TwoLayerCase<staticgrad::Tanh>);
TYPE_TO_STRING_AS("Dense(GELU)", sgtest::TwoLayerCase<staticgrad::GELU>);
TYPE_TO_STRING_AS("Dense(GELUTanh)", sgtest::TwoLayerCase<staticgrad::GELUTanh>);
TYPE_TO_STRING_AS("Dense(SiLU)", sgtest::TwoLayerCase<staticgrad::SiLU>);
TYPE_TO_STRING_AS("Dense(ELU)", sgtest::TwoLayerCase<staticgrad::ELU>);
TYPE_TO_STRING_AS("Dense(HardTanh)", sgtest::TwoLayerCase<staticgrad::HardTanh>);
TYPE_TO_STRING_AS("Dense(Mish)", sgtest::TwoLayerCase<staticgrad::Mish>);
TYPE_TO_STRING_AS("Dense(Softplus), HalfSquaredError", sgtest::SoftplusCase);
TYPE_TO_STRING_AS("LayerNorm", sgtest::LayerNormCase);
TYPE_TO_STRING_AS("RMSNorm", sgtest::RMSNormCase);
TYPE_TO_STRING_AS("Residual, cross-entropy with class index", sgtest::ClassIndexCase);
TYPE_TO_STRING_AS("Residual, cross-entropy with probabilities", sgtest::ProbabilityCase);
TYPE_TO_STRING_AS("Activation layers, BCEWithLogits", sgtest::BCECase);
TYPE_TO_STRING_AS("Activation layers, MSE", sgtest::ActivationLayersCase);
TYPE_TO_STRING_AS("Softmax inside and as the output", sgtest::SoftmaxCase);
TYPE_TO_STRING_AS("nested Sequential and Residual", sgtest::NestedCase);
TYPE_TO_STRING_AS("the README network", sgtest::IssueExampleCase);
TYPE_TO_STRING_AS("Frozen first layer", sgtest::FrozenFirstCase);
TYPE_TO_STRING_AS("Frozen layers between trainable ones", sgtest::FrozenMiddleCase);
TYPE_TO_STRING_AS("Frozen last layer", sgtest::FrozenLastCase);
TYPE_TO_STRING_AS("Concat of a layer, a chain and an activation", sgtest::ConcatCase);
TYPE_TO_STRING_AS("Sum with a frozen branch", sgtest::SumCase);
TYPE_TO_STRING_AS("Concat in Sum in Residual", sgtest::NestedBranchesCase);
TYPE_TO_STRING_AS("custom activations (dual numbers)", sgtest::CustomActivationCase);
TYPE_TO_STRING_AS("LoRA adapters", sgtest::LoRACase);
TYPE_TO_STRING_AS("wide layers (matrix-matrix kernels)", sgtest::WideCase);


namespace sgtest {
/// Every case above, for TEST_CASE_TEMPLATE_APPLY.
using AllCases = std::tuple<TwoLayerCase<sg::Identity>, TwoLayerCase<sg::ReLU>, TwoLayerCase<sg::LeakyReLU>,
                            TwoLayerCase<sg::Sigmoid>, TwoLayerCase<sg::Tanh>, TwoLayerCase<sg::GELU>,
                            TwoLayerCase<sg::GELUTanh>, TwoLayerCase<sg::SiLU>, TwoLayerCase<sg::ELU>,
                            TwoLayerCase<sg::HardTanh>, TwoLayerCase<sg::Mish>, SoftplusCase, LayerNormCase,
                            RMSNormCase,
                            ClassIndexCase, ProbabilityCase, BCECase, ActivationLayersCase, SoftmaxCase, NestedCase,
                            IssueExampleCase, FrozenFirstCase, FrozenMiddleCase, FrozenLastCase,
                            ConcatCase, SumCase, NestedBranchesCase, CustomActivationCase, LoRACase, WideCase>;
}  // namespace sgtest
