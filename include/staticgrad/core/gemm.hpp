/// @file Small matrix-matrix kernels for a block of samples: the batched training path of
/// a Dense layer, with its input-major ([In][Out]) weights.
///
/// One sample at a time, every weight is loaded for one multiply-add; for a block of
/// samples, a tile of outputs lives in SIMD registers while the weights stream past once
/// for all of the tile's samples, and a weight-gradient tile sums all samples before it is
/// stored once. Weight gradients are summed in the same order as the one-sample kernels
/// (core/kernels.hpp); forward values and input gradients in another order (see
/// affine_one and input_grad_tiles), so a batch agrees with one sample at a time to
/// rounding.
///
/// affine_one, the forward pass of one sample (layers at least a register wide, or on
/// AVX-512 narrower ones too: one_fits), lives here too: it is a tile of one row. Layers
/// of at most half a register's outputs (a narrow convolution over a sequence) put
/// several inputs' products in each register instead: affine_interleaved.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/core/simd.hpp>
#include <staticgrad/detail/unrolled.hpp>

namespace staticgrad::detail::gemm {

/// A block's input rows as runs: row s is Runs runs of RunLength inputs, run k's part of
/// row s at starts[k] + s · Stride. A matrix [Samples][In] is one run (`matrix_rows`); a
/// causal convolution's windows are its taps' runs of inputs over time, read where the
/// inputs are (overlapping from one row to the next) instead of copied side by side.
template <class T, std::size_t Stride, std::size_t Runs, std::size_t RunLength>
struct row_runs {
  std::array<const T*, Runs> starts;
};
template <std::size_t In, class T>
row_runs<T, In, 1, In> matrix_rows(const T* x) {
  return {{x}};
}

#ifndef STATICGRAD_NO_SIMD
template <class T>
using reg = xsimd::batch<T>;
template <class T>
inline constexpr std::size_t lanes = reg<T>::size;

/// Whether a layer takes the matrix-matrix path: its rows fill at least a register, or at
/// least half of one. Those are loaded and stored masked on AVX-512; elsewhere the
/// weights are copied into rows of one whole register each (`padded`), up to 16 KiB of
/// them. Narrower layers keep the one-sample kernels, but for a block of rows given as
/// runs whose inputs can be interleaved (`runs_fit`, affine_interleaved).
template <class T, std::size_t Out>
inline constexpr bool padded = Out < lanes<T> && !simd::masked_lanes<reg<T>>;
template <class T, std::size_t In, std::size_t Out>
inline constexpr bool fits =
    Out >= lanes<T> || (2 * Out >= lanes<T> && (!padded<T, Out> || In * lanes<T> * sizeof(T) <= 16384));

/// The Rows × Cols matrix m with each row padded with zeros to one register.
template <class T, std::size_t Rows, std::size_t Cols>
std::array<T, Rows * lanes<T>> pad_rows(const T* m) {
  std::array<T, Rows * lanes<T>> out{};
  for (std::size_t r = 0; r < Rows; ++r) std::copy_n(m + r * Cols, Cols, out.begin() + static_cast<std::ptrdiff_t>(r * lanes<T>));
  return out;
}
/// The first Cols values of each of the Rows padded rows of m, to out.
template <class T, std::size_t Rows, std::size_t Cols>
void unpad_rows(const std::array<T, Rows * lanes<T>>& m, T* out) {
  for (std::size_t r = 0; r < Rows; ++r) std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(r * lanes<T>), Cols, out + r * Cols);
}

// A tile is up to tile_registers registers of outputs by as many samples (or weight rows)
// as fill tile_accumulators registers: 16 of the 32 registers AVX-512 has, 8 of the 16 of
// SSE and AVX2, leaving room for the operands. Two registers wide: g++ reloads each
// operand register from memory in every multiply-add, so a tile of 4 rows × 4 registers
// made 20 loads per 16 multiply-adds and waited on them; 8 rows × 2 registers make 10.
// Matrices one register wide take tiles of twice as many rows.
template <class T>
inline constexpr std::size_t tile_accumulators = sizeof(reg<T>) == 64 ? 16 : 8;
inline constexpr std::size_t tile_registers = 2;

