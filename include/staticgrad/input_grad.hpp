/// @file Defines staticgrad::input_grad: the gradient of a loss with respect to the
/// network's input (sensitivity, saliency maps, an adversarial step), and
/// staticgrad::tape::input_grad, the same on the dynamic tape.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <type_traits>

#include <staticgrad/core/blocks.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/samples.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/tape/network.hpp>

namespace staticgrad {

/// What input_grad returns: `auto [loss, dx] = input_grad(...)`.
template <class T, std::size_t In>
struct LossAndInputGradient {
  T loss{};
  std::array<T, In> dx{};
};

namespace detail {

template <bool Stateless, bool Deterministic>
struct check_input_grad_network {
  static_assert(Stateless,
                "staticgrad::input_grad: this network carries state from one time step to the next: input_grad "
                "takes one sample of a network without state");
  static_assert(Deterministic,
                "staticgrad::input_grad: this network has Dropout, whose masks belong to training: take the "
                "gradient of the same network without it");
};

/// What input_grad accepts: one sample of a network without state or Dropout (arguments.hpp).
template <class Net, class T, class Loss, class X, class Y>
using input_grad_problem =
    std::conditional_t<has_state<Net> || is_stochastic<Net>,
                       check_input_grad_network<!has_state<Net>, !is_stochastic<Net>>, sample_problem<Net, T, Loss, X, Y>>;

}  // namespace detail

/// ∂loss/∂x for one sample x and its target (as value_and_grad takes them), and the loss.
/// The backward pass computes no parameter gradient: each layer passes the gradient on to
/// its input, nothing more. Allocates nothing.
template <class Net, class T, class Loss, class X, class Y>
LossAndInputGradient<T, Net::in_size> input_grad(const Model<Net, T>& model, const Loss& loss, const X& x,
                                                 const Y& target) {
  using problem = detail::input_grad_problem<Net, T, Loss, X, Y>;
  if constexpr (detail::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return {};
  } else {
    constexpr std::size_t in = Net::in_size, out = Net::out_size;
    const auto input = detail::fixed_span<detail::check_input_size, T, in>(x);
    std::array<T, Net::cache_size> cache;
    std::array<T, out> y, dy;
    Net::template forward<T>(model.flat(), cache, input, y);
    LossAndInputGradient<T, in> result;
    result.loss = loss.template value_and_grad<T, out>(y, detail::target_view<Loss, T, out>(target), dy);
    // Without param_grad the layers leave dparams untouched (core/concepts.hpp); it still
    // needs memory of its type.
    std::array<T, Net::param_count> untouched;
    constexpr BackwardMode input_only{.accumulate = false, .input_grad = true, .param_grad = false};
    detail::network_backward<input_only, Net, 1, T>(model.flat(), cache, input, y, dy, untouched, result.dx,
                                                    detail::no_layer_hook{});
    return result;
  }
}

namespace tape {

/// staticgrad::input_grad computed by recording `t` with x as a variable (and the
/// parameters without gradients) and walking it backwards.
template <class Net, class T, class Loss, class X, class Y>
LossAndInputGradient<T, Net::in_size> input_grad(Tape<T>& t, const Model<Net, T>& model, const Loss& loss,
                                                 const X& x, const Y& target) {
  namespace sd = staticgrad::detail;
  using problem = sd::input_grad_problem<Net, T, Loss, X, Y>;
  if constexpr (sd::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return {};
  } else {
    constexpr std::size_t in = Net::in_size, out = Net::out_size;
    t.reset();
    const auto input = t.variable(std::span<const T>(sd::fixed_span<sd::check_input_size, T, in>(x)));
    const auto y = detail::record_network<Net>(t, std::span<const T>(model.flat()), std::span<T>{}, input);
    const auto l = detail::record_loss(loss, y, sd::target_view<Loss, T, out>(target));
    t.backward(l);
    LossAndInputGradient<T, in> result;
    result.loss = l.value()[0];
    std::ranges::copy(input.grad(), result.dx.begin());
    return result;
  }
}

/// The same on this thread's tape.
template <class Net, class T, class Loss, class X, class Y>
LossAndInputGradient<T, Net::in_size> input_grad(const Model<Net, T>& model, const Loss& loss, const X& x,
                                                 const Y& target) {
  return input_grad(detail::thread_tape<T>(), model, loss, x, target);
}

}  // namespace tape

}  // namespace staticgrad
