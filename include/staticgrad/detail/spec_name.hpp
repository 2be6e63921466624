/// @file The canonical spelling of a network spec, e.g.
/// "Sequential<Dense<3,4,ReLU>,Dense<4,2,Identity>>": what a saved file records.
#pragma once

#include <cstddef>
#include <string>

#include <staticgrad/layers/activation.hpp>
#include <staticgrad/layers/branches.hpp>
#include <staticgrad/layers/dense.hpp>
#include <staticgrad/layers/dropout.hpp>
#include <staticgrad/layers/frozen.hpp>
#include <staticgrad/layers/lora.hpp>
#include <staticgrad/layers/norm.hpp>
#include <staticgrad/layers/residual.hpp>
#include <staticgrad/layers/sequential.hpp>

namespace staticgrad::detail {

template <class L>
struct spec_name_of {
  static_assert(sizeof(L) == 0, "staticgrad: this layer has no canonical name for saved files");
};

template <class... Ls>
std::string joined_names();

template <std::size_t In, std::size_t Out, class Act>
struct spec_name_of<Dense<In, Out, Act>> {
  static std::string get() {
    return "Dense<" + std::to_string(In) + "," + std::to_string(Out) + "," + std::string(Dense<In, Out, Act>::activation::name) + ">";
  }
};
template <class Act, std::size_t N>
struct spec_name_of<Activation<Act, N>> {
  static std::string get() { return "Activation<" + std::string(Activation<Act, N>::activation::name) + "," + std::to_string(N) + ">"; }
};
template <std::size_t N>
struct spec_name_of<LayerNorm<N>> {
  static std::string get() { return "LayerNorm<" + std::to_string(N) + ">"; }
};
template <std::size_t N>
struct spec_name_of<RMSNorm<N>> {
  static std::string get() { return "RMSNorm<" + std::to_string(N) + ">"; }
};
template <std::size_t N, class P>
struct spec_name_of<Dropout<N, P>> {
  static std::string get() {
    return "Dropout<" + std::to_string(N) + "," + std::to_string(P::num) + "/" + std::to_string(P::den) + ">";
  }
};
template <class Base, std::size_t Rank, std::size_t Alpha>
struct spec_name_of<LoRA<Base, Rank, Alpha>> {
  static std::string get() {
    return "LoRA<" + spec_name_of<Base>::get() + "," + std::to_string(Rank) + "," + std::to_string(Alpha) + ">";
  }
};
template <class L>
struct spec_name_of<Frozen<L>> {
  static std::string get() { return "Frozen<" + spec_name_of<L>::get() + ">"; }
};
template <class... Ls>
struct spec_name_of<Sequential<Ls...>> {
  static std::string get() { return "Sequential<" + joined_names<Ls...>() + ">"; }
};
template <class... Ls>
struct spec_name_of<Residual<Ls...>> {
  static std::string get() { return "Residual<" + joined_names<Ls...>() + ">"; }
};

template <class... Bs>
struct spec_name_of<Concat<Bs...>> {
  static std::string get() { return "Concat<" + joined_names<Bs...>() + ">"; }
};
template <class... Bs>
struct spec_name_of<Sum<Bs...>> {
  static std::string get() { return "Sum<" + joined_names<Bs...>() + ">"; }
};

template <class... Ls>
std::string joined_names() {
  std::string names;  // appends, not +: g++ 12 -O3 gives a false -Wrestrict on "," + string
  ((names += names.empty() ? "" : ",", names += spec_name_of<Ls>::get()), ...);
  return names;
}

/// The canonical spelling of layer spec L.
template <class L>
std::string spec_name() {
  return spec_name_of<L>::get();
}

}  // namespace staticgrad::detail
