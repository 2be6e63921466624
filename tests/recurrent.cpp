// Networks with state (GRU): PyTorch's outputs, loss, gradient through time and end state
// (tests/data/sequences.txt, from zero and given states); streaming one step at a time
// equals a whole sequence; the State's views, reset and round trip; central differences
// through time; files; no allocation.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/io/safetensors.hpp>

#include "../examples/count_allocations.hpp"
#include "support/files.hpp"
#include "support/golden_file.hpp"
#include "support/sequence_case.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {

using Amp = sg::Sequential<sg::GRU<2, 5>, sg::Dense<5, 1>>;
using Stack = sg::Sequential<sg::GRU<3, 4>, sg::Residual<sg::Dense<4, 4, sg::Tanh>>, sg::GRU<4, 3>, sg::Dense<3, 2>>;
using LstmAmp = sg::Sequential<sg::LSTM<2, 5>, sg::Dense<5, 1>>;
using Mixed = sg::Sequential<sg::LSTM<3, 4>, sg::GRU<4, 3>, sg::Dense<3, 2, sg::Tanh>>;

}  // namespace

TEST_CASE("recurrent: outputs, loss, gradient through time and end state match PyTorch's nn.GRU and nn.LSTM, in double and float") {
  const auto cases = sgtest::read_data_file("sequences.txt");
  REQUIRE(cases.size() == 9);  // four are Conv1D networks (tests/convolution.cpp)
  SUBCASE("GRU from zero state") {
    sgtest::check_sequence_case_in_double_and_float<Amp, 7>(cases, "gru_zero_state");
  }
  SUBCASE("GRU from a given state") {
    sgtest::check_sequence_case_in_double_and_float<Amp, 7>(cases, "gru_given_state");
  }
  SUBCASE("two GRU layers and a residual block between them") {
    sgtest::check_sequence_case_in_double_and_float<Stack, 6>(cases, "gru_stack");
  }
  SUBCASE("LSTM from a given h and c") {
    sgtest::check_sequence_case_in_double_and_float<LstmAmp, 7>(cases, "lstm_given_state");
  }
  SUBCASE("an LSTM, then a GRU") {
    sgtest::check_sequence_case_in_double_and_float<Mixed, 6>(cases, "lstm_gru_stack");
  }
}

TEST_CASE_TEMPLATE("recurrent: the gradient through time agrees with central differences", T, float, double) {
  using Net = sg::Sequential<sg::Dense<2, 3, sg::Tanh>, sg::GRU<3, 4>, sg::Frozen<sg::GRU<4, 4>>, sg::Dense<4, 2>>;
  sg::init::Rng rng(3);
  sg::Model<Net, T> model{5};
  sg::Sequence<T, 9, 2> xs;
  sg::Sequence<T, 9, 2> ys;
  for (std::size_t t = 0; t < 9; ++t) {
    xs[t] = sgtest::random_vector<T, 2>(rng);
    ys[t] = sgtest::random_vector<T, 2>(rng);
  }
  const auto report = sg::gradcheck(model, sg::MSE{}, xs, ys);
  CAPTURE(report.overall.relative);
  CHECK(report.passed);
  // The Frozen GRU gets no gradient; the layers before it get theirs through it.
  const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, xs, ys);
  const auto frozen = grads.template layer<2>().flat();
  CHECK(std::all_of(frozen.begin(), frozen.end(), [](T g) { return g == T{0}; }));
  CHECK(grads.template layer<0>().weight(0, 0) != T{0});
  CHECK(std::isfinite(loss));
}

TEST_CASE("recurrent: an LSTM's state is h, then c") {
  sg::Model<LstmAmp, double> model{3};
  sg::State<LstmAmp, double> state;
  model(std::array<double, 2>{0.5, -1.0}, state);
  CHECK(state.layer<0>().h().data() == state.flat().data());
  CHECK(state.layer<0>().c().data() == state.flat().data() + 5);
  CHECK(state.layer<0>().c()[0] != 0);
}

