// Finite-difference checks (double, central differences) of every layer, activation and
// loss, on many networks with random parameters, inputs and targets.
#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include <doctest/doctest.h>

#include "support/testing.hpp"

namespace sg = staticgrad;
using sgtest::random_probabilities;
using sgtest::random_vector;

namespace {

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
using NestedCase = Case<Nested, sg::MSE>;
using IssueExampleCase = Case<IssueExample, sg::SoftmaxCrossEntropy, ClassTarget>;

}  // namespace

// Short names for the ctest list.
TYPE_TO_STRING_AS("Dense(Identity)", TwoLayerCase<sg::Identity>);
TYPE_TO_STRING_AS("Dense(ReLU)", TwoLayerCase<sg::ReLU>);
TYPE_TO_STRING_AS("Dense(LeakyReLU)", TwoLayerCase<sg::LeakyReLU>);
TYPE_TO_STRING_AS("Dense(Sigmoid)", TwoLayerCase<sg::Sigmoid>);
TYPE_TO_STRING_AS("Dense(Tanh)", TwoLayerCase<sg::Tanh>);
TYPE_TO_STRING_AS("Dense(GELU)", TwoLayerCase<sg::GELU>);
TYPE_TO_STRING_AS("Dense(GELUTanh)", TwoLayerCase<sg::GELUTanh>);
TYPE_TO_STRING_AS("Dense(SiLU)", TwoLayerCase<sg::SiLU>);
TYPE_TO_STRING_AS("Dense(Softplus), HalfSquaredError", Case<TwoLayer<sg::Softplus>, sg::HalfSquaredError>);
TYPE_TO_STRING_AS("LayerNorm", LayerNormCase);
TYPE_TO_STRING_AS("RMSNorm", RMSNormCase);
TYPE_TO_STRING_AS("Residual, cross-entropy with class index", ClassIndexCase);
TYPE_TO_STRING_AS("Residual, cross-entropy with probabilities", ProbabilityCase);
TYPE_TO_STRING_AS("Activation layers, BCEWithLogits", BCECase);
TYPE_TO_STRING_AS("Activation layers, MSE", ActivationLayersCase);
TYPE_TO_STRING_AS("nested Sequential and Residual", NestedCase);
TYPE_TO_STRING_AS("the README network", IssueExampleCase);

TEST_CASE_TEMPLATE("gradcheck: generated gradients match central differences", C,
                   TwoLayerCase<sg::Identity>, TwoLayerCase<sg::ReLU>, TwoLayerCase<sg::LeakyReLU>,
                   TwoLayerCase<sg::Sigmoid>, TwoLayerCase<sg::Tanh>, TwoLayerCase<sg::GELU>,
                   TwoLayerCase<sg::GELUTanh>, TwoLayerCase<sg::SiLU>,
                   Case<TwoLayer<sg::Softplus>, sg::HalfSquaredError>, LayerNormCase, RMSNormCase,
                   ClassIndexCase, ProbabilityCase, BCECase, ActivationLayersCase, NestedCase,
                   IssueExampleCase) {
  using Net = typename C::Net;
  const typename C::Loss loss{};
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    CAPTURE(seed);
    sg::init::Rng rng(seed);
    sg::Model<Net, double> model{};
    sgtest::randomize(model, rng);
    const auto x = random_vector<double, Net::in_size>(rng);
    const auto target = C::target(rng);

    const auto [value, grads] = sg::value_and_grad(model, loss, x, target);
    CHECK(value == doctest::Approx(sgtest::loss_value(model, loss, x, target)).epsilon(1e-14));
    const double worst = sgtest::worst_gradient_error<Net>(
        model, grads.flat(), [&](const auto& m) { return sgtest::loss_value(m, loss, x, target); });
    CHECK(worst < 1e-6);
  }
}

TEST_CASE("gradcheck: a batch gives the mean loss and the mean gradient") {
  using Net = ResidualClassifier;
  sg::init::Rng rng(7);
  sg::Model<Net, double> model{};
  sgtest::randomize(model, rng);
  std::vector<std::array<double, 3>> xs;
  std::vector<std::size_t> labels;
  for (int s = 0; s < 5; ++s) {
    xs.push_back(random_vector<double, 3>(rng));
    labels.push_back(static_cast<std::size_t>(s % 4));
  }
  const sg::SoftmaxCrossEntropy loss{};
  const auto mean_loss = [&](const sg::Model<Net, double>& m) {
    double sum = 0;
    for (std::size_t s = 0; s < xs.size(); ++s) sum += sgtest::loss_value(m, loss, xs[s], labels[s]);
    return sum / static_cast<double>(xs.size());
  };
  const auto [value, grads] = sg::value_and_grad(model, loss, xs, labels);
  CHECK(value == doctest::Approx(mean_loss(model)).epsilon(1e-14));
  CHECK(sgtest::worst_gradient_error<Net>(model, grads.flat(), mean_loss) < 1e-6);

  SUBCASE("the batch is the mean of the single-sample gradients") {
    std::vector<double> sum(Net::param_count, 0.0);
    for (std::size_t s = 0; s < xs.size(); ++s) {
      const auto single = sg::value_and_grad(model, loss, xs[s], labels[s]);
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += single.grads.flat()[i];
    }
    for (std::size_t i = 0; i < sum.size(); ++i)
      CHECK(grads.flat()[i] == doctest::Approx(sum[i] / 5).epsilon(1e-13));
  }
}
