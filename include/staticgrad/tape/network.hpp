/// @file Defines staticgrad::tape::value_and_grad: the same networks, losses, signatures
/// and results as staticgrad::value_and_grad, computed by recording a Tape.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/layers/activation.hpp>
#include <staticgrad/layers/branches.hpp>
#include <staticgrad/layers/dense.hpp>
#include <staticgrad/layers/dropout.hpp>
#include <staticgrad/layers/frozen.hpp>
#include <staticgrad/layers/lora.hpp>
#include <staticgrad/layers/norm.hpp>
#include <staticgrad/layers/residual.hpp>
#include <staticgrad/layers/sequential.hpp>
#include <staticgrad/losses.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/tape/ops.hpp>
#include <staticgrad/tape/tape.hpp>

namespace staticgrad::tape {

namespace detail {

// grads[offset, offset + count), or nothing when there are no gradients (inference).
template <class T>
std::span<T> gradient_slice(std::span<T> grads, std::size_t offset, std::size_t count) {
  return grads.empty() ? grads : grads.subspan(offset, count);
}

template <class T>
Var<T> parameter(Tape<T>& t, std::span<const T> params, std::span<T> grads, std::size_t offset,
                 std::size_t rows, std::size_t cols = 1) {
  return t.parameter(params.subspan(offset, rows * cols), gradient_slice(grads, offset, rows * cols),
                     rows, cols);
}

/// How each layer spec is recorded: `record(tape, params, grads, x)` returns its output.
template <class Layer>
struct recorder {
  static_assert(sizeof(Layer) == 0, "staticgrad::tape: this layer has no tape recording");
};

template <std::size_t In, std::size_t Out, class Act>
struct recorder<Dense<In, Out, Act>> {
  template <class T>
  static Var<T> record(Tape<T>& t, std::span<const T> params, std::span<T> grads, Var<T> x) {
    const auto w = parameter(t, params, grads, 0, In, Out);
    const auto b = parameter(t, params, grads, In * Out, Out);
    const auto z = affine(w, b, x);
    if constexpr (std::is_same_v<Act, Identity>) return z;
    else return activation<typename Dense<In, Out, Act>::activation>(z);
  }
};

template <class Act, std::size_t N>
struct recorder<Activation<Act, N>> {
  template <class T>
  static Var<T> record(Tape<T>&, std::span<const T>, std::span<T>, Var<T> x) {
    return activation<typename Activation<Act, N>::activation>(x);
  }
};

template <std::size_t N>
struct recorder<LayerNorm<N>> {
  template <class T>
  static Var<T> record(Tape<T>& t, std::span<const T> params, std::span<T> grads, Var<T> x) {
    return layer_norm(x, parameter(t, params, grads, 0, N), parameter(t, params, grads, N, N),
                      static_cast<T>(LayerNorm<N>::epsilon));
  }
};

template <std::size_t N>
struct recorder<RMSNorm<N>> {
  template <class T>
  static Var<T> record(Tape<T>& t, std::span<const T> params, std::span<T> grads, Var<T> x) {
    return rms_norm(x, parameter(t, params, grads, 0, N), static_cast<T>(RMSNorm<N>::epsilon));
  }
};

// φ(Wᵀx + b + Bᵀ((α/r)·Aᵀx)) with W and b as constants: only A and B get gradients.
template <std::size_t In, std::size_t Out, class Act, std::size_t Rank, std::size_t Alpha>
struct recorder<LoRA<Dense<In, Out, Act>, Rank, Alpha>> {
  using L = LoRA<Dense<In, Out, Act>, Rank, Alpha>;
  template <class T>
  static Var<T> record(Tape<T>& t, std::span<const T> params, std::span<T> grads, Var<T> x) {
    constexpr std::size_t a_offset = L::base::param_count, b_offset = a_offset + L::adapter_a_count;
    const auto base_params = params.first(L::base::param_count);
    const auto w = parameter(t, base_params, std::span<T>{}, 0, In, Out);
    const auto b = parameter(t, base_params, std::span<T>{}, In * Out, Out);
    const std::array<T, Out> zeros_out{};
    const std::array<T, Rank> zeros_rank{};
    std::array<T, Rank> scale;
    scale.fill(static_cast<T>(L::scale));
    const auto h = affine(parameter(t, params, grads, a_offset, In, Rank), t.input(std::span<const T>(zeros_rank)), x) *
                   t.input(std::span<const T>(scale));
    const auto z = affine(w, b, x) + affine(parameter(t, params, grads, b_offset, Rank, Out),
                                            t.input(std::span<const T>(zeros_out)), h);
    if constexpr (std::is_same_v<typename L::activation, Identity>) return z;
    else return activation<typename L::activation>(z);
  }
};

// In training, x ⊙ the mask the generated engine draws for the same call; else x.
template <std::size_t N, class P>
struct recorder<Dropout<N, P>> {
  template <class T>
  static Var<T> record(Tape<T>& t, std::span<const T>, std::span<T>, Var<T> x) {
    if (!staticgrad::detail::current_training.training) return x;
    std::array<T, N> mask;
    Dropout<N, P>::draw_mask(std::span<T, N>(mask));
    return x * t.input(std::span<const T>(mask));
  }
};

// L's parameters enter the tape as constants: no gradient flows into them.
template <class L>
struct recorder<Frozen<L>> {
  template <class T>
  static Var<T> record(Tape<T>& t, std::span<const T> params, std::span<T>, Var<T> x) {
    return recorder<L>::record(t, params, std::span<T>{}, x);
  }
};

template <class... Ls>
struct recorder<Sequential<Ls...>> {
  template <class T>
  static Var<T> record(Tape<T>& t, std::span<const T> params, std::span<T> grads, Var<T> x) {
    using layout = staticgrad::detail::sequential_layout<true, Ls...>;
    boost::mp11::mp_for_each<boost::mp11::mp_iota_c<sizeof...(Ls)>>([&](auto index) {
      constexpr std::size_t i = decltype(index)::value;
      using L = boost::mp11::mp_at_c<boost::mp11::mp_list<Ls...>, i>;
      constexpr std::size_t offset = layout::param_offset[i];
      x = recorder<L>::record(t, params.subspan(offset, L::param_count),
                              gradient_slice(grads, offset, L::param_count), x);
    });
    return x;
  }
};

template <class... Ls>
struct recorder<Residual<Ls...>> {
  template <class T>
  static Var<T> record(Tape<T>& t, std::span<const T> params, std::span<T> grads, Var<T> x) {
    return x + recorder<Sequential<Ls...>>::record(t, params, grads, x);
  }
};

// Each branch reads x; `Combine` joins two outputs (concat for Concat, + for Sum).
template <class Spec, class Combine>
struct branches_recorder {
  template <class T>
  static Var<T> record(Tape<T>& t, std::span<const T> params, std::span<T> grads, Var<T> x) {
    std::optional<Var<T>> y;
    Spec::each_branch([&](auto index) {
      constexpr std::size_t i = decltype(index)::value;
      using B = typename Spec::template at<i>;
      constexpr std::size_t offset = Spec::param_offset[i];
      const Var<T> branch = recorder<B>::record(t, params.subspan(offset, B::param_count),
                                                gradient_slice(grads, offset, B::param_count), x);
      y = y ? Combine{}(*y, branch) : branch;
    });
    return *y;
  }
};

struct concat_outputs {
  template <class T>
  Var<T> operator()(Var<T> a, Var<T> b) const { return concat(a, b); }
};
struct add_outputs {
  template <class T>
  Var<T> operator()(Var<T> a, Var<T> b) const { return a + b; }
};

template <class... Bs>
struct recorder<Concat<Bs...>> : branches_recorder<Concat<Bs...>, concat_outputs> {};
template <class... Bs>
struct recorder<Sum<Bs...>> : branches_recorder<Sum<Bs...>, add_outputs> {};

// The loss of one output on the tape.
template <class T, std::size_t Out>
Var<T> record_loss(MSE, Var<T> y, std::span<const T, Out> target) {
  return mse(y, y.tape().input(target));
}
template <class T, std::size_t Out>
Var<T> record_loss(HalfSquaredError, Var<T> y, std::span<const T, Out> target) {
  return half_squared_error(y, y.tape().input(target));
}
template <class T, std::size_t Out>
Var<T> record_loss(SoftmaxCrossEntropy, Var<T> y, std::span<const T, Out> target) {
  return softmax_cross_entropy(y, y.tape().input(target));
}
template <class T>
Var<T> record_loss(SoftmaxCrossEntropy, Var<T> y, std::size_t target_class) {
  return softmax_cross_entropy(y, target_class);
}
template <class T, std::size_t Out>
Var<T> record_loss(BCEWithLogits, Var<T> y, std::span<const T, Out> target) {
  return bce_with_logits(y, y.tape().input(target));
}

template <class Net, class T, class Loss, class Target>
T sample_value_and_grad(Tape<T>& t, std::span<const T, Net::param_count> params, const Loss& loss,
                        std::span<const T, Net::in_size> x, const Target& target, T scale,
                        std::span<T, Net::param_count> grads) {
  t.reset();
  const auto y = recorder<Net>::record(t, std::span<const T>(params), std::span<T>(grads), t.input(x));
  const auto l = record_loss(loss, y, target);
  t.backward(l, scale);
  return l.value()[0];
}

/// Each thread's tape for value_and_grad: warm after the first call.
template <class T>
Tape<T>& thread_tape() {
  thread_local Tape<T> tape;
  return tape;
}

}  // namespace detail

/// The network's output for x, computed by recording `t` without gradients (what a
/// dynamic framework does for inference). Once `t` is warm this allocates nothing.
template <class Net, class T, class X>
std::array<T, Net::out_size> infer(Tape<T>& t, const Model<Net, T>& model, const X& x) {
  namespace sd = staticgrad::detail;
  t.reset();
  const auto input = t.input(sd::fixed_span<sd::check_input_size, T, Net::in_size>(x));
  const auto y = detail::recorder<Net>::record(t, std::span<const T>(model.flat()), std::span<T>{}, input);
  std::array<T, Net::out_size> out;
  std::copy(y.value().begin(), y.value().end(), out.begin());
  return out;
}

/// As staticgrad::value_and_grad (same arguments: one sample or a batch, and a Training key
/// for a network with Dropout, which then draws the generated engine's masks), but computed
/// by recording `t` and walking it backwards; writes the gradient into `grads` and returns
/// the loss. Throws std::invalid_argument for a network with Dropout and no key.
template <class Net, class T, class Loss, class X, class Y>
T value_and_grad(Tape<T>& t, const Model<Net, T>& model, const Loss& loss, const X& x,
                 const Y& target, Gradients<Net, T>& grads, std::optional<Training> training = {}) {
  namespace sd = staticgrad::detail;
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  if (sd::is_stochastic<Net> && !training)
    Tape<T>::fail("value_and_grad", "this network has Dropout: pass staticgrad::Training{seed, step}");
  std::optional<sd::training_scope> scope;
  if (sd::is_stochastic<Net>) scope.emplace(*training);
  std::fill(grads.flat().begin(), grads.flat().end(), T{});  // the tape adds into them
  if constexpr (sd::FixedVector<X>) {
    return detail::sample_value_and_grad<Net>(t, model.flat(), loss,
                                               sd::fixed_span<sd::check_input_size, T, in>(x),
                                               sd::target_view<Loss, T, out>(target), T{1}, grads.flat());
  } else {
    static_assert(sd::FixedVectorRange<X>,
                  "staticgrad::tape::value_and_grad: x must be one input or a contiguous range of inputs");
    const std::size_t count = sd::batch_size(x, target, "staticgrad::tape::value_and_grad");
    const T scale = T{1} / static_cast<T>(count);
    T total{};
    for (std::size_t s = 0; s < count; ++s)
      total += detail::sample_value_and_grad<Net>(
          t, model.flat(), loss, sd::fixed_span<sd::check_input_size, T, in>(std::ranges::data(x)[s]),
          sd::target_view<Loss, T, out>(std::ranges::data(target)[s]), scale, grads.flat());
    return total * scale;
  }
}

/// As staticgrad::value_and_grad, computed by this thread's tape: the same signature and
/// the same result, so that switching engines is one word.
template <class Net, class T, class Loss, class X, class Y>
LossAndGradients<Net, T> value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x,
                                        const Y& target, std::optional<Training> training = {}) {
  auto result = staticgrad::detail::gradients_access::fresh_result<Net, T>();
  result.loss = value_and_grad(detail::thread_tape<T>(), model, loss, x, target, result.grads, training);
  return result;
}

/// As above, writing into the caller's gradients.
template <class Net, class T, class Loss, class X, class Y>
T value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x, const Y& target,
                 Gradients<Net, T>& grads, std::optional<Training> training = {}) {
  return value_and_grad(detail::thread_tape<T>(), model, loss, x, target, grads, training);
}

}  // namespace staticgrad::tape
