/// @file Defines staticgrad::evaluate: a model's mean loss over a data set, and a
/// classifier's accuracy, by inference alone.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include <staticgrad/core/shards.hpp>
#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/samples.hpp>
#include <staticgrad/losses.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

/// What evaluate returns.
template <class T>
struct Evaluation {
  T loss{};                         ///< the mean loss over the samples, as value_and_grad's
  std::optional<double> accuracy;   ///< for a classifier's loss (see evaluate), else none
  std::size_t samples = 0;
};

namespace detail {

/// Whether the largest output is the target's class: the index itself, or the largest
/// value of a probability vector (SoftmaxCrossEntropy). For BCEWithLogits, the fraction of
/// outputs on the target's side of 0.5 (a logit on the side of 0). Ties go to the first.
/// The target as target_view gives it: a class index or a span.
template <class Loss, class T, std::size_t Out, class Target>
double correct(std::span<const T, Out> y, const Target& target) {
  const auto largest = [](const auto& values) {
    return static_cast<std::size_t>(std::max_element(values.begin(), values.end()) - values.begin());
  };
  if constexpr (std::integral<Target>) {
    return largest(y) == target ? 1.0 : 0.0;
  } else if constexpr (std::is_same_v<Loss, SoftmaxCrossEntropy>) {
    return largest(y) == largest(target) ? 1.0 : 0.0;
  } else {
    double right = 0;
    for (std::size_t i = 0; i < Out; ++i) right += (y[i] > T{0}) == (target[i] > T{0.5}) ? 1.0 : 0.0;
    return right / static_cast<double>(Out);
  }
}

/// The losses whose outputs say a class (or a class per output): evaluate counts accuracy.
template <class Loss>
inline constexpr bool classifies = std::is_same_v<Loss, SoftmaxCrossEntropy> || std::is_same_v<Loss, BCEWithLogits>;

/// The summed loss and correct count over `count` samples, in sample order.
template <class Net, class T, class Loss, class Input, class Target>
std::pair<T, double> evaluate_samples(std::span<const T, Net::param_count> params, const Loss& loss,
                                      const Input* inputs, const Target* targets, std::size_t count) {
  constexpr std::size_t out = Net::out_size;
  T total{};
  double right = 0;
  std::array<T, out> unused_grad;
  for_each_output<Net, T>(params, inputs, count, [&](std::size_t s, std::span<const T, out> y) {
    const auto target = target_view<Loss, T, out>(targets[s]);
    total += loss.template value_and_grad<T, out>(y, target, unused_grad);
    if constexpr (classifies<Loss>) right += correct<Loss, T, out>(y, target);
  });
  return {total, right};
}

}  // namespace detail

/// The mean loss of `model` over the samples xs[s] with targets ys[s] (taken as
/// value_and_grad's batches take them), by inference alone: blocks of samples through the
/// matrix-matrix kernels, shards of them on OpenMP's threads as value_and_grad's, added in
/// shard order, so the result is the same, bit for bit, for any number of threads. The
/// loss equals value_and_grad's to rounding (inference and training sum in other orders).
/// With SoftmaxCrossEntropy, also the accuracy: the fraction of samples whose largest
/// output is the target class (an index, or the largest of a probability vector); with
/// BCEWithLogits, the fraction of outputs on the target's side (logit > 0 against
/// target > 0.5). Throws std::invalid_argument for an empty data set or one whose inputs
/// and targets differ in number, and what the loss throws for a bad class index.
template <class Net, class T, class Loss, class Inputs, class Targets>
Evaluation<T> evaluate(const Model<Net, T>& model, const Loss& loss, const Inputs& xs, const Targets& ys) {
  static_assert(!detail::has_state<Net>,
                "staticgrad::evaluate: this network carries state from one time step to the next: run a sequence "
                "through model(xs, state)");
  using problem = detail::batch_problem<Net, T, Loss, Inputs, Targets>;
  if constexpr (detail::has_problem<problem> || detail::has_state<Net>) {
    static_assert(sizeof(problem) > 0);
    return {};
  } else {
    detail::check_arguments<Net, Loss>(xs, ys, "staticgrad::evaluate");
    const std::size_t count = std::ranges::size(xs);
    const auto* inputs = std::ranges::data(xs);
    const auto* targets = std::ranges::data(ys);
    constexpr std::size_t shard_size = detail::shard_samples<Net, T>;
    struct partial_sums {
      T loss{};
      double right = 0;
    };
    T total{};
    double right = 0;
    detail::for_each_shard_in_order<partial_sums>(
        (count + shard_size - 1) / shard_size,
        [&](std::size_t shard, partial_sums& partial) {
          const std::size_t first = shard * shard_size;
          std::tie(partial.loss, partial.right) = detail::evaluate_samples<Net>(
              model.flat(), loss, inputs + first, targets + first, std::min(shard_size, count - first));
        },
        [&](std::size_t shard, const partial_sums& partial) {
          total = shard == 0 ? partial.loss : total + partial.loss;
          right += partial.right;
        });
    Evaluation<T> result{.loss = total / static_cast<T>(count), .accuracy = std::nullopt, .samples = count};
    if constexpr (detail::classifies<Loss>) result.accuracy = right / static_cast<double>(count);
    return result;
  }
}

}  // namespace staticgrad