/// Register r of a tile whose registers start at column First of rows Cols wide: a whole
/// load, or for the last, partial register, only its columns that exist. `whole_ok` says
/// that the memory after the row's end may be read (it is, when more of the same array
/// follows); the extra lanes are never stored. r is a constant when optimizing (unrolled).
template <class T, std::size_t Cols, std::size_t First>
reg<T> load_register(const T* row, std::size_t r, bool whole_ok = false) {
  const std::size_t column = First + r * lanes<T>;
  const std::size_t count = std::min(lanes<T>, Cols - column);
  if (count == lanes<T> || whole_ok) return reg<T>::load_unaligned(row + column);
  return simd::load_lanes<reg<T>>(row + column, count);
}
template <class T, std::size_t Cols, std::size_t First>
void store_register(const reg<T>& value, T* row, std::size_t r) {
  const std::size_t column = First + r * lanes<T>;
  simd::store_lanes(value, row + column, std::min(lanes<T>, Cols - column));
}

/// Calls tile.template operator()<Rows, Registers, FirstColumn>(first_row) over a
/// Rows × Cols matrix: column tiles outside (what they read stays in L1 across the row
/// tiles), row tiles inside, then the leftover rows.
template <class T, std::size_t Rows, std::size_t Cols, class Tile>
inline void for_each_tile(Tile&& tile) {
  constexpr std::size_t registers = (Cols + lanes<T> - 1) / lanes<T>;
  constexpr std::size_t width = tile_registers;
  boost::mp11::mp_for_each<boost::mp11::mp_iota_c<(registers + width - 1) / width>>([&](auto column_tile) {
    constexpr std::size_t first_register = column_tile * width;
    constexpr std::size_t count = std::min(width, registers - first_register);
    constexpr std::size_t first = first_register * lanes<T>;
    constexpr std::size_t rows = tile_accumulators<T> / count;
    constexpr std::size_t whole_rows = Rows / rows * rows;
    for (std::size_t r = 0; r < whole_rows; r += rows) tile.template operator()<rows, count, first>(r);
    if constexpr (Rows % rows != 0) tile.template operator()<Rows % rows, count, first>(whole_rows);
  });
}

/// z[s] = Wᵀx[s] + b for Samples samples (x's rows [Samples][In], z [Samples][Out], W
/// [In][Out]): z starts at b and adds x[s][i]·W[i] for i = 0, 1, … (affine's order).
template <class T, std::size_t Samples, std::size_t In, std::size_t Out, std::size_t Stride, std::size_t Runs,
          std::size_t RunLength>
void affine_tiles(const T* __restrict w, const T* __restrict b, const row_runs<T, Stride, Runs, RunLength>& x,
                  T* __restrict z) {
  static_assert(Runs * RunLength == In);
  for_each_tile<T, Samples, Out>([&]<std::size_t Rows, std::size_t Registers, std::size_t First>(std::size_t s0) {
    std::array<std::array<reg<T>, Registers>, Rows> acc;
    unrolled<Registers>([&](auto r) {
      const reg<T> bias = load_register<T, Out, First>(b, r);
      unrolled<Rows>([&](auto s) { acc[s][r] = bias; });
    });
    for (std::size_t run = 0; run < Runs; ++run)
      for (std::size_t j = 0; j < RunLength; ++j) {
        const std::size_t i = run * RunLength + j;
        // Reading past a row's last column stays inside the layer's parameters when Out ≥
        // lanes: the next row, or for the last row the biases.
        std::array<reg<T>, Registers> weights;
        unrolled<Registers>([&](auto r) {
          weights[r] = load_register<T, Out, First>(w + i * Out, r, Out >= lanes<T>);
        });
        const T* inputs = x.starts[run] + s0 * Stride + j;
        unrolled<Rows>([&](auto s) {
          const reg<T> input(inputs[s * Stride]);
          unrolled<Registers>([&](auto r) { acc[s][r] = simd::fma(input, weights[r], acc[s][r]); });
        });
      }
    unrolled<Rows>([&](auto s) {
      unrolled<Registers>([&](auto r) { store_register<T, Out, First>(acc[s][r], z + (s0 + s) * Out, r); });
    });
  });
}

