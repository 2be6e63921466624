/// @file Kernels for weights stored in 16 or 8 bits (staticgrad::QuantizedDense): packing a
/// float weight matrix into bfloat16 or int8 words, and the matrix-vector products that read
/// them. AVX-512 BF16 (vdpbf16ps) and AVX-512 VNNI (vpdpbusd) where the compiler targets
/// them; elsewhere portable loops over the same words, which the compiler vectorizes.
///
/// The packed words live in the model's flat float array as raw bits: they are copied,
/// saved and loaded like any parameter, and only these kernels read them.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#if !defined(STATICGRAD_NO_SIMD) && defined(__AVX512BF16__)
#define STATICGRAD_AVX512_BF16 1
#include <immintrin.h>
#endif
#if !defined(STATICGRAD_NO_SIMD) && defined(__AVX512VNNI__)
#define STATICGRAD_AVX512_VNNI 1
#include <immintrin.h>
#endif

namespace staticgrad::detail::low_precision {

/// Outputs are packed in blocks of 16, one AVX-512 register of float sums. Within a block,
/// the weights of `per_word` consecutive inputs for one output share a 32-bit word (the
/// operand of the dot-product instructions): word (block, group, lane) holds the weights
/// from inputs per_word·group … per_word·group + per_word − 1 to output 16·block + lane.
inline constexpr std::size_t lanes = 16;

/// The sizes of a packed In → Out matrix with `PerWord` weights per word; the per-output
/// vectors (bias, …) that follow the words are padded to whole blocks.
template <std::size_t In, std::size_t Out, std::size_t PerWord>
struct packed_shape {
  static constexpr std::size_t blocks = (Out + lanes - 1) / lanes;
  static constexpr std::size_t groups = (In + PerWord - 1) / PerWord;
  static constexpr std::size_t words = blocks * groups * lanes;
  static constexpr std::size_t padded_out = blocks * lanes;
  /// Room for the input rounded or quantized, in whole vectors of 16 values.
  static constexpr std::size_t padded_in = (In + lanes - 1) / lanes * lanes;
};

inline float word_as_float(std::uint32_t word) { return std::bit_cast<float>(word); }

/// The 32-bit word stored at `p` (bits, not a value: memcpy reads them whatever they are).
inline std::uint32_t word_at(const float* p) {
  std::uint32_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

/// x rounded to the nearest bfloat16, ties to even, as its 16 bits (a NaN stays a NaN, made
/// quiet). Both results are computed and one is selected, so that a loop of it vectorizes.
inline std::uint16_t to_bf16(float x) {
  const auto bits = std::bit_cast<std::uint32_t>(x);
  const auto quiet_nan = static_cast<std::uint16_t>((bits >> 16) | 0x40);
  const auto rounded = static_cast<std::uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
  return x != x ? quiet_nan : rounded;
}
inline float from_bf16(std::uint32_t bits) { return std::bit_cast<float>(bits << 16); }
/// x as the nearest bfloat16 holds it, in x's type (float or double).
template <class T>
T rounded_to_bf16(T x) {
  return static_cast<T>(from_bf16(to_bf16(static_cast<float>(x))));
}

/// Each value of v replaced by the nearest bfloat16, in v's type.
template <class T, std::size_t N>
void round_to_bf16(std::span<T, N> v) {
  for (T& x : v) x = rounded_to_bf16(x);
}

/// The word of a packed In → Out matrix that holds the weight from input k to output o.
template <std::size_t In, std::size_t Out, std::size_t PerWord>
std::uint32_t packed_word(const float* params, std::size_t k, std::size_t o) {
  using shape = packed_shape<In, Out, PerWord>;
  return word_at(params + ((o / lanes) * shape::groups + k / PerWord) * lanes + o % lanes);
}

/// bfloat16 weights, two inputs to a word, then the bias in float (staticgrad::bf16).
struct bf16_words {
  static constexpr std::size_t per_word = 2;
  static constexpr std::size_t per_output_vectors = 1;  // the bias
  template <std::size_t In, std::size_t Out, class T>
  static void pack(const T* w, const T* b, float* to);
  template <std::size_t In, std::size_t Out>
  static void affine(const float* __restrict params, const float* __restrict x, float* __restrict y);

  /// What pack stored: the bits of the weight from input k to output o, and o's bias.
  template <std::size_t In, std::size_t Out>
  static std::uint16_t weight_bits(const float* params, std::size_t k, std::size_t o) {
    return static_cast<std::uint16_t>(packed_word<In, Out, per_word>(params, k, o) >> (16 * (k % 2)));
  }
  template <std::size_t In, std::size_t Out>
  static float bias(const float* params, std::size_t o) {
    return params[packed_shape<In, Out, per_word>::words + o];
  }
};

/// The per-output vectors that follow an int8 matrix's words, each padded to whole blocks.
enum int8_vector : std::size_t { int8_scale, int8_bias, int8_offset, int8_vectors };

/// int8 weights with a scale per output, four inputs to a word, then the scales, the bias
/// and an offset per output (staticgrad::int8).
struct int8_words {
  static constexpr std::size_t per_word = 4;
  static constexpr std::size_t per_output_vectors = int8_vectors;
  template <std::size_t In, std::size_t Out, class T>
  static void pack(const T* w, const T* b, float* to);
  template <std::size_t In, std::size_t Out>
  static void affine(const float* __restrict params, const float* __restrict x, float* __restrict y);

  /// What pack stored: the weight from input k to output o in steps of o's scale, and
  /// o's scale, bias.
  template <std::size_t In, std::size_t Out>
  static std::int8_t weight_steps(const float* params, std::size_t k, std::size_t o) {
    return static_cast<std::int8_t>(packed_word<In, Out, per_word>(params, k, o) >> (8 * (k % 4)));
  }
  template <std::size_t In, std::size_t Out>
  static float vector(const float* params, int8_vector which, std::size_t o) {
    using shape = packed_shape<In, Out, per_word>;
    return params[shape::words + which * shape::padded_out + o];
  }
};

/// `to` = the words of weights w (input-major, [In][Out], as Dense stores them, float or
/// double) in bfloat16, then the bias b in float.
template <std::size_t In, std::size_t Out, class T>
void bf16_words::pack(const T* w, const T* b, float* to) {
  using shape = packed_shape<In, Out, 2>;
  const auto weight = [&](std::size_t k, std::size_t o) -> std::uint32_t {
    return k < In && o < Out ? to_bf16(static_cast<float>(w[k * Out + o])) : 0;
  };
  for (std::size_t block = 0; block < shape::blocks; ++block)
    for (std::size_t g = 0; g < shape::groups; ++g)
      for (std::size_t lane = 0; lane < lanes; ++lane) {
        const std::size_t o = block * lanes + lane;
        *to++ = word_as_float(weight(2 * g, o) | weight(2 * g + 1, o) << 16);
      }
  for (std::size_t o = 0; o < shape::padded_out; ++o) *to++ = o < Out ? static_cast<float>(b[o]) : 0.0f;
}

/// `to` = the words of weights w ([In][Out], float or double) in int8 with a scale per
/// output (its largest |weight| / 127), then the scales, the bias and 128 · Σ of each
/// output's int8 weights (what an input stored as unsigned bytes around 128 adds to that
/// output's sum).
template <std::size_t In, std::size_t Out, class T>
void int8_words::pack(const T* w, const T* b, float* to) {
  using shape = packed_shape<In, Out, 4>;
  std::array<float, shape::padded_out> largest{};
  for (std::size_t o = 0; o < Out; ++o)
    for (std::size_t k = 0; k < In; ++k) largest[o] = std::max(largest[o], std::abs(static_cast<float>(w[k * Out + o])));
  // Weight (k, o) in steps of largest[o] / 127 (0 for the padding, and for an output whose
  // weights are all 0).
  const auto step = [&](std::size_t k, std::size_t o) -> std::int32_t {
    if (k >= In || o >= Out || largest[o] == 0) return 0;
    return static_cast<std::int32_t>(std::clamp(std::nearbyint(static_cast<float>(w[k * Out + o]) * (127 / largest[o])),
                                                -127.0f, 127.0f));
  };
  const auto byte = [&](std::size_t k, std::size_t o) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(step(k, o))); };
  for (std::size_t block = 0; block < shape::blocks; ++block)
    for (std::size_t g = 0; g < shape::groups; ++g)
      for (std::size_t lane = 0; lane < lanes; ++lane) {
        const std::size_t o = block * lanes + lane, k = 4 * g;
        *to++ = word_as_float(byte(k, o) | byte(k + 1, o) << 8 | byte(k + 2, o) << 16 | byte(k + 3, o) << 24);
      }
  for (float l : largest) *to++ = l / 127;
  for (std::size_t o = 0; o < shape::padded_out; ++o) *to++ = o < Out ? static_cast<float>(b[o]) : 0.0f;
  for (std::size_t o = 0; o < shape::padded_out; ++o) {
    std::int32_t offset = 0;
    for (std::size_t k = 0; k < In; ++k) offset += 128 * step(k, o);
    *to++ = word_as_float(static_cast<std::uint32_t>(offset));
  }
}

