/// @file What the entry points (model(x), value_and_grad, train_step, fit, evaluate,
/// input_grad, the tape's) accept, checked once at the call, before any work, so that a
/// mistake is one compile error whose trail starts at the user's line.
///
/// Each `*_problem` alias is the first thing wrong with a call's argument types, as the
/// check of checks.hpp that reports it (its template arguments name the sizes and types), or
/// no_problem (as layout.hpp's chains name theirs). An entry point reports it and compiles nothing more:
///
///     using problem = detail::arguments_problem<Net, T, Loss, X, Y>;
///     if constexpr (detail::has_problem<problem>) {
///       static_assert(sizeof(problem) > 0);  // instantiates the check, which fails
///       return {};
///     } else { ...the work... }
///
/// Finding a problem never instantiates a check: with clang, a function whose instantiation
/// failed is invalid, and every later call of it would be one more error.
#pragma once

#include <concepts>
#include <cstddef>
#include <ranges>
#include <span>
#include <type_traits>

#include <staticgrad/core/steps.hpp>
#include <staticgrad/detail/batch_norm_pass.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/sequence.hpp>

namespace staticgrad::detail {

/// A network that is not a valid layer: the network's own check (Model's) has reported it;
/// its entry points report nothing more.
struct invalid_network {};

template <class Problem>
inline constexpr bool has_problem = !std::is_same_v<Problem, no_problem>;

template <class X>
using sequence_type = std::conditional_t<SequenceRange<X>, std::ranges::range_value_t<X>, std::remove_cvref_t<X>>;

/// A contiguous range of something other than numbers (a batch, when its elements are
/// inputs); a range of numbers is one input whose size is not in its type.
template <class X>
concept BatchLike = std::ranges::contiguous_range<X> && std::ranges::sized_range<X> &&
                    !std::is_arithmetic_v<std::ranges::range_value_t<X>>;

template <template <std::size_t, std::size_t> class SizeCheck, class T, std::size_t N, class X>
consteval auto find_vector_problem() {
  using given = std::remove_cvref_t<X>;
  if constexpr (!FixedVector<given>) {
    return std::type_identity<check_fixed_size<given>>{};
  } else {
    using extent = fixed_extent<given>;
    if constexpr (!std::is_same_v<typename extent::element, T>)
      return std::type_identity<check_scalar_type<typename extent::element, T, false>>{};
    else if constexpr (extent::size != N)
      return std::type_identity<SizeCheck<N, extent::size>>{};
    else
      return std::type_identity<no_problem>{};
  }
}

/// X as a vector of N values of T (an input: SizeCheck is check_input_size; a target:
/// check_target_size).
template <template <std::size_t, std::size_t> class SizeCheck, class T, std::size_t N, class X>
using vector_problem = typename decltype(find_vector_problem<SizeCheck, T, N, X>())::type;

/// X as one input of Net.
template <class Net, class T, class X>
using input_problem = vector_problem<check_input_size, T, Net::in_size, X>;

template <class Loss, class T, std::size_t Out, class Y>
consteval auto find_target_problem() {
  if constexpr (std::floating_point<Y>) {
    if constexpr (!std::is_same_v<Y, T>) return std::type_identity<check_scalar_type<Y, T, false>>{};
    else if constexpr (Out != 1) return std::type_identity<check_scalar_target<Out>>{};
    else return std::type_identity<no_problem>{};
  } else if constexpr (std::integral<Y>) {
    if constexpr (Loss::accepts_class_index) return std::type_identity<no_problem>{};
    else return std::type_identity<check_class_index_target<Loss, false>>{};
  } else {
    return std::type_identity<vector_problem<check_target_size, T, Out, Y>>{};
  }
}

/// Y as one target of a network with Out outputs, for Loss: a vector of Out, a class index
/// (for a loss that takes one) or, for one output, a number.
template <class Loss, class T, std::size_t Out, class Y>
using target_problem = typename decltype(find_target_problem<Loss, T, Out, std::remove_cvref_t<Y>>())::type;

template <class Net, class T, class Loss, class X, class Y>
consteval auto find_sample_problem() {
  if constexpr (has_problem<input_problem<Net, T, X>>) return std::type_identity<input_problem<Net, T, X>>{};
  else return std::type_identity<target_problem<Loss, T, Net::out_size, Y>>{};
}

/// (x, target) as one sample of Net.
template <class Net, class T, class Loss, class X, class Y>
using sample_problem = typename decltype(find_sample_problem<Net, T, Loss, X, Y>())::type;

template <class Net, class T, class Xs>
consteval auto find_batch_input_problem() {
  if constexpr (!BatchLike<Xs>) return std::type_identity<check_fixed_size<std::remove_cvref_t<Xs>>>{};
  else return std::type_identity<input_problem<Net, T, std::ranges::range_value_t<Xs>>>{};
}

/// xs as a contiguous range of inputs of Net.
template <class Net, class T, class Xs>
using batch_input_problem = typename decltype(find_batch_input_problem<Net, T, Xs>())::type;

template <class Net, class T, class Loss, class Xs, class Ys>
consteval auto find_batch_problem() {
  if constexpr (has_problem<batch_input_problem<Net, T, Xs>>) {
    return std::type_identity<batch_input_problem<Net, T, Xs>>{};
  } else if constexpr (!(std::ranges::contiguous_range<Ys> && std::ranges::sized_range<Ys>)) {
    return std::type_identity<check_batch_targets<std::remove_cvref_t<Ys>, Net::out_size>>{};
  } else {
    return std::type_identity<target_problem<Loss, T, Net::out_size, std::ranges::range_value_t<Ys>>>{};
  }
}

/// (xs, ys) as a batch of samples of Net: contiguous ranges of inputs and of targets.
template <class Net, class T, class Loss, class Xs, class Ys>
using batch_problem = typename decltype(find_batch_problem<Net, T, Loss, Xs, Ys>())::type;

template <class Net, class T, class X, class Y>
consteval auto find_sequence_problem() {
  using xs = sequence_traits<sequence_type<X>>;
  constexpr bool batch = SequenceRange<X>;
  if constexpr (!std::is_same_v<typename xs::scalar, T>) {
    return std::type_identity<check_scalar_type<typename xs::scalar, T, false>>{};
  } else if constexpr (xs::width != Net::in_size) {
    return std::type_identity<check_input_size<Net::in_size, xs::width>>{};
  } else if constexpr (!(batch ? SequenceRange<Y> : SequenceOf<Y>)) {
    return std::type_identity<check_sequence_targets<std::remove_cvref_t<Y>, xs::length>>{};
  } else if constexpr (sequence_traits<sequence_type<Y>>::length != xs::length) {
    return std::type_identity<check_sequence_targets<std::remove_cvref_t<Y>, xs::length>>{};
  } else {
    return std::type_identity<vector_problem<check_target_size, T, Net::out_size,
                                             std::ranges::range_value_t<sequence_type<Y>>>>{};
  }
}

/// (xs, ys) as a Sequence of Net's inputs and one of its targets, or contiguous ranges of
/// such sequences.
template <class Net, class T, class X, class Y>
using sequence_problem = typename decltype(find_sequence_problem<Net, T, X, Y>())::type;

template <class Net, class T, class Loss, class X, class Y>
consteval auto find_arguments_problem() {
  constexpr bool sequences = SequenceOf<X> || SequenceRange<X>;
  if constexpr (!ValidLayer<Net>) return std::type_identity<invalid_network>{};
  else if constexpr (any_layer<inference_only, Net>()) return std::type_identity<check_quantized_training<>>{};
  else if constexpr (sequences && has_batch_norm<Net>) return std::type_identity<check_batch_norm_sequences<>>{};
  else if constexpr (sequences) return std::type_identity<sequence_problem<Net, T, X, Y>>{};
  else if constexpr (has_state<Net>) return std::type_identity<check_stateless_sample<>>{};
  else if constexpr (BatchLike<X>) return std::type_identity<batch_problem<Net, T, Loss, X, Y>>{};
  else if constexpr (has_batch_norm<Net>) return std::type_identity<check_batch_norm_sample<>>{};
  else return std::type_identity<sample_problem<Net, T, Loss, X, Y>>{};
}

/// What value_and_grad, train_step and the tape's value_and_grad take: one sample, a batch
/// of them, a Sequence or a batch of Sequences (for a network with state, only sequences;
/// with BatchNorm, only a batch).
template <class Net, class T, class Loss, class X, class Y>
using arguments_problem = typename decltype(find_arguments_problem<Net, T, Loss, X, Y>())::type;

/// Views x as std::span<const T, N>; a wrong element type or size is a compile error that
/// names both (through SizeCheck<expected, given>). The entry points check their arguments
/// first; this is what any other caller gets.
template <template <std::size_t, std::size_t> class SizeCheck, class T, std::size_t N, class X>
constexpr std::span<const T, N> fixed_span(const X& x) {
  using problem = vector_problem<SizeCheck, T, N, X>;
  if constexpr (has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return std::span<const T, N>(static_cast<const T*>(nullptr), N);
  } else {
    return std::span<const T, N>(std::data(x), N);
  }
}

}  // namespace staticgrad::detail
