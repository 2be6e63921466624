/// @file Defines staticgrad::tape::value_and_grad: the same networks, losses, signatures
/// and results as staticgrad::value_and_grad, computed by recording a Tape.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/core/steps.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/losses.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/sequence.hpp>
#include <staticgrad/state.hpp>
#include <staticgrad/value_and_grad.hpp>
#include <staticgrad/tape/ops.hpp>
#include <staticgrad/tape/tape.hpp>

namespace staticgrad::tape {

namespace detail {

template <class T, class Node>
class recording;
/// Where a recording keeps the states of the layers that have one (GRU, …) during a step:
/// slot `state_offset` of each such layer holds its state before the step, then after.
template <class T>
using state_slots = std::span<std::optional<Var<T>>>;
template <class Node, class T>
Var<T> record_layer(Tape<T>& tape, std::span<const T> params, std::span<T> grads, state_slots<T> states, Var<T> x);

template <class L>
struct check_layer_record {
  static_assert(requires(recording<double, staticgrad::detail::root_node<L>>& r, Var<double> x) { L::record(r, x); },
                "staticgrad::tape: this layer has no record(r, x) that puts it on the tape "
                "(see check_layer_record<layer>)");
};

/// What a layer's `record(r, x)` works with on the tape (Node: where the walk of
/// detail/traversal.hpp finds the layer): its parameters as parameter nodes, with their
/// slice of the gradient (none in inference, nor for a Frozen layer), its children's
/// recordings (composites), its state (a layer with one), constants, and the tape's
/// operations.
template <class T, class Node>
class recording {
 public:
  using value = Var<T>;
  using scalar = T;

  recording(Tape<T>& tape, std::span<const T> params, std::span<T> grads, state_slots<T> states)
      : tape_(tape), params_(params), grads_(grads), states_(states) {}

  /// The layer's parameters [offset, offset + rows · cols) as a rows × cols matrix (rows
  /// × 1: a vector), with their gradient.
  Var<T> parameter(std::size_t offset, std::size_t rows, std::size_t cols = 1) const {
    const bool trains = !Node::frozen && !grads_.empty();
    return parameter(offset, rows, cols, trains);
  }
  /// The same without a gradient (a LoRA layer's base weights).
  Var<T> frozen_parameter(std::size_t offset, std::size_t rows, std::size_t cols = 1) const {
    return parameter(offset, rows, cols, false);
  }
  /// A constant.
  Var<T> input(std::span<const T> values) const { return tape_.input(values); }
  /// Whether this is a training step (Dropout draws masks only then).
  bool training() const { return staticgrad::detail::current_training.training; }

  /// Child I of a composite, recorded on x.
  template <std::size_t I>
  Var<T> child(Var<T> x) const {
    return record_layer<staticgrad::detail::child_node<Node, I>>(tape_, params_, grads_, states_, x);
  }

  /// A layer with state: its state before this step (all of it, as one vector).
  Var<T> state() const { return *states_[Node::state_offset]; }
  /// … and after it.
  void next_state(Var<T> next) const { states_[Node::state_offset] = next; }

  Var<T> affine(Var<T> w, Var<T> b, Var<T> x) const { return tape::affine(w, b, x); }
  template <class Act>
  Var<T> activation(Var<T> x) const {
    return tape::activation<Act>(x);
  }
  Var<T> layer_norm(Var<T> x, Var<T> gain, Var<T> bias, T epsilon) const {
    return tape::layer_norm(x, gain, bias, epsilon);
  }
  Var<T> rms_norm(Var<T> x, Var<T> gain, T epsilon) const { return tape::rms_norm(x, gain, epsilon); }
  /// BatchNorm in evaluation: (x − mean) / √(variance + ε) · gain + bias.
  Var<T> batch_norm(Var<T> x, Var<T> mean, Var<T> variance, Var<T> gain, Var<T> bias, T epsilon) const {
    return (x - mean) / tape::sqrt(variance + epsilon) * gain + bias;
  }
  Var<T> softmax(Var<T> x) const { return tape::softmax(x); }
  Var<T> concat(Var<T> a, Var<T> b) const { return tape::concat(a, b); }
  Var<T> slice(Var<T> x, std::size_t first, std::size_t count) const { return tape::slice(x, first, count); }

