/// @file Vectorized element-wise math for the activations: the same generic formula runs
/// on one number (the std functions) or on a SIMD register of them (xsimd's vectorized
/// exp, tanh, erf, log1p: within 2.3 ulp of the correctly rounded value for float and 1.2
/// ulp for double, measured; double erf stays libm's, and the Tanh activation's float tanh
/// is a rational function of our own, within 5.7 ulp: see below), and map applies it over
/// a whole array, one register at a time.
///
/// xsimd picks the widest instruction set the compiler targets (SSE2 by default; AVX2 or
/// AVX-512 with -march=native). Defining STATICGRAD_NO_SIMD keeps everything scalar.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#ifndef STATICGRAD_NO_SIMD
#include <xsimd/xsimd.hpp>
#endif

#include <staticgrad/detail/unrolled.hpp>

namespace staticgrad::detail::simd {

/// The number type inside X: X itself, or the lane type of a SIMD register.
template <class X>
struct scalar_of {
  using type = X;
};
#ifndef STATICGRAD_NO_SIMD
template <class T, class A>
struct scalar_of<xsimd::batch<T, A>> {
  using type = T;
};
#endif

/// The constant v as X (every lane of a register).
template <class X>
constexpr X constant(double v) {
  return X(static_cast<typename scalar_of<X>::type>(v));
}

// The math the activations use, for one number.
template <std::floating_point T> T exp(T x) { return std::exp(x); }
template <std::floating_point T> T tanh(T x) { return std::tanh(x); }
template <std::floating_point T> T fast_tanh(T x) { return std::tanh(x); }
template <std::floating_point T> T erf(T x) { return std::erf(x); }
template <std::floating_point T> T log1p(T x) { return std::log1p(x); }
template <std::floating_point T> T abs(T x) { return std::abs(x); }
template <std::floating_point T> T sqrt(T x) { return std::sqrt(x); }
template <std::floating_point T> T max(T a, T b) { return std::max(a, b); }
template <std::floating_point T> T select(bool condition, T if_true, T if_false) { return condition ? if_true : if_false; }
/// x⁺ = max(x, 0) as ReLU defines it: x < 0 ? 0 : x, so NaN and −0 stay as they are.
template <std::floating_point T> constexpr T positive_part(T x) { return x < T{0} ? T{0} : x; }
/// x·y + z: one fused multiply-add wherever the compiler contracts, as everywhere in the
/// library's plain loops.
template <std::floating_point T> T fma(T x, T y, T z) { return x * y + z; }

#ifndef STATICGRAD_NO_SIMD
// … and for a register of numbers.
/// x·y + z rounded once in an AVX-512 register, and as xsimd's fma elsewhere (the
/// instruction in registers of an FMA3 target). xsimd 8's fma is x * y + z on AVX-512,
/// which the compilers fuse only when they optimize: a g++ -O1 build would round twice, and
/// σ's argument reduction needs the single rounding.
template <class T, class A>
inline xsimd::batch<T, A> fma(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& y, const xsimd::batch<T, A>& z) {
#if XSIMD_WITH_AVX512F
  if constexpr (sizeof(x) == 64) {
    if constexpr (std::is_same_v<T, float>) return _mm512_fmadd_ps(x, y, z);
    else return _mm512_fmadd_pd(x, y, z);
  }
#endif
#if defined(__FMA__) && XSIMD_WITH_SSE2
  // SSE's registers on an FMA3 target (xsimd's SSE fma rounds twice): the narrow registers
  // of small_register compute what the wide ones do.
  if constexpr (sizeof(x) == 16) {
    if constexpr (std::is_same_v<T, float>) return _mm_fmadd_ps(x, y, z);
    else return _mm_fmadd_pd(x, y, z);
  }
#endif
  return xsimd::fma(x, y, z);
}
template <class T, class A> xsimd::batch<T, A> exp(const xsimd::batch<T, A>& x) { return xsimd::exp(x); }
template <class T, class A> xsimd::batch<T, A> tanh(const xsimd::batch<T, A>& x) { return xsimd::tanh(x); }
// xsimd's double exp and tanh convert x / ln 2 to a 64-bit integer, lane by lane in C++
// where the instruction set has no such conversion (SSE2, AVX2): undefined behaviour for
// NaN and for |x| beyond 2^63 ln 2 (clang's UBSan stops there). f(x) is taken at x clipped
// to ±limit, beyond which f is constant, and NaN passes through.
template <class A, class F>
xsimd::batch<double, A> clipped(const xsimd::batch<double, A>& x, double limit, F f) {
  using B = xsimd::batch<double, A>;
  const auto nan = xsimd::isnan(x);
  return xsimd::select(nan, x, f(xsimd::select(nan, B(0.0), xsimd::clip(x, B(-limit), B(limit)))));
}
// exp(±800) is already infinity and 0; tanh(±40) is ±1 in double.
template <class A>
xsimd::batch<double, A> exp(const xsimd::batch<double, A>& x) {
  return clipped(x, 800.0, [](const auto& v) { return xsimd::exp(v); });
}
template <class A>
xsimd::batch<double, A> tanh(const xsimd::batch<double, A>& x) {
  return clipped(x, 40.0, [](const auto& v) { return xsimd::tanh(v); });
}
// The Tanh activation's tanh. For a register of floats, x·P(x²)/Q(x²) (tools/fit_tanh.py):
// at most 4.84 ulp from the exact value over every float with FMA instructions, 5.70 without
// (tools/float_ulps.cpp; xsimd's tanh 1.35, Eigen's 4.90), x itself for tiny x, ±1 from |x| =
// 9.1 on and never beyond. No branch, and about half the latency of xsimd's exp-based tanh,
// which is most of a small tanh network's time. STATICGRAD_ACCURATE_TANH keeps xsimd's.
// GELUTanh keeps `tanh`: its derivative multiplies 1 − tanh² by up to about 20, which would
// magnify these last-place errors near ±1.
template <class T, class A> xsimd::batch<T, A> fast_tanh(const xsimd::batch<T, A>& x) { return simd::tanh(x); }
#ifndef STATICGRAD_ACCURATE_TANH
// Always inlined, as sigmoid: a recurrent step calls both for its gates, and g++ stopped
// inlining them once the narrow registers' copies were instantiated too.
template <class A>
[[gnu::always_inline]] inline xsimd::batch<float, A> fast_tanh(const xsimd::batch<float, A>& z) {
  using B = xsimd::batch<float, A>;
  const B x = xsimd::abs(z);
  const B y = x * x, y2 = y * y, y4 = y2 * y2;
  // Estrin's scheme: pairs of coefficients, then powers y², y⁴ (a shorter chain than Horner's)
  const B q = simd::fma(y2, simd::fma(y, B(0x1.0a8b52p-12f), B(0x1.9125cp-6f)),
                         simd::fma(y, B(0x1.db49c6p-2f), B(1.f)));
  const B p = simd::fma(y4, simd::fma(y2, B(-0x1.75d00cp-44f), simd::fma(y, B(0x1.ca315p-35f), B(-0x1.592c1ep-26f))),
                         simd::fma(y2, simd::fma(y, B(0x1.753deap-17f), B(0x1.9679p-9f)),
                                    simd::fma(y, B(0x1.0be8e8p-3f), B(1.f))));
  // x / q first (q is ready before p). Rounding can land a hair above 1 or, near 9.1, below
  // it; tanh rounds to 1 from 9.011 on, and the select also drops whatever infinite x made.
  // NaN passes: x86's min returns its second operand when either is NaN.
  const B magnitude = xsimd::select(x >= B(9.1f), B(1.f), xsimd::min(B(1.f), x / q * p));
  return magnitude | xsimd::bitofsign(z);
}
#endif
template <class A> xsimd::batch<float, A> erf(const xsimd::batch<float, A>& x) { return xsimd::erf(x); }
// xsimd's double erf was measured at 68 ulp, enough to show in finite-difference checks:
// double keeps libm's, lane by lane (double is for checking; float is for speed).
template <class A>
xsimd::batch<double, A> erf(const xsimd::batch<double, A>& x) {
  std::array<double, xsimd::batch<double, A>::size> lanes;
  x.store_unaligned(lanes.data());
  for (double& lane : lanes) lane = std::erf(lane);
  return xsimd::batch<double, A>::load_unaligned(lanes.data());
}
template <class T, class A> xsimd::batch<T, A> log1p(const xsimd::batch<T, A>& x) { return xsimd::log1p(x); }
template <class T, class A> xsimd::batch<T, A> abs(const xsimd::batch<T, A>& x) { return xsimd::abs(x); }
template <class T, class A> xsimd::batch<T, A> sqrt(const xsimd::batch<T, A>& x) { return xsimd::sqrt(x); }
template <class T, class A>
xsimd::batch<T, A> max(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) {
  return xsimd::max(a, b);
}
template <class T, class A>
xsimd::batch<T, A> select(const xsimd::batch_bool<T, A>& condition, const xsimd::batch<T, A>& if_true,
                          const xsimd::batch<T, A>& if_false) {
  return xsimd::select(condition, if_true, if_false);
}
template <class T, class A>
xsimd::batch<T, A> positive_part(const xsimd::batch<T, A>& x) {
#if XSIMD_WITH_SSE2
  // x86's maxps(a, b) is a > b ? a : b: with a = 0, the formula above in one instruction
  // (g++ wrote xsimd::select's blend as a compare, a mask move and a masked blend)
  return xsimd::max(xsimd::batch<T, A>(T{0}), x);
#else
  return xsimd::select(x < T{0}, xsimd::batch<T, A>(T{0}), x);
#endif
}
#endif

// The Sigmoid activation's σ(z) = 1/(1 + e^−z): 1/(1 + e) for z ≥ 0 and e/(1 + e) below,
// with e = e^−|z| ≤ 1, which never overflows and keeps small values' relative precision.
template <class X>
X sigmoid(X z) {
  const X e = simd::exp(-simd::abs(z));
  const X one = constant<X>(1);
  return simd::select(z >= constant<X>(0), one / (one + e), e / (one + e));
}
#ifndef STATICGRAD_NO_SIMD
#if XSIMD_WITH_AVX512F || XSIMD_WITH_FMA3_AVX2
// For registers of floats where there is a fused multiply-add (more specialized, so chosen
// over the template above), the same formula with an exp of our own: a recurrent step waits for
// its gates' σ, and xsimd's exp (a Horner polynomial, the exponent put in through integer
// instructions) and a second division made most of that wait. Here e^−|z| = 2^k·e^r with
// r = −|z| − k·ln 2 reduced by one fused multiply-add (float(ln 2)'s error, k·1.9e-9,
// folded into the polynomial's constant), the polynomial (xsimd's coefficients) by
// Estrin's scheme, 2^k by AVX-512's vscalefps where there is one, and e/(1 + e) as e times
// 1/(1 + e). Within 3.7 ulp of the exact value over every float (tools/float_ulps.cpp),
// against 2.6 through xsimd's exp.
template <class A>
[[gnu::always_inline]] inline xsimd::batch<float, A> sigmoid(const xsimd::batch<float, A>& z) {
  using B = xsimd::batch<float, A>;
  // −|z|, clipped where σ's tail rounds to 0 in float; NaN passes (x86's max returns its second operand)
  const B a = xsimd::max(B(-104.0f), z | B(-0.0f));
  const B k = xsimd::nearbyint(a * B(0x1.715476p+0f));  // a / ln 2, rounded
  const B r = simd::fma(k, B(-0x1.62e43p-1f), a);
  const B r2 = r * r, r4 = r2 * r2;
  const B constant_term = B(1.0f) - k * B(-0x1.05c61p-29f);  // 1 − k·(ln 2 − float(ln 2))
  const B low = simd::fma(r2, simd::fma(r, B(0x1.55534ap-3f), B(0x1p-1f)), constant_term + r);
  const B high = simd::fma(r2, B(0x1.6ef19ep-10f), simd::fma(r, B(0x1.131b16p-7f), B(0x1.5552aep-5f)));
  const B e_r = simd::fma(r4, high, low);
  // 2^k for k down to −150 as two normal factors, so that the tail's results are subnormal
  // (rounded once, as by vscalefps)
  const auto scaled = [&] {
    using I = xsimd::batch<std::int32_t, A>;
    const I k_int = xsimd::batch_cast<std::int32_t>(k), half = k_int >> 1;
    const auto power_of_two = [](const I& exponent) { return xsimd::bitwise_cast<B>((exponent + I(127)) << 23); };
    return e_r * power_of_two(half) * power_of_two(k_int - half);
  };
#if XSIMD_WITH_AVX512F
  B e;
  if constexpr (sizeof(B) == 64) e = B(_mm512_scalef_ps(e_r, k));
  else e = scaled();
#else
  const B e = scaled();
#endif
  const B reciprocal = B(1.0f) / (B(1.0f) + e);
  return xsimd::select(z >= B(0.0f), reciprocal, e * reciprocal);
}
#endif
#endif

#ifndef STATICGRAD_NO_SIMD
#if XSIMD_WITH_AVX512F
// AVX-512 loads and stores the first lanes of a register in one masked instruction, which
// never touches the memory of the other lanes; elsewhere they go through a copy.
template <class B>
inline constexpr bool masked_lanes = sizeof(B) == 64;
template <class B>
auto lane_mask(std::size_t count) {
  if constexpr (B::size == 16) return static_cast<__mmask16>((1u << count) - 1u);
  else return static_cast<__mmask8>((1u << count) - 1u);
}
#else
template <class B>
inline constexpr bool masked_lanes = false;
#endif

// The first `count` values at `values` in a register, the other lanes zero.
template <class B, class T>
B load_lanes(const T* values, std::size_t count) {
  if (count == B::size) return B::load_unaligned(values);
#if XSIMD_WITH_AVX512F
  if constexpr (masked_lanes<B>) {
    if constexpr (std::is_same_v<T, float>) return _mm512_maskz_loadu_ps(lane_mask<B>(count), values);
    else return _mm512_maskz_loadu_pd(lane_mask<B>(count), values);
  }
#endif
#if XSIMD_WITH_AVX
  // AVX's masked load (vmaskmovps/pd), which does not touch the other lanes' memory either:
  // through a copy, the register's load spans several smaller stores, which stalls store
  // forwarding on every call.
  if constexpr (sizeof(B) == 32) {
    // Reading from the middle of "all set, then all clear" gives the first `count` set.
    alignas(32) static constexpr std::int32_t set_then_clear[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    const std::size_t skipped = (B::size - count) * sizeof(T) / sizeof(std::int32_t);
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(set_then_clear + skipped));
    if constexpr (std::is_same_v<T, float>) return _mm256_maskload_ps(values, mask);
    else return _mm256_maskload_pd(values, mask);
  }
#endif
  std::array<T, B::size> lanes{};
  std::copy_n(values, count, lanes.begin());
  return B::load_unaligned(lanes.data());
}
// The first `count` lanes of a register to `out`.
template <class B, class T>
void store_lanes(const B& values, T* out, std::size_t count) {
  if (count == B::size) return values.store_unaligned(out);
#if XSIMD_WITH_AVX512F
  if constexpr (masked_lanes<B>) {
    if constexpr (std::is_same_v<T, float>) return _mm512_mask_storeu_ps(out, lane_mask<B>(count), values);
    else return _mm512_mask_storeu_pd(out, lane_mask<B>(count), values);
  }
#endif
  std::array<T, B::size> lanes;
  values.store_unaligned(lanes.data());
  std::copy_n(lanes.begin(), count, out);
}
#endif

#ifndef STATICGRAD_NO_SIMD
/// The SIMD register of exactly N lanes of T (SSE's four floats, AVX's eight, …), or void
/// when the target has none.
template <class T, std::size_t N>
using exact_register = xsimd::make_sized_batch_t<T, N>;

/// The narrowest register of at least N lanes when it is narrower than a whole one, else
/// void: SSE's four floats for one to four values, AVX's eight for five to eight on
/// AVX-512. A few values just stored go through it instead of a masked whole register:
/// store forwarding serves no masked load, which waits for the stores to reach the cache.
template <class T, std::size_t N>
using small_register = std::conditional_t<(std::bit_ceil(N) < xsimd::batch<T>::size),
                                          exact_register<T, std::max(std::bit_ceil(N), 16 / sizeof(T))>, void>;

/// N values into a register R of at least N lanes, zeros after them: one load when they
/// fill it, else lane by lane (a whole load past them would wait as a masked one does).
template <class R, std::size_t N, class T>
R load_small(const T* x) {
  static_assert(N <= R::size);
  if constexpr (N == R::size) {
    return R::load_unaligned(x);
  } else {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return R{(I < N ? x[I] : T{0})...};
    }(std::make_index_sequence<R::size>{});
  }
}
/// The first N lanes of v to out.
template <std::size_t N, class R, class T>
void store_small(const R& v, T* out) {
  if constexpr (N == R::size) {
    v.store_unaligned(out);
  } else {
    alignas(sizeof(R)) std::array<T, R::size> lanes;
    v.store_aligned(lanes.data());
    std::copy_n(lanes.begin(), N, out);
  }
}
#endif

