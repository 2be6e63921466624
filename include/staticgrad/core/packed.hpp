/// @file detail::simd::Packed<T, N>: N values held in SIMD registers for a whole
/// computation, and the matrix-vector product that fills them (gated_cell::products). A recurrent layer's step is
/// a chain (products, σ, tanh, the new state) that the next step waits for: each pass of
/// its values through memory (a store, then a load of what was stored) adds to that chain,
/// so a step keeps its gates in registers from the products to the new state.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/core/simd.hpp>
#include <staticgrad/detail/unrolled.hpp>

namespace staticgrad::detail::simd {

#ifndef STATICGRAD_NO_SIMD
template <class T>
using register_of = xsimd::batch<T>;
#else
template <class T>
using register_of = T;
#endif

/// N values of T in the fewest registers; the last register's lanes past N hold values that
/// are never stored. Everything is always inlined: a Packed that goes through a call is
/// copied through memory, which is what it is for avoiding.
template <class T, std::size_t N>
struct Packed {
  using R = register_of<T>;
  static constexpr std::size_t lanes = sizeof(R) / sizeof(T);
  static constexpr std::size_t count = (N + lanes - 1) / lanes;
  std::array<R, count> regs;

  /// The N values at `values`, of which `Readable` ≥ N may be read: whole registers when
  /// the last one's lanes past N are readable, that register's first lanes only otherwise.
  template <std::size_t Readable>
  [[gnu::always_inline]] static Packed load(const T* values) {
    static_assert(Readable >= N);
    Packed packed;
    unrolled<count>([&](std::size_t k) { packed.regs[k] = load_register<Readable>(values, k); });
    return packed;
  }
  [[gnu::always_inline]] static Packed splat(T value) {
    Packed packed;
    packed.regs.fill(R(value));
    return packed;
  }
  [[gnu::always_inline]] void store(T* out) const {
    unrolled<count>([&](std::size_t k) {
#ifndef STATICGRAD_NO_SIMD
      store_lanes(regs[k], out + k * lanes, std::min(lanes, N - k * lanes));
#else
      out[k] = regs[k];
#endif
    });
  }

  /// f(a.regs[k], b.regs[k], …) for every register k: element-wise math on whole registers.
  template <class F, class... More>
  [[gnu::always_inline]] friend Packed zip(F f, const Packed& a, const More&... more) {
    Packed packed;
    unrolled<count>([&](std::size_t k) { packed.regs[k] = f(a.regs[k], more.regs[k]...); });
    return packed;
  }
  [[gnu::always_inline]] friend Packed operator+(const Packed& a, const Packed& b) {
    return zip([](const R& x, const R& y) { return x + y; }, a, b);
  }
  [[gnu::always_inline]] friend Packed operator-(const Packed& a, const Packed& b) {
    return zip([](const R& x, const R& y) { return x - y; }, a, b);
  }
  [[gnu::always_inline]] friend Packed operator*(const Packed& a, const Packed& b) {
    return zip([](const R& x, const R& y) { return x * y; }, a, b);
  }
  /// a ⊙ b + c, fused.
  [[gnu::always_inline]] friend Packed fma(const Packed& a, const Packed& b, const Packed& c) {
    return zip([](const R& x, const R& y, const R& z) { return simd::fma(x, y, z); }, a, b, c);
  }

 private:
  template <std::size_t Readable>
  [[gnu::always_inline]] static R load_register(const T* values, std::size_t k) {
#ifndef STATICGRAD_NO_SIMD
    const std::size_t first = k * lanes;
    if (first + lanes <= Readable) return R::load_unaligned(values + first);
    return load_lanes<R>(values + first, N - first);
#else
    return values[k];
#endif
  }
};

/// Parts vectors of N values side by side from `values`, of which `Readable` may be read.
template <class T, std::size_t N, std::size_t Parts, std::size_t Readable>
[[gnu::always_inline]] inline std::array<Packed<T, N>, Parts> load_parts(const T* values) {
  return [&]<std::size_t... p>(std::index_sequence<p...>) {
    return std::array<Packed<T, N>, Parts>{Packed<T, N>::template load<Readable - p * N>(values + p * N)...};
  }(std::make_index_sequence<Parts>{});
}

/// Parts vectors of N values: part p of `sums` += Σ_i x[i] · w[i·Stride + p·N + (0 … N)],
/// the product of x with Parts side-by-side column blocks of an input-major matrix (a
/// recurrent layer's gates), which must be followed by at least Stride more values (the
/// last row's last part is read in whole registers). The parts are summed a group at a
/// time, as many as keep their sums in twelve registers (more spill them to memory in every
/// multiply-add); within a group, the sum over i is split into as many chains as keep eight
/// multiply-adds in flight, added at the end, as in gemm::affine_one.
template <class T, std::size_t In, std::size_t N, std::size_t Parts, std::size_t Stride>
[[gnu::always_inline]] inline void affine_parts(const T* w, const T* x, std::array<Packed<T, N>, Parts>& sums) {
  using P = Packed<T, N>;
  constexpr std::size_t group = std::clamp<std::size_t>(12 / P::count, 1, Parts);
  constexpr std::size_t in_flight = 8, registers = group * P::count;
  constexpr std::size_t chains = std::min(In, (in_flight + registers - 1) / registers);
  constexpr std::size_t readable = Stride + N;
  constexpr std::size_t whole = In / chains * chains;
  boost::mp11::mp_for_each<boost::mp11::mp_iota_c<(Parts + group - 1) / group>>([&](auto group_index) {
    constexpr std::size_t first = group_index * group, size = std::min(group, Parts - first);
    std::array<std::array<P, size>, chains> acc;
    unrolled<size>([&](std::size_t p) { acc[0][p] = sums[first + p]; });
    unrolled<chains - 1>([&](std::size_t c) { acc[c + 1].fill(P::splat(T{0})); });
    const auto add_row = [&](std::size_t i, std::size_t c) {
      const P input = P::splat(x[i]);
      unrolled<size>([&](std::size_t p) {
        acc[c][p] = fma(input, P::template load<readable>(w + i * Stride + (first + p) * N), acc[c][p]);
      });
    };
    for (std::size_t i = 0; i < whole; i += chains) unrolled<chains>([&](std::size_t c) { add_row(i + c, c); });
    unrolled<In - whole>([&](std::size_t c) { add_row(whole + c, c); });
    unrolled<size>([&](std::size_t p) {
      unrolled<chains - 1>([&](std::size_t c) { acc[0][p] = acc[0][p] + acc[c + 1][p]; });
      sums[first + p] = acc[0][p];
    });
  });
}

}  // namespace staticgrad::detail::simd
