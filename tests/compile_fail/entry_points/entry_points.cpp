// Every entry point given each mistake a user makes with inputs and targets. CMake builds
// this file once per (mistake, entry) pair that applies, with -DMISTAKE=<mistake>
// -DENTRY=<entry>: compiling must fail with one error that contains the mistake's
// "expects" text, and the call's line (the one after "entry: <entry>") must be in the
// trail. The control (-DSTATICGRAD_COMPILE_FAIL_OK) compiles every entry, correctly used.
//
// A "mistake:" line: name, what it is a mistake in (input or target; "sized" when a
// Sequence can hold it), and the text the diagnostic must contain. An "entry:" line: name,
// and which of the call's arguments a mistake may be in ("sized": a Sequence's steps).
#include <array>
#include <cstddef>
#include <vector>

#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;
using Net = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 2>>;
using Rnn = sg::Sequential<sg::GRU<3, 4>, sg::Dense<4, 2>>;

// What a correct call passes: one input and one target.
struct correct {
  using X = std::array<float, 3>;
  using Y = std::array<float, 2>;
};
// mistake: input_size (input sized) expects: check_input_size<3, 4>
struct input_size : correct {
  using X = std::array<float, 4>;
};
// mistake: input_type (input sized) expects: check_scalar_type<double, float, false>
struct input_type : correct {
  using X = std::array<double, 3>;
};
// mistake: unsized_input (input) expects: check_fixed_size<std::vector<float
struct unsized_input : correct {
  using X = std::vector<float>;
};
// mistake: target_size (target sized) expects: check_target_size<2, 3>
struct target_size : correct {
  using Y = std::array<float, 3>;
};
// mistake: unsized_target (target) expects: check_fixed_size<std::vector<float
struct unsized_target : correct {
  using Y = std::vector<float>;
};
// mistake: scalar_target (target) expects: check_scalar_target<2>
struct scalar_target : correct {
  using Y = float;
};

enum class entry {
  call, infer_batch, stream, tape_infer, sequence_infer, value_and_grad, batch, into_gradients, train_step, fit,
  evaluate, input_grad, tape, tape_batch, sequence, sequence_from_state, tape_sequence, fit_windows, all
};

/// A Sequence of 4 steps, each a V; for a V no Sequence holds, void (the entries that take
/// sequences are not built with such a mistake).
template <class V>
struct steps_of {
  using type = void;
};
template <class U, std::size_t N>
struct steps_of<std::array<U, N>> {
  using type = sg::Sequence<U, 4, N>;
};
template <class V>
using sequence_of = typename steps_of<V>::type;

template <class Mistake, entry Entry>
void run() {
  using X = typename Mistake::X;
  using Y = typename Mistake::Y;
  using Xt = sequence_of<X>;  // over time
  using Yt = sequence_of<Y>;
  constexpr auto on = [](entry e) { return Entry == entry::all || Entry == e; };
  sg::Model<Net, float> model{};
  sg::Model<Rnn, float> rnn{};
  sg::State<Rnn, float> state{};
  sg::Gradients<Net, float> grads{};
  sg::Gradients<Rnn, float> rnn_grads{};
  sg::SGD<Net, float> sgd{};
  sg::SGD<Rnn, float> rnn_sgd{};
  sg::tape::Tape<float> tape;
  const X x{};
  const Y y{};
  const std::vector<X> xs(2);
  const std::vector<Y> ys(2);
  std::vector<std::array<float, 2>> outputs(2);
  // entry: call (input)
  if constexpr (on(entry::call)) model(x);
  // entry: infer_batch (input)
  if constexpr (on(entry::infer_batch)) model.infer_batch(xs, outputs);
  // entry: stream (input)
  if constexpr (on(entry::stream)) rnn(x, state);
  // entry: tape_infer (input)
  if constexpr (on(entry::tape_infer)) sg::tape::infer(tape, model, x);
  // entry: sequence_infer (input sized)
  if constexpr (on(entry::sequence_infer)) rnn(Xt{}, state);
  // entry: value_and_grad (input target)
  if constexpr (on(entry::value_and_grad)) sg::value_and_grad(model, sg::MSE{}, x, y);
  // entry: batch (input target)
  if constexpr (on(entry::batch)) sg::value_and_grad(model, sg::MSE{}, xs, ys);
  // entry: into_gradients (input target)
  if constexpr (on(entry::into_gradients)) sg::value_and_grad(model, sg::MSE{}, xs, ys, grads);
  // entry: train_step (input target)
  if constexpr (on(entry::train_step)) sg::train_step(model, sgd, sg::MSE{}, x, y, grads);
  // entry: fit (input target)
  if constexpr (on(entry::fit)) sg::fit(model, sgd, sg::MSE{}, xs, ys, {});
  // entry: evaluate (input target)
  if constexpr (on(entry::evaluate)) sg::evaluate(model, sg::MSE{}, xs, ys);
  // entry: input_grad (input target)
  if constexpr (on(entry::input_grad)) sg::input_grad(model, sg::MSE{}, x, y);
  // entry: tape (input target)
  if constexpr (on(entry::tape)) sg::tape::value_and_grad(model, sg::MSE{}, x, y);
  // entry: tape_batch (input target)
  if constexpr (on(entry::tape_batch)) sg::tape::value_and_grad(model, sg::MSE{}, xs, ys);
  // entry: sequence (input target sized)
  if constexpr (on(entry::sequence)) sg::value_and_grad(rnn, sg::MSE{}, Xt{}, Yt{});
  // entry: sequence_from_state (input target sized)
  if constexpr (on(entry::sequence_from_state)) sg::value_and_grad(rnn, sg::MSE{}, Xt{}, Yt{}, rnn_grads, state);
  // entry: tape_sequence (input target sized)
  if constexpr (on(entry::tape_sequence)) sg::tape::value_and_grad(rnn, sg::MSE{}, Xt{}, Yt{});
  // entry: fit_windows (input target)
  if constexpr (on(entry::fit_windows)) sg::fit_windows<2>(rnn, rnn_sgd, sg::MSE{}, xs, ys, {});
}

int main() {
#ifdef STATICGRAD_COMPILE_FAIL_OK
  run<correct, entry::all>();
#else
  run<MISTAKE, entry::ENTRY>();
#endif
}
