/// @file detail::unrolled, a loop over compile-time indices written out.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace staticgrad::detail {

/// Calls f(i) for i < N, in order. When optimizing, written out with i a
/// std::integral_constant: an array of SIMD accumulators stays in registers only when every
/// index into it is a constant (given the index as a std::size_t, g++ 12 kept the tiles in
/// memory: the batched kernels ran 2.5× slower). Without optimization nothing stays in
/// registers anyway, and a plain loop instantiates f once instead of N times: the ASan
/// build of tests/model.cpp (-O0) compiles in a third of the time. So f takes its index
/// as `auto` or std::size_t, never as a template argument.
template <std::size_t N, class F>
inline void unrolled(F&& f) {
#ifdef __OPTIMIZE__
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<N>{});
#else
  for (std::size_t i = 0; i < N; ++i) f(i);
#endif
}

}  // namespace staticgrad::detail
