// The laws of the step protocol (core/steps.hpp) for every layer with state, and the
// composites around one, between two Dense layers: a step for inference equals a step of
// training, streaming equals a whole sequence (to rounding), the gradient through time agrees with
// central differences and with the tape's, both file formats return every bit, summary
// has a row for it, and nothing allocates. The laws of every layer: tests/conformance.cpp.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <span>
#include <tuple>
#include <type_traits>

#include <doctest/doctest.h>

#include "../examples/count_allocations.hpp"
#include "support/conformance.hpp"
#include "support/wavenet.hpp"

namespace sg = staticgrad;
using namespace sgtest::conformance;

namespace {

template <class L, class T>
void check_with_state() {
  using Net = Surrounded<L>;
  sg::init::Rng rng(17);
  auto model = std::make_unique<sg::Model<Net, T>>();
  sgtest::randomize(*model, rng, 0.5);
  constexpr std::size_t steps = 5;
  sg::Sequence<T, steps, 3> xs;
  sg::Sequence<T, steps, 2> ys;
  for (std::size_t t = 0; t < steps; ++t) {
    xs[t] = sgtest::random_vector<T, 3>(rng);
    ys[t] = sgtest::random_vector<T, 2>(rng);
  }
  constexpr std::size_t S = sg::State<Net, T>::size;
  sg::State<Net, T> streamed;
  std::array<T, S> state{}, next{};
  std::array<T, Net::cache_size> cache;
  std::array<T, steps * 2> streamed_outputs;
  for (std::size_t t = 0; t < steps; ++t) {
    const auto y = (*model)(xs[t], streamed);
    std::copy(y.begin(), y.end(), streamed_outputs.begin() + static_cast<std::ptrdiff_t>(2 * t));
    std::array<T, 2> y_training;
    sg::detail::forward_block<Net, 1, T>(model->flat(), std::span<const T, S>(state), std::span<T, S>(next), cache,
                                         std::span<const T, 3>(xs[t]), std::span<T, 2>(y_training));
    CHECK(y == y_training);
    CHECK(std::equal(next.begin(), next.end(), streamed.flat().begin()));
    state = next;
  }
  // A whole sequence runs each layer over all steps at once (core/steps.hpp: matrix
  // products, which sum in another order): streaming's outputs and end state to rounding.
  sg::State<Net, T> whole;
  const auto outputs = (*model)(xs, whole);
  CHECK((*model)(xs)[steps - 1] == outputs[steps - 1]);
  const double rounding = 64 * std::numeric_limits<T>::epsilon();
  check_close(std::span<const T>(outputs.data(), steps * 2), streamed_outputs, rounding);
  check_close(whole.flat(), streamed.flat(), rounding);

  if constexpr (std::is_same_v<T, double>) {
    const auto report = sg::gradcheck(*model, sg::MSE{}, xs, ys);
    CAPTURE(report.overall.relative);
    CHECK(report.passed);
    const auto generated = sg::value_and_grad(*model, sg::MSE{}, xs, ys);
    const auto taped = sg::tape::value_and_grad(*model, sg::MSE{}, xs, ys);
    CHECK(sgtest::relative_error(generated.loss, taped.loss, 1e-12) < 1e-12);
    for (std::size_t i = 0; i < sg::param_count<Net>; ++i)
      CHECK(sgtest::relative_error(generated.grads.flat()[i], taped.grads.flat()[i], 1e-12) < 1e-12);
  }
  check_files_and_summary<L>(*model);

  auto grads = std::make_unique<sg::Gradients<Net, T>>();
  const std::size_t before = allocations;
  T sink = (*model)(xs[0], streamed)[0];
  sink += sg::value_and_grad(*model, sg::MSE{}, xs, ys, *grads, streamed);
  const std::size_t allocated = allocations - before;
  CHECK(allocated == 0);
  CHECK(!std::isnan(sink));
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("conformance: a layer with state meets the laws of the step protocol", L, stateful_layers) {
  SUBCASE("float") { check_with_state<L, float>(); }
  SUBCASE("double") { check_with_state<L, double>(); }
}

// Every layer kind with state, and the composites around one: GRU, LSTM, Conv1D (dilated,
// grouped, in a gate, in a WaveNet layer, in NAM's), checkpointed (step by step and layer by layer).
TEST_CASE_TEMPLATE_APPLY(stateful_layers,
                         std::tuple<sg::GRU<4, 5>, sg::LSTM<4, 5>, sg::Frozen<sg::GRU<4, 5>>, sg::Checkpoint<sg::GRU<4, 5>>,
                                    sg::Checkpoint<sg::Sequential<sg::Conv1D<4, 4, 2, 1>, sg::LSTM<4, 3>>>,
                                    sg::Sequential<sg::GRU<4, 3>, sg::Dense<3, 5>>, sg::Residual<sg::LSTM<4, 4>>,
                                    sg::Concat<sg::GRU<4, 3>, sg::Dense<4, 2, sg::Tanh>>,
                                    sg::Sum<sg::LSTM<4, 3>, sg::Sequential<sg::Dense<4, 4>, sg::GRU<4, 3>>>,
                                    sg::Conv1D<4, 5, 3, 2, sg::Tanh>, sg::Conv1D<4, 6, 3, 8, sg::GELU, 2>,
                                    sg::Product<sg::Conv1D<4, 3, 2, 1, sg::Tanh>, sg::Conv1D<4, 3, 3, 1, sg::Sigmoid>>,
                                    sg::Sequential<sg::Conv1D<4, 4, 2, 1>, sg::GRU<4, 3>>,
                                    sgtest::WaveNetLayer<3, 1, 2, 2>, sgtest::NamLayer<2, 3, 2>>);