 private:
  Var<T> parameter(std::size_t offset, std::size_t rows, std::size_t cols, bool trains) const {
    const std::size_t at = Node::param_offset + offset, count = rows * cols;
    return tape_.parameter(params_.subspan(at, count), trains ? grads_.subspan(at, count) : std::span<T>{}, rows,
                           cols);
  }

  Tape<T>& tape_;
  std::span<const T> params_;  // the whole network's
  std::span<T> grads_;         // the whole network's, or empty (inference)
  state_slots<T> states_;      // the whole network's, or empty (no state)
};

/// The layer at Node recorded on x: its record(r, x), given its recording.
template <class Node, class T>
Var<T> record_layer(Tape<T>& tape, std::span<const T> params, std::span<T> grads, state_slots<T> states, Var<T> x) {
  using L = typename Node::layer;
  static_assert(sizeof(check_layer_record<L>) > 0);
  if constexpr (requires(recording<T, Node>& r) { L::record(r, x); }) {
    recording<T, Node> r(tape, params, grads, states);
    return L::record(r, x);
  } else {
    return x;  // only after the error above
  }
}

/// Network Net recorded on x (one step of it, for a network with state: `states`).
template <class Net, class T>
Var<T> record_network(Tape<T>& tape, std::span<const T> params, std::span<T> grads, Var<T> x,
                      state_slots<T> states = {}) {
  return record_layer<staticgrad::detail::root_node<Net>>(tape, params, grads, states, x);
}

// The loss of one output on the tape.
template <class T, std::size_t Out>
Var<T> record_loss(MSE, Var<T> y, std::span<const T, Out> target) {
  return mse(y, y.tape().input(target));
}
template <class T, std::size_t Out>
Var<T> record_loss(HalfSquaredError, Var<T> y, std::span<const T, Out> target) {
  return half_squared_error(y, y.tape().input(target));
}
template <class T, std::size_t Out>
Var<T> record_loss(SoftmaxCrossEntropy, Var<T> y, std::span<const T, Out> target) {
  return softmax_cross_entropy(y, y.tape().input(target));
}
template <class T>
Var<T> record_loss(SoftmaxCrossEntropy, Var<T> y, std::size_t target_class) {
  return softmax_cross_entropy(y, target_class);
}
template <class T, std::size_t Out>
Var<T> record_loss(BCEWithLogits, Var<T> y, std::span<const T, Out> target) {
  return bce_with_logits(y, y.tape().input(target));
}

template <class Net, class T, class Loss, class Target>
T sample_value_and_grad(Tape<T>& t, std::span<const T, Net::param_count> params, const Loss& loss,
                        std::span<const T, Net::in_size> x, const Target& target, T scale,
                        std::span<T, Net::param_count> grads) {
  t.reset();
  const auto y = record_network<Net>(t, std::span<const T>(params), std::span<T>(grads), t.input(x));
  const auto l = record_loss(loss, y, target);
  t.backward(l, scale);
  return l.value()[0];
}

/// The state slots of a network's layers with state, on the tape.
template <class Net, class T>
using network_slots = std::array<std::optional<Var<T>>, staticgrad::detail::state_size_of<Net>()>;

/// f(offset, size) for each layer of Net with state: where its state sits in the network's.
template <class Net, class F>
void each_state(F f) {
  namespace sd = staticgrad::detail;
  sd::visit_leaves<Net>([&](auto node) {
    using N = decltype(node);
    if constexpr (sd::has_state<typename N::layer>) f(N::state_offset, sd::state_size_of<typename N::layer>());
  });
}

/// The slots holding `state`'s values as constants (no gradient flows into them).
template <class Net, class T>
network_slots<Net, T> state_inputs(Tape<T>& t, std::span<const T> state) {
  network_slots<Net, T> slots;
  each_state<Net>([&](std::size_t offset, std::size_t size) { slots[offset] = t.input(state.subspan(offset, size)); });
  return slots;
}

/// The slots' values (the states after the last recorded step) into `state`.
template <class Net, class T>
void store_states(const network_slots<Net, T>& slots, std::span<T> state) {
  each_state<Net>([&](std::size_t offset, std::size_t size) {
    std::ranges::copy(slots[offset]->value(), state.subspan(offset, size).begin());
  });
}

/// The sum of the losses of one sequence's steps, recorded step by step from `state` (its
/// values are constants: no gradient flows into them), with their gradient times `scale`
/// added into `grads`; `state` is left at the end state.
template <class Net, class T, class Loss, std::size_t Len, class Targets>
T sequence_value_and_grad(Tape<T>& t, std::span<const T, Net::param_count> params, const Loss& loss,
                          const Sequence<T, Len, Net::in_size>& xs, const Targets& targets, std::span<T> state,
                          T scale, std::span<T, Net::param_count> grads) {
  t.reset();
  auto slots = state_inputs<Net>(t, std::span<const T>(state));
  std::optional<Var<T>> total;
  for (std::size_t step = 0; step < Len; ++step) {
    const auto y = record_network<Net>(t, std::span<const T>(params), std::span<T>(grads), t.input(xs[step]),
                                       state_slots<T>(slots));
    const auto l = record_loss(loss, y, staticgrad::detail::target_view<Loss, T, Net::out_size>(targets[step]));
    total = total ? *total + l : l;
  }
  t.backward(*total, scale);
  store_states<Net>(slots, state);
  return total->value()[0];
}

/// The tape's engine for staticgrad::detail::sequence_into: the sequences one after the
/// other, each from its State or from zeros.
template <class Net, class T, class Loss>
auto tape_sequences(Tape<T>& t, const Model<Net, T>& model, const Loss& loss, Gradients<Net, T>& grads) {
  return [&](const auto* inputs, const auto* targets, std::size_t count, State<Net, T>* states, T scale) {
    T total{};
    State<Net, T> zeros;  // the start of a sequence without a State of its own
    for (std::size_t s = 0; s < count; ++s) {
      if (!states) zeros.reset();
      total += sequence_value_and_grad<Net>(t, model.flat(), loss, inputs[s], targets[s],
                                            std::span<T>((states ? states[s] : zeros).flat()), scale, grads.flat());
    }
    return total;
  };
}

/// Each thread's tape for value_and_grad: warm after the first call.
template <class T>
Tape<T>& thread_tape() {
  thread_local Tape<T> tape;
  return tape;
}

}  // namespace detail

/// The network's output for x, computed by recording `t` without gradients (what a
/// dynamic framework does for inference). Once `t` is warm this allocates nothing.
template <class Net, class T, class X>
std::array<T, Net::out_size> infer(Tape<T>& t, const Model<Net, T>& model, const X& x) {
  namespace sd = staticgrad::detail;
  t.reset();
  const auto input = t.input(sd::fixed_span<sd::check_input_size, T, Net::in_size>(x));
  const auto y = detail::record_network<Net>(t, std::span<const T>(model.flat()), std::span<T>{}, input);
  std::array<T, Net::out_size> out;
  std::copy(y.value().begin(), y.value().end(), out.begin());
  return out;
}

/// One time step of a network with state, recorded on `t` without gradients: the output
/// for x from the stream's `state`, which advances (as model(x, state)).
template <class Net, class T, class X>
std::array<T, Net::out_size> infer(Tape<T>& t, const Model<Net, T>& model, const X& x, State<Net, T>& state) {
  namespace sd = staticgrad::detail;
  t.reset();
  auto slots = detail::state_inputs<Net>(t, std::span<const T>(state.flat()));
  const auto input = t.input(sd::fixed_span<sd::check_input_size, T, Net::in_size>(x));
  const auto y = detail::record_network<Net>(t, std::span<const T>(model.flat()), std::span<T>{}, input,
                                             detail::state_slots<T>(slots));
  detail::store_states<Net>(slots, std::span<T>(state.flat()));
  std::array<T, Net::out_size> out;
  std::copy(y.value().begin(), y.value().end(), out.begin());
  return out;
}

/// As staticgrad::value_and_grad (same arguments: one sample or a batch, and a Training key
/// for a network with Dropout, which then draws the generated engine's masks), but computed
/// by recording `t` and walking it backwards; writes the gradient into `grads` and returns
/// the loss. Throws std::invalid_argument for a network with Dropout and no key.
template <class Net, class T, class Loss, class X, class Y>
T value_and_grad(Tape<T>& t, const Model<Net, T>& model, const Loss& loss, const X& x,
                 const Y& target, Gradients<Net, T>& grads, std::optional<Training> training = {}) {
  namespace sd = staticgrad::detail;
  using problem = sd::arguments_problem<Net, T, Loss, X, Y>;
  if constexpr (sd::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return T{};
  } else {
    static_assert(sizeof(sd::check_tape_trains<!sd::has_batch_norm<Net>>) > 0);
    constexpr std::size_t in = Net::in_size, out = Net::out_size;
    if (sd::is_stochastic<Net> && !training)
      Tape<T>::fail("value_and_grad", "this network has Dropout: pass staticgrad::Training{seed, step}");
    std::optional<sd::training_scope> scope;
    if (sd::is_stochastic<Net>) scope.emplace(*training);
    std::fill(grads.flat().begin(), grads.flat().end(), T{});  // the tape adds into them
    if constexpr (sd::SequenceOf<X> || sd::SequenceRange<X>) {
      return sd::sequence_into<Net>(x, target, static_cast<State<Net, T>*>(nullptr), 0,
                                    detail::tape_sequences(t, model, loss, grads));
    } else if constexpr (sd::FixedVector<X>) {
      return detail::sample_value_and_grad<Net>(t, model.flat(), loss,
                                                 sd::fixed_span<sd::check_input_size, T, in>(x),
                                                 sd::target_view<Loss, T, out>(target), T{1}, grads.flat());
    } else {
      const std::size_t count = sd::batch_size(x, target, "staticgrad::tape::value_and_grad");
      const T scale = T{1} / static_cast<T>(count);
      T total{};
      for (std::size_t s = 0; s < count; ++s)
        total += detail::sample_value_and_grad<Net>(
            t, model.flat(), loss, sd::fixed_span<sd::check_input_size, T, in>(std::ranges::data(x)[s]),
            sd::target_view<Loss, T, out>(std::ranges::data(target)[s]), scale, grads.flat());
      return total * scale;
    }
  }
}

/// As staticgrad::value_and_grad, computed by this thread's tape: the same signature and
/// the same result, so that switching engines is one word.
template <class Net, class T, class Loss, class X, class Y>
LossAndGradients<Net, T> value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x,
                                        const Y& target, std::optional<Training> training = {}) {
  auto result = staticgrad::detail::gradients_access::fresh_result<Net, T>();
  result.loss = value_and_grad(detail::thread_tape<T>(), model, loss, x, target, result.grads, training);
  return result;
}

