/// @file Defines staticgrad::fold: a trained network with its evaluation-mode BatchNorms
/// folded into the Dense or Conv1D layers before them, for deployment.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <staticgrad/activations.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/layers/activation.hpp>
#include <staticgrad/layers/batch_norm.hpp>
#include <staticgrad/layers/conv1d.hpp>
#include <staticgrad/layers/dense.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

namespace detail {

// A layer without activation whose outputs a BatchNorm can be folded into (its weights
// end with the output index, then its bias), and the same layer with activation Act.
template <class L, class Act>
struct with_activation {};
template <std::size_t In, std::size_t Out, class Act>
struct with_activation<Dense<In, Out, Identity>, Act> {
  using type = Dense<In, Out, Act>;
};
template <std::size_t In, std::size_t Out, std::size_t Kernel, std::size_t Dilation, std::size_t Groups, class Act>
struct with_activation<Conv1D<In, Out, Kernel, Dilation, Identity, Groups>, Act> {
  using type = Conv1D<In, Out, Kernel, Dilation, Act, Groups>;
};
template <class L>
concept FoldTarget = requires { typename with_activation<L, Identity>::type; };

template <class L>
struct activation_layer {
  static constexpr bool value = false;
};
template <class Act, std::size_t N>
struct activation_layer<Activation<Act, N>> {
  static constexpr bool value = true;
  using activation = Act;
};

/// How many of the layers of chain List from I on become one: 3 for a Dense or Conv1D
/// without activation, a BatchNorm and an Activation; 2 without the Activation; else 1.
/// Only a chain (Sequential, Residual) folds neighbours: a branch set's children are
/// side by side.
template <class List, std::size_t I, bool Chain>
constexpr std::size_t fold_span() {
  using namespace boost::mp11;
  if constexpr (Chain && I + 1 < mp_size<List>::value) {
    if constexpr (FoldTarget<mp_at_c<List, I>> && couples_batch<mp_at_c<List, I + 1>>()) {
      if constexpr (I + 2 < mp_size<List>::value) {
        if constexpr (activation_layer<mp_at_c<List, I + 2>>::value) return 3;
      }
      return 2;
    }
  }
  return 1;
}

template <class L>
struct folded;

// The layer that List's layers [I, I + fold_span) become.
template <class List, std::size_t I, bool Chain, std::size_t Span = fold_span<List, I, Chain>()>
struct folded_at {
  using type = typename folded<boost::mp11::mp_at_c<List, I>>::type;
};
template <class List, std::size_t I, bool Chain>
struct folded_at<List, I, Chain, 2> {
  using type = boost::mp11::mp_at_c<List, I>;
};
template <class List, std::size_t I, bool Chain>
struct folded_at<List, I, Chain, 3> {
  using type = typename with_activation<boost::mp11::mp_at_c<List, I>,
                                        typename activation_layer<boost::mp11::mp_at_c<List, I + 2>>::activation>::type;
};

// List's layers from I on, folded, appended to Done.
template <class List, std::size_t I, bool Chain, class Done, bool End = (I >= boost::mp11::mp_size<List>::value)>
struct fold_list {
  using type = Done;
};
template <class List, std::size_t I, bool Chain, class Done>
struct fold_list<List, I, Chain, Done, false> {
  using type = typename fold_list<List, I + fold_span<List, I, Chain>(), Chain,
                                  boost::mp11::mp_push_back<Done, typename folded_at<List, I, Chain>::type>>::type;
};

/// Layer L with its foldable BatchNorms folded: a composite rebuilt from its children
/// folded, any other layer itself.
template <class L>
struct folded {
  using type = L;
};
template <CompositeLayer L>
struct folded<L> {
  using type = boost::mp11::mp_apply<
      L::template rebind, typename fold_list<typename L::children, 0, torch_sequential<L>(), boost::mp11::mp_list<>>::type>;
};

/// `to` = the parameters of layer L (Dense or Conv1D without activation) followed by
/// BatchNorm B in evaluation: every weight and the bias of output o scaled by
/// s_o = γ_o / √(running var_o + ε), and β_o − running mean_o · s_o added to the bias.
template <class L, class B, class T>
void fold_batch_norm(std::span<const T, L::param_count> from, std::span<const T, B::param_count> norm,
                     std::span<T, L::param_count> to) {
  constexpr std::size_t out = L::out_size, weights = L::param_count - out;
  std::array<T, out> scale;
  for (std::size_t o = 0; o < out; ++o)
    scale[o] = norm[B::gain + o] / std::sqrt(norm[B::running_var + o] + static_cast<T>(B::epsilon));
  for (std::size_t w = 0; w < weights; ++w) to[w] = from[w] * scale[w % out];
  for (std::size_t o = 0; o < out; ++o)
    to[weights + o] = (from[weights + o] - norm[B::running_mean + o]) * scale[o] + norm[B::bias + o];
}

template <class L, class T>
void fold_into(std::span<const T, L::param_count> from, std::span<T, folded<L>::type::param_count> to);

// Children [I, …) of composite L into children [J, …) of its folded composite.
template <class L, std::size_t I, std::size_t J, class T>
void fold_children(std::span<const T, L::param_count> from, std::span<T, folded<L>::type::param_count> to) {
  using namespace boost::mp11;
  using Children = typename L::children;
  using Folded = typename folded<L>::type;
  if constexpr (I < mp_size<Children>::value) {
    using Child = mp_at_c<Children, I>;
    using Target = mp_at_c<typename Folded::children, J>;
    const auto child = from.template subspan<L::child_param_offset[I], Child::param_count>();
    const auto target = to.template subspan<Folded::child_param_offset[J], Target::param_count>();
    constexpr std::size_t span = fold_span<Children, I, torch_sequential<L>()>();
    if constexpr (span == 1) {
      fold_into<Child, T>(child, target);
    } else {
      using Norm = mp_at_c<Children, I + 1>;
      fold_batch_norm<Child, Norm, T>(child, from.template subspan<L::child_param_offset[I + 1], Norm::param_count>(),
                                      target);
    }
    fold_children<L, I + span, J + 1, T>(from, to);
  }
}

template <class L, class T>
void fold_into(std::span<const T, L::param_count> from, std::span<T, folded<L>::type::param_count> to) {
  if constexpr (CompositeLayer<L>) fold_children<L, 0, 0, T>(from, to);
  else std::copy(from.begin(), from.end(), to.begin());
}

}  // namespace detail

/// Net with every BatchNorm that follows a Dense or Conv1D without activation folded into
/// it (and an Activation right after the BatchNorm into that layer's activation): what
/// fold returns.
template <class Net>
using folded_t = typename detail::folded<Net>::type;

/// The network for deployment: each BatchNorm that follows a Dense or Conv1D without
/// activation, in a Sequential or Residual, folded into that layer with its running
/// statistics (evaluation mode), as PyTorch's fuse_conv_bn_eval does; an Activation right
/// after the BatchNorm becomes the layer's activation. Its outputs equal model(x)'s (to
/// rounding) at the cost of the plain layers. Other BatchNorms stay as they are.
template <class Net, class T>
Model<folded_t<Net>, T> fold(const Model<Net, T>& model) {
  Model<folded_t<Net>, T> plain{};
  detail::fold_into<Net, T>(model.flat(), plain.flat());
  return plain;
}

}  // namespace staticgrad
