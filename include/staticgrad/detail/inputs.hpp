/// @file How inputs and targets of fixed size are recognised, and a batch's inputs paired with its targets.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace staticgrad::detail {

/// The element type and size of a vector whose size is part of its type.
template <class X>
struct fixed_extent {};
template <class U, std::size_t N>
struct fixed_extent<std::array<U, N>> {
  using element = U;
  static constexpr std::size_t size = N;
};
template <class U, std::size_t N>
struct fixed_extent<U[N]> {
  using element = U;
  static constexpr std::size_t size = N;
};
template <class U, std::size_t N>
  requires(N != std::dynamic_extent)
struct fixed_extent<std::span<U, N>> {
  using element = std::remove_cv_t<U>;
  static constexpr std::size_t size = N;
};

/// std::array<U, N>, U[N] or std::span<U, N> of arithmetic U.
template <class X>
concept FixedVector = requires { fixed_extent<std::remove_cvref_t<X>>::size; } &&
                      std::is_arithmetic_v<typename fixed_extent<std::remove_cvref_t<X>>::element>;

/// A contiguous range of class indices.
template <class R>
concept IndexRange = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                     std::integral<std::ranges::range_value_t<R>>;

/// The number of samples in a range of inputs and one of what goes with them (`noun`:
/// targets, outputs); throws std::invalid_argument ("<who>: 3 inputs but 2 <noun>") when
/// their sizes differ.
template <class Inputs, class Paired>
constexpr std::size_t paired_size(const Inputs& inputs, const Paired& paired, const char* who, const char* noun) {
  const std::size_t count = std::ranges::size(inputs);
  if (count != std::ranges::size(paired))
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(count) + " inputs but " +
                                std::to_string(std::ranges::size(paired)) + " " + noun);
  return count;
}

/// The number of samples in a batch of inputs and targets; throws std::invalid_argument
/// ("<who>: 3 inputs but 2 targets", "<who>: empty batch") when they cannot be paired.
template <class Inputs, class Targets>
constexpr std::size_t batch_size(const Inputs& inputs, const Targets& targets, const char* who) {
  const std::size_t count = paired_size(inputs, targets, who, "targets");
  if (count == 0) throw std::invalid_argument(std::string(who) + ": empty batch");
  return count;
}

}  // namespace staticgrad::detail