/// The register affine_interleaved takes for a layer of Out outputs whose rows' runs are
/// RunLength inputs long, or void: the widest (a whole one, half of one, …) whose lanes
/// are Out outputs times P ≥ 2 inputs, P dividing the runs (a register's inputs are
/// neighbours) and the samples (their sums are gathered P rows at a time).
template <class T, std::size_t Samples, std::size_t Out, std::size_t RunLength, std::size_t Lanes = lanes<T>>
consteval auto interleaved_register_type() {
  using R = simd::exact_register<T, Lanes>;
  constexpr std::size_t group = Out == 0 ? 0 : Lanes / Out;
  if constexpr (Out == 0 || Lanes < 2 * Out || Lanes % Out != 0) return std::type_identity<void>{};
  else if constexpr (simd::interleaves<R, group> && RunLength % group == 0 && Samples % group == 0)
    return std::type_identity<R>{};
  else return interleaved_register_type<T, Samples, Out, RunLength, Lanes / 2>();
}
template <class T, std::size_t Samples, std::size_t Out, std::size_t RunLength>
using interleaved_register = typename decltype(interleaved_register_type<T, Samples, Out, RunLength>())::type;

/// z[s] = Wᵀx[s] + b for a block of samples of a layer whose rows fill at most half a
/// register (the tiles would leave the other lanes empty): each register R
/// (interleaved_register) holds the products of P = R's lanes / Out neighbouring inputs
/// for every output, output o's in lanes o·P … o·P + P − 1 (the inputs one broadcast of P
/// values, W's rows interleaved likewise by one permute), and the P partial
/// sums of every output are added at the end, P samples at a time
/// (simd::store_group_sums). The sums' order is not affine_tiles': equal to rounding.
template <class T, std::size_t Samples, std::size_t In, std::size_t Out, std::size_t Stride, std::size_t Runs,
          std::size_t RunLength>
void affine_interleaved(const T* __restrict w, const T* __restrict b, const row_runs<T, Stride, Runs, RunLength>& x,
                        T* __restrict z) {
  using R = interleaved_register<T, Samples, Out, RunLength>;
  static_assert(!std::is_void_v<R> && Runs * RunLength == In);
  constexpr std::size_t group = R::size / Out;
  alignas(sizeof(R)) std::array<T, R::size> first_sums{};
  for (std::size_t o = 0; o < Out; ++o) first_sums[o * group] = b[o];
  const R bias = R::load_aligned(first_sums.data());
  const auto tile = [&]<std::size_t Rows>(std::size_t s0) {
    std::array<R, Rows> acc;
    acc.fill(bias);
    for (std::size_t run = 0; run < Runs; ++run)
      for (std::size_t j = 0; j < RunLength; j += group) {
        // W's rows i … i + P − 1 interleaved, once per tile (a copy of W would take the
        // stack a layer of many inputs needs).
        const std::size_t i = run * RunLength + j;
        const R weight = simd::interleave_rows<R, group>(w + i * Out);
        const T* inputs = x.starts[run] + s0 * Stride + j;
        unrolled<Rows>([&](auto s) {
          acc[s] = simd::fma(simd::broadcast_group<R, group>(inputs + s * Stride), weight, acc[s]);
        });
      }
    unrolled<Rows / group>(
        [&](auto q) { simd::store_group_sums<group>(acc.data() + q * group, z + (s0 + q * group) * Out); });
  };
  constexpr std::size_t rows = tile_accumulators<T>, whole_rows = Samples / rows * rows;
  for (std::size_t s0 = 0; s0 < whole_rows; s0 += rows) tile.template operator()<rows>(s0);
  if constexpr (Samples % rows != 0) tile.template operator()<Samples % rows>(whole_rows);
}

/// Whether one sample's forward pass through a layer takes affine_one: rows of at least a
/// register, or with masked loads (AVX-512) rows of fewer lanes, but not the tiniest
/// layers, which the plain loops serve three times faster.
template <class T, std::size_t In, std::size_t Out>
inline constexpr bool one_fits = Out >= lanes<T> || (simd::masked_lanes<reg<T>> && In * Out >= 64);

