/// @file Where each layer that owns parameters sits in the flat array, in order.
#pragma once

#include <array>
#include <cstddef>

#include <boost/mp11/list.hpp>

namespace staticgrad::detail {

/// A run [offset, offset + size) of the flat parameter array that belongs to one layer.
struct parameter_range {
  std::size_t offset = 0;
  std::size_t size = 0;
};

template <class L>
constexpr auto parameter_layers();

template <class List>
struct list_parameter_layers;

template <class... Ls>
struct list_parameter_layers<boost::mp11::mp_list<Ls...>> {
  static constexpr auto get() {
    std::array<parameter_range, (parameter_layers<Ls>().size() + ... + 0)> all{};
    std::size_t count = 0, offset = 0;
    const auto append = [&](const auto& ranges, std::size_t size) {
      for (const auto& r : ranges) all[count++] = {offset + r.offset, r.size};
      offset += size;
    };
    (append(parameter_layers<Ls>(), Ls::param_count), ...);
    return all;
  }
};

/// The leaf layers that own parameters (Dense, LayerNorm, RMSNorm, ...), depth first, as
/// ranges of the flat array: what "per layer" means for gradient norms.
template <class L>
constexpr auto parameter_layers() {
  if constexpr (requires { typename L::layers; })  // Sequential, Residual
    return list_parameter_layers<typename L::layers>::get();
  else if constexpr (L::param_count > 0)
    return std::array<parameter_range, 1>{{{0, L::param_count}}};
  else
    return std::array<parameter_range, 0>{};
}

}  // namespace staticgrad::detail
