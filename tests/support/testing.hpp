// Helpers shared by the tests: random parameters and inputs, targets of each kind,
// the loss alone (an evaluation independent of value_and_grad), fingerprints, relative errors,
// a sequence checked against streaming it.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <span>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace sgtest {

/// Runs `work` with OpenMP limited to `threads` threads.
template <class Work>
void on_threads([[maybe_unused]] int threads, const Work& work) {
#ifdef _OPENMP
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  work();
  omp_set_num_threads(before);
#else
  work();
#endif
}

namespace sg = staticgrad;

/// FNV-1a over the bytes of a model's parameters (or gradients): equal fingerprints,
/// equal bits.
template <class Params>
  requires requires(const Params& p) { p.flat(); }
std::uint64_t fingerprint(const Params& model) {
  using T = std::remove_cvref_t<decltype(model.flat()[0])>;
  std::uint64_t hash = 14695981039346656037ull;
  for (T value : model.flat()) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    for (unsigned char b : bytes) hash = (hash ^ b) * 1099511628211ull;
  }
  return hash;
}

/// |a − b| / max(|a|, |b|, floor): relative, with an absolute floor near zero.
inline double relative_error(double a, double b, double floor = 1e-3) {
  return std::abs(a - b) / std::max({std::abs(a), std::abs(b), floor});
}

template <class T, std::size_t N>
std::array<T, N> random_vector(sg::init::Rng& rng, double scale = 1.0) {
  std::array<T, N> v{};
  for (auto& e : v) e = static_cast<T>(scale * rng.normal());
  return v;
}

/// A probability vector (positive, sums to 1).
template <class T, std::size_t N>
std::array<T, N> random_probabilities(sg::init::Rng& rng) {
  std::array<T, N> p{};
  T sum{};
  for (auto& e : p) sum += (e = static_cast<T>(0.05 + rng.uniform01()));
  for (auto& e : p) e /= sum;
  return p;
}

/// Every parameter drawn from N(0, scale²), so that biases, gains and all weights matter.
template <class Net, class T>
void randomize(sg::Model<Net, T>& model, sg::init::Rng& rng, double scale = 0.7) {
  for (auto& p : model.flat()) p = static_cast<T>(scale * rng.normal());
  // A variance is positive: a BatchNorm's running variance is 0.5 plus half its draw's size.
  sg::detail::visit_leaves<Net>([&](auto node) {
    using L = typename decltype(node)::layer;
    if constexpr (sg::detail::couples_batch<L>()) {
      for (std::size_t i = 0; i < L::in_size; ++i) {
        T& variance = model.flat()[decltype(node)::param_offset + L::running_var + i];
        variance = static_cast<T>(0.5) + std::abs(variance) / 2;
      }
    }
  });
}

/// A sequence through `model` from `state` against the same steps streamed one at a time
/// from a copy of it: every output and the end state equal to rounding (doctest CHECKs).
template <class Net, class T, std::size_t Len>
void check_sequence_as_streamed(const sg::Model<Net, T>& model, const sg::Sequence<T, Len, Net::in_size>& xs,
                                const sg::State<Net, T>& state) {
  const double rounding = 64 * std::numeric_limits<T>::epsilon();
  auto whole = std::make_unique<sg::State<Net, T>>(state), streamed = std::make_unique<sg::State<Net, T>>(state);
  const auto ys = std::make_unique<sg::Sequence<T, Len, Net::out_size>>(model(xs, *whole));
  for (std::size_t t = 0; t < Len; ++t) {
    CAPTURE(t);
    const auto y = model(xs[t], *streamed);
    for (std::size_t o = 0; o < Net::out_size; ++o) CHECK(relative_error(y[o], (*ys)[t][o], 1.0) <= rounding);
  }
  for (std::size_t i = 0; i < streamed->flat().size(); ++i)
    CHECK(relative_error(whole->flat()[i], streamed->flat()[i], 1.0) <= rounding);
}

/// The loss of one sample, without gradients: the reference for finite differences.
template <class Net, class T, class Loss, class Target>
T loss_value(const sg::Model<Net, T>& model, const Loss& loss, const std::array<T, Net::in_size>& x,
             const Target& target) {
  auto y = model(x);
  std::array<T, Net::out_size> unused{};
  if constexpr (std::integral<Target>)
    return loss.template value_and_grad<T, Net::out_size>(y, static_cast<std::size_t>(target),
                                                          unused);
  else
    return loss.template value_and_grad<T, Net::out_size>(y, std::span<const T, Net::out_size>(target),
                                                          unused);
}

}  // namespace sgtest
