/// @file Defines staticgrad::clip_grad_norm and staticgrad::clip_grad_value.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include <staticgrad/diagnostics.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/detail/options.hpp>

namespace staticgrad {

/// Scales all gradients so that their global L2 norm is at most `max_norm`, as
/// torch.nn.utils.clip_grad_norm_ (factor max_norm / (norm + 1e-6) when below 1), and
/// returns the norm before clipping. max_norm must be >= 0 (infinity: no clipping); a
/// negative or NaN one, which would flip or erase the gradients in PyTorch, throws
/// std::invalid_argument.
template <class Net, class T>
T clip_grad_norm(Gradients<Net, T>& grads, T max_norm) {
  detail::require_option(max_norm >= 0, "staticgrad::clip_grad_norm", "max_norm", static_cast<double>(max_norm),
                         ">= 0");
  const T norm = global_norm(grads);
  const T factor = max_norm / (norm + static_cast<T>(1e-6));
  if (factor < T{1}) {
    for (T& g : grads.flat()) g *= factor;
  }
  return norm;
}

/// Clamps every gradient into [−limit, limit], as torch.nn.utils.clip_grad_value_. limit
/// must be >= 0 (infinity: no clipping); a negative or NaN one throws
/// std::invalid_argument.
template <class Net, class T>
void clip_grad_value(Gradients<Net, T>& grads, T limit) {
  detail::require_option(limit >= 0, "staticgrad::clip_grad_value", "limit", static_cast<double>(limit), ">= 0");
  for (T& g : grads.flat()) g = std::clamp(g, -limit, limit);
}

}  // namespace staticgrad
