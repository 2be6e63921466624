/// @file Defines staticgrad::LSTM<In, Hidden>: a long short-term memory layer, one time step
/// at a time, as torch.nn.LSTM.
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

/// An LSTM layer with PyTorch's equations (torch.nn.LSTM, one layer), its hidden state h
/// and cell state c carried from step to step (staticgrad::State):
///   i = σ(W_ii x + b_ii + W_hi h + b_hi),  f = σ(W_if x + b_if + W_hf h + b_hf),
///   g = tanh(W_ig x + b_ig + W_hg h + b_hg),  o = σ(W_io x + b_io + W_ho h + b_ho),
///   c′ = f ⊙ c + i ⊙ g,  h′ = o ⊙ tanh(c′);
/// the output is h′.
///
/// Parameters, in the flat order (input-major like Dense, gates in PyTorch's order i, f, g,
/// o): weight_ih as [In][4·Hidden], weight_hh as [Hidden][4·Hidden], bias_ih [4·Hidden],
/// bias_hh [4·Hidden]. State: h, then c. Initialized as PyTorch does: every weight and bias
/// uniform in ±1/√Hidden (init::Default; another scheme draws the weights, biases 0).
/// @tparam In     inputs per step
/// @tparam Hidden the hidden state's size, and the output's
template <std::size_t In, std::size_t Hidden>
struct LSTM : detail::gated_cell<In, Hidden, 4> {
  static_assert(In > 0 && Hidden > 0, "staticgrad::LSTM: In and Hidden must be positive");
  using cell = detail::gated_cell<In, Hidden, 4>;
  using cell::gates, cell::param_count;

  /// h, then c, from one step to the next.
  static constexpr std::size_t state_size = 2 * Hidden;
  /// The gates i, f, g, o and tanh(c′) of the step.
  static constexpr std::size_t cache_size = 5 * Hidden;

  static constexpr auto name() { return layer_name<"LSTM", In, Hidden>(); }

  template <class T>
  static void step(std::span<const T, param_count> params, std::span<T, state_size> state, std::span<const T, In> x,
                   std::span<T, Hidden> y) {
    run_step<T>(params, state.data(), x.data(), state.data(), y.data(), nullptr);
  }

