/// @file Defines staticgrad::update_running_statistics: what a training step does to the
/// running statistics of a network's BatchNorms.
#pragma once

#include <cstddef>
#include <span>

#include <staticgrad/detail/batch_norm_pass.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

/// Folds the batch statistics that value_and_grad left in `grads` into the running
/// statistics of each BatchNorm of `model` (PyTorch's training forward pass does it), once:
/// the optimizers' step and train_step call it, a hand-written optimizer calls it beside its
/// update. Gradients that no batch wrote (default-constructed ones) change nothing, and a
/// network without BatchNorm has nothing to update.
template <class Net, class T>
void update_running_statistics(Model<Net, T>& model, const Gradients<Net, T>& grads) {
  if constexpr (detail::has_batch_norm<Net>) {
    const auto& statistics = detail::gradients_access::batch_statistics(grads);
    if (!statistics.fresh) return;
    constexpr std::size_t features = detail::batch_norm_features<Net>;
    std::size_t first = 0;
    detail::visit_leaves<Net>([&](auto node) {
      using N = decltype(node);
      using L = typename N::layer;
      if constexpr (detail::couples_batch<L>()) {
        L::template track<T>(model.flat().template subspan<N::param_offset, L::param_count>(),
                             std::span<const T, L::in_size>(statistics.values.data() + first, L::in_size),
                             std::span<const T, L::in_size>(statistics.values.data() + features + first, L::in_size));
        first += L::in_size;
      }
    });
  }
}

}  // namespace staticgrad
