// The baseline: the same networks written by hand as a careful engineer would — plain
// arrays, plain loops, the same input-major weight layout ([In][Out], so the loops over
// outputs vectorize), activations and losses inline. No staticgrad code is used here.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace hand {

struct ReLU {
  template <class T>
  static T value(T z) { return z > 0 ? z : T(0); }
  template <class T>
  static T derivative_from_output(T y) { return y > 0 ? T(1) : T(0); }
};
struct Tanh {
  template <class T>
  static T value(T z) { return std::tanh(z); }
  template <class T>
  static T derivative_from_output(T y) { return 1 - y * y; }
};

// z = Wᵀx + b, W stored [In][Out].
template <class T, std::size_t In, std::size_t Out>
inline void affine(const T (&w)[In][Out], const T (&b)[Out], const T* x, T* z) {
  for (std::size_t o = 0; o < Out; ++o) z[o] = b[o];
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) z[o] += x[i] * w[i][o];
}

// dW = x ⊗ dz, db = dz (added to them for a batch); dx = W dz when dx is not null.
template <bool Accumulate = false, class T, std::size_t In, std::size_t Out>
inline void affine_backward(const T (&w)[In][Out], const T* x, const T* dz, T (&dw)[In][Out],
                            T (&db)[Out], T* dx) {
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t o = 0; o < Out; ++o) dw[i][o] = (Accumulate ? dw[i][o] : T(0)) + x[i] * dz[o];
  for (std::size_t o = 0; o < Out; ++o) db[o] = (Accumulate ? db[o] : T(0)) + dz[o];
  if (dx) {
    for (std::size_t i = 0; i < In; ++i) {
      T sum = 0;
      for (std::size_t o = 0; o < Out; ++o) sum += w[i][o] * dz[o];
      dx[i] = sum;
    }
  }
}

template <class T, std::size_t In, std::size_t Out>
struct Layer {
  T w[In][Out];
  T b[Out];
};

// In → H1 (Act) → H2 (Act) → Out, with mean squared error or softmax cross-entropy.
template <class T, std::size_t In, std::size_t H1, std::size_t H2, std::size_t Out, class Act>
struct Mlp3 {
  Layer<T, In, H1> l1;
  Layer<T, H1, H2> l2;
  Layer<T, H2, Out> l3;

  void infer(const T* x, T* y) const {
    T a1[H1], a2[H2];
    affine(l1.w, l1.b, x, a1);
    for (auto& v : a1) v = Act::value(v);
    affine(l2.w, l2.b, a1, a2);
    for (auto& v : a2) v = Act::value(v);
    affine(l3.w, l3.b, a2, y);
  }

  // Returns the loss; writes every gradient into g (adds, scaled, for a batch). Target: a
  // vector (MSE) or a class.
  template <bool Accumulate = false, class Target>
  T value_and_grad(const T* x, const Target& target, Mlp3& g, T scale = 1) const {
    T a1[H1], a2[H2], y[Out], dy[Out], d2[H2], d1[H1];
    affine(l1.w, l1.b, x, a1);
    for (auto& v : a1) v = Act::value(v);
    affine(l2.w, l2.b, a1, a2);
    for (auto& v : a2) v = Act::value(v);
    affine(l3.w, l3.b, a2, y);
    const T loss = loss_and_delta(y, target, dy);
    for (auto& d : dy) d *= scale;
    affine_backward<Accumulate>(l3.w, a2, dy, g.l3.w, g.l3.b, d2);
    for (std::size_t i = 0; i < H2; ++i) d2[i] *= Act::derivative_from_output(a2[i]);
    affine_backward<Accumulate>(l2.w, a1, d2, g.l2.w, g.l2.b, d1);
    for (std::size_t i = 0; i < H1; ++i) d1[i] *= Act::derivative_from_output(a1[i]);
    affine_backward<Accumulate, T, In, H1>(l1.w, x, d1, g.l1.w, g.l1.b, nullptr);
    return loss;
  }

  // Mean loss and mean gradient of a batch; xs holds `count` inputs one after the other.
  template <class Target>
  T batch_value_and_grad(const T* xs, const Target* targets, std::size_t count, Mlp3& g) const {
    const T scale = T(1) / static_cast<T>(count);
    T sum = value_and_grad<false>(xs, targets[0], g, scale);
    for (std::size_t s = 1; s < count; ++s)
      sum += value_and_grad<true>(xs + s * In, targets[s], g, scale);
    return sum * scale;
  }

  static T loss_and_delta(const T* y, const T* target, T* dy) {  // MSE
    T sum = 0;
    for (std::size_t o = 0; o < Out; ++o) {
      const T d = y[o] - target[o];
      sum += d * d;
      dy[o] = 2 * d / Out;
    }
    return sum / Out;
  }
  static T loss_and_delta(const T* y, std::size_t label, T* dy) {  // softmax cross-entropy
    const T shift = *std::max_element(y, y + Out);
    T sum = 0;
    for (std::size_t o = 0; o < Out; ++o) sum += (dy[o] = std::exp(y[o] - shift));
    for (std::size_t o = 0; o < Out; ++o) dy[o] /= sum;
    dy[label] -= 1;
    return shift + std::log(sum) - y[label];
  }
};

// Adam over a flat array of N parameters, as torch.optim.Adam without weight decay.
template <class T, std::size_t N>
struct Adam {
  T lr = T(1e-3), beta1 = T(0.9), beta2 = T(0.999), eps = T(1e-8);
  T m[N] = {}, v[N] = {};
  long step_count = 0;

