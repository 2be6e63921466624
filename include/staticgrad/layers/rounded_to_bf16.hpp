/// @file Defines staticgrad::RoundedToBf16<L>, layer L with bfloat16 activations and
/// activation gradients, and staticgrad::Bf16Training<Net>, a network with every layer so:
/// the numbers of bfloat16 training (staticgrad::MixedPrecision).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include <staticgrad/core/blocks.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/low_precision.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/detail/wrapper.hpp>

namespace staticgrad {

/// Layer L whose outputs, and in the backward pass its input gradient, are rounded to the
/// nearest bfloat16 (8 bits of mantissa): what a network whose activations and their
/// gradients are stored in bfloat16 computes, each layer's own arithmetic in float (as the
/// bfloat16 dot-product instructions sum in float). Parameters, their names and paths are
/// L's; parameter gradients stay as L sums them. Layers without state only.
template <class L>
struct RoundedToBf16 : detail::wrapper_of<L> {
  using base = detail::wrapper_of<L>;
  using base::in_size, base::out_size, base::param_count, base::valid;
  static_assert(!detail::has_state<L>, "staticgrad::RoundedToBf16<L>: L has state (GRU, LSTM, Conv1D): not supported");

  using rounded_layer = L;
  static constexpr std::string_view summary_label = "RoundedToBf16";
  template <class C>
  using rebind = RoundedToBf16<C>;
  static constexpr auto name() { return detail::composite_name<"RoundedToBf16", valid, L>(); }
  static constexpr bool stochastic = detail::is_stochastic<L>;
  static constexpr std::size_t cache_size = detail::network_sizes<L>::cache_size;

  template <class T>
  static constexpr void infer(std::span<const T, param_count> params, std::span<const T, in_size> x,
                              std::span<T, out_size> y) {
    L::template infer<T>(params, x, y);
    detail::low_precision::round_to_bf16(y);
  }
  template <std::size_t Samples, class T>
  static void infer_block(std::span<const T, param_count> params, std::span<const T, Samples * in_size> x,
                          std::span<T, Samples * out_size> y) {
    detail::infer_block<L, Samples, T>(params, x, y);
    detail::low_precision::round_to_bf16(y);
  }

  template <class T>
  static constexpr void forward(std::span<const T, param_count> params, std::span<T, cache_size> cache,
                                std::span<const T, in_size> x, std::span<T, out_size> y) {
    forward_block<1, T>(params, cache, x, y);
  }
  template <std::size_t Samples, class T>
  static void forward_block(std::span<const T, param_count> params, std::span<T, Samples * cache_size> cache,
                            std::span<const T, Samples * in_size> x, std::span<T, Samples * out_size> y) {
    detail::forward_block<L, Samples, T>(params, cache, x, y);
    detail::low_precision::round_to_bf16(y);
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count> params, std::span<const T, cache_size> cache,
                                 std::span<const T, in_size> x, std::span<const T, out_size> y,
                                 std::span<const T, out_size> dy, std::span<T, param_count> dparams,
                                 std::span<T, in_size> dx) {
    backward_block<Mode, 1, T>(params, cache, x, y, dy, dparams, dx);
  }
  template <BackwardMode Mode, std::size_t Samples, class T>
  static void backward_block(std::span<const T, param_count> params, std::span<const T, Samples * cache_size> cache,
                             std::span<const T, Samples * in_size> x, std::span<const T, Samples * out_size> y,
                             std::span<const T, Samples * out_size> dy, std::span<T, param_count> dparams,
                             std::span<T, Samples * in_size> dx) {
    detail::backward_block<Mode, L, Samples, T>(params, cache, x, y, dy, dparams, dx);
    if constexpr (Mode.input_grad) detail::low_precision::round_to_bf16(dx);
  }
};

namespace detail {

/// Net with every layer that is not a composite wrapped in RoundedToBf16.
template <class L>
struct bf16_training {
  using type = RoundedToBf16<L>;
};
template <class C>
using bf16_training_t = typename bf16_training<C>::type;
template <CompositeLayer L>
struct bf16_training<L> {
  using type = with_children<L, bf16_training_t>;
};

/// Net with every RoundedToBf16<L> replaced by L: the plain network of the same parameters.
template <class L>
struct without_rounding {
  using type = L;
};
template <class C>
using without_rounding_t = typename without_rounding<C>::type;
template <CompositeLayer L>
struct without_rounding<L> {
  using type = with_children<L, without_rounding_t>;
};
template <class L>
struct without_rounding<RoundedToBf16<L>> {
  using type = without_rounding_t<L>;
};

}  // namespace detail

/// Net computing as bfloat16 training does: each layer's outputs and input gradients
/// rounded to bfloat16 (RoundedToBf16 around every layer that is not a composite). The
/// same parameters in the same flat order as Net; train it with staticgrad::MixedPrecision,
/// which keeps them in float and gives the model their bfloat16 values.
template <class Net>
using Bf16Training = detail::bf16_training_t<Net>;

/// A rounded layer's parameters are named as L's.
template <class L, class T>
class LayerView<RoundedToBf16<L>, T> : public LayerView<L, T> {
 public:
  using LayerView<L, T>::LayerView;
};

}  // namespace staticgrad
