/// @file detail::simd::Packed<T, N>: N values held in SIMD registers for a whole
/// computation, and PackedParts, a recurrent layer's gates side by side with the
/// matrix-vector product that fills them (gated_cell::products). A recurrent layer's step is
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

#if !defined(STATICGRAD_NO_SIMD) && XSIMD_WITH_AVX512F
/// Whether lanes_from shifts lanes across two registers of B in one instruction: AVX-512's
/// valignd / valignq. (Elsewhere it would take a permute per register and a blend, or a
/// pass through memory.)
template <class B>
inline constexpr bool lane_shifts = sizeof(B) == 64;
/// Lanes Shift … of `low`, then the first lanes of `high`.
template <std::size_t Shift, class B>
[[gnu::always_inline]] inline B lanes_from(const B& low, const B& high) {
  static_assert(lane_shifts<B> && Shift < B::size);
  if constexpr (B::size == 16)
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(high), _mm512_castps_si512(low), Shift));
  else return _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(high), _mm512_castpd_si512(low), Shift));
}
#else
template <class B>
inline constexpr bool lane_shifts = false;
template <std::size_t Shift, class B>
B lanes_from(const B&, const B&);  // never called: Packed::slice checks lane_shifts first
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
  /// Values First … First + Count − 1 as a Packed of their own, taken out in registers: each
  /// register whole where First starts one, else shifted across two (lane_shifts).
  template <std::size_t First, std::size_t Count>
  [[gnu::always_inline]] Packed<T, Count> slice() const {
    static_assert(First + Count <= N);
    static_assert(First % lanes == 0 || lane_shifts<R>, "needs a lane shift this target does not have");
    Packed<T, Count> out;
    boost::mp11::mp_for_each<boost::mp11::mp_iota_c<Packed<T, Count>::count>>([&](auto r) {
      constexpr std::size_t at = First + r * lanes, k = at / lanes, shift = at % lanes;
      if constexpr (shift == 0) out.regs[r] = regs[k];
      else out.regs[r] = lanes_from<shift>(regs[k], regs[std::min(k + 1, count - 1)]);
    });
    return out;
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

  /// Register k of the N values at `values`, of which `Readable` may be read.
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

/// Parts vectors of N values side by side (a recurrent layer's gates), in registers: all in
/// one Packed<T, Parts·N> where every part can be taken out of it in registers (each part
/// starts a register, or the target shifts lanes across two), so that they fill the fewest
/// registers and a row of weights loads as whole registers, not as a row of parts of which
/// every other one straddles cache lines (a 40-wide layer's products are bound by their
/// loads: bench/README.md); otherwise a Packed per part, each starting a register.
template <class T, std::size_t N, std::size_t Parts>
struct PackedParts {
  static constexpr bool side_by_side = N % Packed<T, N>::lanes == 0 || lane_shifts<register_of<T>>;
  static constexpr std::size_t block = side_by_side ? Parts * N : N, blocks_count = side_by_side ? 1 : Parts;
  using Block = Packed<T, block>;
  std::array<Block, blocks_count> blocks;

  /// The Parts·N values at `values`, of which `Readable` may be read.
  template <std::size_t Readable>
  [[gnu::always_inline]] static PackedParts load(const T* values) {
    return [&]<std::size_t... b>(std::index_sequence<b...>) {
      return PackedParts{{Block::template load<Readable - b * block>(values + b * block)...}};
    }(std::make_index_sequence<blocks_count>{});
  }
  /// Part P (< Parts).
  template <std::size_t P>
  [[gnu::always_inline]] Packed<T, N> part() const {
    if constexpr (side_by_side) return blocks[0].template slice<P * N, N>();
    else return blocks[P];
  }
  [[gnu::always_inline]] friend PackedParts operator+(const PackedParts& a, const PackedParts& b) {
    PackedParts sum;
    unrolled<blocks_count>([&](std::size_t k) { sum.blocks[k] = a.blocks[k] + b.blocks[k]; });
    return sum;
  }

  /// Part p += Σ_i x[i] · w[i·Stride + p·N + (0 … N)] for every part: the product of x with
  /// the Parts side-by-side column blocks of an input-major In × Stride matrix, which must be
  /// followed by at least Stride more values (the last row is read in whole registers). The
  /// registers are summed twelve at a time (more spill to memory in every multiply-add);
  /// within a group, the sum over i is split into as many chains as keep eight multiply-adds
  /// in flight, added at the end, as in gemm::affine_one.
  template <std::size_t In, std::size_t Stride>
  [[gnu::always_inline]] void multiply_add(const T* w, const T* x) {
    using R = typename Block::R;
    constexpr std::size_t registers = blocks_count * Block::count, group = std::min<std::size_t>(12, registers);
    constexpr std::size_t in_flight = 8, readable = Stride + block;
    boost::mp11::mp_for_each<boost::mp11::mp_iota_c<(registers + group - 1) / group>>([&](auto group_index) {
      constexpr std::size_t first = group_index * group, size = std::min(group, registers - first);
      constexpr std::size_t chains = std::min(In, (in_flight + size - 1) / size), whole = In / chains * chains;
      // register j of the group is register (first + j) % Block::count of block (first + j) / Block::count
      const auto reg = [&](std::size_t j) -> R& {
        return blocks[(first + j) / Block::count].regs[(first + j) % Block::count];
      };
      std::array<std::array<R, size>, chains> acc;
      unrolled<size>([&](std::size_t j) { acc[0][j] = reg(j); });
      unrolled<chains - 1>([&](std::size_t c) { acc[c + 1].fill(R(T{0})); });
      const auto add_row = [&](std::size_t i, std::size_t c) {
        const R input(x[i]);
        unrolled<size>([&](std::size_t j) {
          const T* row = w + i * Stride + (first + j) / Block::count * block;
          const R weights = Block::template load_register<readable>(row, (first + j) % Block::count);
          acc[c][j] = simd::fma(input, weights, acc[c][j]);
        });
      };
      for (std::size_t i = 0; i < whole; i += chains) unrolled<chains>([&](std::size_t c) { add_row(i + c, c); });
      unrolled<In - whole>([&](std::size_t c) { add_row(whole + c, c); });
      unrolled<size>([&](std::size_t j) {
        unrolled<chains - 1>([&](std::size_t c) { acc[0][j] = acc[0][j] + acc[c + 1][j]; });
        reg(j) = acc[0][j];
      });
    });
  }
};

}  // namespace staticgrad::detail::simd
