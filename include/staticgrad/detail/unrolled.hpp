/// @file detail::unrolled, a loop over compile-time indices written out.
#pragma once

#include <cstddef>

namespace staticgrad::detail {

/// Calls f(i) for i < N, in order, as a loop the compiler unrolls completely: an array of
/// SIMD accumulators stays in registers only when every index into it is a constant.
/// Unrolled by the compiler, not by a fold over std::integral_constant indices (which
/// instantiated f N times): g++ and clang unroll the loop before they break the arrays up
/// into registers, so one instantiation instead of N compiles faster and in less memory,
/// runs as fast with g++, and faster with clang, which did not inline all the
/// instantiations. Always inlined: clang -O2 called it, with the accumulators in memory.
/// (bench/README.md, "Decisions and their measurements", has the numbers.)
template <std::size_t N, class F>
[[gnu::always_inline]] inline void unrolled(F&& f) {
#pragma GCC unroll 1024
  for (std::size_t i = 0; i < N; ++i) f(i);
}

}  // namespace staticgrad::detail
