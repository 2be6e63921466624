/// @file Defines staticgrad::tape::Tape and staticgrad::tape::Var: a dynamic reverse-mode
/// tape that records vector-level operations as they run and walks them backwards.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace staticgrad::tape {

template <class T = double>
class Tape;

/// A value recorded on a Tape: a vector (or, for a parameter, an [rows][cols] matrix).
/// Cheap to copy; valid until the tape is reset. Using it with another tape, or after
/// reset(), throws std::invalid_argument.
template <class T>
class Var {
 public:
  /// Number of scalars.
  std::size_t size() const;
  /// The value. Recording more operations may move it: read it, do not keep the span.
  std::span<const T> value() const;
  /// ∂loss/∂this after Tape::backward (empty for a constant: an input, a parameter without
  /// gradients, and what is computed from them alone).
  std::span<const T> grad() const;
  Tape<T>& tape() const { return *tape_; }
  /// tape().backward(*this): this must be a single scalar (a loss).
  void backward() const;

 private:
  friend class Tape<T>;
  Var(Tape<T>* tape, std::uint32_t id, std::uint32_t recording) : tape_(tape), id_(id), recording_(recording) {}
  Tape<T>* tape_;
  std::uint32_t id_;
  std::uint32_t recording_;  // the tape's recording it belongs to (reset() starts a new one)
};

/// What a recorded node computed; Tape::backward dispatches on it.
enum class Op : std::uint8_t {
  input,
  parameter,
  affine,
  add,
  subtract,
  multiply,
  divide,
  scale,
  shift,
  power,
  activation,
  layer_norm,
  rms_norm,
  softmax,
  mse,
  half_squared_error,
  cross_entropy_index,
  cross_entropy_probabilities,
  bce_with_logits,
  sum,
  concat,
  slice,
};

/// The tape. Operations run as they are recorded (eagerly, like PyTorch); backward()
/// visits the record in reverse and adds each node's vector-Jacobian product to its
/// operands' gradients. Buffers are kept across reset(): once warm, recording the same
/// computation again allocates nothing.
///
///     tape::Tape<double> t;
///     auto x = t.input(xs);                       // no gradient
///     auto w = t.parameter(w_values, w_grads, 3, 4);  // gradient added to w_grads
///     auto loss = tape::mse(tape::tanh(tape::affine(w, b, x)), t.input(target));
///     t.backward(loss);
///
/// or, as micrograd and PyTorch users write it (double by default):
///
///     tape::Tape t;
///     auto a = t.variable(2.0), b = t.variable(-3.0);   // leaves with a gradient
///     auto loss = tape::sum(tape::exp(a * b) / (a + 1.0) - 2.0 * a);
///     loss.backward();                                 // a.grad()[0], b.grad()[0]
template <class T>
class Tape {
 public:
  /// A constant (an input or a target): gets no gradient.
  Var<T> input(std::span<const T> values) { return leaf(values, false); }
  /// A constant of one value.
  Var<T> input(T value) { return leaf(std::span<const T>(&value, 1), false); }
  /// A leaf whose gradient backward() computes, as a PyTorch tensor with
  /// requires_grad=True: read it with grad() (an input's, for a saliency map or a
  /// physics-informed loss). Its value is copied onto the tape.
  Var<T> variable(std::span<const T> values) { return leaf(values, true); }
  /// A variable of one value.
  Var<T> variable(T value) { return leaf(std::span<const T>(&value, 1), true); }

  /// A parameter living outside the tape: its value is read in place, and backward() adds
  /// its gradient into `grads` (same size; empty: no gradient, as for inference). rows ×
  /// cols is its shape as a matrix, [In][Out] for a Dense weight; a vector is size × 1.
  Var<T> parameter(std::span<const T> values, std::span<T> grads, std::size_t rows,
                   std::size_t cols = 1) {
    if ((!grads.empty() && values.size() != grads.size()) || rows * cols != values.size())
      fail("parameter", std::to_string(values.size()) + " values, " + std::to_string(grads.size()) +
                            " gradients, shape " + std::to_string(rows) + "x" + std::to_string(cols));
    if (locate(values.data()).first != nullptr || locate(grads.data()).first != nullptr)
      fail("parameter", "its values and gradients must live outside the tape, which moves its own");
    Node node{.op = Op::parameter, .size = values.size(), .rows = rows, .cols = cols};
    node.external_value = values.data();
    node.external_grad = grads.data();
    node.needs_grad = !grads.empty();
    nodes_.push_back(node);
    return var(static_cast<std::uint32_t>(nodes_.size() - 1));
  }

  /// Adds ∂var/∂(every parameter) × seed into the parameters' gradients. var must be a
  /// single scalar (a loss). seed is 1/batch size for the mean of a batch.
  /// Only the loss and what it was computed from are visited: operations recorded after it
  /// do not touch the gradients.
  void backward(Var<T> loss, T seed = T{1}) {
    check(loss, "backward");
    if (loss.size() != 1)
      fail("backward", "the loss must be one scalar, not " + std::to_string(loss.size()) + " values");
    std::fill(grads_.begin(), grads_.begin() + static_cast<std::ptrdiff_t>(used_), T{});
    if (!nodes_[loss.id_].needs_grad) return;
    grad_of(loss.id_)[0] = seed;
    for (std::size_t i = loss.id_ + 1; i-- > 0;)
      if (nodes_[i].needs_grad) backward_node(nodes_[i], static_cast<std::uint32_t>(i));
  }

  /// Forgets the record and keeps the buffers. Vars recorded before are no longer valid.
  void reset() {
    nodes_.clear();
    used_ = 0;
    ++recording_;
  }