// One step of Stack, compiled once: where g++ inlines the same call at several places, it
// may vectorize and contract each copy's products and sums differently (the last bit
// differs; -fno-tree-slp-vectorize or -ffp-contract=off make the copies equal), and the test
// below compares outputs bit for bit.
namespace {
[[gnu::noinline]] std::array<float, 2> stack_step(const sg::Model<Stack, float>& model, const std::array<float, 3>& x,
                                                  sg::State<Stack, float>& state) {
  return model(x, state);
}
}  // namespace

TEST_CASE("recurrent: a State starts at zero, is read and set through its layers, and resets") {
  sg::Model<Stack, float> model{2};
  sg::State<Stack, float> state;
  static_assert(decltype(state)::size == 4 + 3);
  CHECK(std::all_of(state.flat().begin(), state.flat().end(), [](float v) { return v == 0; }));
  const std::array<float, 3> x{0.5f, -1.0f, 0.25f};
  const auto model_step = [&] { return stack_step(model, x, state); };
  const auto first = model_step();
  CHECK(state.layer<0>().h()[0] != 0);          // the first GRU advanced
  CHECK(state.layer<2>().h().data() == state.flat().data() + 4);  // the second GRU's h follows it
  const auto saved = state;
  const auto second = model_step();             // from the advanced state: another output
  CHECK(second != first);
  state = saved;                                 // a stream restored
  CHECK(model_step() == second);
  state.reset();
  CHECK(model_step() == first);
  state.reset();
  state.layer<2>().h()[1] = 0.75f;               // set one layer's state by hand
  CHECK(model_step() != first);
}

TEST_CASE("recurrent: value_and_grad from a state continues a stream: windows chain like one sequence") {
  sg::Model<Amp, double> model{4};
  sg::init::Rng rng(8);
  sg::Sequence<double, 12, 2> xs;
  sg::Sequence<double, 12, 1> ys;
  for (std::size_t t = 0; t < 12; ++t) {
    xs[t] = sgtest::random_vector<double, 2>(rng);
    ys[t] = sgtest::random_vector<double, 1>(rng);
  }
  sg::Sequence<double, 6, 2> first_x, second_x;
  sg::Sequence<double, 6, 1> first_y, second_y;
  for (std::size_t t = 0; t < 6; ++t) {
    first_x[t] = xs[t], second_x[t] = xs[6 + t];
    first_y[t] = ys[t], second_y[t] = ys[6 + t];
  }
  sg::State<Amp, double> whole, windows;
  const double whole_loss = sg::value_and_grad(model, sg::MSE{}, xs, ys, whole).loss;
  const double first_loss = sg::value_and_grad(model, sg::MSE{}, first_x, first_y, windows).loss;
  const double second_loss = sg::value_and_grad(model, sg::MSE{}, second_x, second_y, windows).loss;
  CHECK(whole_loss == doctest::Approx((first_loss + second_loss) / 2).epsilon(1e-14));
  CHECK(std::equal(whole.flat().begin(), whole.flat().end(), windows.flat().begin()));
}

template <class T, std::size_t Len, std::size_t N>
std::vector<sg::Sequence<T, Len, N>> random_sequences(std::size_t count, sg::init::Rng& rng) {
  std::vector<sg::Sequence<T, Len, N>> sequences(count);
  for (auto& sequence : sequences)
    for (auto& step : sequence) step = sgtest::random_vector<T, N>(rng);
  return sequences;
}

