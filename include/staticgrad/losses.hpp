/// @file Defines the losses MSE, HalfSquaredError, SoftmaxCrossEntropy and BCEWithLogits.
///
/// A loss is an empty type with `value_and_grad(ŷ, target, dŷ)`, which returns the loss of
/// one sample and writes ∂loss/∂ŷ. Batches take the mean over
/// samples, as PyTorch's default reduction does. `accepts_class_index` says whether the
/// target may be a `std::size_t` class index instead of a vector; such a loss may also have
/// `check_target(index, outputs)`, which train_step and fit call on every index before
/// they change anything.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include <staticgrad/detail/math.hpp>

namespace staticgrad {

/// Mean squared error over the output components, as torch.nn.MSELoss():
/// L = (1/N)·Σ(ŷᵢ − yᵢ)².
struct MSE {
  static constexpr bool accepts_class_index = false;

  template <class T, std::size_t N>
  constexpr T value_and_grad(std::span<const T, N> prediction, std::span<const T, N> target,
                             std::span<T, N> grad) const {
    T sum{};
    for (std::size_t i = 0; i < N; ++i) {
      const T diff = prediction[i] - target[i];
      sum += diff * diff;
      grad[i] = T{2} * diff / static_cast<T>(N);
    }
    return sum / static_cast<T>(N);
  }
};

/// Half the squared Euclidean distance: L = ½‖ŷ − y‖², whose gradient is ŷ − y.
struct HalfSquaredError {
  static constexpr bool accepts_class_index = false;

  template <class T, std::size_t N>
  constexpr T value_and_grad(std::span<const T, N> prediction, std::span<const T, N> target,
                             std::span<T, N> grad) const {
    T sum{};
    for (std::size_t i = 0; i < N; ++i) {
      grad[i] = prediction[i] - target[i];
      sum += grad[i] * grad[i];
    }
    return sum / T{2};
  }
};

/// Softmax followed by cross-entropy, fused and stable for any finite logits, as
/// torch.nn.CrossEntropyLoss(). The target is a class index k (L = logsumexp(z) − z_k,
/// ∂L/∂z = softmax(z) − onehot(k)) or a probability vector p
/// (L = −Σ pᵢ·log softmax(z)ᵢ, ∂L/∂z = softmax(z)·Σp − p).
struct SoftmaxCrossEntropy {
  static constexpr bool accepts_class_index = true;

  /// Throws std::out_of_range unless target_class is one of `outputs` classes.
  static void check_target(std::size_t target_class, std::size_t outputs) {
    if (target_class >= outputs)
      throw std::out_of_range("staticgrad::SoftmaxCrossEntropy: class index " + std::to_string(target_class) +
                              " is not below the " + std::to_string(outputs) + " outputs");
  }

  template <class T, std::size_t N>
  T value_and_grad(std::span<const T, N> logits, std::size_t target_class,
                   std::span<T, N> grad) const {
    check_target(target_class, N);
    const T log_sum = detail::softmax(logits.data(), grad.data(), N);
    grad[target_class] -= T{1};
    return log_sum - logits[target_class];
  }

  template <class T, std::size_t N>
  T value_and_grad(std::span<const T, N> logits, std::span<const T, N> target_probs,
                   std::span<T, N> grad) const {
    const T log_sum = detail::softmax(logits.data(), grad.data(), N);
    T loss{}, mass{};
    for (std::size_t i = 0; i < N; ++i) {
      loss += target_probs[i] * (log_sum - logits[i]);
      mass += target_probs[i];
    }
    for (std::size_t i = 0; i < N; ++i) grad[i] = grad[i] * mass - target_probs[i];
    return loss;
  }
};

/// Sigmoid followed by binary cross-entropy, fused and stable, averaged over the outputs
/// as torch.nn.BCEWithLogitsLoss(): L = (1/N)·Σ max(z,0) − z·y + log(1 + e^(−|z|)).
struct BCEWithLogits {
  static constexpr bool accepts_class_index = false;

  template <class T, std::size_t N>
  T value_and_grad(std::span<const T, N> logits, std::span<const T, N> target,
                   std::span<T, N> grad) const {
    T sum{};
    for (std::size_t i = 0; i < N; ++i) {
      const T z = logits[i];
      const T e = std::exp(-std::abs(z));  // in (0, 1]: never overflows
      sum += std::max(z, T{0}) - z * target[i] + std::log1p(e);
      const T sigmoid = z >= T{0} ? T{1} / (T{1} + e) : e / (T{1} + e);
      grad[i] = (sigmoid - target[i]) / static_cast<T>(N);
    }
    return sum / static_cast<T>(N);
  }
};

}  // namespace staticgrad
