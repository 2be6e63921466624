/// @file Fixed-size kernels over input-major ([In][Out]) weight matrices.
///
/// Input-major storage turns the forward pass and the weight gradient into axpy loops over
/// contiguous outputs, which the compiler vectorizes without -ffast-math.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>

#include <staticgrad/core/gemm.hpp>
#include <staticgrad/core/simd.hpp>

namespace staticgrad::detail {

/// Returns the fixed-extent slice [Offset, Offset + Count) of `s`.
template <std::size_t Offset, std::size_t Count, class T, std::size_t N>
constexpr std::span<T, Count> slice(std::span<T, N> s) {
  static_assert(Offset + Count <= N, "staticgrad internal error: slice out of range");
  return s.template subspan<Offset, Count>();
}

// The kernels take __restrict pointers (a g++ and clang extension, as Eigen's
// EIGEN_RESTRICT): a layer's input, output and parameters never overlap, and saying so
// lets the compiler keep a block of outputs in registers across the whole input loop
// instead of storing and reloading it after every multiply-add.

/// z += Wᵀx with W stored [In][Out].
template <class T, std::size_t In, std::size_t Out>
constexpr void add_linear(const T* __restrict w, const T* __restrict x, T* __restrict z) {
  for (std::size_t i = 0; i < In; ++i) {
    const T xi = x[i];
    const T* __restrict row = w + i * Out;
    for (std::size_t o = 0; o < Out; ++o) z[o] += xi * row[o];
  }
}

/// z = Wᵀx + b with W stored [In][Out], and at least a register's worth of values after
/// W (its biases follow it) when Out fills a register: gemm::affine_one keeps the outputs
/// in registers, where g++ stored and reloaded them after each input.
template <class T, std::size_t In, std::size_t Out>
constexpr void affine(const T* __restrict w, const T* __restrict b, const T* __restrict x,
                      T* __restrict z) {
#ifndef STATICGRAD_NO_SIMD
  if constexpr (Out == 1 && In > 8 && !std::is_void_v<simd::dot_register<T, In>>) {
    // One output: one dot product in a register's lanes, not a chain of In multiply-adds
    // (nor affine_one's register of one lane).
    if (!std::is_constant_evaluated()) {
      z[0] = b[0] + simd::dot<T, In>(w, x);
      return;
    }
  } else if constexpr (gemm::one_fits<T, In, Out>) {
    if (!std::is_constant_evaluated()) return gemm::affine_one<T, In, Out>(w, b, x, z);
  } else if constexpr (gemm::quad_fits<T, In, Out>) {
    if (!std::is_constant_evaluated()) return gemm::affine_quad<T, In, Out>(w, b, x, z);
  }
#endif
  for (std::size_t o = 0; o < Out; ++o) z[o] = b[o];
  add_linear<T, In, Out>(w, x, z);
}

/// dx = W dz with W stored [In][Out]: one dot product per input. Plain loops cannot
/// vectorize a sum without reordering it (-ffast-math); simd::dot_rows reorders it once,
/// the same way on every call.
template <class T, std::size_t In, std::size_t Out>
constexpr void affine_input_grad(const T* __restrict w, const T* __restrict dz,
                                 T* __restrict dx) {
#ifndef STATICGRAD_NO_SIMD
  if constexpr (!std::is_void_v<simd::dot_register<T, Out>>) {
    if (!std::is_constant_evaluated()) return simd::dot_rows<T, In, Out>(w, dz, dx);
  }
#endif
  for (std::size_t i = 0; i < In; ++i) {
    const T* __restrict row = w + i * Out;
    T sum{};
    for (std::size_t o = 0; o < Out; ++o) sum += row[o] * dz[o];
    dx[i] = sum;
  }
}

/// dW (+)= x ⊗ dz, with dW stored [In][Out].
///
/// No __restrict on dW: dW and db are two parts of one layer's gradient slice, and g++ 12
/// at -O3 miscompiled the accumulating form with restrict pointers once a batch loop
/// inlined it (wrong bias gradients; caught by the tape-vs-generated batch tests). x and
/// dz, only read, are __restrict: without it clang checked on every row whether dW
/// overlaps dz, and copied the biases a float at a time.
template <bool Accumulate, class T, std::size_t In, std::size_t Out>
constexpr void outer_product(const T* __restrict x, const T* __restrict dz, T* dw) {
#ifndef STATICGRAD_NO_SIMD
  if constexpr (!std::is_void_v<simd::row_register<T, Out>>) {
    if (!std::is_constant_evaluated()) return simd::outer_product<Accumulate, T, In, Out>(x, dz, dw);
  }
#endif
  for (std::size_t i = 0; i < In; ++i) {
    const T xi = x[i];
    T* row = dw + i * Out;
    // A loop for clang too: it unrolled rows of up to 32 outputs completely and then
    // vectorized the input loop, with a scatter store per output, three times slower.
#ifdef __clang__
#pragma clang loop unroll(disable)
#endif
    for (std::size_t o = 0; o < Out; ++o) {
      if constexpr (Accumulate) row[o] += xi * dz[o];
      else row[o] = xi * dz[o];
    }
  }
}

/// dW (+)= x ⊗ dz and db (+)= dz (outer_product's comment says why dW and db have no __restrict).
template <bool Accumulate, class T, std::size_t In, std::size_t Out>
constexpr void affine_param_grad(const T* __restrict x, const T* __restrict dz, T* dw, T* db) {
  outer_product<Accumulate, T, In, Out>(x, dz, dw);
  for (std::size_t o = 0; o < Out; ++o) {
    if constexpr (Accumulate) db[o] += dz[o];
    else db[o] = dz[o];
  }
}

}  // namespace staticgrad::detail