TEST_CASE("recurrent: a batch of sequences gives the mean over its sequences, each from zero or from its State") {
  using Net = Mixed;
  const sg::Model<Net, double> model{5};
  sg::init::Rng rng(12);
  const auto xs = random_sequences<double, 7, 3>(3, rng);
  const auto ys = random_sequences<double, 7, 2>(3, rng);
  std::vector<sg::State<Net, double>> states(3), one_by_one(3);
  for (std::size_t s = 0; s < 3; ++s) {
    for (auto& v : states[s].flat()) v = rng.uniform(-0.5, 0.5);
    one_by_one[s] = states[s];
  }
  for (const bool from_states : {false, true}) {
    CAPTURE(from_states);
    const auto batch = from_states ? sg::value_and_grad(model, sg::MSE{}, xs, ys, states)
                                   : sg::value_and_grad(model, sg::MSE{}, xs, ys);
    double loss = 0;
    std::vector<double> grads(sg::param_count<Net>);
    for (std::size_t s = 0; s < 3; ++s) {
      const auto one = from_states ? sg::value_and_grad(model, sg::MSE{}, xs[s], ys[s], one_by_one[s])
                                   : sg::value_and_grad(model, sg::MSE{}, xs[s], ys[s]);
      loss += one.loss / 3;
      for (std::size_t i = 0; i < grads.size(); ++i) grads[i] += one.grads.flat()[i] / 3;
    }
    CHECK(batch.loss == doctest::Approx(loss).epsilon(1e-14));
    for (std::size_t i = 0; i < grads.size(); ++i)
      CHECK(sgtest::relative_error(batch.grads.flat()[i], grads[i], 1e-12) < 1e-12);
  }
  for (std::size_t s = 0; s < 3; ++s)  // each State left where its sequence ended
    CHECK(std::equal(states[s].flat().begin(), states[s].flat().end(), one_by_one[s].flat().begin()));
  std::vector<sg::State<Net, double>> too_few(2);
  CHECK_THROWS_WITH_AS(sg::value_and_grad(model, sg::MSE{}, xs, ys, too_few),
                       "staticgrad::value_and_grad: 3 sequences but 2 States", std::invalid_argument);
  CHECK_THROWS_AS(sg::value_and_grad(model, sg::MSE{}, xs, std::vector<sg::Sequence<double, 7, 2>>(2)),
                  std::invalid_argument);
}

TEST_CASE("recurrent: a batch of sequences on threads gives the same bits for any number of threads") {
  using Net = Amp;
  constexpr std::size_t count = 3 * sg::detail::shard_sequences<Net, 16> + 1;  // four shards
  static_assert(sg::detail::shardable_sequences<Net, float, 16>);
  const sg::Model<Net, float> model{9};
  sg::init::Rng rng(13);
  const auto xs = random_sequences<float, 16, 2>(count, rng);
  const auto ys = random_sequences<float, 16, 1>(count, rng);
  sg::LossAndGradients<Net, float> one_thread, two_threads;
  sgtest::on_threads(1, [&] { one_thread = sg::value_and_grad(model, sg::MSE{}, xs, ys); });
  sgtest::on_threads(2, [&] { two_threads = sg::value_and_grad(model, sg::MSE{}, xs, ys); });
  CHECK(one_thread.loss == two_threads.loss);
  CHECK(std::ranges::equal(one_thread.grads.flat(), two_threads.grads.flat()));
}

TEST_CASE("recurrent: train_step over sequences is value_and_grad then the optimizer's step") {
  sg::Model<Mixed, double> fused{3}, plain{3};
  sg::Adam<Mixed, double> fused_adam({.lr = 0.01}), plain_adam({.lr = 0.01});
  sg::init::Rng rng(14);
  const auto xs = random_sequences<double, 5, 3>(4, rng);
  const auto ys = random_sequences<double, 5, 2>(4, rng);
  auto grads = std::make_unique<sg::Gradients<Mixed, double>>();
  for (int step = 0; step < 3; ++step) {
    sg::train_step(fused, fused_adam, sg::MSE{}, xs, ys, *grads);
    sg::train_step(fused, fused_adam, sg::MSE{}, xs[1], ys[1], *grads);
    plain_adam.step(plain, sg::value_and_grad(plain, sg::MSE{}, xs, ys).grads);
    plain_adam.step(plain, sg::value_and_grad(plain, sg::MSE{}, xs[1], ys[1]).grads);
  }
  CHECK(sgtest::fingerprint(fused) == sgtest::fingerprint(plain));
  CHECK(sgtest::fingerprint(fused) != sgtest::fingerprint(sg::Model<Mixed, double>{3}));
}

