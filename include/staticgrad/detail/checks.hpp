/// @file Compile-time checks whose template arguments carry the numbers into the diagnostic.
///
/// Each check is a struct templated on the values that disagree, so that both g++ and
/// clang print them in the "in instantiation of" line (for example
/// `check_layer_link<2, 4, 5>`: layer 2 takes 5 inputs but layer 1 gives 4 outputs).
///
/// Validity is always computed from the sizes themselves; a check is instantiated only to
/// report, as `static_assert(sizeof(Check) > 0)` right where the problem is found, and
/// nothing reads a value from it. clang treats a class whose static_assert failed as
/// invalid and would report again at every later use of it; a class template holding a
/// failing static_assert of its own would turn invalid itself.
#pragma once

#include <cstddef>
#include <cstdint>

#include <staticgrad/core/concepts.hpp>

namespace staticgrad::detail {

template <std::size_t LayerIndex, class L, layer_member Missing = first_missing_member<L>()>
struct check_is_layer {
  static_assert(Missing == layer_member::none,
                "staticgrad: template argument is not a layer spec: it lacks the member that "
                "check_is_layer<layer index, type, missing member> names (a layer declares static "
                "in_size, out_size, param_count, cache_size, flops, name(), infer, forward, backward "
                "and initialize; see staticgrad::Layer in core/concepts.hpp)");
};

template <class L, layer_member Missing = first_missing_member<L>()>
struct check_frozen_layer {
  static_assert(Missing == layer_member::none,
                "staticgrad::Frozen<L>: L is not a layer spec: it lacks the member that "
                "check_frozen_layer<type, missing member> names (see staticgrad::Layer in "
                "core/concepts.hpp)");
};

template <std::size_t LayerIndex, std::size_t PreviousOut, std::size_t ThisIn>
struct check_layer_link {
  static_assert(PreviousOut == ThisIn,
                "staticgrad::Sequential: a layer's in_size differs from the previous layer's "
                "out_size (see check_layer_link<layer index, previous out_size, this in_size>)");
};

template <std::size_t InCh, std::size_t OutCh, std::size_t Groups>
struct check_conv_groups {
  static_assert(Groups > 0 && InCh % Groups == 0 && OutCh % Groups == 0,
                "staticgrad::Conv1D: Groups must divide both InCh and OutCh, as nn.Conv1d's groups "
                "(see check_conv_groups<InCh, OutCh, Groups>)");
};

template <std::size_t Begin, std::size_t Count, std::size_t N>
struct check_slice_range {
  static_assert(Count > 0 && Begin + Count <= N,
                "staticgrad::Slice<Begin, Count, N>: the part [Begin, Begin + Count) must lie within the N "
                "inputs and hold at least one (see check_slice_range<Begin, Count, N>)");
};

template <std::intmax_t Num, std::intmax_t Den>
struct check_dropout_rate {
  static_assert(Num >= 0 && Num < Den,
                "staticgrad::Dropout<N, P>: the rate P (a std::ratio) must be in [0, 1) "
                "(see check_dropout_rate<numerator, denominator>)");
};

template <std::size_t BranchIndex, std::size_t FirstIn, std::size_t ThisIn>
struct check_branch_input {
  static_assert(FirstIn == ThisIn,
                "staticgrad::Concat/Sum: every branch reads the same input, but a branch's "
                "in_size differs from the first branch's (see check_branch_input<branch index, "
                "first branch in_size, this in_size>)");
};

template <std::size_t BranchIndex, std::size_t FirstOut, std::size_t ThisOut>
struct check_elementwise_output {
  static_assert(FirstOut == ThisOut,
                "staticgrad::Sum/Product: the branches' outputs are added or multiplied element "
                "by element, but a branch's out_size differs from the first branch's (see "
                "check_elementwise_output<branch index, first branch out_size, this out_size>)");
};

template <std::size_t BodyIn, std::size_t BodyOut>
struct check_residual_shape {
  static_assert(BodyIn == BodyOut,
                "staticgrad::Residual: the body must map N inputs to N outputs so that x + f(x) "
                "is defined (see check_residual_shape<body in_size, body out_size>)");
};

template <class L, layer_member Missing = first_missing_member<L>()>
struct check_checkpoint_layer {
  static_assert(Missing == layer_member::none,
                "staticgrad::Checkpoint<L>: L is not a layer spec: it lacks the member that "
                "check_checkpoint_layer<type, missing member> names (see staticgrad::Layer in core/concepts.hpp)");
};


template <bool Batch = false>
struct check_batch_norm_sample {
  static_assert(Batch,
                "staticgrad: BatchNorm trains on a batch of at least 2 samples: one sample has no variance (PyTorch "
                "refuses it too); give value_and_grad a batch");
};

template <bool Trains = false>
struct check_quantized_training {
  static_assert(Trains, "staticgrad: a quantized network (QuantizedDense) runs inference only: train the float model, "
                        "then quantize it");
};

template <bool Supported = false>
struct check_batch_norm_sequences {
  static_assert(Supported, "staticgrad: BatchNorm does not train on sequences yet");
};

template <bool Supported>
struct check_tape_trains {
  static_assert(Supported, "staticgrad::tape::value_and_grad: BatchNorm trains on the generated engine only (the "
                           "tape records one sample at a time)");
};

template <std::size_t NetworkIn, std::size_t GivenSize>
struct check_input_size {
  static_assert(NetworkIn == GivenSize,
                "staticgrad: the input's size differs from the network's in_size "
                "(see check_input_size<network in_size, input size>)");
};

template <std::size_t NetworkOut, std::size_t GivenSize>
struct check_target_size {
  static_assert(NetworkOut == GivenSize,
                "staticgrad: the target's size differs from the network's out_size "
                "(see check_target_size<network out_size, target size>)");
};

template <class Loss, bool Accepts>
struct check_class_index_target {
  static_assert(Accepts,
                "staticgrad: this loss takes a target vector, not a class index; only "
                "SoftmaxCrossEntropy accepts a std::size_t class index "
                "(see check_class_index_target<loss, false>)");
};

template <std::size_t NetworkOut>
struct check_scalar_target {
  static_assert(NetworkOut == 1,
                "staticgrad: a target given as one number fits a network with one output; this network "
                "has more: give each target as std::array<T, out_size> (see check_scalar_target<network "
                "out_size>)");
};

template <class Targets, std::size_t NetworkOut>
struct check_batch_targets {
  static_assert(NetworkOut == 0,
                "staticgrad: a batch of inputs needs a contiguous range of targets (std::vector, "
                "std::span, std::array) of vectors std::array<T, out_size>, of class indices, or, for a "
                "network with one output, of numbers; check_batch_targets<given targets, network "
                "out_size> names what was given");
};

template <class Given, bool Fixed = false>
struct check_fixed_size {
  static_assert(Fixed,
                "staticgrad: an input or a target must have its size in its type: std::array<T, N>, T[N] or "
                "std::span<T, N>, and a batch a contiguous range of those (see check_fixed_size<given type>)");
};

template <class Given, std::size_t Len, bool Fits = false>
struct check_sequence_targets {
  static_assert(Fits,
                "staticgrad: the targets of a Sequence<T, Len, N> are a sequence as long, Sequence<T, Len, "
                "out_size>; of a batch of sequences, a contiguous range of them (see check_sequence_targets<given "
                "targets, Len>)");
};

template <bool Stateless = false>
struct check_stateless_sample {
  static_assert(Stateless,
                "staticgrad: this network carries state from one time step to the next (GRU, LSTM, Conv1D, ...): "
                "give it sequences (staticgrad::Sequence<T, Len, in_size>) and their targets, or stream it one "
                "step at a time with model(x, state)");
};

template <class Given, class Scalar, bool Same>
struct check_scalar_type {
  static_assert(Same,
                "staticgrad: the element type of an input or target differs from the model's scalar type "
                "(see check_scalar_type<given element type, model scalar type, false>)");
};

}  // namespace staticgrad::detail