/// out[i] = f(in[i]...) for i < n, f a generic callable over the functions above; `in` may
/// be `out`. Every value goes through a SIMD register, the last ones in a register padded
/// with zeros: one formula for all, so equal inputs give equal outputs wherever they sit
/// (identical neurons stay identical).
template <class T, class F, class... Ins>
void map(F f, std::size_t n, T* out, const Ins*... in) {
#ifndef STATICGRAD_NO_SIMD
  using B = xsimd::batch<T>;
  const std::size_t whole = n / B::size * B::size;
  for (std::size_t i = 0; i < whole; i += B::size) f(B::load_unaligned(in + i)...).store_unaligned(out + i);
  if (const std::size_t rest = n - whole; rest > 0)
    store_lanes(f(load_lanes<B>(in + whole, rest)...), out + whole, rest);
#else
  for (std::size_t i = 0; i < n; ++i) out[i] = f(in[i]...);
#endif
}

/// (out[i], second[i]) = f(in[i]) for i < n: map for an f that returns a pair.
template <class T, class F>
void map_pair(F f, std::size_t n, T* out, T* second, const T* in) {
#ifndef STATICGRAD_NO_SIMD
  using B = xsimd::batch<T>;
  const std::size_t whole = n / B::size * B::size;
  for (std::size_t i = 0; i < whole; i += B::size) {
    const auto [a, b] = f(B::load_unaligned(in + i));
    a.store_unaligned(out + i);
    b.store_unaligned(second + i);
  }
  if (const std::size_t rest = n - whole; rest > 0) {
    const auto [a, b] = f(load_lanes<B>(in + whole, rest));
    store_lanes(a, out + whole, rest);
    store_lanes(b, second + whole, rest);
  }
#else
  for (std::size_t i = 0; i < n; ++i) std::tie(out[i], second[i]) = f(in[i]);
#endif
}