/// z = Wᵀx + b for one sample (x [In], z [Out], W [In][Out]), a tile of up
/// to eight registers of outputs at a time. With few registers, the input loop would be
/// one chain of dependent multiply-adds per register, each waiting four cycles for the
/// last; so each register's sum is split into partial sums over every chains-th input
/// (z starts at b in the first), added at the end: eight independent multiply-adds in
/// flight keep both units busy.
/// Reads past a row's last column when Out ≥ lanes, as affine_tiles does.
template <class T, std::size_t In, std::size_t Out>
void affine_one(const T* __restrict w, const T* __restrict b, const T* __restrict x, T* __restrict z) {
  constexpr std::size_t registers = (Out + lanes<T> - 1) / lanes<T>, in_flight = 8;
  constexpr bool over_read = Out >= lanes<T>;
  constexpr std::size_t width = std::min(registers, in_flight);
  boost::mp11::mp_for_each<boost::mp11::mp_iota_c<(registers + width - 1) / width>>([&](auto column_tile) {
    constexpr std::size_t first = column_tile * width * lanes<T>;
    constexpr std::size_t count = std::min(width, registers - column_tile * width);
    constexpr std::size_t chains = std::min(In, (in_flight + count - 1) / count);
    std::array<std::array<reg<T>, count>, chains> acc;
    unrolled<count>([&](auto r) {
      acc[0][r] = load_register<T, Out, first>(b, r);
      unrolled<chains - 1>([&](auto k) { acc[k + 1][r] = reg<T>(T{0}); });
    });
    // The multiply-add is written out twice, for the whole groups of inputs and for the
    // rest: one lambda called from both places made 16-32-32-4 inference 6% slower.
    constexpr std::size_t whole = In / chains * chains;
    for (std::size_t i = 0; i < whole; i += chains) {
      unrolled<chains>([&](auto k) {
        const reg<T> input(x[i + k]);
        unrolled<count>([&](auto r) {
          acc[k][r] = simd::fma(input, load_register<T, Out, first>(w + (i + k) * Out, r, over_read), acc[k][r]);
        });
      });
    }
    unrolled<In - whole>([&](auto k) {
      const reg<T> input(x[whole + k]);
      unrolled<count>([&](auto r) {
        acc[k][r] = simd::fma(input, load_register<T, Out, first>(w + (whole + k) * Out, r, over_read), acc[k][r]);
      });
    });
    unrolled<count>([&](auto r) {
      unrolled<chains - 1>([&](auto k) { acc[0][r] += acc[k + 1][r]; });
      store_register<T, Out, first>(acc[0][r], z, r);
    });
  });
}

/// The register of four lanes (SSE's or NEON's for float, AVX's for double), or void.
template <class T>
using quad = simd::exact_register<T, 4>;

/// Whether one sample's forward pass through a layer too small for affine_one takes
/// affine_quad: exactly four outputs (partial registers would go through memory copies).
template <class T, std::size_t In, std::size_t Out>
inline constexpr bool quad_fits = !one_fits<T, In, Out> && !std::is_void_v<quad<T>> && Out == 4;

/// z = Wᵀx + b for one sample of a layer of four outputs: the outputs in one register, a
/// multiply-add per input, z starting at b (the plain loops' order), as Eigen does with
/// fixed-size matrices; g++ wrote the plain loops as scalar multiply-adds.
template <class T, std::size_t In, std::size_t Out>
void affine_quad(const T* __restrict w, const T* __restrict b, const T* __restrict x, T* __restrict z) {
  using Q = quad<T>;
  Q sum = Q::load_unaligned(b);
  for (std::size_t i = 0; i < In; ++i) sum = simd::fma(Q(x[i]), Q::load_unaligned(w + i * Out), sum);
  sum.store_unaligned(z);
}

/// Whether a block of Samples samples through a layer too narrow for the tiles (fewer
/// outputs than half a register) takes affine_reduced: a register of samples at least, a
/// sample's inputs loaded in masked registers (AVX, AVX-512), and enough products per
/// sample (measured: fewer go faster one sample at a time, bench/README.md).
template <class T, std::size_t Samples, std::size_t In, std::size_t Out>
inline constexpr bool reduced_fits = !fits<T, In, Out> && Samples >= lanes<T> && sizeof(reg<T>) >= 32 &&
                                     (In * Out >= 64 || (Out == 1 && In > 8));

