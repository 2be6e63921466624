// Causal convolutions and the merges around them: Conv1D (dilated, grouped) against
// PyTorch's nn.Conv1d over sequences from zero and given states (tests/data/sequences.txt),
// a gated block (Product) and FiLM conditioning (Slice, tests/data/golden.txt); the State's
// ring of past inputs, read and set by steps back; the parameters' names and PyTorch's
// tensor layout. The laws of every layer: tests/conformance*.cpp.
#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <memory>

#include <doctest/doctest.h>

#include "support/golden_file.hpp"
#include "support/sequence_case.hpp"
#include "support/testing.hpp"
#include "support/wavenet.hpp"

namespace sg = staticgrad;

namespace {

using Dilated = sg::Sequential<sg::Conv1D<2, 4, 3, 2, sg::Tanh>, sg::Dense<4, 1>>;
using GroupedThenGru = sg::Sequential<sg::Conv1D<2, 4, 2, 1, sg::Identity, 2>, sg::GRU<4, 3>, sg::Dense<3, 2>>;
using Gated = sg::Sequential<sg::Conv1D<1, 4, 2>,
                             sg::Product<sg::Conv1D<4, 3, 3, 2, sg::Tanh>, sg::Conv1D<4, 3, 3, 2, sg::Sigmoid>>,
                             sg::Dense<3, 1>>;

}  // namespace

TEST_CASE("convolution: outputs, loss, gradient through time and end state match PyTorch's nn.Conv1d, in double and float") {
  const auto cases = sgtest::read_data_file("sequences.txt");
  SUBCASE("dilated, from zeros") {
    sgtest::check_sequence_case_in_double_and_float<Dilated, 9>(cases, "conv_zero_state");
  }
  SUBCASE("grouped, then a GRU, from a given state") {
    sgtest::check_sequence_case_in_double_and_float<GroupedThenGru, 7>(cases, "conv_grouped_gru");
  }
  SUBCASE("a gated block, tanh(a) * sigmoid(b), from a given state") {
    sgtest::check_sequence_case_in_double_and_float<Gated, 8>(cases, "gated_conv");
  }
  SUBCASE("Neural Amp Modeler's WaveNet layers, the audio mixed into each, from a given state") {
    sgtest::check_sequence_case_in_double_and_float<sgtest::NamWaveNet<3>, 12>(cases, "nam_wavenet");
  }
}

TEST_CASE("convolution: receptive field and state size follow from kernel and dilation") {
  using C = sg::Conv1D<3, 8, 3, 4>;
  static_assert(C::history == 8 && C::receptive_field == 9);
  static_assert(sg::State<sg::Sequential<C, sg::Dense<8, 1>>, float>::size == 8 * 3 + 1);
  static_assert(sg::State<sg::Sequential<sg::Conv1D<3, 8, 1>, sg::Dense<8, 1>>, float>::size == 0);  // 1×1: no past
  static_assert(sg::Conv1D<4, 6, 3, 1, sg::Identity, 2>::param_count == 3 * 2 * 6 + 6);
  // Training over a sequence keeps each step's window (all channels at every tap), its
  // derivative and room for ∂L/∂z, grouped or not: never each step's ring, which grows with
  // the dilation
  using Grouped = sg::Conv1D<4, 6, 3, 64, sg::GELU, 2>;
  static_assert(sg::detail::steps_workspace_of<Grouped, 32>() == 32 * (3 * 4 + 6 + 6));
  static_assert(sg::detail::steps_workspace_of<sg::Conv1D<4, 6, 3, 64, sg::GELU>, 32>() ==
                sg::detail::steps_workspace_of<Grouped, 32>());
}

TEST_CASE_TEMPLATE("convolution: a long sequence in chunks of steps gives streaming's outputs and end state", T, float,
                   double) {
  // 150 steps: two chunks of 64 and one of 22 (detail::inference_chunk), a past of 80 steps
  // (longer than a chunk) and of 2, a 1×1 convolution, a grouped one (window by window), a GRU.
  using Net = sg::Sequential<sg::Conv1D<2, 4, 3, 40, sg::Tanh>, sg::Conv1D<4, 6, 2, 2, sg::GELU>, sg::Conv1D<6, 4, 1>,
                             sg::Conv1D<4, 4, 2, 1, sg::Identity, 2>, sg::GRU<4, 3>, sg::Dense<3, 2>>;
  constexpr std::size_t steps = 150;
  static_assert(steps % sg::detail::inference_chunk != 0 && steps > 2 * sg::detail::inference_chunk);
  const auto model = std::make_unique<sg::Model<Net, T>>(4);
  sg::init::Rng rng(9);
  const auto xs = std::make_unique<sg::Sequence<T, steps, 2>>();
  for (auto& x : *xs) x = sgtest::random_vector<T, 2>(rng);
  sg::State<Net, T> state;
  for (auto& v : state.template layer<4>().h()) v = static_cast<T>(rng.uniform(-0.5, 0.5));
  sgtest::check_sequence_as_streamed(*model, *xs, state);
}