/// f(a[i], b[i], …) for i < n, where f takes each value by reference and may change those
/// of the arrays that are not const (an optimizer's parameters and state). Whole registers,
/// the last values in a register padded with zeros, as map does.
template <class F, class... Arrays>
void update(F f, std::size_t n, Arrays*... arrays) {
#ifndef STATICGRAD_NO_SIMD
  using T = std::remove_const_t<std::common_type_t<Arrays...>>;
  using B = xsimd::batch<T>;
  for (std::size_t i = 0; i < n; i += B::size) {
    const std::size_t count = std::min(B::size, n - i);
    std::tuple<decltype(load_lanes<B>(arrays, count))...> values{load_lanes<B>(arrays + i, count)...};
    std::apply(f, values);
    std::apply([&](const auto&... results) {
      ([&] {
        if constexpr (!std::is_const_v<Arrays>) store_lanes(results, arrays + i, count);
      }(), ...);
    }, values);
  }
#else
  for (std::size_t i = 0; i < n; ++i) f(arrays[i]...);
#endif
}

#ifndef STATICGRAD_NO_SIMD
/// The register whose lane k is the sum of the lanes of rows[k], for k < lanes: xsimd's
/// haddp, except for float on AVX-512. There xsimd 8.1's haddp returns the sums in the
/// wrong lanes (2–3 swapped with 4–5 in each half; found by the tests), and a tree of
/// shuffles and adds does the work in half the instructions: each level adds the two
/// halves of pairs of registers, so that after four the 16 sums stand in order. Always
/// inlined: g++ called it, and a call takes the 16 registers through memory and makes the
/// caller save its own.
template <class T, class A>
[[gnu::always_inline]] inline xsimd::batch<T, A> sums_of_lanes(const xsimd::batch<T, A>* rows) {
#if XSIMD_WITH_AVX512F
  if constexpr (std::is_same_v<T, float> && xsimd::batch<T, A>::size == 16) {
    // Adds the quarters (4 lanes) of a and b: [a0 + a2, a1 + a3, b0 + b2, b1 + b3].
    const auto add_quarters = [](__m512 a, __m512 b) {
      return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    };
    // Quarter j of quarters[e] holds four partial sums of row 4j + e.
    std::array<xsimd::batch<T, A>, 4> quarters;
    for (std::size_t e = 0; e < 4; ++e) {
      const __m512 low = add_quarters(rows[e], rows[e + 4]), high = add_quarters(rows[e + 8], rows[e + 12]);
      quarters[e] = _mm512_add_ps(_mm512_shuffle_f32x4(low, high, 0x88), _mm512_shuffle_f32x4(low, high, 0xDD));
    }
    // Within each quarter: lanes 0 and 2 of rows e, e + 1 added pairwise, then across.
    const __m512 pairs01 = _mm512_add_ps(_mm512_unpacklo_ps(quarters[0], quarters[1]),
                                         _mm512_unpackhi_ps(quarters[0], quarters[1]));
    const __m512 pairs23 = _mm512_add_ps(_mm512_unpacklo_ps(quarters[2], quarters[3]),
                                         _mm512_unpackhi_ps(quarters[2], quarters[3]));
    return _mm512_add_ps(_mm512_shuffle_ps(pairs01, pairs23, 0x44), _mm512_shuffle_ps(pairs01, pairs23, 0xEE));
  }
#endif
  return xsimd::haddp(rows);
}

