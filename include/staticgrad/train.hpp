/// @file Defines staticgrad::fit, the training loop, with staticgrad::FitOptions and
/// staticgrad::FitStep.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/progress.hpp>
#include <staticgrad/diagnostics.hpp>
#include <staticgrad/init.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/optim/clip.hpp>
#include <staticgrad/detail/options.hpp>
#include <staticgrad/train_step.hpp>

namespace staticgrad {

/// How fit trains.
struct FitOptions {
  std::size_t epochs = 1;
  /// Samples per step; the last batch of an epoch may be smaller (PyTorch's default).
  /// A batch size of at least the data set's size is full-batch gradient descent.
  std::size_t batch_size = 32;
  /// Visit the samples in a new random order every epoch.
  bool shuffle = true;
  /// Seed of the shuffling: the same seed, data and model give bit-identical training.
  std::uint64_t seed = 0;
  /// Clip the global gradient norm to this before each step; 0 means no clipping (a
  /// negative or NaN value throws std::invalid_argument).
  double clip_norm = 0;
  /// Where to show progress (epoch, step, the epoch's loss so far, samples per second,
  /// time left), e.g. &std::cerr: on a terminal one line rewritten in place, elsewhere a
  /// line per epoch. nullptr (the default): nowhere.
  std::ostream* progress = nullptr;
};

/// What fit's callback sees after each step.
template <class Net, class T>
struct FitStep {
  std::size_t epoch = 0;  ///< from 0
  std::size_t step = 0;   ///< counted over the whole run, from 0
  T loss{};               ///< the batch's mean loss, before the step
  /// Each parameterized layer's gradient norm, before clipping (see grad_norms).
  std::array<T, parameter_layer_count<Net>> grad_norms{};
  bool epoch_end = false;  ///< the last step of an epoch
  T epoch_loss{};          ///< the mean of the epoch's batch losses, when epoch_end
};

namespace detail {
struct keep_training {
  template <class Step>
  bool operator()(const Step&) const {
    return true;
  }
};

/// Throws std::invalid_argument, naming `who`, for a batch size of 0 and a negative or NaN
/// clip norm.
inline void check_training_options(const char* who, std::size_t batch_size, double clip_norm) {
  if (batch_size == 0) throw std::invalid_argument(std::string(who) + ": batch_size is 0");
  require_option(clip_norm >= 0, who, "clip_norm", clip_norm, ">= 0 (0: no clipping)");
}

/// Fisher–Yates with our own draws: the same order on every standard library.
inline void shuffle(std::vector<std::size_t>& order, init::Rng& rng) {
  for (std::size_t i = order.size(); i-- > 1;) std::swap(order[i], order[rng.index(i + 1)]);
}

/// A training loop's record: every step's loss, the FitStep its callback sees, and the
/// progress display.
template <class Net, class T>
struct training_progress {
  std::vector<T> history;
  FitStep<Net, T> info;
  T epoch_sum{};
  progress_display display;

  training_progress(std::size_t epochs, std::size_t steps_per_epoch, std::ostream* progress)
      : display(progress, epochs, steps_per_epoch) {
    history.reserve(epochs * steps_per_epoch);
  }

