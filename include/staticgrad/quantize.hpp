/// @file Defines staticgrad::quantize: a trained model converted for inference with its
/// Dense weights stored in bfloat16 or int8 (staticgrad::QuantizedDense).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/layers/dense.hpp>
#include <staticgrad/layers/quantized_dense.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

namespace detail {

/// Layer L with every Dense in it stored in Format: a composite rebuilt from its children
/// quantized, a Dense as QuantizedDense, any other layer itself (it keeps its float
/// parameters).
template <class L, class Format>
struct quantized {
  using type = L;
};
template <std::size_t In, std::size_t Out, class Act, class Format>
struct quantized<Dense<In, Out, Act>, Format> {
  using type = QuantizedDense<In, Out, Act, Format>;
};
template <class Format>
struct quantized_in {
  template <class L>
  using fn = typename quantized<L, Format>::type;
};
template <CompositeLayer L, class Format>
struct quantized<L, Format> {
  using type = with_children<L, quantized_in<Format>::template fn>;
};

template <class L, class Format, class T>
void quantize_into(std::span<const T, L::param_count> from,
                   std::span<float, quantized<L, Format>::type::param_count> to) {
  using Quantized = typename quantized<L, Format>::type;
  if constexpr (CompositeLayer<L>) {
    boost::mp11::mp_for_each<boost::mp11::mp_iota<boost::mp11::mp_size<typename L::children>>>([&](auto index) {
      constexpr std::size_t i = decltype(index)::value;
      using Child = boost::mp11::mp_at_c<typename L::children, i>;
      quantize_into<Child, Format, T>(
          from.template subspan<L::child_param_offset[i], Child::param_count>(),
          to.template subspan<Quantized::child_param_offset[i], quantized<Child, Format>::type::param_count>());
    });
  } else if constexpr (std::is_same_v<Quantized, L>) {
    std::transform(from.begin(), from.end(), to.begin(), [](T v) { return static_cast<float>(v); });
  } else {
    Quantized::pack(from, to);
  }
}

}  // namespace detail

/// Net with every Dense stored in Format (staticgrad::bf16 or staticgrad::int8): what
/// quantize returns.
template <class Net, class Format>
using quantized_t = typename detail::quantized<Net, Format>::type;

/// A trained model for inference with its Dense layers' weights in Format: bfloat16 (half
/// the bytes) or int8 with a scale per output (a quarter), computing in float. Its outputs
/// approach model(x)'s to the format's precision (bench/README.md measures how closely);
/// `model(x)`, `infer_batch` and streaming work as before. Other layers (Conv1D, GRU, LSTM,
/// norms, LoRA: merge it first) keep their float parameters.
///
///     auto small = staticgrad::quantize<staticgrad::int8>(model);
///     auto y = small(x);
template <class Format, class Net, class T>
Model<quantized_t<Net, Format>, float> quantize(const Model<Net, T>& model) {
  Model<quantized_t<Net, Format>, float> quantized{};
  quantize<Format>(model, quantized);
  return quantized;
}

/// As above, into the caller's model (which may live anywhere: on the heap, for a network
/// too large for the stack).
template <class Format, class Net, class T>
void quantize(const Model<Net, T>& model, Model<quantized_t<Net, Format>, float>& into) {
  static_assert(detail::QuantizedFormat<Format>, "staticgrad::quantize: Format must be staticgrad::bf16 or staticgrad::int8");
  detail::quantize_into<Net, Format, T>(model.flat(), into.flat());
}

}  // namespace staticgrad