TEST_CASE("convolution: a WaveNet is a type, its receptive field a constant") {
  using Net = sgtest::WaveNet<4, 3>;
  static_assert(sg::receptive_field<Net> == 1 + 2 * (1 + 2 + 4));
  static_assert(sg::receptive_field<sgtest::NamWaveNet<3>> == 1 + 2 * (1 + 2));
  static_assert(sg::receptive_field<sg::Sequential<sg::Dense<2, 3>, sg::Conv1D<3, 3, 5, 2>>> == 9);
  static_assert(sg::receptive_field<sg::Concat<sg::Conv1D<3, 3, 2, 8>, sg::Conv1D<3, 3, 5, 2>>> == 9);  // the longest
  static_assert(sg::receptive_field<sg::Sequential<sg::Conv1D<3, 3, 2>, sg::GRU<3, 3>>> ==
                std::numeric_limits<std::size_t>::max());
  // Its outputs depend on exactly the last receptive_field inputs: a change one step before
  // them changes nothing.
  const sg::Model<Net, double> model{3};
  constexpr std::size_t field = sg::receptive_field<Net>;
  sg::Sequence<double, field + 1, 1> xs, changed;
  sg::init::Rng rng(5);
  for (auto& x : xs) x[0] = rng.normal();
  changed = xs;
  changed[0][0] += 1;
  CHECK(model(xs)[field][0] == model(changed)[field][0]);
  changed = xs;
  changed[1][0] += 1;
  CHECK(model(xs)[field][0] != model(changed)[field][0]);
}

TEST_CASE("convolution: a WaveNet trains composite by composite through a sequence, its workspace holds no ring") {
  // Residual, Product and Concat run each child over all steps (core/steps.hpp): what the
  // backward pass keeps per step is the convolutions' windows and the children's outputs,
  // not the state before every step, which grows with the dilation.
  using Net = sgtest::WaveNet<4, 3>;
  static_assert(sg::detail::steps_workspace_of<sgtest::WaveNetLayer<4, 3, 3, 4>, 1>() ==
                sg::detail::steps_workspace_of<sgtest::WaveNetLayer<4, 3, 3, 512>, 1>());
  constexpr std::size_t steps = 70;  // past the receptive field: the rings wrap
  const sg::Model<Net, double> model{8};
  sg::init::Rng rng(12);
  const auto xs = std::make_unique<sg::Sequence<double, steps, 1>>();
  const auto ys = std::make_unique<sg::Sequence<double, steps, 1>>();
  for (std::size_t t = 0; t < steps; ++t) {
    (*xs)[t][0] = rng.normal();
    (*ys)[t][0] = rng.normal();
  }
  sg::State<Net, double> start;
  for (std::size_t t = 0; t < 20; ++t) model(std::array{rng.normal()}, start);
  sg::State<Net, double> generated_end = start, taped_end = start;
  const auto generated = std::make_unique<sg::Gradients<Net, double>>();
  const auto taped = std::make_unique<sg::Gradients<Net, double>>();
  const double loss = sg::value_and_grad(model, sg::MSE{}, *xs, *ys, *generated, generated_end);
  CHECK(sgtest::relative_error(loss, sg::tape::value_and_grad(model, sg::MSE{}, *xs, *ys, *taped, taped_end), 1e-12) <
        1e-12);
  for (std::size_t i = 0; i < sg::param_count<Net>; ++i) {
    CAPTURE(i);
    CHECK(sgtest::relative_error(generated->flat()[i], taped->flat()[i], 1e-12) < 1e-12);
  }
  // The rings hold the layers' outputs, which the two engines sum in their own orders.
  for (std::size_t i = 0; i < generated_end.flat().size(); ++i)
    CHECK(sgtest::relative_error(generated_end.flat()[i], taped_end.flat()[i], 1e-12) < 1e-12);
}

TEST_CASE("convolution: the state holds the past inputs, read and set by how many steps back") {
  using Net = sg::Sequential<sg::Conv1D<1, 2, 3, 2>>;  // taps at t, t − 2, t − 4
  sg::Model<Net, double> model{3};
  auto layer = model.layer<0>();
  sg::State<Net, double> state;
  const auto feed = [&](double x) { return model(std::array<double, 1>{x}, state); };
  for (double x : {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}) feed(x);
  for (std::size_t back = 1; back <= 4; ++back) CHECK(state.layer<0>().input(back)[0] == 7.0 - static_cast<double>(back));
  const auto y = feed(7.0);  // sees 7, 5 and 3
  for (std::size_t o = 0; o < 2; ++o)
    CHECK(y[o] == doctest::Approx(layer.bias(o) + layer.weight(o, 0, 2) * 7 + layer.weight(o, 0, 1) * 5 +
                                  layer.weight(o, 0, 0) * 3));
  state.layer<0>().input(4)[0] = 0;  // the 3 above, now the oldest input the next step reads (t − 4)
  const auto next = feed(8.0);      // sees 8, 6 and 0
  CHECK(next[0] == doctest::Approx(layer.bias(0) + layer.weight(0, 0, 2) * 8 + layer.weight(0, 0, 1) * 6));
  state.reset();
  CHECK(feed(1.0)[0] == doctest::Approx(layer.bias(0) + layer.weight(0, 0, 2)));
}

TEST_CASE("convolution: the weight is nn.Conv1d's [Out, In/Groups, Kernel] under its name, bias after it") {
  using C = sg::Conv1D<4, 6, 3, 2, sg::Tanh, 2>;
  sg::Model<sg::Sequential<C>, float> model{};
  const auto view = model.layer<0>();
  const auto weight = C::tensors[0];
  CHECK(weight.name == "weight");
  CHECK(weight.rank == 3);
  CHECK(weight.shape == decltype(weight.shape){6, 2, 3, 0});
  std::size_t k = 0;  // row-major over [o][i][tap], as a file holds it
  for (std::size_t o = 0; o < 6; ++o)
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t tap = 0; tap < 3; ++tap, ++k) CHECK(&model.flat()[weight.index(k)] == &view.weight(o, i, tap));
  CHECK(C::tensors[1].name == "bias");
  CHECK(&model.flat()[C::tensors[1].index(5)] == &view.bias(5));
}
