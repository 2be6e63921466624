/// @file Defines staticgrad::MixedPrecision<Optimizer>: bfloat16 training with float master
/// weights and float optimizer state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <type_traits>

#include <staticgrad/core/low_precision.hpp>
#include <staticgrad/detail/batch_norm_pass.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/layers/rounded_to_bf16.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

/// Optimizer (SGD, Adam, AdamW over a Bf16Training network, float), stepping float master
/// weights that it keeps, while the model it trains holds their bfloat16 values: the
/// forward and backward passes see bfloat16 weights (and, through Bf16Training, bfloat16
/// activations and activation gradients), the update adds each step's gradient to the
/// float weights and the float moments, so that steps smaller than a bfloat16's spacing
/// still add up. Constructed from the model, whose weights it takes as the master weights
/// and rounds. fit and train_step take it as any optimizer; a step allocates nothing.
///
///     using Mixed = sg::Bf16Training<Net>;
///     sg::Model<Mixed, float> model{seed};
///     sg::MixedPrecision<sg::Adam<Mixed, float>> adam{model, {.lr = 1e-3}};
///     sg::fit(model, adam, loss, inputs, targets, options);
///     const sg::Model<Net, float> trained = adam.float_model();
template <class Optimizer>
class MixedPrecision;

template <template <class, class> class Optimizer, class Net, class T>
class MixedPrecision<Optimizer<Net, T>> : public Optimizer<Net, T> {
  static_assert(std::is_same_v<T, float>, "staticgrad::MixedPrecision: the master weights are float: Model<Net, float>");
  static_assert(!detail::has_batch_norm<Net>,
                "staticgrad::MixedPrecision: BatchNorm's running statistics are not kept in the master weights yet");

 public:
  using Options = typename Optimizer<Net, T>::Options;
  /// The plain network of the same parameters (Net without its rounding).
  using plain_network = detail::without_rounding_t<Net>;

  /// Takes `model`'s weights as the master weights, and leaves their bfloat16 values in it.
  explicit MixedPrecision(Model<Net, T>& model, Options options = {})
      : Optimizer<Net, T>(options), master_(model) {
    round_into(model, 0, param_count<Net>);
  }

  /// The float master weights.
  const Model<Net, T>& master() const { return master_; }
  /// The master weights as the plain network's model (what training produced, in float).
  Model<plain_network, T> float_model() const {
    Model<plain_network, T> plain;
    std::ranges::copy(master_.flat(), plain.flat().begin());
    return plain;
  }

  /// One update of the master weights from `grads` (the gradient at the model's bfloat16
  /// weights), then the model's weights rounded from them. Allocates nothing.
  void step(Model<Net, T>& model, const Gradients<Net, T>& grads) {
    const auto update = begin_step();
    for (const auto run : detail::trainable_ranges<Net>()) update(model, grads, run.offset, run.size);
  }

  /// As Optimizer's: `update(model, grads, offset, size)` steps that range of the master
  /// weights and rounds it into the model (train_step calls it layer by layer).
  auto begin_step() {
    return [this, update = Optimizer<Net, T>::begin_step()](Model<Net, T>& model, const Gradients<Net, T>& grads,
                                                            std::size_t offset, std::size_t size) {
      update(master_, grads, offset, size);
      round_into(model, offset, size);
    };
  }

 private:
  // One pass over the range: the master weights read, their bfloat16 values written.
  void round_into(Model<Net, T>& model, std::size_t offset, std::size_t size) const {
    std::ranges::transform(master_.flat().subspan(offset, size), model.flat().begin() + static_cast<std::ptrdiff_t>(offset),
                           detail::low_precision::rounded_to_bf16<T>);
  }

  Model<Net, T> master_;
};

}  // namespace staticgrad
