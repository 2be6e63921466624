// Checkpoint<L>: the network keeps no cache for L, the backward pass recomputes L's
// forward; the gradients are bit for bit those of the same network without checkpoints,
// for one sample, blocks of samples, a batch split across threads, a sequence and with
// Dropout inside, and the tape (which records L as usual) agrees.
#include <array>
#include <cstddef>
#include <cstdint>
#include <ratio>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>
#include <staticgrad/io/safetensors.hpp>
#include <staticgrad/summary.hpp>

namespace sg = staticgrad;

namespace {

using Segment1 = sg::Sequential<sg::Dense<6, 8, sg::Tanh>, sg::Dense<8, 8, sg::GELU>, sg::LayerNorm<8>>;
using Segment2 = sg::Sequential<sg::Dense<8, 8, sg::SiLU>, sg::Residual<sg::Dense<8, 8, sg::Tanh>>>;
using Plain = sg::Sequential<Segment1, Segment2, sg::Dense<8, 3>>;
using Checkpointed = sg::Sequential<sg::Checkpoint<Segment1>, sg::Checkpoint<Segment2>, sg::Dense<8, 3>>;
static_assert(std::is_same_v<sg::detail::without_checkpoints<Checkpointed>::type, Plain>);
static_assert(Checkpointed::cache_size < Plain::cache_size);
static_assert(sg::param_count<Checkpointed> == sg::param_count<Plain>);

template <class T>
std::vector<std::array<T, 6>> inputs(std::size_t count) {
  std::vector<std::array<T, 6>> xs(count);
  for (std::size_t s = 0; s < count; ++s)
    for (std::size_t i = 0; i < 6; ++i) xs[s][i] = static_cast<T>(0.3 * static_cast<double>((s * 7 + i * 3) % 11) - 1.4);
  return xs;
}

template <class T>
void check_same_gradients(std::size_t count) {
  const sg::Model<Plain, T> plain{5};
  const sg::Model<Checkpointed, T> checkpointed{5};
  REQUIRE(std::ranges::equal(plain.flat(), checkpointed.flat()));
  const auto xs = inputs<T>(count);
  std::vector<std::size_t> classes(count);
  for (std::size_t s = 0; s < count; ++s) classes[s] = s % 3;
  const auto a = sg::value_and_grad(plain, sg::SoftmaxCrossEntropy{}, xs, classes);
  const auto b = sg::value_and_grad(checkpointed, sg::SoftmaxCrossEntropy{}, xs, classes);
  CHECK(a.loss == b.loss);
  CHECK(std::ranges::equal(a.grads.flat(), b.grads.flat()));
  for (std::size_t s = 0; s < count; ++s) CHECK(plain(xs[s]) == checkpointed(xs[s]));
}

}  // namespace

TEST_CASE_TEMPLATE("checkpoint: gradients bit for bit those without it, one sample, blocks, threads", T, float,
                   double) {
  for (const std::size_t count : {std::size_t{1}, std::size_t{37}, std::size_t{1000}}) {
    CAPTURE(count);
    check_same_gradients<T>(count);
  }
}

TEST_CASE("checkpoint: input_grad and the tape agree with the plain network") {
  const sg::Model<Plain, double> plain{7};
  const sg::Model<Checkpointed, double> checkpointed{7};
  const std::array<double, 6> x{0.5, -1.0, 0.25, 2.0, -0.75, 0.1};
  const std::array<double, 3> y{0.2, -0.4, 1.0};
  const auto a = sg::input_grad(plain, sg::MSE{}, x, y);
  const auto b = sg::input_grad(checkpointed, sg::MSE{}, x, y);
  CHECK(a.loss == b.loss);
  CHECK(a.dx == b.dx);
  const auto generated = sg::value_and_grad(checkpointed, sg::MSE{}, x, y);
  const auto taped = sg::tape::value_and_grad(checkpointed, sg::MSE{}, x, y);
  CHECK(taped.loss == doctest::Approx(generated.loss).epsilon(1e-12));
  for (std::size_t i = 0; i < sg::param_count<Checkpointed>; ++i)
    CHECK(taped.grads.flat()[i] == doctest::Approx(generated.grads.flat()[i]).epsilon(1e-12));
}

// Dropout inside and after a checkpoint: the recomputed forward pass draws the masks the
// first one drew, so the gradients are those of the network without the checkpoint, bit for
// bit, and the masks of the Dropout after it are not moved.
using DropoutBlock =
    sg::Sequential<sg::Dense<6, 8, sg::Tanh>, sg::Dropout<8, std::ratio<1, 4>>, sg::Dense<8, 8, sg::Tanh>>;