  /// How many operations (nodes) are recorded.
  std::size_t node_count() const { return nodes_.size(); }

  // The rest is for the operations (ops.hpp), not for users.
  struct Node {
    Op op = Op::input;
    bool needs_grad = false;
    std::uint32_t a = 0, b = 0, c = 0;  // operands
    std::size_t size = 0;               // of the value
    std::size_t rows = 0, cols = 1;     // parameters: the matrix shape
    std::size_t offset = 0;             // of the value (and then its scratch) in the arena
    std::size_t index = 0;              // a class index; slice: where it starts
    const T* external_value = nullptr;  // parameters
    T* external_grad = nullptr;
    // activation: dx += dy ⊙ φ'(x or y), over n values
    void (*activation_backward)(const T* x, const T* y, const T* dy, T* dx, std::size_t n) = nullptr;
  };

  /// Records a node with a value of `size` and `scratch` more scalars; returns its id.
  std::uint32_t push(Node node, std::size_t size, std::size_t scratch, bool needs_grad) {
    node.size = size;
    node.offset = used_;
    node.needs_grad = needs_grad;
    used_ += size + scratch;
    if (used_ > values_.size()) {  // grows only while cold
      values_.resize(std::max(used_, 2 * values_.size()));
      grads_.resize(values_.size());
    }
    nodes_.push_back(node);
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  /// Throws unless v was recorded on this tape since its last reset(): an operand of
  /// another tape would index this tape's record.
  void check(Var<T> v, const char* operation) const {
    if (v.tape_ != this || v.recording_ != recording_) [[unlikely]]
      refuse(v, operation);
  }
  /// Checks every operand of an operation (see check); returns their tape.
  template <class... Vars>
  static Tape& of(const char* operation, Var<T> first, Vars... others) {
    Tape& t = *first.tape_;
    t.check(first, operation);
    (t.check(others, operation), ...);
    return t;
  }

  // Operands already checked (see of()).
  const Node& node(std::uint32_t id) const { return nodes_[id]; }
  const Node& node(Var<T> v) const { return nodes_[v.id_]; }
  std::size_t size(Var<T> v) const { return nodes_[v.id_].size; }
  std::uint32_t id(Var<T> v) const { return v.id_; }
  Var<T> var(std::uint32_t id) { return {this, id, recording_}; }

  /// Where a just-pushed node writes its value.
  T* output_of(std::uint32_t id) { return values_.data() + nodes_[id].offset; }
  /// A node's value (a parameter's lives outside the tape).
  const T* value_of(std::uint32_t id) const {
    const Node& n = nodes_[id];
    return n.op == Op::parameter ? n.external_value : values_.data() + n.offset;
  }
  T* scratch_of(std::uint32_t id) { return values_.data() + nodes_[id].offset + nodes_[id].size; }
  T* grad_of(std::uint32_t id) {
    const Node& n = nodes_[id];
    if (!n.needs_grad) return nullptr;
    return n.op == Op::parameter ? n.external_grad : grads_.data() + n.offset;
  }

  /// Throws std::invalid_argument("staticgrad::tape::<operation>: <what>"). Callers
  /// build `what` only once a check has failed: a message costs an allocation.
  [[noreturn]] static void fail(const char* operation, const std::string& what) {
    throw std::invalid_argument(std::string("staticgrad::tape::") + operation + ": " + what);
  }

 private:
  friend class Var<T>;
  void backward_node(const Node& n, std::uint32_t id);  // ops.hpp

  Var<T> leaf(std::span<const T> values, bool needs_grad) {
    // values may be a value of this tape (t.input(v.value())), which growing it moves.
    const auto [storage, offset] = locate(values.data());
    const auto id = push({.op = Op::input, .size = values.size()}, values.size(), 0, needs_grad);
    const T* source = storage != nullptr ? storage->data() + offset : values.data();
    std::copy_n(source, values.size(), output_of(id));
    return var(id);
  }

  // check's failure, out of the way of every operation's path.
  [[noreturn, gnu::cold, gnu::noinline]] void refuse(Var<T> v, const char* operation) const {
    if (v.tape_ != this) fail(operation, "an operand was recorded on another tape");
    fail(operation, "an operand was recorded before the tape's reset()");
  }

  // The tape's own storage that p points into, and where: {nullptr, 0} when it points
  // elsewhere. The storage moves as it grows; an offset into it does not.
  std::pair<const std::vector<T>*, std::size_t> locate(const T* p) const {
    for (const std::vector<T>* storage : {&values_, &grads_}) {
      if (std::less_equal<>{}(storage->data(), p) && std::less<>{}(p, storage->data() + storage->size()))
        return {storage, static_cast<std::size_t>(p - storage->data())};
    }
    return {nullptr, 0};
  }

  std::vector<Node> nodes_;
  std::vector<T> values_;  // node values and scratch, back to back
  std::vector<T> grads_;   // the same layout as values_
  std::size_t used_ = 0;
  std::uint32_t recording_ = 0;
};

template <class T>
std::size_t Var<T>::size() const {
  tape_->check(*this, "Var");
  return tape_->node(id_).size;
}
template <class T>
std::span<const T> Var<T>::value() const {
  const std::size_t n = size();  // checks the Var before its value is looked up
  return {tape_->value_of(id_), n};
}
template <class T>
void Var<T>::backward() const {
  tape_->backward(*this);
}
template <class T>
std::span<const T> Var<T>::grad() const {
  const std::size_t n = size();
  const T* g = tape_->grad_of(id_);
  return g ? std::span<const T>(g, n) : std::span<const T>{};
}

}  // namespace staticgrad::tape