/// The lanes of the 16 values from x + i that lie within x[0, N).
template <std::size_t N>
constexpr std::uint16_t valid_lanes(std::size_t i) {
  return N - i >= lanes ? std::uint16_t{0xffff} : static_cast<std::uint16_t>((1u << (N - i)) - 1);
}

#if defined(STATICGRAD_AVX512_BF16) || defined(STATICGRAD_AVX512_VNNI)
/// How many sums each block of a tile of `Tile` blocks keeps (over groups g, g + 1, …, taken
/// in turn): up to eight chains of dependent dot products in flight, however many blocks,
/// and no more chains than groups (each chain costs an addition at the end).
template <std::size_t Tile, std::size_t Groups>
inline constexpr std::size_t chains = std::min(Tile >= 8 ? 1 : 8 / Tile, Groups);

/// Σ over groups of dot(sums of block t, t, g) for the blocks of a tile, each block's sum
/// split in `chains` as above; `Vector` a float or int32 register, `add` adds two.
template <std::size_t Tile, std::size_t Groups, class Vector, class Dot, class Add>
void tile_sums(Vector (&total)[Tile], Dot dot, Add add) {
  constexpr std::size_t split = chains<Tile, Groups>, whole = Groups / split * split;
  Vector sum[Tile][split];
  for (std::size_t t = 0; t < Tile; ++t)
    for (std::size_t c = 0; c < split; ++c) sum[t][c] = c == 0 ? total[t] : Vector{};
  for (std::size_t g = 0; g < whole; g += split)
    for (std::size_t t = 0; t < Tile; ++t)
      for (std::size_t c = 0; c < split; ++c) dot(sum[t][c], t, g + c);
  for (std::size_t g = whole; g < Groups; ++g)
    for (std::size_t t = 0; t < Tile; ++t) dot(sum[t][g - whole], t, g);
  for (std::size_t t = 0; t < Tile; ++t) {
    total[t] = sum[t][0];
    for (std::size_t c = 1; c < split; ++c) total[t] = add(total[t], sum[t][c]);
  }
}
#endif

