/// @file detail::unrolled, a loop over compile-time indices written out.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace staticgrad::detail {

/// Calls f(std::integral_constant<std::size_t, I>{}) for I < N, in order, written out:
/// an array of SIMD accumulators stays in registers only when every index into it is a
/// constant.
template <std::size_t N, class F>
inline void unrolled(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<N>{});
}

}  // namespace staticgrad::detail
