/// @file detail::unrolled, a loop over compile-time indices written out.
#pragma once

#include <cstddef>

namespace staticgrad::detail {

/// Calls f(i) for i < N, in order, as a loop the compiler unrolls completely: an array of
/// SIMD accumulators stays in registers only when every index into it is a constant.
/// Unrolled by the compiler, not by a fold over std::integral_constant indices (which
/// instantiated f N times): g++ and clang unroll the loop before they break the arrays up
/// into registers, and one instantiation instead of N compiles the batched kernels' tests
/// in 60% of the time and memory (tests/model.cpp's batch cases, g++ -O3: 68 → 39 s,
/// 1.8 → 1.1 GB), runs as fast with g++, and faster with clang, which did not inline all
/// the instantiations (N4 batch 32 value_and_grad with clang -O3 -march=native 71 → 37 µs).
/// Always inlined: clang -O2 called it, with the accumulators in memory (dot_rows of 128
/// rows of 32 on AVX-512: 659 → 76 ns; eight Dense<32,32,Tanh> value_and_grad 1.6 → 0.9 µs).
template <std::size_t N, class F>
[[gnu::always_inline]] inline void unrolled(F&& f) {
#pragma GCC unroll 1024
  for (std::size_t i = 0; i < N; ++i) f(i);
}

}  // namespace staticgrad::detail