#ifdef STATICGRAD_AVX512_BF16
/// The outputs of blocks [first, first + Tile), bias included, into `results`.
template <std::size_t In, std::size_t Out, std::size_t Tile>
void bf16_tile(const float* __restrict params, const std::uint16_t* __restrict xb, float* __restrict results,
               std::size_t first) {
  using shape = packed_shape<In, Out, 2>;
  __m512 total[Tile];
  for (std::size_t t = 0; t < Tile; ++t) total[t] = _mm512_loadu_ps(params + shape::words + (first + t) * lanes);
  tile_sums<Tile, shape::groups>(
      total,
      [&](__m512& sum, std::size_t t, std::size_t g) {
        std::uint32_t pair;
        std::memcpy(&pair, xb + 2 * g, sizeof pair);
        const __m512i w = _mm512_loadu_si512(params + ((first + t) * shape::groups + g) * lanes);
        sum = _mm512_dpbf16_ps(sum, std::bit_cast<__m512bh>(w),
                               std::bit_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(pair))));
      },
      [](__m512 a, __m512 b) { return _mm512_add_ps(a, b); });
  for (std::size_t t = 0; t < Tile; ++t) _mm512_store_ps(results + (first + t) * lanes, total[t]);
}
#endif

/// y = W x + b over the bfloat16 words at `params` (bf16_words::pack): x is rounded to
/// bfloat16, each product is exact in float, and the sums are float.
template <std::size_t In, std::size_t Out>
void bf16_words::affine(const float* __restrict params, const float* __restrict x, float* __restrict y) {
  using shape = packed_shape<In, Out, 2>;
  alignas(64) std::array<std::uint16_t, shape::padded_in> xb;
  alignas(64) std::array<float, shape::padded_out> results;
#ifdef STATICGRAD_AVX512_BF16
  for (std::size_t i = 0; i < In; i += lanes)
    _mm256_store_si256(reinterpret_cast<__m256i*>(xb.data() + i),
                       std::bit_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(valid_lanes<In>(i), x + i))));
  constexpr std::size_t tile = 4, whole = shape::blocks / tile * tile;
  for (std::size_t first = 0; first < whole; first += tile) bf16_tile<In, Out, tile>(params, xb.data(), results.data(), first);
  if constexpr (whole < shape::blocks)
    bf16_tile<In, Out, shape::blocks - whole>(params, xb.data(), results.data(), whole);
