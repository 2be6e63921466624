/// @file Defines staticgrad::GRU<In, Hidden>: a gated recurrent unit, one time step at a
/// time, as torch.nn.GRU.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/kernels.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/state_view.hpp>
#include <staticgrad/layers/gated_cell.hpp>

namespace staticgrad {

/// A GRU layer with PyTorch's equations (torch.nn.GRU, one layer), its hidden state h
/// carried from step to step (staticgrad::State):
///   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
///   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h′ = (1 − z) ⊙ n + z ⊙ h;
/// the output is h′.
///
/// Parameters, in the flat order (input-major like Dense, gates in PyTorch's order r, z, n):
/// weight_ih as [In][3·Hidden], weight_hh as [Hidden][3·Hidden], bias_ih [3·Hidden],
/// bias_hh [3·Hidden]. Initialized as PyTorch does: every weight and bias uniform in
/// ±1/√Hidden (init::Default; another scheme draws the weights, biases 0).
/// @tparam In     inputs per step
/// @tparam Hidden the hidden state's size, and the output's
template <std::size_t In, std::size_t Hidden>
struct GRU : detail::gated_cell<In, Hidden, 3> {
  static_assert(In > 0 && Hidden > 0, "staticgrad::GRU: In and Hidden must be positive");
  using cell = detail::gated_cell<In, Hidden, 3>;
  using cell::gates, cell::param_count;

  /// h, from one step to the next.
  static constexpr std::size_t state_size = Hidden;
  /// r, z, n and W_hn h + b_hn of the step (its input and the state before it are kept by
  /// the caller).
  static constexpr std::size_t cache_size = 4 * Hidden;

  static constexpr auto name() { return layer_name<"GRU", In, Hidden>(); }

  template <class T>
  static void step(std::span<const T, param_count> params, std::span<T, Hidden> h, std::span<const T, In> x,
                   std::span<T, Hidden> y) {
    run_step<T>(params, h.data(), x.data(), h.data(), y.data(), nullptr);
  }

  template <class T>
  static void forward_step(std::span<const T, param_count> params, std::span<const T, Hidden> h,
                           std::span<T, Hidden> next, std::span<T, cache_size> cache, std::span<const T, In> x,
                           std::span<T, Hidden> y) {
    run_step<T>(params, h.data(), x.data(), next.data(), y.data(), cache.data());
  }

  /// ∂L/∂h′ = dy + d_next; back through h′ = n + z ⊙ (h − n), the gates, and the two
  /// products: ∂L/∂h is W_hh's product plus z ⊙ ∂L/∂h′.
  template <BackwardMode Mode, class T>
  static void backward_step(std::span<const T, param_count> params, std::span<const T, Hidden> h,
                            std::span<const T, cache_size> cache, std::span<const T, In> x, std::span<const T, Hidden>,
                            std::span<const T, Hidden> dy, std::span<const T, Hidden> d_next,
                            std::span<T, Hidden> d_state, std::span<T, param_count> dparams, std::span<T, In> dx) {
    const auto r = part<0>(cache), z = part<1>(cache), n = part<2>(cache), hn = part<3>(cache);
    std::array<T, gates> dgi, dgh;  // ∂L/∂(W_ih x + b_ih) and ∂L/∂(W_hh h + b_hh)
    std::array<T, Hidden> through_z;
    for (std::size_t i = 0; i < Hidden; ++i) {
      const T g = dy[i] + d_next[i];
      const T dn = g * (T{1} - z[i]);
      const T dz = g * (h[i] - n[i]);
      through_z[i] = g * z[i];
      const T da_n = dn * (T{1} - n[i] * n[i]);
      const T dr = da_n * hn[i];
      dgi[i] = dgh[i] = dr * r[i] * (T{1} - r[i]);
      dgi[Hidden + i] = dgh[Hidden + i] = dz * z[i] * (T{1} - z[i]);
      dgi[2 * Hidden + i] = da_n;
      dgh[2 * Hidden + i] = da_n * r[i];
    }
    if constexpr (Mode.param_grad) {
      detail::affine_param_grad<Mode.accumulate, T, In, gates>(x.data(), dgi.data(), dparams.data(),
                                                               dparams.data() + cell::b_ih);
      detail::affine_param_grad<Mode.accumulate, T, Hidden, gates>(h.data(), dgh.data(), dparams.data() + cell::ih_count,
                                                                   dparams.data() + cell::b_hh);
    }
    if constexpr (Mode.input_grad) detail::affine_input_grad<T, In, gates>(params.data(), dgi.data(), dx.data());
    detail::affine_input_grad<T, Hidden, gates>(params.data() + cell::ih_count, dgh.data(), d_state.data());
    for (std::size_t i = 0; i < Hidden; ++i) d_state[i] += through_z[i];
  }