  /// Records a step's loss on `samples` samples (its gradient norms are in
  /// info.grad_norms), shows it, and calls the callback; false when the callback says to stop.
  template <class Callback>
  bool step_done(T loss, std::size_t samples, std::size_t epoch, std::size_t batch, std::size_t steps_per_epoch,
                 Callback& callback) {
    if (batch == 0) epoch_sum = T{};
    history.push_back(loss);
    epoch_sum += loss;
    info.epoch = epoch;
    info.step = history.size() - 1;
    info.loss = loss;
    info.epoch_end = batch + 1 == steps_per_epoch;
    info.epoch_loss = info.epoch_end ? epoch_sum / static_cast<T>(steps_per_epoch) : T{};
    display.step_done(epoch, info.step, samples, static_cast<double>(epoch_sum / static_cast<T>(batch + 1)),
                      info.epoch_end);
    if constexpr (std::is_void_v<std::invoke_result_t<Callback&, const FitStep<Net, T>&>>) {
      callback(std::as_const(info));
      return true;
    } else {
      return callback(std::as_const(info));
    }
  }
};

/// fit's loop, for fit and for the other trainers built on it (staticgrad::mpi::fit):
/// epochs of mini-batches of (inputs, targets) in options' order, each batch given to
/// `step(batch_x, batch_y, key, info)`, which takes the optimizer step, sets
/// info.grad_norms and returns the batch's mean loss; then progress and `callback`.
/// Returns the loss of every step. The arguments are checked first; everything is
/// allocated before the first step.
template <class Net, class T, class Loss, class Inputs, class Targets, class Step, class Callback>
std::vector<T> fit_loop(const char* who, const Inputs& inputs, const Targets& targets, const FitOptions& options,
                        Step&& step, Callback& callback) {
  // Every argument checked before the first step, so that bad data is an error before any
  // training rather than in the middle of it.
  const std::size_t count = batch_size(inputs, targets, who);
  check_training_options(who, options.batch_size, options.clip_norm);
  check_arguments<Net, Loss>(inputs, targets, who);

  const std::size_t batch_size = std::min(options.batch_size, count);
  const std::size_t steps_per_epoch = (count + batch_size - 1) / batch_size;
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  std::vector<std::ranges::range_value_t<Inputs>> batch_inputs(batch_size);
  std::vector<std::ranges::range_value_t<Targets>> batch_targets(batch_size);
  training_progress<Net, T> progress(options.epochs, steps_per_epoch, options.progress);
  init::Rng rng(options.seed);

  for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
    if (options.shuffle) shuffle(order, rng);
    for (std::size_t batch = 0; batch < steps_per_epoch; ++batch) {
      const std::size_t first = batch * batch_size;
      const std::size_t size = std::min(batch_size, count - first);
      for (std::size_t s = 0; s < size; ++s) {
        batch_inputs[s] = std::ranges::data(inputs)[order[first + s]];
        batch_targets[s] = std::ranges::data(targets)[order[first + s]];
      }
      const Training key{options.seed, progress.history.size()};
      const T batch_loss =
          step(std::span(batch_inputs.data(), size), std::span(batch_targets.data(), size), key, progress.info);
      if (!progress.step_done(batch_loss, size, epoch, batch, steps_per_epoch, callback)) return progress.history;
    }
  }
  return progress.history;
}

}  // namespace detail

/// Trains `model` on (inputs, targets) with `optimizer`: epochs of mini-batches, each
/// batch one value_and_grad (mean loss and gradient), optional clipping, one optimizer step
/// (fused, by train_step, when there is no clipping).
/// After each step `callback(const FitStep<Net, T>&)` runs; when it returns false (a
/// callback may also return nothing), training stops. Returns the loss of every step.
///
/// inputs and targets are contiguous ranges of the same length, as value_and_grad takes
/// for a batch. Dropout masks are keyed by Training{options.seed, step}. Everything fit needs is allocated before the first step: a step allocates
/// nothing.
template <class Net, class T, class Optimizer, class Loss, class Inputs, class Targets,
          class Callback = detail::keep_training>
std::vector<T> fit(Model<Net, T>& model, Optimizer& optimizer, const Loss& loss,
                   const Inputs& inputs, const Targets& targets, const FitOptions& options,
                   Callback&& callback = {}) {
  using problem = detail::batch_problem<Net, T, Loss, Inputs, Targets>;
  if constexpr (detail::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return {};
  } else {
    const auto grads = std::make_unique<Gradients<Net, T>>();
    return detail::fit_loop<Net, T, Loss>(
        "staticgrad::fit", inputs, targets, options,
        [&](const auto& batch_x, const auto& batch_y, Training key, FitStep<Net, T>& info) {
          T batch_loss;
          if (options.clip_norm > 0) {  // clipping needs the whole gradient before the step
            batch_loss = value_and_grad(model, loss, batch_x, batch_y, *grads, key);
            info.grad_norms = grad_norms(*grads);
            clip_grad_norm(*grads, static_cast<T>(options.clip_norm));
            optimizer.step(model, *grads);
          } else {
            batch_loss = train_step(model, optimizer, loss, batch_x, batch_y, *grads, key);
            info.grad_norms = grad_norms(*grads);
          }
          return batch_loss;
        },
        callback);
  }
}

}  // namespace staticgrad
