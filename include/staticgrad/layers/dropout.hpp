/// @file Defines staticgrad::Dropout<N, P>: random zeroing in training, identity otherwise.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <ratio>
#include <span>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// Dropout, as torch.nn.Dropout: in training each value is zeroed with probability P and
/// the others are scaled by 1/(1 − P); in evaluation it is the identity.
///
/// The mode is the call: `value_and_grad(model, loss, x, target, sg::Training{seed, step})`
/// trains (and fit passes its seed and step), `model(x)` evaluates. The masks come from a
/// counter-based generator keyed by (seed, step, which Dropout call in the forward pass):
/// a run is reproducible on any machine, either engine draws the same masks, and the
/// backward pass reuses the forward pass's mask (kept in the cache). A network with
/// Dropout refuses value_and_grad without a Training key (a compile error).
/// @tparam N the number of values
/// @tparam P the dropout rate, a std::ratio in [0, 1) (default 1/2, PyTorch's)
template <std::size_t N, class P = std::ratio<1, 2>>
struct Dropout {
  // Instantiating the check reports a bad rate; see detail/checks.hpp.
  static_assert(sizeof(detail::check_dropout_rate<P::num, P::den>) > 0);
  static_assert(N > 0, "staticgrad::Dropout: N must be positive");

  static constexpr bool valid = P::num >= 0 && P::num < P::den;
  static constexpr bool stochastic = true;
  static constexpr double rate = valid ? static_cast<double>(P::num) / static_cast<double>(P::den) : 0.0;
  static constexpr std::size_t in_size = N;
  static constexpr std::size_t out_size = N;
  static constexpr std::size_t param_count = 0;
  static constexpr std::size_t cache_size = N;  // each value's multiplier: 0 or 1/(1 − P)
  static constexpr std::size_t flops = N;

  /// The rate as a fraction, e.g. Dropout<64,1/10>.
  static constexpr auto name() {
    return layer_name<"Dropout", N, detail::fraction<P>()>();
  }

  /// The multipliers of the next random call: 0 with probability P, else 1/(1 − P).
  template <class T>
  static void draw_mask(std::span<T, N> mask) {
    // Keep value i when 53 random bits, as a number in [0, 1), are at least P.
    constexpr auto threshold = static_cast<std::uint64_t>(rate * 0x1p53);
    const T scale = static_cast<T>(1 / (1 - rate));
    const std::uint64_t stream = detail::next_training_stream();
    for (std::size_t i = 0; i < N; ++i) mask[i] = (detail::mix(stream, i) >> 11) >= threshold ? scale : T{0};
  }

  template <class T>
  static constexpr void infer(std::span<const T, 0>, std::span<const T, N> x, std::span<T, N> y) {
    std::copy(x.begin(), x.end(), y.begin());
  }

  template <class T>
  static void forward(std::span<const T, 0>, std::span<T, N> mask, std::span<const T, N> x, std::span<T, N> y) {
    draw_mask<T>(mask);
    for (std::size_t i = 0; i < N; ++i) y[i] = x[i] * mask[i];
  }

  template <BackwardMode Mode, class T>
  static void backward(std::span<const T, 0>, std::span<const T, N> mask, std::span<const T, N>,
                       std::span<const T, N>, std::span<const T, N> dy, std::span<T, 0>, std::span<T, N> dx) {
    if constexpr (Mode.input_grad)
      for (std::size_t i = 0; i < N; ++i) dx[i] = dy[i] * mask[i];
  }

  template <class T, class Scheme>
  static void initialize(std::span<T, 0>, init::Rng&, const Scheme&) {}

  /// On the dynamic tape (tape/network.hpp): in training, x ⊙ the mask the generated
  /// engine draws for the same call; else x.
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    if (!r.training()) return x;
    std::array<typename Recording::scalar, N> mask;
    draw_mask(std::span(mask));
    return x * r.input(std::span<const typename Recording::scalar>(mask));
  }
};

}  // namespace staticgrad
