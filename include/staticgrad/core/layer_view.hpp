/// @file Defines staticgrad::LayerView, a typed view of one layer's slice of a flat
/// parameter (or gradient) array.
#pragma once

#include <cstddef>
#include <span>

namespace staticgrad {

namespace detail {

/// What every view has: the layer's slice of the flat array.
template <class Spec, class T>
class view_base {
 public:
  constexpr explicit view_base(std::span<T, Spec::param_count> params) : params_(params) {}
  /// The layer's parameters, in the flat order.
  constexpr std::span<T, Spec::param_count> flat() const { return params_; }

 protected:
  std::span<T, Spec::param_count> params_;
};

}  // namespace detail

/// A view of the parameters of layer spec `Spec` inside a flat array.
///
/// Layers with named parameters specialize it (Dense: `weight(o, i)`, `bias(o)`;
/// composites: `layer<I>()`). T is `const U` for a read-only view.
/// @tparam Spec the layer spec
/// @tparam T    the scalar type, const-qualified for a read-only view
template <class Spec, class T>
class LayerView : public detail::view_base<Spec, T> {
 public:
  using detail::view_base<Spec, T>::view_base;
};

}  // namespace staticgrad
