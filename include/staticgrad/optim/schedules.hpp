/// @file Defines PyTorch's learning-rate schedules (torch.optim.lr_scheduler): StepLR,
/// MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, OneCycleLR and SequentialLR,
/// each a value that gives the learning rate of an epoch (or step), and
/// staticgrad::LRScheduler, which sets an optimizer's as PyTorch's scheduler.step() does.
///
///     sg::Adam<Net, float> adam({.lr = 0.01});
///     sg::LRScheduler scheduler(adam, sg::SequentialLR({5}, sg::LinearLR{.start_factor = 0.1},
///                                                      sg::CosineAnnealingLR{.T_max = 45}));
///     ... each epoch: train, then scheduler.step();
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace staticgrad {

/// lr = base · gamma^⌊epoch / step_size⌋.
struct StepLR {
  std::size_t step_size = 1;
  double gamma = 0.1;
  double lr(double base, std::size_t epoch) const {
    if (step_size == 0) throw std::invalid_argument("staticgrad::StepLR: step_size must be positive");
    return base * std::pow(gamma, static_cast<double>(epoch / step_size));
  }
};

/// lr = base · gamma^(how many milestones are ≤ epoch).
struct MultiStepLR {
  std::vector<std::size_t> milestones;
  double gamma = 0.1;
  double lr(double base, std::size_t epoch) const {
    const auto passed = std::count_if(milestones.begin(), milestones.end(), [&](std::size_t m) { return m <= epoch; });
    return base * std::pow(gamma, static_cast<double>(passed));
  }
};

/// lr = base · gamma^epoch.
struct ExponentialLR {
  double gamma = 0.1;
  double lr(double base, std::size_t epoch) const { return base * std::pow(gamma, static_cast<double>(epoch)); }
};

/// lr = eta_min + (base − eta_min)·(1 + cos(π·epoch / T_max)) / 2: from base down to eta_min
/// over T_max epochs, and back up over the next T_max, as PyTorch's continues.
struct CosineAnnealingLR {
  std::size_t T_max = 1;
  double eta_min = 0;
  double lr(double base, std::size_t epoch) const {
    if (T_max == 0) throw std::invalid_argument("staticgrad::CosineAnnealingLR: T_max must be positive");
    const double phase = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(T_max);
    return eta_min + (base - eta_min) * (1 + std::cos(phase)) / 2;
  }
};

/// lr = base · factor, the factor going linearly from start_factor to end_factor over
/// total_iters epochs, then staying there: a warm-up.
struct LinearLR {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  std::size_t total_iters = 5;
  double lr(double base, std::size_t epoch) const {
    if (total_iters == 0) throw std::invalid_argument("staticgrad::LinearLR: total_iters must be positive");
    const double done = static_cast<double>(std::min(epoch, total_iters)) / static_cast<double>(total_iters);
    return base * (start_factor + (end_factor - start_factor) * done);
  }
};

/// The 1cycle policy, stepped once per batch: the learning rate goes up from
/// max_lr / div_factor to max_lr over the first pct_start of total_steps, then down to
/// max_lr / (div_factor · final_div_factor) (three_phase: down to the start first, then
/// to the minimum), annealed along a cosine or linearly; with cycle_momentum the momentum
/// (SGD's momentum, Adam's betas[0]) goes the opposite way between max_momentum and
/// base_momentum. It ignores the optimizer's learning rate. Past total_steps it throws
/// std::out_of_range, as PyTorch raises.
struct OneCycleLR {
  enum class Anneal { cos, linear };
  double max_lr = 0.1;
  std::size_t total_steps = 100;
  double pct_start = 0.3;
  Anneal anneal_strategy = Anneal::cos;
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25;
  double final_div_factor = 1e4;
  bool three_phase = false;

  double lr(double, std::size_t step) const {
    const double initial = max_lr / div_factor, minimum = initial / final_div_factor;
    return at(step, three_phase ? std::array{initial, max_lr, initial, minimum} : std::array{initial, max_lr, minimum, 0.0});
  }
  /// The momentum at `step` (none without cycle_momentum).
  std::optional<double> momentum(std::size_t step) const {
    if (!cycle_momentum) return std::nullopt;
    return at(step, three_phase ? std::array{max_momentum, base_momentum, max_momentum, max_momentum}
                                : std::array{max_momentum, base_momentum, max_momentum, 0.0});
  }

 private:
  // The value at `step` of a path through `points` (the first three, or all four with
  // three_phase), one phase between each two, as PyTorch's OneCycleLR.get_lr computes it.
  double at(std::size_t step, const std::array<double, 4>& points) const {
    if (step >= total_steps)
      throw std::out_of_range("staticgrad::OneCycleLR: step " + std::to_string(step) + " is past total_steps = " +
                              std::to_string(total_steps));
    const double total = static_cast<double>(total_steps), up = pct_start * total;
    const std::array<double, 3> phase_ends =
        three_phase ? std::array{up - 1, 2 * up - 2, total - 1} : std::array{up - 1, total - 1, 0.0};
    const std::size_t phases = three_phase ? 3 : 2;
    const double t = static_cast<double>(step);
    double phase_start = 0;
    for (std::size_t i = 0;; ++i) {
      if (t <= phase_ends[i] || i + 1 == phases) {
        const double pct = (t - phase_start) / (phase_ends[i] - phase_start);
        const double from = points[i], to = points[i + 1];
        if (anneal_strategy == Anneal::linear) return (to - from) * pct + from;
        return to + (from - to) / 2 * (std::cos(std::numbers::pi * pct) + 1);
      }
      phase_start = phase_ends[i];
    }
  }
};

/// Schedules one after another: the first until milestones[0], the second from there
/// until milestones[1], …, each counting its epochs from where it starts.
template <class... Schedules>
struct SequentialLR {
  static_assert(sizeof...(Schedules) >= 1, "staticgrad::SequentialLR: needs a schedule");
  std::array<std::size_t, sizeof...(Schedules) - 1> milestones;
  std::tuple<Schedules...> schedules;

  SequentialLR(std::array<std::size_t, sizeof...(Schedules) - 1> milestones_, Schedules... schedules_)
      : milestones(milestones_), schedules(std::move(schedules_)...) {
    if (!std::is_sorted(milestones.begin(), milestones.end()))
      throw std::invalid_argument("staticgrad::SequentialLR: the milestones must not decrease");
  }

  double lr(double base, std::size_t epoch) const {
    const auto which = static_cast<std::size_t>(std::upper_bound(milestones.begin(), milestones.end(), epoch) -
                                                milestones.begin());
    const std::size_t start = which == 0 ? 0 : milestones[which - 1];
    return visit(which, [&](const auto& schedule) { return schedule.lr(base, epoch - start); });
  }

 private:
  template <class F, std::size_t I = 0>
  double visit(std::size_t which, F f) const {
    if constexpr (I + 1 < sizeof...(Schedules)) {
      if (which != I) return visit<F, I + 1>(which, f);
    }
    return f(std::get<I>(schedules));
  }
};

/// Sets `optimizer`'s learning rate (and a OneCycleLR's momentum) by `schedule`, counting
/// epochs as torch.optim.lr_scheduler does: epoch 0's at construction, the next at each
/// step(). The base rate is the optimizer's when the scheduler is made. Call step() after
/// the optimizer's steps of an epoch (a OneCycleLR: after every optimizer step); with
/// `fit`, from its callback. Allocates nothing after construction.
template <class Optimizer, class Schedule>
class LRScheduler {
 public:
  LRScheduler(Optimizer& optimizer, Schedule schedule)
      : optimizer_(optimizer), schedule_(std::move(schedule)), base_lr_(optimizer.options().lr) {
    apply();
  }

  /// Moves to the next epoch and sets its learning rate.
  void step() {
    ++epoch_;
    apply();
  }
  std::size_t last_epoch() const { return epoch_; }
  double last_lr() const { return optimizer_.options().lr; }

 private:
  void apply() {
    optimizer_.set_lr(schedule_.lr(base_lr_, epoch_));
    if constexpr (requires { schedule_.momentum(epoch_); }) {
      if (const auto momentum = schedule_.momentum(epoch_)) optimizer_.set_momentum(*momentum);
    }
  }

  Optimizer& optimizer_;
  Schedule schedule_;
  double base_lr_;
  std::size_t epoch_ = 0;
};

}  // namespace staticgrad
