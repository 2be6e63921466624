// The laws every layer meets, checked the same way for each: a layer kind, built-in or a
// user's own, is registered once in the list at the end. For each, in float and double
// where it applies:
// - forward writes what infer writes;
// - blocks of samples (core/blocks.hpp) give what one sample at a time gives;
// - backward agrees with central differences (gradcheck), its input gradient included;
// - the dynamic tape gives the generated engine's loss and gradient (1e-12, double);
// - save/load and save_safetensors/load_safetensors return every bit, and the safetensors
//   tensors cover every parameter exactly once;
// - summary has a row for it;
// - inference, value_and_grad and a train_step allocate nothing.
// Layers with state have their own list (tests/conformance_state.cpp).
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <ratio>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "../examples/count_allocations.hpp"
#include "../examples/per_feature_scale.hpp"
#include "support/conformance.hpp"

namespace sg = staticgrad;
using namespace sgtest::conformance;

namespace {

// forward = infer, and blocks of samples = one sample at a time, for L alone.
template <class L, class T>
void check_forward_and_blocks() {
  constexpr std::size_t samples = 5, in = L::in_size, out = L::out_size, cache = L::cache_size;
  sg::init::Rng rng(11);
  sg::Model<L, T> model{};
  sgtest::randomize(model, rng);
  const auto params = std::span<const T, L::param_count>(model.flat());
  const auto x = random_block<T, samples * in>(rng);
  const auto dy = random_block<T, samples * out>(rng);
  std::array<T, samples * out> y_infer, y_forward;
  std::array<T, samples * cache> caches;
  std::array<T, samples * in> dx_one;
  std::array<T, L::param_count> dparams_one{};
  const sg::detail::training_scope scope(key);
  for (std::size_t s = 0; s < samples; ++s) {
    const auto x_s = std::span<const T, in>(x.data() + s * in, in);
    L::template infer<T>(params, x_s, std::span<T, out>(y_infer.data() + s * out, out));
    L::template forward<T>(params, std::span<T, cache>(caches.data() + s * cache, cache), x_s,
                           std::span<T, out>(y_forward.data() + s * out, out));
  }
  if constexpr (!sg::detail::is_stochastic<L>) CHECK(y_infer == y_forward);  // Dropout: identity in inference
  for (std::size_t s = 0; s < samples; ++s) {
    constexpr sg::BackwardMode first{.accumulate = false}, others{.accumulate = true};
    const auto args = std::tuple(params, std::span<const T, cache>(caches.data() + s * cache, cache),
                                 std::span<const T, in>(x.data() + s * in, in),
                                 std::span<const T, out>(y_forward.data() + s * out, out),
                                 std::span<const T, out>(dy.data() + s * out, out), std::span<T, L::param_count>(dparams_one),
                                 std::span<T, in>(dx_one.data() + s * in, in));
    std::apply([&](auto... a) {
      if (s == 0) L::template backward<first, T>(a...);
      else L::template backward<others, T>(a...);
    }, args);
  }
  if constexpr (!sg::detail::is_stochastic<L>) {
    // One block: the layer's own block kernels where it has them, else the loop over samples.
    std::array<T, samples * out> y_block, y_block_forward;
    std::array<T, samples * cache> block_cache;
    std::array<T, samples * in> dx_block;
    std::array<T, L::param_count> dparams_block{};
    sg::detail::infer_block<L, samples, T>(params, x, y_block);
    sg::detail::forward_block<L, samples, T>(params, block_cache, x, y_block_forward);
    sg::detail::backward_block<sg::BackwardMode{}, L, samples, T>(params, block_cache, x, y_block_forward, dy,
                                                                 dparams_block, dx_block);
    const double tolerance = 64 * std::numeric_limits<T>::epsilon();
    check_close(y_block, y_infer, tolerance);
    check_close(y_block_forward, y_forward, tolerance);
    check_close(dx_block, dx_one, tolerance);
    check_close(dparams_block, dparams_one, tolerance);
  }
}

// L between two Dense layers, its parameters drawn with rng.
template <class L, class T>
std::unique_ptr<sg::Model<Surrounded<L>, T>> surrounded_model(sg::init::Rng& rng) {
  auto model = std::make_unique<sg::Model<Surrounded<L>, T>>();
  sgtest::randomize(*model, rng, 0.5);  // at 0.7, GELU's curvature on 24 inputs costs central differences 1.4e-6
  return model;
}

// The laws that need a whole network, for a layer that works sample by sample.
template <class L, class T>
void check_sample_layer_in_a_network() {
  using Net = Surrounded<L>;
  sg::init::Rng rng(13);
  const auto model = surrounded_model<L, T>(rng);
  const auto x = sgtest::random_vector<T, 3>(rng);
  const auto y = sgtest::random_vector<T, 2>(rng);

  if constexpr (std::is_same_v<T, double>) {
    const auto report = sg::gradcheck(*model, sg::MSE{}, x, y, {.training = key});
    CAPTURE(report.overall.relative);
    CHECK(report.passed);
    sg::Gradients<Net, T> generated, taped;
    const T generated_loss = sg::value_and_grad(*model, sg::MSE{}, x, y, generated, key);
    const T taped_loss = sg::tape::value_and_grad(*model, sg::MSE{}, x, y, taped, key);
    CHECK(sgtest::relative_error(generated_loss, taped_loss, 1e-30) <= 1e-12);
    check_close(generated.flat(), taped.flat(), 1e-12);
  }

  check_files_and_summary<L>(*model);

  auto grads = std::make_unique<sg::Gradients<Net, T>>();
  sg::SGD<Net, T> sgd{{.lr = 1e-3}};
  const std::vector<std::array<T, 3>> xs(40, x);
  const std::vector<std::array<T, 2>> ys(40, y);
  const std::size_t before = allocations;
  T sink = (*model)(x)[0];
  sink += sg::value_and_grad(*model, sg::MSE{}, x, y, *grads, key);
  sink += sg::value_and_grad(*model, sg::MSE{}, xs, ys, *grads, key);
  sink += sg::train_step(*model, sgd, sg::MSE{}, xs, ys, *grads, key);
  const std::size_t allocated = allocations - before;
  CHECK(allocated == 0);
  CHECK(!std::isnan(sink));
}

// The laws that need a whole network, for a layer that couples the samples of a batch in
// training (BatchNorm): it trains on a batch only, and on the generated engine only; the
// tape evaluates it (its running statistics), as model(x) does.
template <class L, class T>
void check_batch_coupled_in_a_network() {
  sg::init::Rng rng(13);
  const auto model = surrounded_model<L, T>(rng);
  std::vector<std::array<T, 3>> xs;
  std::vector<std::array<T, 2>> ys;
  for (int s = 0; s < 6; ++s) {
    xs.push_back(sgtest::random_vector<T, 3>(rng));
    ys.push_back(sgtest::random_vector<T, 2>(rng));
  }
  const auto report = sg::gradcheck(*model, sg::MSE{}, xs, ys, {.floor = 1e-4});
  CAPTURE(report.overall.relative);
  CHECK(report.passed);
  sg::tape::Tape<T> tape;
  check_close((*model)(xs[0]), sg::tape::infer(tape, *model, xs[0]), 64 * std::numeric_limits<T>::epsilon());
  check_files_and_summary<L>(*model);
}

// The laws that need a whole network: L between two Dense layers.
template <class L, class T>
void check_in_a_network() {
  if constexpr (sg::detail::couples_batch<L>()) {
    check_batch_coupled_in_a_network<L, T>();
  } else {
    check_sample_layer_in_a_network<L, T>();
  }
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("conformance: a layer meets every law of the Layer contract", L, conformance_layers) {
  SUBCASE("float") {
    check_forward_and_blocks<L, float>();
    check_in_a_network<L, float>();
  }
  SUBCASE("double") {
    check_forward_and_blocks<L, double>();
    check_in_a_network<L, double>();
  }
}

// Every layer kind, once: built-in leaves (Dense on both of its paths: one sample at a
// time, and the matrix-matrix kernels of a wide layer), composites, and a user's own.
TEST_CASE_TEMPLATE_APPLY(
    conformance_layers,
    std::tuple<sg::Dense<4, 5, sg::Tanh>, sg::Dense<24, 40, sg::GELU>, sg::Activation<sg::SiLU, 5>, sg::LayerNorm<5>,
               sg::RMSNorm<6>, sg::Softmax<5>, sg::Checkpoint<sg::Sequential<sg::Dense<4, 5, sg::Tanh>, sg::LayerNorm<5>>>, sg::PReLU<5>, sg::BatchNorm<5>, sg::BatchNorm<4, std::ratio<1, 100>, std::ratio<1, 5>>, sg::Dropout<6, std::ratio<1, 3>>, sg::LoRA<sg::Dense<4, 5, sg::Tanh>, 2>,
               sg::Frozen<sg::Dense<4, 5, sg::Sigmoid>>, sg::Sequential<sg::Dense<4, 3, sg::ReLU>, sg::LayerNorm<3>>,
               sg::Residual<sg::Dense<4, 4, sg::Tanh>, sg::Dense<4, 4>>,
               sg::Concat<sg::Dense<4, 2, sg::SiLU>, sg::Activation<sg::Tanh, 4>>,
               sg::Sum<sg::Dense<4, 3>, sg::Frozen<sg::Dense<4, 3, sg::GELU>>>,
               sg::Product<sg::Dense<4, 3, sg::Tanh>, sg::Dense<4, 3, sg::Sigmoid>, sg::Slice<1, 3, 4>>,
               sg::Conv1D<4, 6, 1, 1, sg::GELU>, sg::Conv1D<4, 6, 1, 3, sg::Tanh, 2>, PerFeatureScale<4>>);