  void step(T* params, const T* grads) {
    ++step_count;
    const T step_size = lr / (1 - std::pow(beta1, static_cast<T>(step_count)));
    const T correction2 = std::sqrt(1 - std::pow(beta2, static_cast<T>(step_count)));
    for (std::size_t i = 0; i < N; ++i) {
      m[i] = beta1 * m[i] + (1 - beta1) * grads[i];
      v[i] = beta2 * v[i] + (1 - beta2) * grads[i] * grads[i];
      params[i] -= step_size * m[i] / (std::sqrt(v[i]) / correction2 + eps);
    }
  }
};

// In → H (ReLU) → Out, mean squared error: the 1-1-1 network.
template <class T, std::size_t In, std::size_t H, std::size_t Out>
struct Mlp2 {
  Layer<T, In, H> l1;
  Layer<T, H, Out> l2;

  void infer(const T* x, T* y) const {
    T a[H];
    affine(l1.w, l1.b, x, a);
    for (auto& v : a) v = ReLU::value(v);
    affine(l2.w, l2.b, a, y);
  }

  T value_and_grad(const T* x, const T* target, Mlp2& g) const {
    T a[H], y[Out], dy[Out], da[H];
    affine(l1.w, l1.b, x, a);
    for (auto& v : a) v = ReLU::value(v);
    affine(l2.w, l2.b, a, y);
    T sum = 0;
    for (std::size_t o = 0; o < Out; ++o) {
      const T d = y[o] - target[o];
      sum += d * d;
      dy[o] = 2 * d / Out;
    }
    affine_backward(l2.w, a, dy, g.l2.w, g.l2.b, da);
    for (std::size_t i = 0; i < H; ++i) da[i] *= ReLU::derivative_from_output(a[i]);
    affine_backward<false, T, In, H>(l1.w, x, da, g.l1.w, g.l1.b, nullptr);
    return sum / Out;
  }
};

// y = x + W2ᵀ GELU(W1ᵀx + b1) + b2, mean squared error: the residual block.
template <class T, std::size_t N, std::size_t H>
struct ResidualGelu {
  Layer<T, N, H> l1;
  Layer<T, H, N> l2;

  static T gelu(T z) { return T(0.5) * z * (1 + std::erf(z * T(0.70710678118654752))); }
  static T gelu_derivative(T z) {
    return T(0.5) * (1 + std::erf(z * T(0.70710678118654752))) +
           z * T(0.39894228040143268) * std::exp(T(-0.5) * z * z);
  }

  void infer(const T* x, T* y) const {
    T a[H];
    affine(l1.w, l1.b, x, a);
    for (auto& v : a) v = gelu(v);
    affine(l2.w, l2.b, a, y);
    for (std::size_t i = 0; i < N; ++i) y[i] += x[i];
  }

  T value_and_grad(const T* x, const T* target, ResidualGelu& g) const {
    T z[H], a[H], y[N], dy[N], da[H];
    affine(l1.w, l1.b, x, z);
    for (std::size_t i = 0; i < H; ++i) a[i] = gelu(z[i]);
    affine(l2.w, l2.b, a, y);
    T sum = 0;
    for (std::size_t o = 0; o < N; ++o) {
      const T d = y[o] + x[o] - target[o];
      sum += d * d;
      dy[o] = 2 * d / N;
    }
    affine_backward(l2.w, a, dy, g.l2.w, g.l2.b, da);
    for (std::size_t i = 0; i < H; ++i) da[i] *= gelu_derivative(z[i]);
    affine_backward<false, T, N, H>(l1.w, x, da, g.l1.w, g.l1.b, nullptr);
    return sum / N;
  }
};

// Depth layers N → N, all tanh: the bench's N6 (eight Dense<32, 32, Tanh>), mean squared
// error.
template <class T, std::size_t N, std::size_t Depth>
struct TanhStack {
  Layer<T, N, N> layers[Depth];

  void infer(const T* x, T* y) const {
    T a[N], b[N];
    const T* in = x;
    for (std::size_t l = 0; l < Depth; ++l) {
      T* out = l + 1 == Depth ? y : (l % 2 == 0 ? a : b);
      affine(layers[l].w, layers[l].b, in, out);
      for (std::size_t i = 0; i < N; ++i) out[i] = std::tanh(out[i]);
      in = out;
    }
  }

  T value_and_grad(const T* x, const T* target, TanhStack& g) const {
    T act[Depth][N], delta[N], previous[N];
    const T* in = x;
    for (std::size_t l = 0; l < Depth; ++l) {
      affine(layers[l].w, layers[l].b, in, act[l]);
      for (std::size_t i = 0; i < N; ++i) act[l][i] = std::tanh(act[l][i]);
      in = act[l];
    }
    T sum = 0;
    for (std::size_t o = 0; o < N; ++o) {
      const T d = act[Depth - 1][o] - target[o];
      sum += d * d;
      delta[o] = 2 * d / N;
    }
    for (std::size_t l = Depth; l-- > 0;) {
      for (std::size_t i = 0; i < N; ++i) delta[i] *= 1 - act[l][i] * act[l][i];
      affine_backward(layers[l].w, l == 0 ? x : act[l - 1], delta, g.layers[l].w, g.layers[l].b,
                      l == 0 ? nullptr : previous);
      if (l > 0) std::copy(previous, previous + N, delta);
    }
    return sum / N;
  }
};

}  // namespace hand