  template <class T>
  static void forward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                           std::span<T, state_size> next, std::span<T, cache_size> cache, std::span<const T, In> x,
                           std::span<T, Hidden> y) {
    run_step<T>(params, state.data(), x.data(), next.data(), y.data(), cache.data());
  }

  /// ∂L/∂h′ = dy + d_next_h and ∂L/∂c′ = d_next_c + ∂L/∂h′ ⊙ o ⊙ (1 − tanh²(c′)); back
  /// through the gates and the two products: ∂L/∂h is W_hh's product, ∂L/∂c is f ⊙ ∂L/∂c′.
  template <BackwardMode Mode, class T>
  static void backward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                            std::span<const T, cache_size> cache, std::span<const T, In> x, std::span<const T, Hidden>,
                            std::span<const T, Hidden> dy, std::span<const T, state_size> d_next,
                            std::span<T, state_size> d_state, std::span<T, param_count> dparams, std::span<T, In> dx) {
    const auto i = part<0>(cache), f = part<1>(cache), g = part<2>(cache), o = part<3>(cache);
    const auto tanh_c = part<4>(cache);
    const auto c = state.template subspan<Hidden, Hidden>();
    std::array<T, gates> dz;  // ∂L/∂(the gates' sums), the same for both products
    for (std::size_t k = 0; k < Hidden; ++k) {
      const T dh = dy[k] + d_next[k];
      const T dc = d_next[Hidden + k] + dh * o[k] * (T{1} - tanh_c[k] * tanh_c[k]);
      dz[k] = dc * g[k] * i[k] * (T{1} - i[k]);
      dz[Hidden + k] = dc * c[k] * f[k] * (T{1} - f[k]);
      dz[2 * Hidden + k] = dc * i[k] * (T{1} - g[k] * g[k]);
      dz[3 * Hidden + k] = dh * tanh_c[k] * o[k] * (T{1} - o[k]);
      d_state[Hidden + k] = dc * f[k];
    }
    if constexpr (Mode.param_grad) {
      detail::affine_param_grad<Mode.accumulate, T, In, gates>(x.data(), dz.data(), dparams.data(),
                                                               dparams.data() + cell::b_ih);
      detail::affine_param_grad<Mode.accumulate, T, Hidden, gates>(state.data(), dz.data(),
                                                                   dparams.data() + cell::ih_count,
                                                                   dparams.data() + cell::b_hh);
    }
    if constexpr (Mode.input_grad) detail::affine_input_grad<T, In, gates>(params.data(), dz.data(), dx.data());
    detail::affine_input_grad<T, Hidden, gates>(params.data() + cell::ih_count, dz.data(), d_state.data());
  }

  /// One step on the dynamic tape (tape/network.hpp), from the state the recording holds
  /// (h, then c, in one vector).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    const auto state = r.state();
    const auto h = r.slice(state, 0, Hidden), c = r.slice(state, Hidden, Hidden);
    const auto [gi, gh] = cell::record_products(r, x, h);
    const auto sums = gi + gh;
    const auto gate = [&](std::size_t k) { return cell::record_gate(r, sums, k); };
    const auto i = r.template activation<Sigmoid>(gate(0)), f = r.template activation<Sigmoid>(gate(1));
    const auto g = r.template activation<Tanh>(gate(2)), o = r.template activation<Sigmoid>(gate(3));
    const auto c_next = f * c + i * g;
    const auto h_next = o * r.template activation<Tanh>(c_next);
    r.next_state(r.concat(h_next, c_next));
    return h_next;
  }

 private:
  // One step from the state (h, c) to the next (written to next, which may be state, and
  // h′ to y), its gates in registers from the products to the new state
  // (core/packed.hpp). With a cache (training), the gates and tanh(c′) are kept for the
  // backward pass.
  template <class T>
  [[gnu::always_inline]] static void run_step(std::span<const T, param_count> params, const T* state, const T* x,
                                              T* next, T* y, T* cache) {
    using P = detail::simd::Packed<T, Hidden>;
    const auto sums = cell::template summed_products<T>(params, x, state);
    const auto sigmoid = [](const auto& v) { return Sigmoid::value(v); };
    const auto tanh = [](const auto& v) { return Tanh::value(v); };
    const P i = zip(sigmoid, sums.template part<0>()), f = zip(sigmoid, sums.template part<1>());
    const P g = zip(tanh, sums.template part<2>()), o = zip(sigmoid, sums.template part<3>());
    const P c_next = fma(f, P::template load<Hidden>(state + Hidden), i * g);
    const P tanh_c = zip(tanh, c_next);
    const P h_next = o * tanh_c;
    h_next.store(next);
    c_next.store(next + Hidden);
    h_next.store(y);
    if (cache) {
      i.store(cache);
      f.store(cache + Hidden);
      g.store(cache + 2 * Hidden);
      o.store(cache + 3 * Hidden);
      tanh_c.store(cache + 4 * Hidden);
    }
  }

  // Part I (i, f, g, o, tanh(c′)) of a step's cache.
  template <std::size_t I, class U>
  static constexpr std::span<U, Hidden> part(std::span<U, cache_size> cache) {
    return detail::slice<I * Hidden, Hidden>(cache);
  }
};

/// LSTM parameters by name, as PyTorch indexes them (gates i, f, g, o): `weight_ih(g, i)`,
/// `weight_hh(g, j)`, `bias_ih(g)`, `bias_hh(g)` (detail::gated_cell_view).
template <std::size_t In, std::size_t Hidden, class T>
class LayerView<LSTM<In, Hidden>, T> : public detail::gated_cell_view<LSTM<In, Hidden>, T> {
 public:
  using detail::gated_cell_view<LSTM<In, Hidden>, T>::gated_cell_view;
};

/// An LSTM's state: `h()`, its hidden state, and `c()`, its cell state (nn.LSTM's h_0 and
/// c_0 before a sequence, h_n and c_n after it).
template <std::size_t In, std::size_t Hidden, class T>
class StateView<LSTM<In, Hidden>, T> {
 public:
  constexpr explicit StateView(std::span<T, 2 * Hidden> state) : state_(state) {}
  constexpr std::span<T, 2 * Hidden> flat() const { return state_; }
  constexpr std::span<T, Hidden> h() const { return state_.template first<Hidden>(); }
  constexpr std::span<T, Hidden> c() const { return state_.template last<Hidden>(); }

 private:
  std::span<T, 2 * Hidden> state_;
};

}  // namespace staticgrad