/// Registers of interleaved partial sums (gemm::affine_interleaved): Out = lanes / P
/// outputs, output o's P partial sums in lanes o·P … o·P + P − 1, so that one register
/// holds P inputs' products for every output. Where the target can broadcast P values and
/// gather the sums back in a few instructions: two floats in SSE2's registers, two or four
/// floats or two doubles in AVX2's and AVX-512's.
#if XSIMD_WITH_SSE2
template <class B, std::size_t P>
inline constexpr bool interleaves = [] {
  constexpr bool floats = std::is_same_v<typename B::value_type, float>;
  if constexpr (sizeof(B) == 16) return floats && P == 2;
  else if constexpr (sizeof(B) == 32) return XSIMD_WITH_AVX2 && (floats ? P == 2 || P == 4 : P == 2);
  else return XSIMD_WITH_AVX512F && sizeof(B) == 64 && (floats ? P == 2 || P == 4 : P == 2);
}();
template <std::size_t P>
inline constexpr bool interleaves<void, P> = false;  // no register of that width

/// The P values at `values` in every group of P lanes: [v0 … vP−1, v0 … vP−1, …], one
/// broadcast load.
template <class B, std::size_t P, class T>
[[gnu::always_inline]] inline B broadcast_group(const T* values) {
  static_assert(interleaves<B, P>);
  if constexpr (P * sizeof(T) == 8) {
    double group;
    std::memcpy(&group, values, sizeof group);
    if constexpr (sizeof(B) == 16) return _mm_castpd_ps(_mm_set1_pd(group));
#if XSIMD_WITH_AVX2
    if constexpr (sizeof(B) == 32) return _mm256_castpd_ps(_mm256_set1_pd(group));
#endif
#if XSIMD_WITH_AVX512F
    if constexpr (sizeof(B) == 64) return _mm512_castpd_ps(_mm512_set1_pd(group));
#endif
  } else {  // 16 bytes: AVX2's and AVX-512's registers only
#if XSIMD_WITH_AVX2
    const __m128i group = _mm_loadu_si128(reinterpret_cast<const __m128i*>(values));
    if constexpr (sizeof(B) == 32) {
      const __m256i all = _mm256_broadcastsi128_si256(group);
      if constexpr (std::is_same_v<T, float>) return _mm256_castsi256_ps(all);
      else return _mm256_castsi256_pd(all);
    }
#if XSIMD_WITH_AVX512F
    if constexpr (sizeof(B) == 64) {
      const __m512i all = _mm512_broadcast_i32x4(group);
      if constexpr (std::is_same_v<T, float>) return _mm512_castsi512_ps(all);
      else return _mm512_castsi512_pd(all);
    }
#endif
#endif
  }
}

