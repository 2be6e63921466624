/// @file Moving between a network with LoRA adapters and the plain network under it:
/// staticgrad::merge folds trained adapters into the weights (for deployment: a plain
/// Dense costs no more than before fine-tuning), staticgrad::with_adapters puts a
/// pretrained plain model under fresh adapters (to start fine-tuning).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include <boost/mp11/algorithm.hpp>

#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/layers/branches.hpp>
#include <staticgrad/layers/frozen.hpp>
#include <staticgrad/layers/lora.hpp>
#include <staticgrad/layers/residual.hpp>
#include <staticgrad/layers/sequential.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

namespace detail {

template <class L>
struct merged {
  using type = L;
};
template <class Base, std::size_t Rank, std::size_t Alpha>
struct merged<LoRA<Base, Rank, Alpha>> {
  using type = Base;
};
// Composites: the same composite of merged members.
template <class... Ls>
struct merged<Sequential<Ls...>> {
  using type = Sequential<typename merged<Ls>::type...>;
};
template <class... Ls>
struct merged<Residual<Ls...>> {
  using type = Residual<typename merged<Ls>::type...>;
};
template <class... Bs>
struct merged<Concat<Bs...>> {
  using type = Concat<typename merged<Bs>::type...>;
};
template <class... Bs>
struct merged<Sum<Bs...>> {
  using type = Sum<typename merged<Bs>::type...>;
};
template <class L>
struct merged<Frozen<L>> {
  using type = Frozen<typename merged<L>::type>;
};

}  // namespace detail

/// Net with every LoRA<Dense<…>, …> replaced by its Dense: what merge returns.
template <class Net>
using merged_t = typename detail::merged<Net>::type;

namespace detail {

/// Calls f(std::type_identity<Leaf>{}, offset in L, offset in merged_t<L>) for each leaf
/// layer of L, input side first.
template <class L, class F>
void for_each_leaf(F& f, std::size_t offset, std::size_t merged_offset) {
  if constexpr (requires { typename L::frozen_layer; }) {
    for_each_leaf<typename L::frozen_layer>(f, offset, merged_offset);
  } else if constexpr (Composite<L>) {
    boost::mp11::mp_for_each<boost::mp11::mp_transform<std::type_identity, typename children_of<L>::type>>(
        [&](auto child) {
          using C = typename decltype(child)::type;
          for_each_leaf<C>(f, offset, merged_offset);
          offset += C::param_count;
          merged_offset += merged_t<C>::param_count;
        });
  } else {
    f(std::type_identity<L>{}, offset, merged_offset);
  }
}

template <class L>
constexpr bool is_lora = requires { typename L::base; L::adapter_a_count; };

}  // namespace detail

/// The plain network with each LoRA layer's adapters folded into its weights:
/// W ← W + (α/r)·A·B (in the [In][Out] layout). Its outputs equal the LoRA network's (to
/// rounding), and it runs as fast as the network before fine-tuning.
template <class Net, class T>
Model<merged_t<Net>, T> merge(const Model<Net, T>& model) {
  Model<merged_t<Net>, T> plain{};
  auto fold = [&]<class L>(std::type_identity<L>, std::size_t offset, std::size_t merged_offset) {
    const auto from = model.flat().subspan(offset, L::param_count);
    const auto to = plain.flat().subspan(merged_offset, merged_t<L>::param_count);
    if constexpr (detail::is_lora<L>) {
      constexpr std::size_t in = L::in_size, out = L::out_size, rank = L::adapter_a_count / L::in_size;
      const T* a = from.data() + L::base::param_count;
      const T* b = a + L::adapter_a_count;
      std::copy(from.begin(), from.begin() + L::base::param_count, to.begin());
      for (std::size_t i = 0; i < in; ++i)
        for (std::size_t o = 0; o < out; ++o) {
          T update{};
          for (std::size_t r = 0; r < rank; ++r) update += a[i * rank + r] * b[r * out + o];
          to[i * out + o] += static_cast<T>(L::scale) * update;
        }
    } else {
      std::copy(from.begin(), from.end(), to.begin());
    }
  };
  detail::for_each_leaf<Net>(fold, 0, 0);
  return plain;
}

/// A model of Net (a network with LoRA layers) whose base layers hold `pretrained`'s
/// parameters and whose adapters start fresh (A random from `seed`, B zero): its outputs
/// are pretrained's, and fine-tuning it trains the adapters only.
template <class Net, class T>
Model<Net, T> with_adapters(const Model<merged_t<Net>, T>& pretrained, std::uint64_t seed) {
  Model<Net, T> model{seed};
  auto copy_base = [&]<class L>(std::type_identity<L>, std::size_t offset, std::size_t merged_offset) {
    const auto from = pretrained.flat().subspan(merged_offset, merged_t<L>::param_count);
    std::copy(from.begin(), from.end(), model.flat().begin() + static_cast<std::ptrdiff_t>(offset));
  };
  detail::for_each_leaf<Net>(copy_base, 0, 0);
  return model;
}

}  // namespace staticgrad
