/// @file Defines staticgrad::Sequence<T, Len, N>: Len time steps of N values, what a network
/// with state (GRU, …) reads and writes, one step after the other.
#pragma once

#include <array>
#include <cstddef>
#include <ranges>
#include <type_traits>

namespace staticgrad {

/// Len time steps of N values: `seq[t]` is a std::array<T, N>. Not a batch: a batch holds
/// independent samples, a sequence's steps go through the network in order, each step
/// seeing the state the one before left. The loss of a sequence is the mean over its steps
/// (for MSE, PyTorch's mean over a (Len, N) tensor).
///
///     sg::Sequence<float, 64, 1> xs{}, ys{};
///     auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, xs, ys);   // through time
template <class T, std::size_t Len, std::size_t N>
struct Sequence {
  static_assert(Len > 0 && N > 0, "staticgrad::Sequence: Len and N must be positive");
  using value_type = std::array<T, N>;
  static constexpr std::size_t length = Len;
  static constexpr std::size_t width = N;

  std::array<std::array<T, N>, Len> steps{};
  static_assert(sizeof(std::array<T, N>) == N * sizeof(T), "staticgrad::Sequence: steps must lie back to back");

  constexpr std::array<T, N>& operator[](std::size_t t) { return steps[t]; }
  constexpr const std::array<T, N>& operator[](std::size_t t) const { return steps[t]; }
  static constexpr std::size_t size() { return Len; }
  /// All Len · N values, step after step.
  constexpr T* data() { return steps[0].data(); }
  constexpr const T* data() const { return steps[0].data(); }
  constexpr auto begin() { return steps.begin(); }
  constexpr auto end() { return steps.end(); }
  constexpr auto begin() const { return steps.begin(); }
  constexpr auto end() const { return steps.end(); }
};

namespace detail {

template <class X>
struct sequence_traits {
  static constexpr bool value = false;
};
template <class T, std::size_t Len, std::size_t N>
struct sequence_traits<Sequence<T, Len, N>> {
  static constexpr bool value = true;
  using scalar = T;
  static constexpr std::size_t length = Len, width = N;
};

/// Whether X is a staticgrad::Sequence.
template <class X>
concept SequenceOf = sequence_traits<std::remove_cvref_t<X>>::value;

/// A contiguous range of Sequences: a batch of them.
template <class R>
concept SequenceRange = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                        SequenceOf<std::ranges::range_value_t<R>>;

}  // namespace detail

}  // namespace staticgrad