/// z[s] = Wᵀx[s] + b for a block of samples of a layer with few outputs. The tiles would
/// fill a register's lanes with outputs that do not exist, and one sample at a time is a
/// chain of In dependent multiply-adds per output; here each output's dot products with a
/// register of samples (each sample's inputs times W's column, lane by lane) are added up
/// across their lanes together (simd::sums_of_lanes: one tree of shuffles for all of them). The
/// lanes are summed in another order than the one-sample kernels': equal to rounding.
template <class T, std::size_t Samples, std::size_t In, std::size_t Out>
void affine_reduced(const T* __restrict w, const T* __restrict b, const T* __restrict x, T* __restrict z) {
  static_assert(reduced_fits<T, Samples, In, Out>);
  constexpr std::size_t registers = (In + lanes<T> - 1) / lanes<T>;
  // W's columns as rows of whole registers, zeros past In.
  std::array<T, Out * registers * lanes<T>> columns{};
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) columns[o * registers * lanes<T> + i] = w[i * Out + o];
  // Samples [s0, s0 + Count): the sums of the missing ones stay zero, and are not stored.
  const auto samples = [&]<std::size_t Count>(std::size_t s0) {
    for (std::size_t o = 0; o < Out; ++o) {
      const T* column = columns.data() + o * registers * lanes<T>;
      std::array<reg<T>, lanes<T>> products;
      if constexpr (Count < lanes<T>) products.fill(reg<T>(T{0}));
      unrolled<Count>([&](auto s) {
        const T* row = x + (s0 + s) * In;
        unrolled<registers>([&](auto r) {
          const reg<T> part = load_register<T, In, 0>(row, r) * reg<T>::load_unaligned(column + r * lanes<T>);
          products[s] = r == 0 ? part : products[s] + part;
        });
      });
      const reg<T> sums = simd::sums_of_lanes(products.data()) + reg<T>(b[o]);
      if constexpr (Out == 1) {
        simd::store_lanes(sums, z + s0, Count);
      } else {
        alignas(sizeof(reg<T>)) std::array<T, lanes<T>> values;
        sums.store_aligned(values.data());
        for (std::size_t s = 0; s < Count; ++s) z[(s0 + s) * Out + o] = values[s];
      }
    }
  };
  constexpr std::size_t whole = Samples / lanes<T> * lanes<T>;
  for (std::size_t s0 = 0; s0 < whole; s0 += lanes<T>) samples.template operator()<lanes<T>>(s0);
  if constexpr (whole < Samples) samples.template operator()<Samples - whole>(whole);
}

/// dW (+)= Σ_s x[s] ⊗ dz[s] and db (+)= Σ_s dz[s], samples in order (affine_param_grad's
/// order, one sample after the other). dW and db are two parts of one gradient slice:
/// no __restrict on them (see outer_product).
template <bool Accumulate, class T, std::size_t Samples, std::size_t In, std::size_t Out>
void param_grad_tiles(const T* __restrict x, const T* __restrict dz, T* dw, T* db) {
  for_each_tile<T, In, Out>([&]<std::size_t Rows, std::size_t Registers, std::size_t First>(std::size_t i0) {
    std::array<std::array<reg<T>, Registers>, Rows> acc;
    // Sample s's row of dz, read whole when the next samples' rows hold a register.
    const auto grads_of = [&](std::size_t s) {
      std::array<reg<T>, Registers> grads;
      unrolled<Registers>([&](auto r) {
        grads[r] = load_register<T, Out, First>(dz + s * Out, r, (Samples - 1 - s) * Out >= lanes<T>);
      });
      return grads;
    };
    // The first term is a product when not accumulating (written out, not a call of the
    // loop's body: g++ then keeps the tile in memory), the others multiply-adds.
    std::size_t s = 0;
    if constexpr (Accumulate) {
      unrolled<Rows>([&](auto i) {
        unrolled<Registers>([&](auto r) {
          acc[i][r] = load_register<T, Out, First>(dw + (i0 + i) * Out, r);
        });
      });
    } else {
      const auto grads = grads_of(s);
      unrolled<Rows>([&](auto i) {
        const reg<T> input(x[i0 + i]);
        unrolled<Registers>([&](auto r) { acc[i][r] = input * grads[r]; });
      });
      ++s;
    }
    for (; s < Samples; ++s) {
      const auto grads = grads_of(s);
      unrolled<Rows>([&](auto i) {
        const reg<T> input(x[s * In + i0 + i]);
        unrolled<Registers>([&](auto r) { acc[i][r] = simd::fma(input, grads[r], acc[i][r]); });
      });
    }
    unrolled<Rows>([&](auto i) {
      unrolled<Registers>([&](auto r) { store_register<T, Out, First>(acc[i][r], dw + (i0 + i) * Out, r); });
    });
  });
  for (std::size_t s = 0; s < Samples; ++s)
    for (std::size_t o = 0; o < Out; ++o) {
      if (!Accumulate && s == 0) db[o] = dz[o];
      else db[o] += dz[s * Out + o];
    }
}