using DropoutAfter = sg::Dropout<8, std::ratio<1, 3>>;
using PlainDropout = sg::Sequential<DropoutBlock, DropoutAfter, sg::Dense<8, 3>>;
using CheckpointedDropout = sg::Sequential<sg::Checkpoint<DropoutBlock>, DropoutAfter, sg::Dense<8, 3>>;
static_assert(sg::Checkpoint<DropoutBlock>::cache_size == 4 && sg::Checkpoint<Segment1>::cache_size == 0);

TEST_CASE_TEMPLATE("checkpoint: with Dropout inside, the same masks again: gradients bit for bit those without it",
                   T, float, double) {
  const sg::Model<PlainDropout, T> plain{8};
  const sg::Model<CheckpointedDropout, T> checkpointed{8};
  for (const std::size_t count : {std::size_t{1}, std::size_t{37}, std::size_t{1000}}) {
    CAPTURE(count);
    const auto xs = inputs<T>(count);
    std::vector<std::size_t> classes(count);
    for (std::size_t s = 0; s < count; ++s) classes[s] = s % 3;
    for (std::uint64_t step = 0; step < 3; ++step) {
      CAPTURE(step);
      const sg::Training training{11, step};
      const auto a = sg::value_and_grad(plain, sg::SoftmaxCrossEntropy{}, xs, classes, training);
      const auto b = sg::value_and_grad(checkpointed, sg::SoftmaxCrossEntropy{}, xs, classes, training);
      CHECK(a.loss == b.loss);
      CHECK(std::ranges::equal(a.grads.flat(), b.grads.flat()));
      // the masks matter: another step draws others
      const sg::Training other{11, step + 7};
      CHECK(b.loss != sg::value_and_grad(checkpointed, sg::SoftmaxCrossEntropy{}, xs, classes, other).loss);
    }
  }
  const auto x = inputs<T>(1)[0];
  const std::array<T, 3> y{T(0.2), T(-0.4), T(1)};
  if constexpr (std::is_same_v<T, double>) {
    const auto generated = sg::value_and_grad(checkpointed, sg::MSE{}, x, y, sg::Training{2, 3});
    const auto taped = sg::tape::value_and_grad(checkpointed, sg::MSE{}, x, y, sg::Training{2, 3});
    CHECK(taped.loss == doctest::Approx(generated.loss).epsilon(1e-12));
    for (std::size_t i = 0; i < sg::param_count<CheckpointedDropout>; ++i)
      CHECK(taped.grads.flat()[i] == doctest::Approx(generated.grads.flat()[i]).epsilon(1e-12));
  }
}

TEST_CASE("checkpoint: a stateless block inside a recurrent network, through a sequence") {
  using Block = sg::Sequential<sg::Dense<5, 5, sg::Tanh>, sg::Dense<5, 5, sg::Tanh>>;
  using PlainRnn = sg::Sequential<sg::GRU<2, 5>, Block, sg::Dense<5, 1>>;
  using CheckpointedRnn = sg::Sequential<sg::GRU<2, 5>, sg::Checkpoint<Block>, sg::Dense<5, 1>>;
  static_assert(sg::detail::sequence_workspace_bytes<CheckpointedRnn, float, 64> <
                sg::detail::sequence_workspace_bytes<PlainRnn, float, 64>);
  // whose peak counts the block's cache and outputs recomputed for all 64 steps
  static_assert(sg::detail::recompute_scalars<CheckpointedRnn, 64>() == 64 * (Block::cache_size + 5));
  static_assert(sg::detail::recompute_scalars<PlainRnn, 64>() == 0);
  const sg::Model<PlainRnn, float> plain{3};
  const sg::Model<CheckpointedRnn, float> checkpointed{3};
  sg::Sequence<float, 64, 2> xs{};
  sg::Sequence<float, 64, 1> ys{};
  for (std::size_t t = 0; t < 64; ++t) {
    xs[t] = {static_cast<float>(t % 7) * 0.2f - 0.6f, static_cast<float>(t % 5) * 0.3f - 0.5f};
    ys[t] = {static_cast<float>(t % 3) * 0.5f - 0.5f};
  }
  const auto a = sg::value_and_grad(plain, sg::MSE{}, xs, ys);
  const auto b = sg::value_and_grad(checkpointed, sg::MSE{}, xs, ys);
  CHECK(a.loss == b.loss);
  CHECK(std::ranges::equal(a.grads.flat(), b.grads.flat()));
}