/// The permutation that interleaves P rows of Out = Lanes / P values: lane o · P + p of the
/// interleaved register takes value p · Out + o of the rows.
template <class Index, std::size_t Lanes, std::size_t P>
alignas(64) inline constexpr std::array<Index, Lanes> interleave_order = [] {
  std::array<Index, Lanes> at{};
  for (std::size_t p = 0; p < P; ++p)
    for (std::size_t o = 0; o < Lanes / P; ++o) at[o * P + p] = static_cast<Index>(p * (Lanes / P) + o);
  return at;
}();

/// P rows of Out = lanes / P values, one after the other at `rows`, interleaved: lane
/// o · P + p holds rows[p · Out + o] (affine_interleaved's weights, as its inputs are).
template <class B, std::size_t P, class T>
[[gnu::always_inline]] inline B interleave_rows(const T* rows) {
  static_assert(interleaves<B, P>);
  const B values = B::load_unaligned(rows);
  // Two rows of two: [a0, a1, b0, b1] to [a0, b0, a1, b1].
  if constexpr (sizeof(B) == 16) return _mm_shuffle_ps(values, values, 0xD8);
#if XSIMD_WITH_AVX2
  if constexpr (sizeof(B) == 32 && !std::is_same_v<T, float>) return _mm256_permute4x64_pd(values, 0xD8);
  if constexpr (sizeof(B) == 32 && std::is_same_v<T, float>)
    return _mm256_permutevar8x32_ps(
        values, _mm256_load_si256(reinterpret_cast<const __m256i*>(interleave_order<std::int32_t, 8, P>.data())));
#endif
#if XSIMD_WITH_AVX512F
  if constexpr (sizeof(B) == 64 && std::is_same_v<T, float>)
    return _mm512_permutexvar_ps(_mm512_load_si512(interleave_order<std::int32_t, 16, P>.data()), values);
  if constexpr (sizeof(B) == 64 && !std::is_same_v<T, float>)
    return _mm512_permutexvar_pd(_mm512_load_si512(interleave_order<std::int64_t, 8, P>.data()), values);
#endif
}

