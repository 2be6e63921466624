/// @file detail::gated_cell<In, Hidden, Gates>: what GRU and LSTM share. Both are PyTorch's
/// gated cells: two affine maps, W_ih x + b_ih and W_hh h + b_hh, each giving Gates gate
/// sums of Hidden values side by side, from which the layer computes its gates and state.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/packed.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad::detail {

/// The sizes, parameters (in the flat order: weight_ih as [In][Gates·Hidden], weight_hh as
/// [Hidden][Gates·Hidden], bias_ih, bias_hh; input-major like Dense), PyTorch tensors,
/// initialization, and the two products, in registers and on the tape, of a gated cell.
/// The products' backward pass stays in each layer: through a helper here, g++ no longer
/// inlined the weight gradient's kernel (2% more instructions through a sequence).
template <std::size_t In, std::size_t Hidden, std::size_t Gates>
struct gated_cell {
  static constexpr std::size_t in_size = In;
  static constexpr std::size_t out_size = Hidden;
  static constexpr std::size_t gates = Gates * Hidden;
  static constexpr std::size_t ih_count = In * gates, hh_count = Hidden * gates;
  static constexpr std::size_t b_ih = ih_count + hh_count, b_hh = b_ih + gates;  // where the biases start
  static constexpr std::size_t param_count = b_hh + gates;
  /// The two matrix-vector products, and about ten operations per hidden unit.
  static constexpr std::size_t flops = 2 * (In + Hidden) * gates + 10 * Hidden;

  /// nn.GRU's or nn.LSTM's tensors (stored transposed, input-major), named as a layer of a
  /// stack of one.
  static constexpr std::array tensors{transposed_matrix_tensor("weight_ih_l0", gates, In, 0),
                                      transposed_matrix_tensor("weight_hh_l0", gates, Hidden, ih_count),
                                      vector_tensor("bias_ih_l0", gates, b_ih), vector_tensor("bias_hh_l0", gates, b_hh)};

  /// PyTorch's: every weight and bias uniform in ±1/√Hidden (init::Default). Another
  /// scheme draws the weights (fan_in In or Hidden, fan_out Gates·Hidden), biases 0.
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng& rng, const Scheme& scheme) {
    if constexpr (std::is_same_v<Scheme, init::Default>) {
      const double bound = 1 / std::sqrt(static_cast<double>(Hidden));
      for (auto& p : params) p = static_cast<T>(rng.uniform(-bound, bound));
    } else {
      for (std::size_t k = 0; k < ih_count; ++k) params[k] = static_cast<T>(scheme.sample(rng, In, gates));
      for (std::size_t k = 0; k < hh_count; ++k) params[ih_count + k] = static_cast<T>(scheme.sample(rng, Hidden, gates));
      for (std::size_t k = b_ih; k < param_count; ++k) params[k] = T{0};
    }
  }

  /// The two products in SIMD registers (core/packed.hpp): gi = W_ih x + b_ih and
  /// gh = W_hh h + b_hh, each Gates vectors of Hidden values (`part<k>()`, gate k).
  template <class T>
  using gate_sums = simd::PackedParts<T, Hidden, Gates>;
  template <class T>
  [[gnu::always_inline]] static void products(std::span<const T, param_count> params, const T* x, const T* h,
                                              gate_sums<T>& gi, gate_sums<T>& gh) {
    gi = gate_sums<T>::template load<2 * gates>(params.data() + b_ih);  // b_hh follows
    gh = gate_sums<T>::template load<gates>(params.data() + b_hh);
    gi.template multiply_add<In, gates>(params.data(), x);
    gh.template multiply_add<Hidden, gates>(params.data() + ih_count, h);
  }
  /// Their sum, W_ih x + b_ih + W_hh h + b_hh, in one set of registers (when the cell needs
  /// no product on its own, as LSTM).
  template <class T>
  [[gnu::always_inline]] static gate_sums<T> summed_products(std::span<const T, param_count> params, const T* x,
                                                             const T* h) {
    gate_sums<T> sums = gate_sums<T>::template load<2 * gates>(params.data() + b_ih) +
                        gate_sums<T>::template load<gates>(params.data() + b_hh);
    sums.template multiply_add<In, gates>(params.data(), x);
    sums.template multiply_add<Hidden, gates>(params.data() + ih_count, h);
    return sums;
  }

  /// The two products on the dynamic tape (tape/network.hpp): {W_ih x + b_ih, W_hh h + b_hh}.
  template <class Recording>
  static auto record_products(Recording& r, typename Recording::value x, typename Recording::value h) {
    return std::pair{r.affine(r.parameter(0, In, gates), r.parameter(b_ih, gates), x),
                     r.affine(r.parameter(ih_count, Hidden, gates), r.parameter(b_hh, gates), h)};
  }
  /// Gate k's Hidden values of a vector of gate sums, on the tape.
  template <class Recording>
  static auto record_gate(Recording& r, typename Recording::value sums, std::size_t k) {
    return r.slice(sums, k * Hidden, Hidden);
  }
};

/// A gated cell's parameters by name, as PyTorch indexes them: `weight_ih(g, i)` is
/// weight_ih_l0[g][i] (g < Gates·Hidden, the gates in PyTorch's order), `weight_hh(g, j)`,
/// `bias_ih(g)`, `bias_hh(g)`.
template <class Spec, class T>
class gated_cell_view : public view_base<Spec, T> {
 public:
  using view_base<Spec, T>::view_base;
  constexpr T& weight_ih(std::size_t g, std::size_t i) const { return this->params_[i * Spec::gates + g]; }
  constexpr T& weight_hh(std::size_t g, std::size_t j) const {
    return this->params_[Spec::ih_count + j * Spec::gates + g];
  }
  constexpr T& bias_ih(std::size_t g) const { return this->params_[Spec::b_ih + g]; }
  constexpr T& bias_hh(std::size_t g) const { return this->params_[Spec::b_hh + g]; }
};

}  // namespace staticgrad::detail