  /// One step on the dynamic tape (tape/network.hpp), from the state the recording holds.
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    const auto h = r.state();
    const auto [gi, gh] = cell::record_products(r, x, h);
    const auto gate = [&](auto sums, std::size_t k) { return cell::record_gate(r, sums, k); };
    const auto reset = r.template activation<Sigmoid>(gate(gi, 0) + gate(gh, 0));
    const auto update = r.template activation<Sigmoid>(gate(gi, 1) + gate(gh, 1));
    const auto n = r.template activation<Tanh>(gate(gi, 2) + reset * gate(gh, 2));
    const auto h_next = n + update * (h - n);
    r.next_state(h_next);
    return h_next;
  }

 private:
  // One step from h to h′ (written to next and y; next may be h), its gates in registers
  // from the products to h′ (core/packed.hpp). With a cache (training), r, z, n and
  // W_hn h + b_hn are kept for the backward pass.
  template <class T>
  [[gnu::always_inline]] static void run_step(std::span<const T, param_count> params, const T* h, const T* x,
                                              T* next, T* y, T* cache) {
    using P = detail::simd::Packed<T, Hidden>;
    typename cell::template gate_sums<T> gi, gh;
    cell::template products<T>(params, x, h, gi, gh);
    const auto sigmoid = [](const auto& v) { return Sigmoid::value(v); };
    const auto sums = gi + gh;  // r's and z's (n's is left unused)
    const P r = zip(sigmoid, sums.template part<0>()), z = zip(sigmoid, sums.template part<1>());
    const P hn = gh.template part<2>();
    const P n = zip([](const auto& v) { return Tanh::value(v); }, fma(r, hn, gi.template part<2>()));
    const P h_next = fma(z, P::template load<Hidden>(h) - n, n);
    h_next.store(next);
    h_next.store(y);
    if (cache) {
      r.store(cache);
      z.store(cache + Hidden);
      n.store(cache + 2 * Hidden);
      hn.store(cache + 3 * Hidden);
    }
  }

  // Part I (r, z, n, W_hn h + b_hn) of a step's cache.
  template <std::size_t I, class U>
  static constexpr std::span<U, Hidden> part(std::span<U, cache_size> cache) {
    return detail::slice<I * Hidden, Hidden>(cache);
  }
};

/// GRU parameters by name, as PyTorch indexes them (gates r, z, n): `weight_ih(g, i)`,
/// `weight_hh(g, j)`, `bias_ih(g)`, `bias_hh(g)` (detail::gated_cell_view).
template <std::size_t In, std::size_t Hidden, class T>
class LayerView<GRU<In, Hidden>, T> : public detail::gated_cell_view<GRU<In, Hidden>, T> {
 public:
  using detail::gated_cell_view<GRU<In, Hidden>, T>::gated_cell_view;
};

/// A GRU's state: `h()`, its hidden state (what nn.GRU calls h_0 before a sequence and h_n
/// after it).
template <std::size_t In, std::size_t Hidden, class T>
class StateView<GRU<In, Hidden>, T> {
 public:
  constexpr explicit StateView(std::span<T, Hidden> state) : h_(state) {}
  constexpr std::span<T, Hidden> flat() const { return h_; }
  constexpr std::span<T, Hidden> h() const { return h_; }

 private:
  std::span<T, Hidden> h_;
};

}  // namespace staticgrad