// A recording of 2 inputs per step and its target: a one-pole low-pass of their sum, which
// a small GRU learns.
struct Recording {
  std::vector<std::array<double, 2>> inputs;
  std::vector<std::array<double, 1>> targets;
  explicit Recording(std::size_t steps) {
    sg::init::Rng rng(15);
    double smooth = 0;
    for (std::size_t t = 0; t < steps; ++t) {
      const std::array<double, 2> x{rng.uniform(-1, 1), 0.5 * std::sin(0.3 * static_cast<double>(t))};
      smooth += 0.3 * (x[0] + x[1] - smooth);
      inputs.push_back(x);
      targets.push_back({smooth});
    }
  }
};

TEST_CASE("recurrent: fit_windows with carried states is truncated BPTT over consecutive windows of each stream") {
  const Recording recording(2 * (3 + 4 * 6) + 5);  // two streams: 3 warm-up steps, 4 windows of 6, 5 left over
  sg::Model<Amp, double> model{2}, by_hand{2};
  sg::SGD<Amp, double> sgd({.lr = 0.05, .momentum = 0.9}), sgd_by_hand({.lr = 0.05, .momentum = 0.9});
  const sg::WindowOptions options{.epochs = 2, .batch_size = 2, .carry_state = true, .warmup = 3};
  const auto history = sg::fit_windows<6>(model, sgd, sg::MSE{}, recording.inputs, recording.targets, options);
  REQUIRE(history.size() == 8);

  const std::size_t stream_length = recording.inputs.size() / 2;
  std::vector<double> losses;
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<sg::State<Amp, double>> states(2);
    for (std::size_t s = 0; s < 2; ++s)
      for (std::size_t t = 0; t < 3; ++t) by_hand(recording.inputs[s * stream_length + t], states[s]);
    for (std::size_t window = 0; window < 4; ++window) {
      std::vector<sg::Sequence<double, 6, 2>> xs(2);
      std::vector<sg::Sequence<double, 6, 1>> ys(2);
      for (std::size_t s = 0; s < 2; ++s)
        for (std::size_t t = 0; t < 6; ++t) {
          xs[s][t] = recording.inputs[s * stream_length + 3 + window * 6 + t];
          ys[s][t] = recording.targets[s * stream_length + 3 + window * 6 + t];
        }
      const auto [loss, grads] = sg::value_and_grad(by_hand, sg::MSE{}, xs, ys, states);
      sgd_by_hand.step(by_hand, grads);
      losses.push_back(loss);
    }
  }
  CHECK(history == losses);
  CHECK(sgtest::fingerprint(model) == sgtest::fingerprint(by_hand));
}

