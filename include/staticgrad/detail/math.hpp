/// @file The math that both engines share: LayerNorm, RMSNorm and softmax over n values.
/// The fixed-size layers call these with a compile-time n (after inlining the loops have
/// constant bounds); the tape calls them with its run-time sizes. With Accumulate, results
/// are added to the outputs (the tape's backward pass) instead of written.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace staticgrad::detail {

template <bool Accumulate, class T>
constexpr void store(T& out, T value) {
  if constexpr (Accumulate) out += value;
  else out = value;
}

/// y = x̂ ⊙ gain + bias with x̂ = (x − mean) / sqrt(var + ε); writes x̂ and then 1/σ into
/// `x_hat` (n + 1 values), what the backward pass needs.
template <class T>
void layer_norm_forward(const T* x, const T* gain, const T* bias, std::size_t n, T epsilon, T* y,
                        T* x_hat) {
  T mean{};
  for (std::size_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<T>(n);
  T var{};
  for (std::size_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const T inv_std = T{1} / std::sqrt(var / static_cast<T>(n) + epsilon);
  for (std::size_t i = 0; i < n; ++i) {
    x_hat[i] = (x[i] - mean) * inv_std;
    y[i] = x_hat[i] * gain[i] + bias[i];
  }
  x_hat[n] = inv_std;
}

/// ∂L/∂gain = dy ⊙ x̂ (∂L/∂bias is dy itself).
template <bool Accumulate, class T>
void layer_norm_gain_grad(const T* dy, const T* x_hat, std::size_t n, T* dgain) {
  for (std::size_t i = 0; i < n; ++i) store<Accumulate>(dgain[i], dy[i] * x_hat[i]);
}

/// dx = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) with ĝ = dy ⊙ gain.
template <bool Accumulate, class T>
void layer_norm_input_grad(const T* dy, const T* gain, const T* x_hat, std::size_t n, T* dx) {
  T mean_g{}, mean_gx{};
  for (std::size_t i = 0; i < n; ++i) {
    mean_g += dy[i] * gain[i];
    mean_gx += dy[i] * gain[i] * x_hat[i];
  }
  mean_g /= static_cast<T>(n);
  mean_gx /= static_cast<T>(n);
  for (std::size_t i = 0; i < n; ++i)
    store<Accumulate>(dx[i], x_hat[n] * (dy[i] * gain[i] - mean_g - x_hat[i] * mean_gx));
}

/// y = x / sqrt(mean(x²) + ε) ⊙ gain; returns 1/rms, what the backward pass needs.
template <class T>
T rms_norm_forward(const T* x, const T* gain, std::size_t n, T epsilon, T* y) {
  T sum_sq{};
  for (std::size_t i = 0; i < n; ++i) sum_sq += x[i] * x[i];
  const T inv_rms = T{1} / std::sqrt(sum_sq / static_cast<T>(n) + epsilon);
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] * inv_rms * gain[i];
  return inv_rms;
}

/// ∂L/∂gain = dy ⊙ x / rms.
template <bool Accumulate, class T>
void rms_norm_param_grad(const T* dy, const T* x, T inv_rms, std::size_t n, T* dgain) {
  for (std::size_t i = 0; i < n; ++i) store<Accumulate>(dgain[i], dy[i] * x[i] * inv_rms);
}

/// dx = (1/rms)·(ĝ − x̂·mean(ĝ ⊙ x̂)) with ĝ = dy ⊙ gain and x̂ = x/rms.
template <bool Accumulate, class T>
void rms_norm_input_grad(const T* dy, const T* gain, const T* x, T inv_rms, std::size_t n, T* dx) {
  T mean_gx{};
  for (std::size_t i = 0; i < n; ++i) mean_gx += dy[i] * gain[i] * x[i] * inv_rms;
  mean_gx /= static_cast<T>(n);
  for (std::size_t i = 0; i < n; ++i)
    store<Accumulate>(dx[i], inv_rms * (dy[i] * gain[i] - x[i] * inv_rms * mean_gx));
}

/// Writes softmax(z) into `probs` and returns logsumexp(z), shifted by max(z) so that no
/// exponential overflows.
template <class T>
T softmax(const T* z, T* probs, std::size_t n) {
  const T shift = *std::max_element(z, z + n);
  T sum{};
  for (std::size_t i = 0; i < n; ++i) sum += (probs[i] = std::exp(z[i] - shift));
  for (std::size_t i = 0; i < n; ++i) probs[i] /= sum;
  return shift + std::log(sum);
}

/// dx (+)= the gradient through y = softmax(z): y ⊙ (dy − Σ dyᵢ·yᵢ).
template <bool Accumulate, class T>
void softmax_input_grad(const T* y, const T* dy, std::size_t n, T* dx) {
  T dot{};
  for (std::size_t i = 0; i < n; ++i) dot += dy[i] * y[i];
  for (std::size_t i = 0; i < n; ++i) store<Accumulate>(dx[i], y[i] * (dy[i] - dot));
}

}  // namespace staticgrad::detail
