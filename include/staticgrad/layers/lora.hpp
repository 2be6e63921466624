/// @file Defines staticgrad::LoRA<Dense<In, Out, Act>, Rank, Alpha>: a frozen Dense layer
/// with a trainable low-rank update (Hu et al., 2021), and staticgrad::merge, which folds
/// the update into the weights for deployment.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/kernels.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/init.hpp>
#include <staticgrad/layers/dense.hpp>

namespace staticgrad {

namespace detail {
template <class Base, std::size_t Rank>
struct check_lora {
  static_assert(sizeof(Base) == 0,
                "staticgrad::LoRA<Base, Rank, Alpha>: Base must be a Dense<In, Out, Act> and Rank "
                "positive (see check_lora<base, rank>)");
};
}  // namespace detail

/// y = φ(Wᵀx + b + (α/r)·Bᵀ(Aᵀx)): the Dense layer's W and b are frozen (in the model and its
/// files, but no gradient and no optimizer update), and only the adapters train: A maps In
/// to Rank values, B maps those to Out. A starts random (as PEFT: uniform ±1/√In), B at
/// zero, so a fresh adapter leaves the layer's output unchanged.
///
/// Parameters, in the flat order: W [In][Out] and b (as Dense's), then A stored [In][Rank]
/// and B stored [Rank][Out] (input-major like W; PyTorch's lora_A.weight is [Rank, In] and
/// lora_B.weight [Out, Rank]: the transposes).
/// @tparam Base  the Dense layer to adapt
/// @tparam Rank  r, the adapters' inner size
/// @tparam Alpha α: the update is scaled by α/r (PEFT's lora_alpha; default r, scale 1)
template <class Base, std::size_t Rank, std::size_t Alpha = Rank>
struct LoRA {
  // Instantiating the check reports the problem; see detail/checks.hpp. The members are
  // empty, so that nothing else reports about it.
  static_assert(sizeof(detail::check_lora<Base, Rank>) > 0);
  static constexpr bool valid = false;
  static constexpr std::size_t in_size = 0, out_size = 0, param_count = 0, cache_size = 0, flops = 0;
};

template <std::size_t In, std::size_t Out, class Act, std::size_t Rank, std::size_t Alpha>
  requires(Rank > 0)
struct LoRA<Dense<In, Out, Act>, Rank, Alpha> {
  using base = Dense<In, Out, Act>;
  using activation = typename base::activation;
  static constexpr bool valid = base::valid;
  static constexpr std::size_t in_size = In;
  static constexpr std::size_t out_size = Out;
  static constexpr std::size_t adapter_a_count = In * Rank;
  static constexpr std::size_t adapter_b_count = Rank * Out;
  /// The leading parameters that do not train: the base layer's.
  static constexpr std::size_t frozen_count = base::param_count;
  static constexpr std::size_t param_count = base::param_count + adapter_a_count + adapter_b_count;
  static constexpr std::size_t derivative_cache = activation::derivative_from_output ? 0 : Out;
  /// φ'(z) (when it cannot be had from the output), then (α/r)·Aᵀx.
  static constexpr std::size_t cache_size = derivative_cache + Rank;
  static constexpr std::size_t flops = base::flops + 2 * Rank * (In + Out) + Rank;
  /// α/r.
  static constexpr double scale = static_cast<double>(Alpha) / static_cast<double>(Rank);

  static constexpr auto name() { return layer_name<"LoRA", base::name(), Rank, Alpha>(); }
  /// As nn.Linear with PEFT's adapters: one module (two with an activation), whose tensors
  /// are the Dense's, then lora_A.weight [Rank, In] and lora_B.weight [Out, Rank] (stored
  /// transposed).
  static constexpr std::size_t torch_modules = base::torch_modules;
  static constexpr std::array tensors{
      base::tensors[0], base::tensors[1],
      transposed_matrix_tensor("lora_A.weight", Rank, In, base::param_count),
      transposed_matrix_tensor("lora_B.weight", Out, Rank, base::param_count + adapter_a_count)};
  /// What staticgrad::merge makes of it: the Dense, W ← W + (α/r)·A·B.
  using merged = base;
  template <class T>
  static constexpr void merge(std::span<const T, param_count> params, std::span<T, base::param_count> dense) {
    std::copy(params.begin(), params.begin() + base::param_count, dense.begin());
    const T* a = adapter_a(params).data();
    const T* b = adapter_b(params).data();
    for (std::size_t i = 0; i < In; ++i)
      for (std::size_t o = 0; o < Out; ++o) {
        T update{};
        for (std::size_t r = 0; r < Rank; ++r) update += a[i * Rank + r] * b[r * Out + o];
        dense[i * Out + o] += static_cast<T>(scale) * update;
      }
  }

  template <class T>
  static constexpr void infer(std::span<const T, param_count> params, std::span<const T, In> x,
                              std::span<T, Out> y) {
    std::array<T, Rank> h;
    pre_activation(params, x, y, std::span<T, Rank>(h));
    detail::apply_activation<activation>(y);
  }

