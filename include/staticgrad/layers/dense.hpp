/// @file Defines staticgrad::Dense<In, Out, Act>, a fully connected layer y = φ(Wx + b).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <type_traits>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/gemm.hpp>
#include <staticgrad/core/kernels.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/custom_activation.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// A fully connected layer y = φ(Wx + b).
///
/// Parameters, in the flat order: W stored input-major as [In][Out] (Keras' kernel layout,
/// the transpose of nn.Linear.weight), then b. The forward pass keeps φ'(z) for the backward
/// pass only when it cannot be computed from the output.
/// @tparam In  number of inputs
/// @tparam Out number of outputs
/// @tparam Act the activation φ applied to Wx + b: an activation type, or a generic
///             function whose derivative is derived (custom_activation.hpp)
template <std::size_t In, std::size_t Out, class Act = Identity>
struct Dense {
  // Instantiating the check reports a bad activation; see detail/checks.hpp.
  static_assert(sizeof(detail::check_activation<Act>) > 0);
  /// False when Act is not an activation (the error names it).
  static constexpr bool valid = ActivationLike<Act>;
  static_assert(In > 0 && Out > 0, "staticgrad::Dense: In and Out must be positive");

  /// The activation (a generic function F becomes Derived<F>).
  using activation = detail::activation_t<Act>;
  static constexpr std::size_t in_size = In;
  static constexpr std::size_t out_size = Out;
  static constexpr std::size_t weight_count = In * Out;
  static constexpr std::size_t param_count = weight_count + Out;
  static constexpr std::size_t cache_size = activation::derivative_from_output ? 0 : Out;  // φ'(z)
  /// Forward FLOPs: a multiply and an add per weight, one operation per activation.
  static constexpr std::size_t flops = 2 * In * Out + (std::is_same_v<Act, Identity> ? 0 : Out);

  static constexpr auto name() {
    return layer_name<"Dense", In, Out, detail::hana_string<activation::name>()>();
  }
  /// In PyTorch: nn.Linear, then the activation's module unless it is Identity (two
  /// indices of an nn.Sequential).
  static constexpr std::size_t torch_modules = std::is_same_v<Act, Identity> ? 1 : 2;
  /// nn.Linear's weight [Out, In] (stored transposed) and bias.
  static constexpr std::array tensors{transposed_matrix_tensor("weight", Out, In, 0),
                                      vector_tensor("bias", Out, weight_count)};

  template <class T>
  static constexpr void infer(std::span<const T, param_count> params, std::span<const T, In> x,
                              std::span<T, Out> y) {
    detail::affine<T, In, Out>(params.data(), biases(params).data(), x.data(), y.data());
    detail::apply_activation<activation>(y);
  }

  template <class T>
  static constexpr void forward(std::span<const T, param_count> params,
                                std::span<T, cache_size> cache, std::span<const T, In> x,
                                std::span<T, Out> y) {
    // z lives in a local array, and y is written once, whole: scalar stores into the cache
    // followed by a vector load of the same bytes would stall store forwarding on the
    // small layers.
    std::array<T, Out> z;
    detail::affine<T, In, Out>(params.data(), biases(params).data(), x.data(), z.data());
    detail::activation_forward<activation>(std::span<T, Out>(z), cache.data());
    std::copy(z.begin(), z.end(), y.begin());
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count> params,
                                 std::span<const T, cache_size> cache, std::span<const T, In> x,
                                 std::span<const T, Out> y, std::span<const T, Out> dy,
                                 std::span<T, param_count> dparams, std::span<T, In> dx) {
    if constexpr (!Mode.param_grad && !Mode.input_grad) {
      return;
    } else if constexpr (std::is_same_v<Act, Identity>) {
      affine_backward<Mode, T>(params, x, dy, dparams, dx);
    } else {
      std::array<T, Out> dz;
      detail::activation_backward_kept<activation, T, Out>(y.data(), cache.data(), dy.data(), dz.data());
      affine_backward<Mode, T>(params, x, dz, dparams, dx);
    }
  }

