/// @file Defines staticgrad::QuantizedDense<In, Out, Act, Format>, a Dense layer for
/// inference whose weights are stored in bfloat16 (staticgrad::bf16) or int8
/// (staticgrad::int8), and the two formats. staticgrad::quantize makes them.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/low_precision.hpp>
#include <staticgrad/custom_activation.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// Weights in bfloat16 (float's sign, exponent and top 7 mantissa bits): half the bytes of
/// float. The input of each layer is rounded to bfloat16 too, so every product is exact in
/// float and the sums are float (AVX-512 BF16's vdpbf16ps where the target has it).
struct bf16 : detail::low_precision::bf16_words {
  static constexpr std::string_view name = "bf16";
};

/// Weights in int8 with a float scale per output (its largest |weight| / 127): a quarter
/// of the bytes of float. Each layer's input is quantized per call to 8 bits with one
/// scale (its largest |value| / 127); the products are summed exactly in 32-bit integers
/// (AVX-512 VNNI's vpdpbusd where the target has it) and scaled back to float.
struct int8 : detail::low_precision::int8_words {
  static constexpr std::string_view name = "int8";
};

namespace detail {
template <class Format>
concept QuantizedFormat = std::is_same_v<Format, bf16> || std::is_same_v<Format, int8>;

// A dependent false, so that the message shows only when a training function is called.
template <class>
inline constexpr bool quantized_layer_trains = false;
}  // namespace detail

/// Dense<In, Out, Act> for inference, its weights packed in `Format` (staticgrad::bf16 or
/// staticgrad::int8) and its outputs computed in float: what staticgrad::quantize makes of
/// a trained Dense. Its parameters are the packed words and per-output vectors
/// (core/low_precision.hpp), kept as raw bits in the model's float array: saved and loaded
/// like any model, never trained (the training functions are a compile error naming it).
template <std::size_t In, std::size_t Out, class Act, class Format>
struct QuantizedDense {
  static_assert(detail::QuantizedFormat<Format>, "staticgrad::QuantizedDense: Format must be staticgrad::bf16 or staticgrad::int8");
  static_assert(In > 0 && Out > 0, "staticgrad::QuantizedDense: In and Out must be positive");

  using activation = detail::activation_t<Act>;
  using format = Format;
  using shape = detail::low_precision::packed_shape<In, Out, Format::per_word>;
  static constexpr std::size_t in_size = In;
  static constexpr std::size_t out_size = Out;
  static constexpr std::size_t param_count = shape::words + Format::per_output_vectors * shape::padded_out;
  static constexpr std::size_t cache_size = 0;
  /// No training function takes a network that holds it (detail/arguments.hpp).
  static constexpr bool inference_only = true;
  static constexpr std::size_t flops = 2 * In * Out + (std::is_same_v<Act, Identity> ? 0 : Out);

  static constexpr auto name() {
    return layer_name<"QuantizedDense", In, Out, detail::hana_string<activation::name>(),
                      detail::hana_string<Format::name>()>();
  }

  /// `to` = Dense<In, Out, Act>'s parameters `from` (W as [In][Out], then b; float or
  /// double) packed.
  template <class T>
  static void pack(std::span<const T, In * Out + Out> from, std::span<float, param_count> to) {
    Format::template pack<In, Out>(from.data(), from.data() + In * Out, to.data());
  }

  template <class T>
  static void infer(std::span<const T, param_count> params, std::span<const T, In> x, std::span<T, Out> y) {
    static_assert(std::is_same_v<T, float>, "staticgrad::QuantizedDense: a quantized model computes in float: Model<quantized_t<Net, Format>, float>");
    Format::template affine<In, Out>(params.data(), x.data(), y.data());
    detail::apply_activation<activation>(y);
  }

  /// In emit_standalone (io/standalone.hpp): the same map, the weights kept in Format.
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    const auto z = r.template quantized_affine<QuantizedDense>(x);
    if constexpr (std::is_same_v<Act, Identity>) return z;
    else return r.template activation<activation>(z);
  }

  // The Layer contract's training members, declared so that a quantized network is a
  // layer, and a compile error when a training function reaches them.
  template <class T>
  static void forward(std::span<const T, param_count>, std::span<T, 0>, std::span<const T, In>, std::span<T, Out>) {
    static_assert(detail::quantized_layer_trains<T>, "staticgrad::QuantizedDense runs inference only: train the float model, then quantize it");
  }
  template <BackwardMode Mode, class T>
  static void backward(std::span<const T, param_count>, std::span<const T, 0>, std::span<const T, In>,
                       std::span<const T, Out>, std::span<const T, Out>, std::span<T, param_count>, std::span<T, In>) {
    static_assert(detail::quantized_layer_trains<T>, "staticgrad::QuantizedDense runs inference only: train the float model, then quantize it");
  }
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count>, init::Rng&, const Scheme&) {
    static_assert(detail::quantized_layer_trains<T>, "staticgrad::QuantizedDense is made by staticgrad::quantize from a trained model, not initialized");
  }
};

}  // namespace staticgrad