  template <class T>
  static constexpr void forward(std::span<const T, param_count> params, std::span<T, cache_size> cache,
                                std::span<const T, In> x, std::span<T, Out> y) {
    std::array<T, Out> z;  // written whole into y at the end, as Dense does (store forwarding)
    pre_activation(params, x, std::span<T, Out>(z), detail::slice<derivative_cache, Rank>(cache));
    detail::activation_forward<activation>(std::span<T, Out>(z), cache.data());
    std::copy(z.begin(), z.end(), y.begin());
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count> params, std::span<const T, cache_size> cache,
                                 std::span<const T, In> x, std::span<const T, Out> y, std::span<const T, Out> dy,
                                 std::span<T, param_count> dparams, std::span<T, In> dx) {
    if constexpr (Mode.param_grad || Mode.input_grad) {
      std::array<T, Out> dz;
      if constexpr (std::is_same_v<activation, Identity>)
        std::copy(dy.begin(), dy.end(), dz.begin());
      else
        detail::activation_backward_kept<activation, T, Out>(y.data(), cache.data(), dy.data(), dz.data());
      // dh = (α/r)·B dz: the gradient with respect to h = Aᵀx.
      std::array<T, Rank> dh;
      detail::affine_input_grad<T, Rank, Out>(adapter_b(params).data(), dz.data(), dh.data());
      for (auto& d : dh) d *= static_cast<T>(scale);
      if constexpr (Mode.param_grad) {
        detail::outer_product<Mode.accumulate, T, Rank, Out>(detail::slice<derivative_cache, Rank>(cache).data(), dz.data(),
                                                             adapter_b(dparams).data());
        detail::outer_product<Mode.accumulate, T, In, Rank>(x.data(), dh.data(), adapter_a(dparams).data());
      }
      if constexpr (Mode.input_grad) {  // dx = W dz + A dh
        detail::affine_input_grad<T, In, Out>(params.data(), dz.data(), dx.data());
        std::array<T, In> through_adapter;
        detail::affine_input_grad<T, In, Rank>(adapter_a(params).data(), dh.data(), through_adapter.data());
        for (std::size_t i = 0; i < In; ++i) dx[i] += through_adapter[i];
      }
    }
  }

  /// The base layer as Dense initializes it; A uniform in ±1/√In (init::Default) or drawn
  /// from `scheme`; B zero.
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng& rng, const Scheme& scheme) {
    base::template initialize<T>(detail::slice<0, base::param_count>(params), rng, scheme);
    const double bound = 1 / std::sqrt(static_cast<double>(In));
    for (auto& a : adapter_a(params)) {
      if constexpr (std::is_same_v<Scheme, init::Default>) a = static_cast<T>(rng.uniform(-bound, bound));
      else a = static_cast<T>(scheme.sample(rng, In, Rank));
    }
    for (auto& b : adapter_b(params)) b = T{0};
  }

  /// On the dynamic tape (tape/network.hpp): φ(Wᵀx + b + Bᵀ((α/r)·Aᵀx)), W and b without
  /// gradients.
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    using T = typename Recording::scalar;
    const std::array<T, Out> zeros_out{};
    const std::array<T, Rank> zeros_rank{};
    std::array<T, Rank> scales;
    scales.fill(static_cast<T>(scale));
    const auto h = r.affine(r.parameter(base::param_count, In, Rank), r.input(std::span<const T>(zeros_rank)), x) *
                   r.input(std::span<const T>(scales));
    const auto z = r.affine(r.frozen_parameter(0, In, Out), r.frozen_parameter(In * Out, Out), x) +
                   r.affine(r.parameter(base::param_count + adapter_a_count, Rank, Out),
                            r.input(std::span<const T>(zeros_out)), h);
    if constexpr (std::is_same_v<activation, Identity>) return z;
    else return r.template activation<activation>(z);
  }

  template <class U>
  static constexpr std::span<U, adapter_a_count> adapter_a(std::span<U, param_count> params) {
    return detail::slice<base::param_count, adapter_a_count>(params);
  }
  template <class U>
  static constexpr std::span<U, adapter_b_count> adapter_b(std::span<U, param_count> params) {
    return detail::slice<base::param_count + adapter_a_count, adapter_b_count>(params);
  }

 private:
  // z = Wᵀx + b + Bᵀh with h = (α/r)·Aᵀx (kept: B's gradient needs it).
  template <class T>
  static constexpr void pre_activation(std::span<const T, param_count> params, std::span<const T, In> x,
                                       std::span<T, Out> z, std::span<T, Rank> h) {
    detail::affine<T, In, Out>(params.data(), params.data() + In * Out, x.data(), z.data());
    std::fill(h.begin(), h.end(), T{0});
    detail::add_linear<T, In, Rank>(adapter_a(params).data(), x.data(), h.data());
    for (auto& v : h) v *= static_cast<T>(scale);
    detail::add_linear<T, Rank, Out>(adapter_b(params).data(), h.data(), z.data());
  }
};

/// LoRA parameters by name: the base layer's `weight(o, i)` and `bias(o)`, and the adapters
/// as PyTorch indexes them: `lora_a(r, i)` (lora_A.weight[r][i]), `lora_b(o, r)`.
template <std::size_t In, std::size_t Out, class Act, std::size_t Rank, std::size_t Alpha, class T>
class LayerView<LoRA<Dense<In, Out, Act>, Rank, Alpha>, T>
    : public detail::view_base<LoRA<Dense<In, Out, Act>, Rank, Alpha>, T> {
  static constexpr std::size_t a_offset = (In + 1) * Out, b_offset = a_offset + In * Rank;

 public:
  using detail::view_base<LoRA<Dense<In, Out, Act>, Rank, Alpha>, T>::view_base;
  constexpr T& weight(std::size_t o, std::size_t i) const { return this->params_[i * Out + o]; }
  constexpr T& bias(std::size_t o) const { return this->params_[In * Out + o]; }
  constexpr T& lora_a(std::size_t r, std::size_t i) const { return this->params_[a_offset + i * Rank + r]; }
  constexpr T& lora_b(std::size_t o, std::size_t r) const { return this->params_[b_offset + r * Out + o]; }
};

}  // namespace staticgrad
