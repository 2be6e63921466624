/// @file Defines staticgrad::EarlyStopping: validation data for fit, and stopping when the
/// validation loss stops improving, as Keras' EarlyStopping callback.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>

#include <staticgrad/detail/options.hpp>
#include <staticgrad/evaluate.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/train.hpp>

namespace staticgrad {

/// Keras' names and defaults.
struct EarlyStoppingOptions {
  /// Epochs without improvement after which training stops.
  std::size_t patience = 0;
  /// The least decrease of the validation loss that counts as an improvement.
  double min_delta = 0;
  /// On stopping, put back the weights of the epoch with the best validation loss.
  bool restore_best_weights = false;
};

/// fit's callback (or part of one): at the end of every epoch it evaluates `model` on the
/// validation data (staticgrad::evaluate: inference alone), and returns false, which stops
/// fit, once the validation loss has not improved by more than min_delta for `patience`
/// epochs; with restore_best_weights it then puts back the best epoch's weights.
///
///     sg::EarlyStopping stop(model, sg::MSE{}, val_xs, val_ys, {.patience = 5, .restore_best_weights = true});
///     sg::fit(model, adam, sg::MSE{}, xs, ys, {.epochs = 500}, stop);
///
/// The validation data is read where it is (keep it alive during fit). The copy of the
/// best weights is allocated here, not during training.
template <class Net, class T, class Loss, class Inputs, class Targets>
class EarlyStopping {
 public:
  EarlyStopping(Model<Net, T>& model, Loss loss, const Inputs& xs, const Targets& ys, EarlyStoppingOptions options = {})
      : model_(model), loss_(loss), xs_(xs), ys_(ys), options_(options) {
    detail::require_option(options.min_delta >= 0, "staticgrad::EarlyStopping", "min_delta", options.min_delta,
                           ">= 0");
    if (options.restore_best_weights) best_weights_ = std::make_unique<Model<Net, T>>(model);
  }

  /// Called after each step: at an epoch's end, evaluates and decides; true: go on.
  bool operator()(const FitStep<Net, T>& step) {
    if (!step.epoch_end) return true;
    const T loss = evaluate(model_, loss_, xs_, ys_).loss;
    last_loss_ = loss;
    if (static_cast<double>(loss) < static_cast<double>(best_loss_) - options_.min_delta) {
      best_loss_ = loss;
      best_epoch_ = step.epoch;
      epochs_without_improvement_ = 0;
      if (best_weights_) *best_weights_ = model_;
      return true;
    }
    if (++epochs_without_improvement_ < std::max<std::size_t>(options_.patience, 1)) return true;
    stopped_epoch_ = step.epoch;
    if (best_weights_) model_ = *best_weights_;
    return false;
  }

  /// The best validation loss so far, and the epoch (from 0) that reached it.
  T best_loss() const { return best_loss_; }
  std::size_t best_epoch() const { return best_epoch_; }
  /// The epoch (from 0) after which training stopped, if it did.
  std::optional<std::size_t> stopped_epoch() const { return stopped_epoch_; }
  /// The validation loss after the last epoch.
  T last_loss() const { return last_loss_; }

 private:
  Model<Net, T>& model_;
  Loss loss_;
  const Inputs& xs_;
  const Targets& ys_;
  EarlyStoppingOptions options_;
  std::unique_ptr<Model<Net, T>> best_weights_;
  T last_loss_ = std::numeric_limits<T>::quiet_NaN();
  T best_loss_ = std::numeric_limits<T>::infinity();
  std::size_t best_epoch_ = 0;
  std::size_t epochs_without_improvement_ = 0;
  std::optional<std::size_t> stopped_epoch_;
};

}  // namespace staticgrad