/// dst[c][r] = src[r][c] for r < Rows and c < Cols, rows SrcStride and DstStride wide:
/// square blocks in registers where simd::transpose_block does them, the rest one value at
/// a time. (AVX-512's gather instructions were no faster than scalar copies.)
template <class T, std::size_t Rows, std::size_t Cols, std::size_t SrcStride, std::size_t DstStride>
void transpose(const T* __restrict src, T* __restrict dst) {
  constexpr std::size_t block = simd::transpose_block_size<T>;
  // Rows [first_row, last_row) of columns [first_col, Cols).
  const auto copy = [&](std::size_t first_row, std::size_t last_row, std::size_t first_col) {
    for (std::size_t c = first_col; c < Cols; ++c)
      for (std::size_t r = first_row; r < last_row; ++r) dst[c * DstStride + r] = src[r * SrcStride + c];
  };
  if constexpr (block > 0 && Rows >= block && Cols >= block) {
    constexpr std::size_t blocked_rows = Rows / block * block, blocked_cols = Cols / block * block;
    for (std::size_t r = 0; r < blocked_rows; r += block)
      for (std::size_t c = 0; c < blocked_cols; c += block)
        simd::transpose_block(src + r * SrcStride + c, SrcStride, dst + c * DstStride + r, DstStride);
    copy(blocked_rows, Rows, 0);          // the rows below the blocks
    copy(0, blocked_rows, blocked_cols);  // the columns right of them
  } else {
    copy(0, Rows, 0);
  }
}

/// dx[s] = W dz[s], as the matrix product dxᵀ = W dzᵀ: dzᵀ's rows (one output's gradient
/// for every sample, padded to whole registers) stream past tiles of W's rows, the same
/// kernel as the forward pass; dz is transposed before and dx after, which costs far less
/// than adding up the lanes of one dot product per input and sample. Each sum runs over
/// the outputs in order, lane by lane: a batch agrees with one sample at a time (whose
/// dot products add their lanes at the end) to rounding.
template <class T, std::size_t Samples, std::size_t In, std::size_t Out>
void input_grad_tiles(const T* __restrict w, const T* __restrict dz, T* __restrict dx) {
  constexpr std::size_t columns = (Samples + lanes<T> - 1) / lanes<T> * lanes<T>;
  std::array<T, Out * columns> dz_t;  // [Out][columns]
  // Padding lanes are multiplied too (their results are never read): zeros, not garbage.
  if constexpr (columns != Samples) dz_t.fill(T{0});
  transpose<T, Samples, Out, Out, columns>(dz, dz_t.data());
  const std::array<T, columns> zeros{};
  std::array<T, In * columns> dx_t;  // [In][columns]
  affine_tiles<T, In, Out, columns>(dz_t.data(), zeros.data(), matrix_rows<Out>(w), dx_t.data());
  transpose<T, In, Samples, columns, In>(dx_t.data(), dx);
}

/// Whether a block of rows given as runs goes through affine: a layer that fits the
/// tiles, or whose rows fill at most half a register with interleaved inputs (for those,
/// faster than affine_reduced or as fast, measured: bench/README.md).
template <class T, std::size_t Samples, std::size_t In, std::size_t Out, std::size_t RunLength>
inline constexpr bool runs_fit = fits<T, In, Out> || !std::is_void_v<interleaved_register<T, Samples, Out, RunLength>>;

