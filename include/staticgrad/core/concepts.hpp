/// @file Defines the concepts staticgrad::Layer, staticgrad::Activation and
/// staticgrad::BackwardMode, the contracts every layer spec and activation meets.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

#include <staticgrad/init.hpp>

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

namespace detail {

/// The members every layer declares, for the diagnostic that names the first one missing.
enum class layer_member { none, in_size, out_size, param_count, cache_size, flops, name, infer, forward, backward,
                          step, forward_step, backward_step, initialize };

/// How many scalars layer L carries from one time step to the next (0: none; see
/// core/steps.hpp).
template <class L>
constexpr std::size_t state_size_of() {
  if constexpr (requires { L::state_size; }) return L::state_size;
  else return 0;
}

/// The first member of the Layer contract that L lacks, or layer_member::none. The
/// functions are checked as float calls on spans of L's sizes.
template <class L>
constexpr layer_member first_missing_member() {
  using enum layer_member;
  if constexpr (!requires { { L::in_size } -> std::convertible_to<std::size_t>; }) return in_size;
  else if constexpr (!requires { { L::out_size } -> std::convertible_to<std::size_t>; }) return out_size;
  else if constexpr (!requires { { L::param_count } -> std::convertible_to<std::size_t>; }) return param_count;
  else if constexpr (!requires { { L::cache_size } -> std::convertible_to<std::size_t>; }) return cache_size;
  else if constexpr (!requires { { L::flops } -> std::convertible_to<std::size_t>; }) return flops;
  else if constexpr (!requires { L::name(); }) return name;
  else {
    using P = std::span<const float, L::param_count>;
    using C = std::span<float, L::cache_size>;
    using X = std::span<const float, L::in_size>;
    using Y = std::span<float, L::out_size>;
    if constexpr (state_size_of<L>() > 0) {  // a layer with state runs step by step (core/steps.hpp)
      using S = std::span<float, L::state_size>;
      using CS = std::span<const float, L::state_size>;
      if constexpr (!requires(P p, S s, X x, Y y) { L::template step<float>(p, s, x, y); }) return step;
      else if constexpr (!requires(P p, CS s, S next, C c, X x, Y y) { L::template forward_step<float>(p, s, next, c, x, y); })
        return forward_step;
      else if constexpr (!requires(P p, CS s, std::span<const float, L::cache_size> c, X x,
                                   std::span<const float, L::out_size> y, S ds, std::span<float, L::param_count> dp,
                                   std::span<float, L::in_size> dx) {
                           L::template backward_step<BackwardMode{}, float>(p, s, c, x, y, y, s, ds, dp, dx);
                         })
        return backward_step;
      else if constexpr (!requires(std::span<float, L::param_count> p, init::Rng& rng) {
                           L::template initialize<float>(p, rng, init::Default{});
                         })
        return initialize;
      else return none;
    }
    else if constexpr (!requires(P p, X x, Y y) { L::template infer<float>(p, x, y); }) return infer;
    else if constexpr (!requires(P p, C c, X x, Y y) { L::template forward<float>(p, c, x, y); }) return forward;
    else if constexpr (!requires(P p, std::span<const float, L::cache_size> c, X x, std::span<const float, L::out_size> y,
                                 std::span<float, L::param_count> dp, std::span<float, L::in_size> dx) {
                         L::template backward<BackwardMode{}, float>(p, c, x, y, y, dp, dx);
                       })
      return backward;
    else if constexpr (!requires(std::span<float, L::param_count> p, init::Rng& rng) {
                         L::template initialize<float>(p, rng, init::Default{});
                       })
      return initialize;
    else return none;
  }
}

}  // namespace detail

/// A layer spec: an empty type that describes one differentiable map from `in_size` to
/// `out_size` scalars. Everything the library does with a layer goes through these
/// members; a type that lacks one is named, with the member, by the diagnostic
/// `check_is_layer<index, type, missing member>`.
///
/// The contract (all static):
/// - `std::size_t in_size, out_size`: the sizes of its input and output;
/// - `std::size_t param_count`: how many scalars of the flat parameter array it owns;
/// - `std::size_t cache_size`: how many scalars `forward` keeps for `backward`
///   (the layer's input and output are kept by the caller and are not counted);
/// - `std::size_t flops`: its forward pass's floating-point operations (a multiply-add is 2);
/// - `constexpr auto name()`: how saved files and summaries spell it, e.g. Dense<3,4,ReLU>
///   (staticgrad::layer_name, core/layer_name.hpp; different for every kind and size);
/// - `infer<T>(params, x, y)`, `forward<T>(params, cache, x, y)` and
///   `backward<Mode, T>(params, cache, x, y, dy, dparams, dx)` over fixed-extent
///   `std::span`s;
/// - `initialize<T>(params, rng, scheme)`: its parameters drawn with `rng` from `scheme`
///   (init::Default: the layer's own default).
/// A layer with state (GRU) declares `state_size` and, instead of infer, forward and
/// backward, `step`, `forward_step` and `backward_step` (core/steps.hpp).
///
/// Optional members, each asked for by what needs it (a compile error names the layer when
/// it is missing):
/// - `tensors`: its parameters as PyTorch's tensors (core/tensors.hpp), for safetensors;
///   `torch_modules`: how many nn.Sequential indices it takes (default 1);
/// - `record(r, x)`: the layer from the dynamic tape's operations (tape/network.hpp);
/// - `infer_block`, `forward_block`, `backward_block`: blocks of samples (core/blocks.hpp);
/// - `infer_steps`, `steps_workspace`, `forward_steps`, `backward_steps`: many time steps
///   of one stream at once, layer by layer (core/steps.hpp; Sequential, Conv1D);
/// - `frozen_count`: how many leading parameters never train (LoRA's base weights);
/// - `merged` and `merge(params, merged_params)`: what staticgrad::merge makes of it;
/// - a `LayerView` specialization: its parameters by name (`weight(o, i)`, …).
///
/// A composite (Sequential, Residual, Concat, Sum, Frozen) also declares its `children`,
/// where their parameters, cache and state start in its own (`child_param_offset`,
/// `child_cache_offset`, `child_state_offset`), `rebind` (the same composite of other children), its
/// `record(r, x)` in terms of `r.child<I>(x)`, `summary_label`, and `torch_prefix<I>()`;
/// everything that walks a network goes through these (detail/traversal.hpp).
///
/// Laws: `forward` writes the same `y` as `infer`; `backward` is the vector-Jacobian
/// product of `forward`: with `Mode.param_grad` it writes (or, with `Mode.accumulate`, adds)
/// ∂L/∂params into `dparams`, and with `Mode.input_grad` it writes ∂L/∂x into `dx`, given
/// `dy` = ∂L/∂y. With neither, it reads nothing (not even `dy`).
/// A layer never allocates and never owns memory. The spans a call receives never overlap
/// (an output is never also an input), and a layer may rely on it (the kernels are
/// written with __restrict). tests/conformance.cpp checks these laws for every layer.
template <class L>
concept Layer = detail::first_missing_member<L>() == detail::layer_member::none;

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
