/// @file Defines staticgrad::Training, the key of one training step's randomness (Dropout's
/// masks), and the scope through which value_and_grad hands it to the layers.
#pragma once

#include <cstdint>

namespace staticgrad {

/// Which masks a training step draws: the same seed and step give the same masks, on any
/// machine, compiler or engine. fit passes {its seed, its step count}; a hand-written loop
/// passes its own step counter. Networks without Dropout ignore it.
struct Training {
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
};

namespace detail {

/// SplitMix64's finalizer: a counter-based generator (random-looking bits from any key).
constexpr std::uint64_t mix(std::uint64_t a, std::uint64_t b = 0) {
  std::uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The randomness of the value_and_grad call running on this thread: its key, and how many
/// random layer calls it has made (each gets a stream of its own, in forward order).
struct training_state {
  std::uint64_t key = 0;
  std::uint64_t calls = 0;
  bool training = false;  // inside a training scope (the tape's evaluation has none)
};
inline thread_local training_state current_training{};

/// Sets the thread's key for one value_and_grad call; restores the previous one after.
class training_scope {
 public:
  explicit training_scope(Training training) : saved_(current_training) {
    current_training = {mix(training.seed, training.step), 0, true};
  }
  ~training_scope() { current_training = saved_; }
  training_scope(const training_scope&) = delete;
  training_scope& operator=(const training_scope&) = delete;

 private:
  training_state saved_;
};

/// Sets the thread's count of random calls to `calls` (a recomputed forward pass then draws
/// the masks it drew the first time: staticgrad::Checkpoint); puts the count back after.
class replayed_random_calls {
 public:
  explicit replayed_random_calls(std::uint64_t calls) : saved_(current_training.calls) {
    current_training.calls = calls;
  }
  ~replayed_random_calls() { current_training.calls = saved_; }
  replayed_random_calls(const replayed_random_calls&) = delete;
  replayed_random_calls& operator=(const replayed_random_calls&) = delete;

 private:
  std::uint64_t saved_;
};

/// A fresh stream for the next random layer call of the running value_and_grad.
inline std::uint64_t next_training_stream() {
  return mix(current_training.key, current_training.calls++);
}

/// Whether layer L draws random numbers in training (Dropout, or a composite holding one).
template <class L>
struct is_stochastic_impl {
  static constexpr bool value = false;
};
template <class L>
  requires requires { L::stochastic; }
struct is_stochastic_impl<L> {
  static constexpr bool value = L::stochastic;
};
template <class L>
inline constexpr bool is_stochastic = is_stochastic_impl<L>::value;

}  // namespace detail
}  // namespace staticgrad
