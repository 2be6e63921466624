/// @file Defines staticgrad::fit_windows: training a network with state (GRU, LSTM) on a
/// long recording cut into windows of Len steps, with staticgrad::WindowOptions.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/options.hpp>
#include <staticgrad/diagnostics.hpp>
#include <staticgrad/init.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/optim/clip.hpp>
#include <staticgrad/sequence.hpp>
#include <staticgrad/state.hpp>
#include <staticgrad/train.hpp>
#include <staticgrad/value_and_grad.hpp>

namespace staticgrad {

/// How fit_windows cuts a recording into windows and where each window's state starts: the
/// two schemes audio trainers use.
struct WindowOptions {
  std::size_t epochs = 1;
  /// Windows per step.
  std::size_t batch_size = 16;
  /// true: truncated backpropagation through time. The recording is cut into batch_size
  /// streams of equal length, trained window after window in order, each stream's state
  /// carried from one window to the next (a constant: no gradient flows back into the
  /// window before), from zeros at each epoch's start.
  /// false: independent windows at every Len-th step, in a new random order every epoch,
  /// each from zeros.
  bool carry_state = false;
  /// Steps that only warm a state up from zeros before the first window (of each stream, or
  /// before every independent window): run through the network, left out of the loss and
  /// the gradient.
  std::size_t warmup = 0;
  /// Seed of the random order: the same seed, recording and model give bit-identical training.
  std::uint64_t seed = 0;
  /// Clip the global gradient norm to this before each step; 0 means no clipping.
  double clip_norm = 0;
  /// Where to show progress, as FitOptions::progress (samples: windows × Len steps).
  std::ostream* progress = nullptr;
};

namespace detail {

/// Runs `steps` steps of the recording from `first` through the network from `state`,
/// advancing it; the outputs are not kept. Whole chunks run layer by layer, as a
/// Sequence's inference does (a convolution's steps as one matrix product), the rest step
/// by step.
template <class Net, class T, class Input>
void warm_up(const Model<Net, T>& model, const Input* inputs, std::size_t first, std::size_t steps,
             State<Net, T>& state) {
  constexpr std::size_t In = Net::in_size, chunk = inference_chunk;
  std::array<T, chunk * Net::out_size> unused;
  std::size_t t = first;
  for (; t + chunk <= first + steps; t += chunk)
    infer_steps<Net, chunk, T>(model.flat(), state.flat(), std::span<const T, chunk * In>(inputs[t].data(), chunk * In),
                               unused);
  for (; t < first + steps; ++t) model(inputs[t], state);
}

}  // namespace detail

/// Trains a network with state on one long recording: inputs[t] and targets[t] for every
/// step t (contiguous ranges of std::array<T, in_size> and std::array<T, out_size>, of the
/// same length), cut into windows of Len steps, batch_size windows per step (their mean
/// loss and gradient through time, on OpenMP's threads like any batch of sequences),
/// optional clipping, one optimizer step. The two schemes of WindowOptions say where a
/// window's state starts. After each step `callback(const FitStep<Net, T>&)` runs, as
/// fit's does; returns the loss of every step. Everything is allocated before the first
/// step: a step allocates nothing.
template <std::size_t Len, class Net, class T, class Optimizer, class Loss, class Inputs, class Targets,
          class Callback = detail::keep_training>
std::vector<T> fit_windows(Model<Net, T>& model, Optimizer& optimizer, const Loss& loss, const Inputs& inputs,
                           const Targets& targets, const WindowOptions& options, Callback&& callback = {}) {
  using Input = std::array<T, Net::in_size>;
  using Target = std::array<T, Net::out_size>;
  // The batch's checks name sizes and types; a recording also needs exactly these arrays.
  using problem = detail::batch_problem<Net, T, Loss, Inputs, Targets>;
  constexpr bool recording = [] {
    if constexpr (std::ranges::contiguous_range<Inputs> && std::ranges::contiguous_range<Targets>)
      return std::is_same_v<std::ranges::range_value_t<Inputs>, Input> &&
             std::is_same_v<std::ranges::range_value_t<Targets>, Target>;
    return false;
  }();
  if constexpr (detail::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return {};
  } else if constexpr (!recording) {
    static_assert(recording, "staticgrad::fit_windows: a recording is a contiguous range of std::array<T, in_size> "
                             "(one per step) and its targets one of std::array<T, out_size>");
    return {};
  } else {
    const char* who = "staticgrad::fit_windows";
    const std::size_t count = detail::batch_size(inputs, targets, who);
    detail::check_training_options(who, options.batch_size, options.clip_norm);
    const std::size_t streams = options.carry_state ? options.batch_size : 1;
    const std::size_t stream_length = count / streams;
    const std::size_t windows_per_stream =
        stream_length >= options.warmup + Len ? (stream_length - options.warmup) / Len : 0;
    if (windows_per_stream == 0)
      throw std::invalid_argument("staticgrad::fit_windows: " + std::to_string(count) + " steps make no window of " +
                                  std::to_string(Len) + " after " + std::to_string(options.warmup) + " warm-up steps" +
                                  (options.carry_state ? " in each of " + std::to_string(streams) + " streams" : ""));
    // Carried states: window k of every stream in step k. Independent windows: one stream of
    // them, visited in random order, batch_size at a time.
    const std::size_t batch_size = options.carry_state ? streams : std::min(options.batch_size, windows_per_stream);
    const std::size_t steps_per_epoch = (windows_per_stream * streams + batch_size - 1) / batch_size;
    std::vector<std::size_t> order(windows_per_stream);
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    // Where window s of step `batch` starts in the recording.
    const auto window_start = [&](std::size_t batch, std::size_t s) {
      if (options.carry_state) return s * stream_length + options.warmup + batch * Len;
      return options.warmup + order[batch * batch_size + s] * Len;
    };
    std::vector<Sequence<T, Len, Net::in_size>> xs(batch_size);
    std::vector<Sequence<T, Len, Net::out_size>> ys(batch_size);
    std::vector<State<Net, T>> states(batch_size);
    const auto grads = std::make_unique<Gradients<Net, T>>();
    detail::training_progress<Net, T> progress(options.epochs, steps_per_epoch, options.progress);
    init::Rng rng(options.seed);
    const Input* x = std::ranges::data(inputs);
    const Target* y = std::ranges::data(targets);

    for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
      if (options.carry_state) {
        for (std::size_t s = 0; s < streams; ++s) {
          states[s].reset();
          detail::warm_up(model, x, s * stream_length, options.warmup, states[s]);
        }
      } else {
        detail::shuffle(order, rng);
      }
      for (std::size_t batch = 0; batch < steps_per_epoch; ++batch) {
        const std::size_t size = std::min(batch_size, windows_per_stream * streams - batch * batch_size);
        for (std::size_t s = 0; s < size; ++s) {
          const std::size_t first = window_start(batch, s);
          std::copy_n(x + first, Len, xs[s].begin());
          std::copy_n(y + first, Len, ys[s].begin());
          if (!options.carry_state) {
            states[s].reset();
            detail::warm_up(model, x, first - options.warmup, options.warmup, states[s]);
          }
        }
        const auto batch_states = std::span(states.data(), size);
        const T batch_loss = value_and_grad(model, loss, std::span(xs.data(), size), std::span(ys.data(), size),
                                            *grads, batch_states);
        progress.info.grad_norms = grad_norms(*grads);
        if (options.clip_norm > 0) clip_grad_norm(*grads, static_cast<T>(options.clip_norm));
        optimizer.step(model, *grads);
        if (!progress.step_done(batch_loss, size * Len, epoch, batch, steps_per_epoch, callback)) return progress.history;
      }
    }
    return progress.history;
  }
}

}  // namespace staticgrad
