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
// A layer with state (GRU) is registered in a second list, whose checks run it over
// sequences.
#include <array>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <memory>
#include <ratio>
#include <sstream>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/io/safetensors.hpp>

#include "../examples/count_allocations.hpp"
#include "../examples/per_feature_scale.hpp"
#include "support/files.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {

// The layer under test between two Dense layers: its input gradient reaches the first
// one's parameters, and the last mixes its outputs into the loss.
template <class L>
using Surrounded = sg::Sequential<sg::Dense<3, L::in_size, sg::Tanh>, L, sg::Dense<L::out_size, 2>>;

// Dropout's masks: the same key for every evaluation.
constexpr sg::Training key{.seed = 7, .step = 3};

// Random inputs for a block of samples, sample-major.
template <class T, std::size_t Size>
std::array<T, Size> random_block(sg::init::Rng& rng) {
  std::array<T, Size> block;
  for (auto& v : block) v = static_cast<T>(rng.normal());
  return block;
}

// |a − b| ≤ tolerance · max(|a|, |b|, 1), for every element.
template <class A, class B>
void check_close(const A& a, const B& b, double tolerance) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(sgtest::relative_error(static_cast<double>(a[i]), static_cast<double>(b[i]), 1.0) <= tolerance);
  }
}

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

// What summary's row for L says: a leaf's name, a composite's label, a Frozen layer's.
template <class L>
std::string summary_label() {
  if constexpr (sg::detail::is_wrapper<L>())
    return std::string(L::summary_label) + " " + summary_label<boost::mp11::mp_front<typename L::children>>();
  else if constexpr (sg::detail::CompositeLayer<L>)
    return std::string(L::summary_label);
  else
    return std::string(sg::detail::spec_name_v<L>);
}

// Every parameter in exactly one safetensors tensor.
template <class Net>
void check_tensors_cover_parameters() {
  std::vector<int> covered(sg::param_count<Net>, 0);
  for (const auto& tensor : sg::detail::torch_tensors<Net>())
    for (std::size_t k = 0; k < tensor.size(); ++k) ++covered.at(tensor.flat_index(k));
  for (std::size_t i = 0; i < covered.size(); ++i) {
    CAPTURE(i);
    CHECK(covered[i] == 1);
  }
}

template <class Net, class T>
void check_round_trips(const sg::Model<Net, T>& model) {
  // A folder of its own: ctest runs the layers' cases at the same time.
  sgtest::Folder folder("conformance_" + std::to_string(sg::structure_fingerprint<Net>) + "_" +
                        std::to_string(sizeof(T)));
  sg::save(model, folder.path / "model.sgrd");
  sg::save_safetensors(model, folder.path / "model.safetensors");
  sg::Model<Net, T> from_binary{}, from_safetensors{};
  sg::load(from_binary, folder.path / "model.sgrd");
  sg::load_safetensors(from_safetensors, folder.path / "model.safetensors");
  CHECK(sgtest::fingerprint(from_binary) == sgtest::fingerprint(model));
  CHECK(sgtest::fingerprint(from_safetensors) == sgtest::fingerprint(model));
}

// Both file formats return every bit, every parameter is in one safetensors tensor, and
// summary has a row for L (layer 1 of the network).
template <class L, class Net, class T>
void check_files_and_summary(const sg::Model<Net, T>& model) {
  check_round_trips(model);
  check_tensors_cover_parameters<Net>();
  std::ostringstream table;
  sg::summary<Net, T>(table);
  CAPTURE(table.str());
  CHECK(table.str().find("\n1          " + summary_label<L>()) != std::string::npos);
}

// The laws that need a whole network: L between two Dense layers.
template <class L, class T>
void check_in_a_network() {
  using Net = Surrounded<L>;
  sg::init::Rng rng(13);
  auto model = std::make_unique<sg::Model<Net, T>>();
  sgtest::randomize(*model, rng, 0.5);  // at 0.7, GELU's curvature on 24 inputs costs central differences 1.4e-6
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

}  // namespace

// A layer with state (core/steps.hpp), between two Dense layers: a step for inference
// equals a step of training, streaming equals a whole sequence, the gradient through time
// agrees with central differences and with the tape's, files, a summary row, no allocation.
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
  for (std::size_t t = 0; t < steps; ++t) {
    const auto y = (*model)(xs[t], streamed);
    std::array<T, 2> y_training;
    sg::detail::forward_block<Net, 1, T>(model->flat(), std::span<const T, S>(state), std::span<T, S>(next), cache,
                                         std::span<const T, 3>(xs[t]), std::span<T, 2>(y_training));
    CHECK(y == y_training);
    CHECK(std::equal(next.begin(), next.end(), streamed.flat().begin()));
    state = next;
  }
  sg::State<Net, T> whole;
  const auto outputs = (*model)(xs, whole);
  CHECK((*model)(xs)[steps - 1] == outputs[steps - 1]);
  CHECK(std::equal(whole.flat().begin(), whole.flat().end(), streamed.flat().begin()));

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
               sg::RMSNorm<6>, sg::PReLU<5>, sg::Dropout<6, std::ratio<1, 3>>, sg::LoRA<sg::Dense<4, 5, sg::Tanh>, 2>,
               sg::Frozen<sg::Dense<4, 5, sg::Sigmoid>>, sg::Sequential<sg::Dense<4, 3, sg::ReLU>, sg::LayerNorm<3>>,
               sg::Residual<sg::Dense<4, 4, sg::Tanh>, sg::Dense<4, 4>>,
               sg::Concat<sg::Dense<4, 2, sg::SiLU>, sg::Activation<sg::Tanh, 4>>,
               sg::Sum<sg::Dense<4, 3>, sg::Frozen<sg::Dense<4, 3, sg::GELU>>>, PerFeatureScale<4>>);

TEST_CASE_TEMPLATE_DEFINE("conformance: a layer with state meets the laws of the step protocol", L, stateful_layers) {
  SUBCASE("float") { check_with_state<L, float>(); }
  SUBCASE("double") { check_with_state<L, double>(); }
}

// Every layer kind with state, and the composites around one.
TEST_CASE_TEMPLATE_APPLY(stateful_layers,
                         std::tuple<sg::GRU<4, 5>, sg::LSTM<4, 5>, sg::Frozen<sg::GRU<4, 5>>,
                                    sg::Sequential<sg::GRU<4, 3>, sg::Dense<3, 5>>, sg::Residual<sg::LSTM<4, 4>>,
                                    sg::Concat<sg::GRU<4, 3>, sg::Dense<4, 2, sg::Tanh>>,
                                    sg::Sum<sg::LSTM<4, 3>, sg::Sequential<sg::Dense<4, 4>, sg::GRU<4, 3>>>>);