/// z = Wᵀx + b for a block of a layer that fits, through the tiles (narrow ones on
/// zero-padded copies). Dense's blocks take it directly: their results are pinned bit for
/// bit across compilers and files (fit's fingerprint, emitted headers), and the
/// interleaved product is measured on convolutions only.
template <class T, std::size_t Samples, std::size_t In, std::size_t Out, std::size_t Stride, std::size_t Runs,
          std::size_t RunLength>
void affine_tiled(const T* w, const T* b, const row_runs<T, Stride, Runs, RunLength>& x, T* z) {
  static_assert(fits<T, In, Out>);
  if constexpr (padded<T, Out>) {
    std::array<T, Samples * lanes<T>> padded_z;
    affine_tiles<T, Samples, In, lanes<T>>(pad_rows<T, In, Out>(w).data(), pad_rows<T, 1, Out>(b).data(), x,
                                           padded_z.data());
    unpad_rows<T, Samples, Out>(padded_z, z);
  } else {
    affine_tiles<T, Samples, In, Out>(w, b, x, z);
  }
}
/// z = Wᵀx + b for a block's rows as runs (a convolution's windows, in place or gathered):
/// rows of at most half a register interleaved, others through the tiles.
template <class T, std::size_t Samples, std::size_t In, std::size_t Out, std::size_t Stride, std::size_t Runs,
          std::size_t RunLength>
void affine(const T* w, const T* b, const row_runs<T, Stride, Runs, RunLength>& x, T* z) {
  static_assert(runs_fit<T, Samples, In, Out, RunLength>);
  if constexpr (!std::is_void_v<interleaved_register<T, Samples, Out, RunLength>>)
    affine_interleaved<T, Samples, In, Out>(w, b, x, z);
  else
    affine_tiled<T, Samples, In, Out>(w, b, x, z);
}
template <bool Accumulate, class T, std::size_t Samples, std::size_t In, std::size_t Out>
void param_grad(const T* x, const T* dz, T* dw, T* db) {
  static_assert(fits<T, In, Out>);
  if constexpr (padded<T, Out>) {
    auto padded_dw = Accumulate ? pad_rows<T, In, Out>(dw) : std::array<T, In * lanes<T>>{};
    auto padded_db = Accumulate ? pad_rows<T, 1, Out>(db) : std::array<T, lanes<T>>{};
    param_grad_tiles<Accumulate, T, Samples, In, lanes<T>>(x, pad_rows<T, Samples, Out>(dz).data(), padded_dw.data(),
                                                           padded_db.data());
    unpad_rows<T, In, Out>(padded_dw, dw);
    unpad_rows<T, 1, Out>(padded_db, db);
  } else {
    param_grad_tiles<Accumulate, T, Samples, In, Out>(x, dz, dw, db);
  }
}
template <class T, std::size_t Samples, std::size_t In, std::size_t Out>
void input_grad(const T* w, const T* dz, T* dx) {
  static_assert(fits<T, In, Out>);
  input_grad_tiles<T, Samples, In, Out>(w, dz, dx);
}
#else
template <class T, std::size_t In, std::size_t Out>
inline constexpr bool fits = false;
template <class T, std::size_t Samples, std::size_t In, std::size_t Out, std::size_t RunLength>
inline constexpr bool runs_fit = false;
// Declared for Dense's constrained members, never called: nothing fits without SIMD.
template <class T, std::size_t Samples, std::size_t In, std::size_t Out>
inline constexpr bool reduced_fits = false;
template <class T, std::size_t Samples, std::size_t In, std::size_t Out>
void affine_reduced(const T*, const T*, const T*, T*);
template <class T, std::size_t Samples, std::size_t In, std::size_t Out, std::size_t Stride, std::size_t Runs,
          std::size_t RunLength>
void affine(const T*, const T*, const row_runs<T, Stride, Runs, RunLength>&, T*);
template <class T, std::size_t Samples, std::size_t In, std::size_t Out, std::size_t Stride, std::size_t Runs,
          std::size_t RunLength>
void affine_tiled(const T*, const T*, const row_runs<T, Stride, Runs, RunLength>&, T*);
template <bool Accumulate, class T, std::size_t Samples, std::size_t In, std::size_t Out>
void param_grad(const T*, const T*, T*, T*);
template <class T, std::size_t Samples, std::size_t In, std::size_t Out>
void input_grad(const T*, const T*, T*);
#endif

}  // namespace staticgrad::detail::gemm