/// Where store_group_sums's added registers hold sample s's output o (lane s · Out + o of
/// the rows): for float, four lanes of each 128 bits hold two outputs of two samples
/// (P = 2) or one output of four (P = 4); for double, one output of two samples.
template <class Index, std::size_t Lanes, std::size_t P>
alignas(64) inline constexpr std::array<Index, Lanes> group_sums_order = [] {
  constexpr std::size_t outputs = Lanes / P;
  std::array<Index, Lanes> at{};
  for (std::size_t s = 0; s < P; ++s)
    for (std::size_t o = 0; o < outputs; ++o) {
      const std::size_t lane = sizeof(Index) == 8 ? o * 2 + s : P == 4 ? o * 4 + s : o / 2 * 4 + s * 2 + o % 2;
      at[s * outputs + o] = static_cast<Index>(lane);
    }
  return at;
}();

/// The sums of P registers of interleaved partial sums (P samples' outputs), stored as
/// the samples' rows of Out = lanes / P outputs: out[s · Out + o] = Σ_p sums[s][o · P + p].
/// Within each 128 bits, shuffles add neighbouring lanes of two registers at a time (one
/// level for P = 2, two for P = 4), then one permute puts the sums in the rows' order.
template <std::size_t P, class B, class T>
[[gnu::always_inline]] inline void store_group_sums(const B* sums, T* out) {
  static_assert(interleaves<B, P>);
  [[maybe_unused]] constexpr bool floats = std::is_same_v<T, float>;
  // Lanes 4c … 4c + 3 of a and b (c counts 128 bits) to [a0 + a1, a2 + a3, b0 + b1, b2 + b3];
  // for double, lanes 2c, 2c + 1 to [a0 + a1, b0 + b1].
  const auto add_neighbours = [](B a, B b) -> B {
    if constexpr (sizeof(B) == 16) return _mm_add_ps(_mm_shuffle_ps(a, b, 0x88), _mm_shuffle_ps(a, b, 0xDD));
#if XSIMD_WITH_AVX2
    if constexpr (sizeof(B) == 32 && floats)
      return _mm256_add_ps(_mm256_shuffle_ps(a, b, 0x88), _mm256_shuffle_ps(a, b, 0xDD));
    if constexpr (sizeof(B) == 32 && !floats) return _mm256_add_pd(_mm256_shuffle_pd(a, b, 0x0), _mm256_shuffle_pd(a, b, 0xF));
#endif
#if XSIMD_WITH_AVX512F
    if constexpr (sizeof(B) == 64 && floats)
      return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
    if constexpr (sizeof(B) == 64 && !floats)
      return _mm512_add_pd(_mm512_shuffle_pd(a, b, 0x00), _mm512_shuffle_pd(a, b, 0xFF));
#endif
  };
  B total;
  if constexpr (P == 2) total = add_neighbours(sums[0], sums[1]);
  else total = add_neighbours(add_neighbours(sums[0], sums[1]), add_neighbours(sums[2], sums[3]));
  B rows = total;  // in SSE2's registers the sums stand in order
#if XSIMD_WITH_AVX2
  if constexpr (sizeof(B) == 32 && floats)
    rows = _mm256_permutevar8x32_ps(
        total, _mm256_load_si256(reinterpret_cast<const __m256i*>(group_sums_order<std::int32_t, B::size, P>.data())));
  if constexpr (sizeof(B) == 32 && !floats) rows = _mm256_permute4x64_pd(total, 0xD8);  // the order {0, 2, 1, 3}
#endif
#if XSIMD_WITH_AVX512F
  if constexpr (sizeof(B) == 64 && floats)
    rows = _mm512_permutexvar_ps(_mm512_load_si512(group_sums_order<std::int32_t, B::size, P>.data()), total);
  if constexpr (sizeof(B) == 64 && !floats)
    rows = _mm512_permutexvar_pd(_mm512_load_si512(group_sums_order<std::int64_t, B::size, P>.data()), total);
#endif
  rows.store_unaligned(out);
}
#else
// Declared for gemm::affine_interleaved, never called: nothing interleaves here.
template <class B, std::size_t P>
inline constexpr bool interleaves = false;
template <class B, std::size_t P, class T>
B broadcast_group(const T* values);
template <class B, std::size_t P, class T>
B interleave_rows(const T* rows);
template <std::size_t P, class B, class T>
void store_group_sums(const B* sums, T* out);
#endif