TEST_CASE("recurrent: fit_windows with independent windows warms each up from zero, and learns") {
  const Recording recording(4 + 10 * 8);
  sg::Model<Amp, double> model{3};
  sg::Adam<Amp, double> adam({.lr = 0.02});
  const sg::WindowOptions options{.epochs = 60, .batch_size = 4, .warmup = 4, .seed = 5};
  std::size_t epoch_ends = 0;
  std::vector<std::size_t> allocations_after;  // each step's, counted in the callback
  allocations_after.reserve(60 * 3);
  const auto history = sg::fit_windows<8>(model, adam, sg::MSE{}, recording.inputs, recording.targets, options,
                                          [&](const sg::FitStep<Amp, double>& step) {
                                            epoch_ends += step.epoch_end;
                                            allocations_after.push_back(allocations);
                                          });
  CHECK(history.size() == 60 * 3);  // 10 windows, 4 to a step
  CHECK(epoch_ends == 60);
  CHECK(allocations_after.front() == allocations_after.back());  // a step allocates nothing
  CHECK(history.back() < history.front() / 10);

  // One window's loss, warmed up by hand: the model's loss on it from that state.
  sg::Model<Amp, double> once{3};
  sg::Adam<Amp, double> one_step({.lr = 0.02});
  const sg::WindowOptions single{.batch_size = 1, .warmup = 4};
  const Recording one_window(4 + 8);
  const auto first = sg::fit_windows<8>(once, one_step, sg::MSE{}, one_window.inputs, one_window.targets, single);
  sg::State<Amp, double> warmed;
  const sg::Model<Amp, double> start{3};
  for (std::size_t t = 0; t < 4; ++t) start(one_window.inputs[t], warmed);
  sg::Sequence<double, 8, 2> xs;
  sg::Sequence<double, 8, 1> ys;
  for (std::size_t t = 0; t < 8; ++t) xs[t] = one_window.inputs[4 + t], ys[t] = one_window.targets[4 + t];
  REQUIRE(first.size() == 1);
  CHECK(first[0] == sg::value_and_grad(start, sg::MSE{}, xs, ys, warmed).loss);

  CHECK_THROWS_WITH_AS(sg::fit_windows<8>(once, one_step, sg::MSE{}, std::span(one_window.inputs).first(11),
                                          std::span(one_window.targets).first(11), single),
                       "staticgrad::fit_windows: 11 steps make no window of 8 after 4 warm-up steps",
                       std::invalid_argument);
}

// Both engines through time on a network, from zeros and from States, one sequence and a
// batch: the same loss, gradient and end states (1e-12: they differ in the order of sums).
template <class Net>
void check_tape_through_time() {
  CAPTURE(sg::detail::spec_name<Net>());
  const sg::Model<Net, double> model{21};
  sg::init::Rng rng(22);
  const auto xs = random_sequences<double, 6, Net::in_size>(3, rng);
  const auto ys = random_sequences<double, 6, Net::out_size>(3, rng);
  std::vector<sg::State<Net, double>> generated_states(3), tape_states(3);
  for (auto& state : generated_states)
    for (auto& v : state.flat()) v = rng.uniform(-0.5, 0.5);
  tape_states = generated_states;
  const auto same = [](const sg::LossAndGradients<Net, double>& a, const sg::LossAndGradients<Net, double>& b) {
    CHECK(sgtest::relative_error(a.loss, b.loss, 1e-12) < 1e-12);
    for (std::size_t i = 0; i < sg::param_count<Net>; ++i)
      CHECK(sgtest::relative_error(a.grads.flat()[i], b.grads.flat()[i], 1e-12) < 1e-12);
  };
  same(sg::value_and_grad(model, sg::MSE{}, xs[0], ys[0]), sg::tape::value_and_grad(model, sg::MSE{}, xs[0], ys[0]));
  same(sg::value_and_grad(model, sg::MSE{}, xs, ys), sg::tape::value_and_grad(model, sg::MSE{}, xs, ys));
  same(sg::value_and_grad(model, sg::MSE{}, xs[1], ys[1], generated_states[1]),
       sg::tape::value_and_grad(model, sg::MSE{}, xs[1], ys[1], tape_states[1]));
  same(sg::value_and_grad(model, sg::MSE{}, xs, ys, generated_states),
       sg::tape::value_and_grad(model, sg::MSE{}, xs, ys, tape_states));
  for (std::size_t s = 0; s < 3; ++s)
    for (std::size_t i = 0; i < sg::State<Net, double>::size; ++i)
      CHECK(tape_states[s].flat()[i] == doctest::Approx(generated_states[s].flat()[i]).epsilon(1e-13));
  sg::tape::Tape<double> tape;
  sg::State<Net, double> streamed, taped;
  for (const auto& x : xs[2]) {  // one step at a time
    const auto y = model(x, streamed), y_tape = sg::tape::infer(tape, model, x, taped);
    for (std::size_t o = 0; o < Net::out_size; ++o) CHECK(y_tape[o] == doctest::Approx(y[o]).epsilon(1e-13));
  }
  for (std::size_t i = 0; i < sg::State<Net, double>::size; ++i)
    CHECK(taped.flat()[i] == doctest::Approx(streamed.flat()[i]).epsilon(1e-13));
}