// A layer with state checkpointed: a GRU, which runs step by step, keeps its state before
// each step and runs each step again; a Sequential, which runs layer by layer, keeps the
// state before the first step and runs all of them again. Bit for bit the plain network,
// from zeros and from given States, on threads.
template <class Plain, class Checkpointed>
void check_same_through_time() {
  const sg::Model<Plain, double> plain{4};
  const sg::Model<Checkpointed, double> checkpointed{4};
  REQUIRE(std::ranges::equal(plain.flat(), checkpointed.flat()));
  std::vector<sg::Sequence<double, 40, 2>> xs(6);
  std::vector<sg::Sequence<double, 40, 1>> ys(6);
  for (std::size_t s = 0; s < xs.size(); ++s)
    for (std::size_t t = 0; t < 40; ++t) {
      xs[s][t] = {static_cast<double>((t + s) % 7) * 0.2 - 0.6, static_cast<double>((t * s) % 5) * 0.3 - 0.5};
      ys[s][t] = {static_cast<double>((t + 2 * s) % 3) * 0.5 - 0.5};
    }
  const auto a = sg::value_and_grad(plain, sg::MSE{}, xs[0], ys[0]);
  const auto b = sg::value_and_grad(checkpointed, sg::MSE{}, xs[0], ys[0]);
  CHECK(a.loss == b.loss);
  CHECK(std::ranges::equal(a.grads.flat(), b.grads.flat()));
  std::vector<sg::State<Plain, double>> plain_states(6);
  std::vector<sg::State<Checkpointed, double>> checkpointed_states(6);
  for (std::size_t s = 0; s < 6; ++s) {
    plain(xs[s][0], plain_states[s]);
    checkpointed(xs[s][0], checkpointed_states[s]);
  }
  const auto c = sg::value_and_grad(plain, sg::MSE{}, xs, ys, plain_states);
  const auto d = sg::value_and_grad(checkpointed, sg::MSE{}, xs, ys, checkpointed_states);
  CHECK(c.loss == d.loss);
  CHECK(std::ranges::equal(c.grads.flat(), d.grads.flat()));
  for (std::size_t s = 0; s < 6; ++s) CHECK(std::ranges::equal(plain_states[s].flat(), checkpointed_states[s].flat()));
}

TEST_CASE("checkpoint: a layer with state, step by step or layer by layer") {
  using Gru = sg::GRU<2, 5>;
  using Head = sg::Sequential<sg::Dense<5, 5, sg::Tanh>, sg::Dense<5, 1>>;
  SUBCASE("a GRU keeps its state before each step, not its gates") {
    check_same_through_time<sg::Sequential<Gru, Head>, sg::Sequential<sg::Checkpoint<Gru>, Head>>();
    static_assert(sg::detail::steps_workspace_of<sg::Checkpoint<Gru>, 64>() == 64 * 5);
    static_assert(sg::detail::steps_workspace_of<Gru, 64>() == 64 * (5 + Gru::cache_size));
  }
  SUBCASE("two segments with state, each recomputed whole in its turn") {
    using First = sg::Sequential<sg::LSTM<2, 5>, sg::Dense<5, 5, sg::Tanh>>;
    using Second = sg::Sequential<sg::Conv1D<5, 5, 3, 2, sg::Tanh>, sg::GRU<5, 5>>;
    using PlainSegments = sg::Sequential<First, Second, sg::Dense<5, 1>>;
    using CheckpointedSegments = sg::Sequential<sg::Checkpoint<First>, sg::Checkpoint<Second>, sg::Dense<5, 1>>;
    check_same_through_time<PlainSegments, CheckpointedSegments>();
    // Each segment keeps one state, whichever compiler checks the constraint
    static_assert(sg::detail::steps_workspace_of<sg::Checkpoint<First>, 256>() == sg::detail::state_size_of<First>());
    static_assert(sg::detail::sequence_workspace_bytes<CheckpointedSegments, float, 256> <
                  sg::detail::sequence_workspace_bytes<PlainSegments, float, 256>);
  }
}

TEST_CASE("checkpoint: paths, names and summary") {
  sg::Model<Checkpointed, float> model{1};
  CHECK(model.layer<0>().layer<0>().weight(0, 0) == model.flat()[0]);  // looks through Checkpoint
  CHECK(sg::tensor_names<Checkpointed>() == sg::tensor_names<Plain>());
  std::ostringstream out;
  sg::summary<Checkpointed>(out);
  CAPTURE(out.str());
  CHECK(out.str().find("Checkpoint Sequential") != std::string::npos);
  CHECK(out.str().find("checkpoints: " + std::to_string(Checkpointed::cache_size * 4) + " bytes of cache kept per sample, " +
                       std::to_string(Plain::cache_size * 4) + " without them") != std::string::npos);
}
