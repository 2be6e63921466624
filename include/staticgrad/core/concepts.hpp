/// @file Defines the concepts staticgrad::Layer, staticgrad::Activation and
/// staticgrad::BackwardMode, the contracts every layer spec and activation meets.
#pragma once

#include <concepts>
#include <cstddef>

namespace staticgrad {

/// How a backward pass writes its results.
///
/// `accumulate`: add parameter gradients into the output (a batch sums samples) instead of
/// overwriting it (a single sample needs no zeroing pass first).
/// `input_grad`: compute the gradient with respect to the layer's input. The first layer
/// of a network does not need it, and skipping it saves a whole transposed matvec.
/// `param_grad`: compute parameter gradients. False inside Frozen<L>: `dparams` is then
/// not touched at all.
struct BackwardMode {
  bool accumulate = false;
  bool input_grad = true;
  bool param_grad = true;
};

/// A layer spec: an empty type that describes one differentiable map from
/// `in_size` to `out_size` scalars.
///
/// Minimal complete definition (all static):
/// - `std::size_t in_size, out_size`: the sizes of its input and output;
/// - `std::size_t param_count`: how many scalars of the flat parameter array it owns;
/// - `std::size_t cache_size`: how many scalars `forward` keeps for `backward`
///   (the layer's input and output are kept by the caller and are not counted);
/// - `infer(params, x, y)`, `forward(params, cache, x, y)` and
///   `backward<Mode>(params, cache, x, y, dy, dparams, dx)` over fixed-extent `std::span`s.
///
/// Laws: `forward` writes the same `y` as `infer`; `backward` is the vector-Jacobian
/// product of `forward`: with `Mode.param_grad` it writes (or, with `Mode.accumulate`, adds)
/// ∂L/∂params into `dparams`, and with `Mode.input_grad` it writes ∂L/∂x into `dx`, given
/// `dy` = ∂L/∂y. With neither, it reads nothing (not even `dy`).
/// A layer never allocates and never owns memory. The spans a call receives never overlap
/// (an output is never also an input), and a layer may rely on it (the kernels are
/// written with __restrict).
template <class L>
concept Layer = requires {
  { L::in_size } -> std::convertible_to<std::size_t>;
  { L::out_size } -> std::convertible_to<std::size_t>;
  { L::param_count } -> std::convertible_to<std::size_t>;
  { L::cache_size } -> std::convertible_to<std::size_t>;
};

/// An element-wise activation function φ.
///
/// Minimal complete definition (all static): `value(z)`, `derivative(u)` and
/// `bool derivative_from_output`. When `derivative_from_output` is true, `derivative`
/// takes the output φ(z) (so the forward pass need not keep z); otherwise it takes z.
/// Law: `derivative` is dφ/dz wherever φ is differentiable.
template <class A>
concept ActivationFunction = requires(double u) {
  { A::derivative_from_output } -> std::convertible_to<bool>;
  { A::value(u) } -> std::convertible_to<double>;
  { A::derivative(u) } -> std::convertible_to<double>;
};

}  // namespace staticgrad