/// As above, writing into the caller's gradients.
template <class Net, class T, class Loss, class X, class Y>
T value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x, const Y& target,
                 Gradients<Net, T>& grads, std::optional<Training> training = {}) {
  return value_and_grad(detail::thread_tape<T>(), model, loss, x, target, grads, training);
}

/// As staticgrad::value_and_grad through time from the streams' states (a Sequence and its
/// State, or a batch of Sequences and as many States, each left at its end state), computed
/// by this thread's tape.
template <class Net, class T, class Loss, class X, class Y, class States>
  requires(staticgrad::detail::SequenceOf<X> || staticgrad::detail::SequenceRange<X>)
T value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& xs, const Y& ys, Gradients<Net, T>& grads,
                 States& states) {
  namespace sd = staticgrad::detail;
  using problem = sd::arguments_problem<Net, T, Loss, X, Y>;
  if constexpr (sd::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return T{};
  } else {
    static_assert(sizeof(sd::check_tape_trains<!sd::has_batch_norm<Net>>) > 0);
    const auto [first, count] = sd::states_of<Net, T, X>(states);
    std::fill(grads.flat().begin(), grads.flat().end(), T{});  // the tape adds into them
    return sd::sequence_into<Net>(xs, ys, first, count,
                                  detail::tape_sequences(detail::thread_tape<T>(), model, loss, grads));
  }
}

/// As above, returning {loss, grads}.
template <class Net, class T, class Loss, class X, class Y, class States>
  requires(staticgrad::detail::SequenceOf<X> || staticgrad::detail::SequenceRange<X>)
LossAndGradients<Net, T> value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& xs, const Y& ys,
                                        States& states) {
  auto result = staticgrad::detail::gradients_access::fresh_result<Net, T>();
  result.loss = tape::value_and_grad(model, loss, xs, ys, result.grads, states);
  return result;
}

}  // namespace staticgrad::tape