#else
  const float* bias = params + shape::words;
  xb.fill(0);  // the odd input of the last pair, when In is odd
  for (std::size_t k = 0; k < In; ++k) xb[k] = to_bf16(x[k]);
  for (std::size_t block = 0; block < shape::blocks; ++block) {
    float* sum = results.data() + block * lanes;
    std::copy_n(bias + block * lanes, lanes, sum);
    const float* words = params + block * shape::groups * lanes;
    for (std::size_t g = 0; g < shape::groups; ++g, words += lanes) {
      const float low = from_bf16(xb[2 * g]), high = from_bf16(xb[2 * g + 1]);
      for (std::size_t lane = 0; lane < lanes; ++lane) {
        const std::uint32_t word = word_at(words + lane);
        sum[lane] += from_bf16(word & 0xffff) * low + from_bf16(word >> 16) * high;
      }
    }
  }
#endif
  std::copy_n(results.data(), Out, y);
}

#ifdef STATICGRAD_AVX512_VNNI
/// The outputs of blocks [first, first + Tile) into `results`: the integer sums scaled back
/// to float (`step` is the input's scale), bias added.
template <std::size_t In, std::size_t Out, std::size_t Tile>
void int8_tile(const float* __restrict params, const std::uint8_t* __restrict xq, float step, float* __restrict results,
               std::size_t first) {
  using shape = packed_shape<In, Out, 4>;
  __m512i total[Tile];
  for (std::size_t t = 0; t < Tile; ++t) total[t] = _mm512_setzero_si512();
  tile_sums<Tile, shape::groups>(
      total,
      [&](__m512i& sum, std::size_t t, std::size_t g) {
        std::uint32_t quad;
        std::memcpy(&quad, xq + 4 * g, sizeof quad);
        sum = _mm512_dpbusd_epi32(sum, _mm512_set1_epi32(static_cast<int>(quad)),
                                  _mm512_loadu_si512(params + ((first + t) * shape::groups + g) * lanes));
      },
      [](__m512i a, __m512i b) { return _mm512_add_epi32(a, b); });
  const float* vectors = params + shape::words;
  for (std::size_t t = 0; t < Tile; ++t) {
    const std::size_t o = (first + t) * lanes;
    const __m512i offset = _mm512_loadu_si512(vectors + int8_offset * shape::padded_out + o);
    const __m512 scale = _mm512_mul_ps(_mm512_loadu_ps(vectors + int8_scale * shape::padded_out + o), _mm512_set1_ps(step));
    _mm512_store_ps(results + o, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(total[t], offset)), scale,
                                                 _mm512_loadu_ps(vectors + int8_bias * shape::padded_out + o)));
  }
}
#endif