  /// infer and forward over a block of samples (core/blocks.hpp), as small matrix-matrix
  /// products; only for layers at least half a SIMD register wide (others go one sample at
  /// a time, or in inference, dot products of a register of samples at a time).
  template <std::size_t Samples, class T>
    requires(detail::gemm::fits<T, In, Out> || detail::gemm::reduced_fits<T, Samples, In, Out>)
  static void infer_block(std::span<const T, param_count> params, std::span<const T, Samples * In> x,
                          std::span<T, Samples * Out> y) {
    if constexpr (detail::gemm::fits<T, In, Out>)
      detail::gemm::affine_tiled<T, Samples, In, Out>(params.data(), biases(params).data(),
                                                     detail::gemm::matrix_rows<In>(x.data()), y.data());
    else
      detail::gemm::affine_reduced<T, Samples, In, Out>(params.data(), biases(params).data(), x.data(), y.data());
    detail::apply_activation<activation>(y);
  }
  template <std::size_t Samples, class T>
    requires detail::gemm::fits<T, In, Out>
  static void forward_block(std::span<const T, param_count> params, std::span<T, Samples * cache_size> cache,
                            std::span<const T, Samples * In> x, std::span<T, Samples * Out> y) {
    detail::gemm::affine_tiled<T, Samples, In, Out>(params.data(), biases(params).data(),
                                                     detail::gemm::matrix_rows<In>(x.data()), y.data());
    detail::activation_forward<activation>(y, cache.data());
  }

  /// backward over a block of samples (core/blocks.hpp).
  template <BackwardMode Mode, std::size_t Samples, class T>
    requires detail::gemm::fits<T, In, Out>
  static void backward_block(std::span<const T, param_count> params,
                             std::span<const T, Samples * cache_size> cache, std::span<const T, Samples * In> x,
                             std::span<const T, Samples * Out> y, std::span<const T, Samples * Out> dy,
                             std::span<T, param_count> dparams, std::span<T, Samples * In> dx) {
    const auto affine_backward = [&](const T* dz) {
      if constexpr (Mode.param_grad)
        detail::gemm::param_grad<Mode.accumulate, T, Samples, In, Out>(x.data(), dz, dparams.data(),
                                                                       biases(dparams).data());
      if constexpr (Mode.input_grad) detail::gemm::input_grad<T, Samples, In, Out>(params.data(), dz, dx.data());
    };
    if constexpr (!Mode.param_grad && !Mode.input_grad) {
      return;
    } else if constexpr (std::is_same_v<Act, Identity>) {
      affine_backward(dy.data());
    } else {
      std::array<T, Samples * Out> dz;
      detail::activation_backward_kept<activation, T, Samples * Out>(y.data(), cache.data(), dy.data(), dz.data());
      affine_backward(dz.data());
    }
  }

  /// On the dynamic tape (tape/network.hpp): the same map from the tape's operations.
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    const auto z = r.affine(r.parameter(0, In, Out), r.parameter(weight_count, Out), x);
    if constexpr (std::is_same_v<Act, Identity>) return z;
    else return r.template activation<activation>(z);
  }

  /// Weights drawn from `scheme` (fan_in = In, fan_out = Out; init::Default means the
  /// activation's default), biases 0.
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng& rng, const Scheme& scheme) {
    if constexpr (std::is_same_v<Scheme, init::Default>) {
      initialize<T>(params, rng, typename activation::default_init{});
    } else {
      for (auto& w : weights(params)) w = static_cast<T>(scheme.sample(rng, In, Out));
      for (auto& b : biases(params)) b = T{0};
    }
  }

  /// Backward through z = Wᵀx + b, given dz = ∂L/∂z.
  template <BackwardMode Mode, class T>
  static constexpr void affine_backward(std::span<const T, param_count> params,
                                        std::span<const T, In> x, std::span<const T, Out> dz,
                                        std::span<T, param_count> dparams, std::span<T, In> dx) {
    // dx first: it reads W (last rows first), whose end the forward pass left in L1
    // not long ago; writing dW first would push it out.
    if constexpr (Mode.input_grad)
      detail::affine_input_grad<T, In, Out>(params.data(), dz.data(), dx.data());
    if constexpr (Mode.param_grad)
      detail::affine_param_grad<Mode.accumulate, T, In, Out>(x.data(), dz.data(), dparams.data(),
                                                             biases(dparams).data());
  }

  template <class U>
  static constexpr std::span<U, weight_count> weights(std::span<U, param_count> params) {
    return detail::slice<0, weight_count>(params);
  }
  template <class U>
  static constexpr std::span<U, Out> biases(std::span<U, param_count> params) {
    return detail::slice<weight_count, Out>(params);
  }
};

/// Dense parameters by name: `weight(o, i)` is the weight from input i to output o, as
/// nn.Linear.weight[o][i]; `bias(o)`.
template <std::size_t In, std::size_t Out, class Act, class T>
class LayerView<Dense<In, Out, Act>, T> : public detail::view_base<Dense<In, Out, Act>, T> {
 public:
  using detail::view_base<Dense<In, Out, Act>, T>::view_base;
  constexpr T& weight(std::size_t o, std::size_t i) const { return this->params_[i * Out + o]; }
  constexpr T& bias(std::size_t o) const { return this->params_[In * Out + o]; }
};

}  // namespace staticgrad