/// The side of the square blocks transpose_block transposes in registers: 16 for float on
/// AVX-512; 0 (none: scalar copies) elsewhere.
template <class T>
inline constexpr std::size_t transpose_block_size =
#if XSIMD_WITH_AVX512F
    std::is_same_v<T, float> && xsimd::batch<T>::size == 16 ? 16 :
#endif
    0;

#if XSIMD_WITH_AVX512F
/// dst[c][r] = src[r][c] for a 16 × 16 block of floats, rows SrcStride and DstStride apart:
/// 16 loads, 64 shuffles and 16 stores instead of 256 scalar copies. Each stage
/// interleaves pairs of rows at twice the width of the last: 32-bit values within 128-bit
/// quarters, then 64-bit pairs (each quarter now holds a 4 × 4 block transposed), then the
/// quarters themselves.
template <class T>
void transpose_block(const T* __restrict src, std::size_t src_stride, T* __restrict dst, std::size_t dst_stride) {
  static_assert(transpose_block_size<T> == 16, "staticgrad internal error: no transpose_block here");
  using B = xsimd::batch<float>;  // arrays of __m512 would lose its alignment attribute
  std::array<B, 16> rows, pairs;
  for (std::size_t r = 0; r < 16; ++r) rows[r] = _mm512_loadu_ps(src + r * src_stride);
  for (std::size_t k = 0; k < 16; k += 2) {
    pairs[k] = _mm512_unpacklo_ps(rows[k], rows[k + 1]);
    pairs[k + 1] = _mm512_unpackhi_ps(rows[k], rows[k + 1]);
  }
  // columns[4g + c], quarter q: column 4q + c of rows 4g … 4g + 3.
  std::array<B, 16> columns;
  const auto unpack = [](__m512 a, __m512 b, bool high) {
    const __m512d x = _mm512_castps_pd(a), y = _mm512_castps_pd(b);
    return _mm512_castpd_ps(high ? _mm512_unpackhi_pd(x, y) : _mm512_unpacklo_pd(x, y));
  };
  for (std::size_t g = 0; g < 16; g += 4) {
    columns[g] = unpack(pairs[g], pairs[g + 2], false);
    columns[g + 1] = unpack(pairs[g], pairs[g + 2], true);
    columns[g + 2] = unpack(pairs[g + 1], pairs[g + 3], false);
    columns[g + 3] = unpack(pairs[g + 1], pairs[g + 3], true);
  }
  // Row 4q + c of dst: quarter q of columns[c], columns[4 + c], columns[8 + c], columns[12 + c].
  for (std::size_t c = 0; c < 4; ++c) {
    const __m512 ab_low = _mm512_shuffle_f32x4(columns[c], columns[4 + c], 0x44);
    const __m512 ab_high = _mm512_shuffle_f32x4(columns[c], columns[4 + c], 0xEE);
    const __m512 cd_low = _mm512_shuffle_f32x4(columns[8 + c], columns[12 + c], 0x44);
    const __m512 cd_high = _mm512_shuffle_f32x4(columns[8 + c], columns[12 + c], 0xEE);
    _mm512_storeu_ps(dst + c * dst_stride, _mm512_shuffle_f32x4(ab_low, cd_low, 0x88));
    _mm512_storeu_ps(dst + (4 + c) * dst_stride, _mm512_shuffle_f32x4(ab_low, cd_low, 0xDD));
    _mm512_storeu_ps(dst + (8 + c) * dst_stride, _mm512_shuffle_f32x4(ab_high, cd_high, 0x88));
    _mm512_storeu_ps(dst + (12 + c) * dst_stride, _mm512_shuffle_f32x4(ab_high, cd_high, 0xDD));
  }
}
#else
// Declared for gemm::transpose, never called: transpose_block_size is 0 here.
template <class T>
void transpose_block(const T* src, std::size_t src_stride, T* dst, std::size_t dst_stride);
#endif

template <class T, std::size_t Cols, std::size_t Lanes = xsimd::batch<T>::size>
consteval auto dot_register_type() {
  if constexpr (Lanes == xsimd::batch<T>::size && Lanes <= Cols) return std::type_identity<xsimd::batch<T>>{};
  else if constexpr (Lanes <= Cols && !std::is_void_v<exact_register<T, Lanes>>)
    return std::type_identity<exact_register<T, Lanes>>{};
  else if constexpr (Lanes > 8) return dot_register_type<T, Cols, Lanes / 2>();
  else return std::type_identity<void>{};
}

/// The register dot_rows sums rows of Cols values in: the widest that fits a row, but one
/// narrower than the target's widest only down to eight lanes (void when none fits): on
/// AVX-512, rows of ten in AVX's eight lanes beat the compiler's scalar code, rows of four
/// in SSE's four lost to it (bench/README.md).
template <class T, std::size_t Cols>
using dot_register = typename decltype(dot_register_type<T, Cols>())::type;

