// Eigen 3.4 (Debian's libeigen3-dev) as a peer: fixed-size matrices, backpropagation
// written by hand, the way a careful engineer uses Eigen for a small network.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <tuple>
#include <utility>

#include <Eigen/Dense>
#include <unsupported/Eigen/SpecialFunctions>  // erf over arrays

namespace eigen_peer {

enum class Act { identity, relu, tanh, gelu };

template <int In, int Out, Act A>
struct Dense {
  static constexpr int in = In, out = Out;
  Eigen::Matrix<float, Out, In> w;
  Eigen::Matrix<float, Out, 1> b;
  Eigen::Matrix<float, Out, In> dw;
  Eigen::Matrix<float, Out, 1> db;

  // Reads W ([In][Out] in staticgrad's flat order) and b; returns how many values it read.
  std::size_t load(const float* flat) {
    for (int i = 0; i < In; ++i)
      for (int o = 0; o < Out; ++o) w(o, i) = flat[i * Out + o];
    for (int o = 0; o < Out; ++o) b(o) = flat[In * Out + o];
    return In * Out + Out;
  }

  static Eigen::Matrix<float, Out, 1> activate(const Eigen::Matrix<float, Out, 1>& z) {
    if constexpr (A == Act::relu) return z.cwiseMax(0.0f);
    else if constexpr (A == Act::tanh) return z.array().tanh().matrix();
    else if constexpr (A == Act::gelu)  // Eigen's vectorized erf, over the whole array
      return (0.5f * z.array() * (1.0f + (z.array() * 0.70710678f).erf())).matrix();
    else return z;
  }
  // dz = dy ⊙ φ'(z), from z and y = φ(z).
  static Eigen::Matrix<float, Out, 1> derivative(const Eigen::Matrix<float, Out, 1>& z,
                                                 const Eigen::Matrix<float, Out, 1>& y,
                                                 const Eigen::Matrix<float, Out, 1>& dy) {
    if constexpr (A == Act::relu) return (z.array() > 0.0f).select(dy, 0.0f);
    else if constexpr (A == Act::tanh) return dy.cwiseProduct((1.0f - y.array().square()).matrix());
    else if constexpr (A == Act::gelu)
      return dy.cwiseProduct((0.5f * (1.0f + (z.array() * 0.70710678f).erf()) +
                              z.array() * 0.39894228f * (-0.5f * z.array().square()).exp())
                                 .matrix());
    else return dy;
  }
};

// Layers in sequence; Residual adds the input to the output (N5).
template <bool Residual, class... Layers>
struct Chain {
  std::tuple<Layers...> layers;
  static constexpr std::size_t count = sizeof...(Layers);
  template <std::size_t I>
  using At = std::tuple_element_t<I, std::tuple<Layers...>>;
  static constexpr int in = At<0>::in, out = At<count - 1>::out;
  using Input = Eigen::Matrix<float, in, 1>;
  using Output = Eigen::Matrix<float, out, 1>;
  // Pre-activations and activations of every layer, kept for the backward pass.
  std::tuple<Eigen::Matrix<float, Layers::out, 1>...> z, a;

  void load(std::span<const float> flat) {
    std::size_t offset = 0;
    std::apply([&](auto&... layer) { ((offset += layer.load(flat.data() + offset)), ...); }, layers);
  }

  template <std::size_t I = 0>
  void forward(const Input& x) {
    auto& layer = std::get<I>(layers);
    if constexpr (I == 0) std::get<I>(z).noalias() = layer.w * x + layer.b;
    else std::get<I>(z).noalias() = layer.w * std::get<I - 1>(a) + layer.b;
    std::get<I>(a) = layer.activate(std::get<I>(z));
    if constexpr (I + 1 < count) forward<I + 1>(x);
  }

  Output output(const Input& x) const {
    if constexpr (Residual) return std::get<count - 1>(a) + x;
    else return std::get<count - 1>(a);
  }

  Output infer(const Input& x) {
    forward(x);
    return output(x);
  }

  template <std::size_t I = count - 1>
  void backward(const Input& x, const Eigen::Matrix<float, At<I>::out, 1>& dy) {
    auto& layer = std::get<I>(layers);
    const auto dz = layer.derivative(std::get<I>(z), std::get<I>(a), dy);
    layer.db = dz;
    if constexpr (I == 0) {
      layer.dw.noalias() = dz * x.transpose();
    } else {
      layer.dw.noalias() = dz * std::get<I - 1>(a).transpose();
      const Eigen::Matrix<float, At<I>::in, 1> dx = layer.w.transpose() * dz;
      backward<I - 1>(x, dx);
    }
  }

  // Mean squared error.
  float value_and_grad(const Input& x, const Output& target) {
    const Output diff = infer(x) - target;
    backward(x, (2.0f / out) * diff);
    return diff.squaredNorm() / out;
  }
  // Softmax cross-entropy with a class index.
  float value_and_grad(const Input& x, std::size_t label) {
    const Output logits = infer(x);
    const float shift = logits.maxCoeff();
    Output probs = (logits.array() - shift).exp().matrix();
    const float sum = probs.sum();
    probs /= sum;
    const float loss = shift + std::log(sum) - logits(static_cast<int>(label));
    probs(static_cast<int>(label)) -= 1.0f;
    backward(x, probs);
    return loss;
  }
};

}  // namespace eigen_peer