/// y = W x + b over the int8 words at `params` (int8_words::pack). x is quantized per call with
/// one scale, its largest |x_k| / 127, to unsigned bytes around 128 (rounded to the nearest
/// step, ties to even); the products are summed exactly in 32-bit integers, then scaled
/// back to float.
template <std::size_t In, std::size_t Out>
void int8_words::affine(const float* __restrict params, const float* __restrict x, float* __restrict y) {
  using shape = packed_shape<In, Out, 4>;
  alignas(64) std::array<std::uint8_t, shape::padded_in> xq;
  alignas(64) std::array<float, shape::padded_out> results;
#ifdef STATICGRAD_AVX512_VNNI
  __m512 magnitude = _mm512_setzero_ps();
  for (std::size_t i = 0; i < In; i += lanes)
    magnitude = _mm512_max_ps(magnitude, _mm512_abs_ps(_mm512_maskz_loadu_ps(valid_lanes<In>(i), x + i)));
  const float largest = _mm512_reduce_max_ps(magnitude);
  const __m512 to_steps = _mm512_set1_ps(largest > 0 ? 127 / largest : 0.0f);
  for (std::size_t i = 0; i < In; i += lanes) {
    // Rounded to the nearest step (ties to even, the default rounding mode), then 128 added.
    const __m512i steps = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(valid_lanes<In>(i), x + i), to_steps));
    _mm_store_si128(reinterpret_cast<__m128i*>(xq.data() + i),
                    _mm512_cvtepi32_epi8(_mm512_add_epi32(steps, _mm512_set1_epi32(128))));
  }
  constexpr std::size_t tile = 4, whole = shape::blocks / tile * tile;
  for (std::size_t first = 0; first < whole; first += tile)
    int8_tile<In, Out, tile>(params, xq.data(), largest / 127, results.data(), first);
  if constexpr (whole < shape::blocks)
    int8_tile<In, Out, shape::blocks - whole>(params, xq.data(), largest / 127, results.data(), whole);
#else
  float largest = 0;
  for (std::size_t k = 0; k < In; ++k) largest = std::max(largest, std::abs(x[k]));
  const float to_steps = largest > 0 ? 127 / largest : 0.0f, step = largest / 127;
  xq.fill(128);
  for (std::size_t k = 0; k < In; ++k)
    xq[k] = static_cast<std::uint8_t>(static_cast<int>(std::nearbyint(x[k] * to_steps)) + 128);
  const float* vectors = params + shape::words;
  for (std::size_t block = 0; block < shape::blocks; ++block) {
    std::array<std::int32_t, lanes> sum{};
    const float* words = params + block * shape::groups * lanes;
    for (std::size_t g = 0; g < shape::groups; ++g, words += lanes) {
      std::array<std::int8_t, 4 * lanes> w;
      std::memcpy(w.data(), words, w.size());
      for (std::size_t lane = 0; lane < lanes; ++lane)
        for (std::size_t j = 0; j < 4; ++j) sum[lane] += xq[4 * g + j] * w[4 * lane + j];
    }
    for (std::size_t lane = 0; lane < lanes; ++lane) {
      const std::size_t o = block * lanes + lane;
      const auto offset = static_cast<std::int32_t>(word_at(vectors + int8_offset * shape::padded_out + o));
      results[o] = static_cast<float>(sum[lane] - offset) * (vectors[int8_scale * shape::padded_out + o] * step) +
                   vectors[int8_bias * shape::padded_out + o];
    }
  }
#endif
  std::copy_n(results.data(), Out, y);
}

}  // namespace staticgrad::detail::low_precision