/// out[i] = Σ_o m[i·Cols + o]·v[o] for i < Rows, m row-major: the products of each row
/// summed in the lanes of a register, then across them (a fixed order: the same on every
/// run), then the last Cols mod lanes products. A register's worth of rows at a time: that
/// many independent sums hide the latency of the fused multiply-adds, every load of v
/// serves them all, and sums_of_lanes adds up all their lanes at once (one horizontal add
/// per row cost more than the products). The blocks go last rows first: a backward pass
/// calls this right after the forward pass read m first rows first, and what the cache
/// still holds of m is its end. Needs a dot_register for Cols.
template <class T, std::size_t Rows, std::size_t Cols>
void dot_rows(const T* __restrict m, const T* __restrict v, T* __restrict out) {
  using B = dot_register<T, Cols>;
  static_assert(!std::is_void_v<B>);
  constexpr std::size_t whole = Cols / B::size * B::size, block = B::size;
  // Rows i … i + Count - 1; the registers of the rows a last, partial block lacks stay 0.
  // Always inlined, as sums_of_lanes: g++ called it once per block.
  const auto dot_block = [&]<std::size_t Count>(std::size_t i) __attribute__((always_inline)) {
    std::array<B, block> sums;
    sums.fill(B(T{0}));
    for (std::size_t o = 0; o < whole; o += B::size) {
      const B x = B::load_unaligned(v + o);
      unrolled<Count>([&](auto r) { sums[r] = simd::fma(B::load_unaligned(m + (i + r) * Cols + o), x, sums[r]); });
    }
    alignas(sizeof(B)) std::array<T, block> totals;
    sums_of_lanes(sums.data()).store_aligned(totals.data());
    for (std::size_t r = 0; r < Count; ++r) {
      T total = totals[r];
      for (std::size_t o = whole; o < Cols; ++o) total += m[(i + r) * Cols + o] * v[o];
      out[i + r] = total;
    }
  };
  constexpr std::size_t blocked = Rows / block * block;  // constant bounds: g++ sees the trip counts
  if constexpr (Rows % block != 0) dot_block.template operator()<Rows % block>(blocked);
  for (std::size_t i = blocked; i != 0; i -= block) dot_block.template operator()<block>(i - block);
}

/// Σ_o a[o]·b[o] for o < Cols: the products summed in the lanes of a register, then
/// across them, then the last Cols mod lanes products; one chain of Cols / lanes
/// multiply-adds instead of Cols. Needs a dot_register for Cols.
template <class T, std::size_t Cols>
T dot(const T* __restrict a, const T* __restrict b) {
  using B = dot_register<T, Cols>;
  static_assert(!std::is_void_v<B>);
  constexpr std::size_t whole = Cols / B::size * B::size;
  B sum = B::load_unaligned(a) * B::load_unaligned(b);
  for (std::size_t o = B::size; o < whole; o += B::size)
    sum = simd::fma(B::load_unaligned(a + o), B::load_unaligned(b + o), sum);
  T total = xsimd::hadd(sum);
  for (std::size_t o = whole; o < Cols; ++o) total += a[o] * b[o];
  return total;
}

template <class T, std::size_t Cols, std::size_t Lanes = xsimd::batch<T>::size>
consteval auto row_register_type() {
  if constexpr (Lanes >= 8 && Cols % Lanes == 0 && !std::is_void_v<exact_register<T, Lanes>>)
    return std::type_identity<exact_register<T, Lanes>>{};
  else if constexpr (Lanes > 8) return row_register_type<T, Cols, Lanes / 2>();
  else return std::type_identity<void>{};
}

/// The register outer_product writes rows of Cols values in: the widest whose lanes divide
/// Cols, down to eight lanes (void when none does).
template <class T, std::size_t Cols>
using row_register = typename decltype(row_register_type<T, Cols>())::type;

/// out[i·Cols + o] = x[i]·v[o] for i < Rows and o < Cols, out row-major; with Accumulate,
/// out[i·Cols + o] += x[i]·v[o] as one fused multiply-add (as the compilers contract the
/// plain loop's). v stays in registers; each row is one broadcast and a multiply (and
/// add) and store per register. clang kept the plain loop over a row's registers as a
/// loop, four instructions of control per store; gemm::param_grad's tiles, made for
/// batches, are slower for one sample (bench/README.md). Needs a row_register for Cols.
template <bool Accumulate, class T, std::size_t Rows, std::size_t Cols>
void outer_product(const T* __restrict x, const T* __restrict v, T* out) {
  using B = row_register<T, Cols>;
  static_assert(!std::is_void_v<B>);
  constexpr std::size_t registers = Cols / B::size;
  std::array<B, registers> columns;
  unrolled<registers>([&](std::size_t k) { columns[k] = B::load_unaligned(v + k * B::size); });
  for (std::size_t i = 0; i < Rows; ++i) {
    const B xi(x[i]);
    T* row = out + i * Cols;
    unrolled<registers>([&](std::size_t k) {
      T* at = row + k * B::size;
      if constexpr (Accumulate) simd::fma(xi, columns[k], B::load_unaligned(at)).store_unaligned(at);
      else (xi * columns[k]).store_unaligned(at);
    });
  }
}
#endif

}  // namespace staticgrad::detail::simd