TEST_CASE("recurrent: the tape gives the generated engine's loss, gradient and end states through time") {
  check_tape_through_time<Amp>();
  check_tape_through_time<Mixed>();
  check_tape_through_time<Stack>();
  check_tape_through_time<sg::Sequential<sg::Concat<sg::GRU<3, 2>, sg::Frozen<sg::LSTM<3, 2>>>, sg::Dense<4, 2>>>();
}

TEST_CASE("recurrent: files keep a GRU network's parameters, named as PyTorch names nn.GRU's tensors") {
  const std::vector<std::string> expected{"0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0",
                                          "1.weight", "1.bias"};
  CHECK(sg::tensor_names<Amp>() == expected);
  sgtest::Folder folder("recurrent_files");
  const sg::Model<Amp, float> model{6};
  sg::save(model, folder.path / "amp.sgrd");
  sg::save_safetensors(model, folder.path / "amp.safetensors");
  sg::Model<Amp, float> from_binary{}, from_safetensors{};
  sg::load(from_binary, folder.path / "amp.sgrd");
  sg::load_safetensors(from_safetensors, folder.path / "amp.safetensors");
  CHECK(sgtest::fingerprint(from_binary) == sgtest::fingerprint(model));
  CHECK(sgtest::fingerprint(from_safetensors) == sgtest::fingerprint(model));
  // weight_ih_l0[g][i] is the flat [In][3·Hidden] array's [i][g].
  CHECK(model.layer<0>().weight_ih(7, 1) == model.flat()[1 * 15 + 7]);
}

TEST_CASE("recurrent: nn.GRU(num_layers=2)'s tensor names load into two stacked GRU layers") {
  using TwoLayers = sg::Sequential<sg::GRU<2, 5>, sg::GRU<5, 5>, sg::Dense<5, 1>>;
  auto names = sg::recurrent_stack_names("rnn", 2);
  CHECK(names == std::vector<std::string>{"rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                                          "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1"});
  names.insert(names.end(), {"head.weight", "head.bias"});
  sgtest::Folder folder("recurrent_stack_names");
  const sg::Model<TwoLayers, float> model{8};
  sg::save_safetensors(model, folder.path / "rnn.safetensors", names);
  sg::Model<TwoLayers, float> loaded{};
  sg::load_safetensors(loaded, folder.path / "rnn.safetensors", names);
  CHECK(sgtest::fingerprint(loaded) == sgtest::fingerprint(model));
  CHECK_THROWS_AS(sg::load_safetensors(loaded, folder.path / "rnn.safetensors"), std::runtime_error);  // 0.…, 1.…
}

TEST_CASE("recurrent: a step and a sequence's value_and_grad allocate nothing") {
  const auto model = std::make_unique<sg::Model<Amp, float>>(1);
  auto grads = std::make_unique<sg::Gradients<Amp, float>>();
  sg::State<Amp, float> state;
  sg::Sequence<float, 32, 2> xs{};
  sg::Sequence<float, 32, 1> ys{};
  const std::size_t before = allocations;
  float sink = 0;
  for (int i = 0; i < 100; ++i) sink += (*model)(std::array<float, 2>{0.1f * static_cast<float>(i), 0.5f}, state)[0];
  sink += sg::value_and_grad(*model, sg::MSE{}, xs, ys, *grads, state);
  sink += sg::value_and_grad(*model, sg::MSE{}, xs, ys).loss;
  CHECK(allocations == before);
  CHECK(std::isfinite(sink));
}
