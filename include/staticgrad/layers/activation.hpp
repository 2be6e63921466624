/// @file Defines staticgrad::Activation<Act, N>, an activation applied as a layer of its own.
#pragma once

#include <cstddef>
#include <span>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/custom_activation.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// y = φ(x) element-wise, as a layer without parameters.
/// @tparam Act the activation φ: an activation type, or a generic function whose
///             derivative is derived (custom_activation.hpp)
/// @tparam N   the number of inputs and outputs
template <class Act, std::size_t N>
struct Activation {
  // Instantiating the check reports a bad activation; see detail/checks.hpp.
  static_assert(sizeof(detail::check_activation<Act>) > 0);
  /// False when Act is not an activation (the error names it).
  static constexpr bool valid = ActivationLike<Act>;
  static_assert(N > 0, "staticgrad::Activation: N must be positive");

  /// The activation (a generic function F becomes Derived<F>).
  using activation = detail::activation_t<Act>;
  static constexpr std::size_t in_size = N;
  static constexpr std::size_t out_size = N;
  static constexpr std::size_t param_count = 0;
  static constexpr std::size_t cache_size = 0;  // φ' comes from the kept input or output
  static constexpr std::size_t flops = N;

  static constexpr auto name() { return layer_name<"Activation", detail::hana_string<activation::name>(), N>(); }

  template <class T>
  static constexpr void infer(std::span<const T, 0> params, std::span<const T, N> x, std::span<T, N> y) {
    infer_block<1, T>(params, x, y);
  }

  template <class T>
  static constexpr void forward(std::span<const T, 0> params, std::span<T, 0>,
                                std::span<const T, N> x, std::span<T, N> y) {
    infer_block<1, T>(params, x, y);
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, 0> params, std::span<const T, 0> cache,
                                 std::span<const T, N> x, std::span<const T, N> y,
                                 std::span<const T, N> dy, std::span<T, 0> dparams, std::span<T, N> dx) {
    backward_block<Mode, 1, T>(params, cache, x, y, dy, dparams, dx);
  }

  /// A block of samples (core/blocks.hpp) is one run of Samples · N values: element-wise, the
  /// samples need not be told apart, and the vectorized activation fills its registers.
  template <std::size_t Samples, class T>
  static constexpr void infer_block(std::span<const T, 0>, std::span<const T, Samples * N> x,
                                    std::span<T, Samples * N> y) {
    detail::apply_activation<activation>(x, y);
  }
  template <std::size_t Samples, class T>
  static constexpr void forward_block(std::span<const T, 0> params, std::span<T, 0>,
                                      std::span<const T, Samples * N> x, std::span<T, Samples * N> y) {
    infer_block<Samples, T>(params, x, y);
  }
  template <BackwardMode Mode, std::size_t Samples, class T>
  static constexpr void backward_block(std::span<const T, 0>, std::span<const T, 0>,
                                       std::span<const T, Samples * N> x, std::span<const T, Samples * N> y,
                                       std::span<const T, Samples * N> dy, std::span<T, 0>,
                                       std::span<T, Samples * N> dx) {
    if constexpr (Mode.input_grad) {
      if constexpr (activation::derivative_from_output)
        detail::activation_backward<activation, T, Samples * N>(y.data(), dy.data(), dx.data());
      else
        detail::activation_backward<activation, T, Samples * N>(x.data(), dy.data(), dx.data());
    }
  }

  template <class T, class Scheme>
  static void initialize(std::span<T, 0>, init::Rng&, const Scheme&) {}

  /// On the dynamic tape (tape/network.hpp).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return r.template activation<activation>(x);
  }
};

}  // namespace staticgrad
