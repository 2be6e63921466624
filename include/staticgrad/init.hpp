/// @file Defines the random source and the weight initialization schemes of staticgrad::init.
///
/// Everything here is deterministic across standard libraries: the engine is MT19937-64,
/// whose output the standard fixes (std::mt19937_64), and the distributions are our own
/// (std::normal_distribution's output differs between libstdc++ and libc++).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>

#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/detail/mersenne_twister.hpp>

namespace staticgrad::init {

/// A seeded random source with portable uniform and normal distributions.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  /// Uniform in [0, 1), from the top 53 bits of one draw.
  double uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /// Uniform in {0, …, n − 1}, without modulo bias (rejection of the top partial range).
  std::uint64_t index(std::uint64_t n) {
    const std::uint64_t limit = engine_.max() - engine_.max() % n;
    std::uint64_t draw = engine_();
    while (draw >= limit) draw = engine_();
    return draw % n;
  }

  /// Uniform in [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform01(); }

  /// Standard normal, by the Box–Muller transform (two draws give two samples).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform01();  // in (0, 1]: log(u1) is finite
    const double u2 = uniform01();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  detail::MersenneTwister64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

/// A scheme draws one weight of a layer with `fan_in` inputs and `fan_out` outputs:
/// `scheme.sample(rng, fan_in, fan_out)`. Biases are always 0 and norm gains 1.

/// Each layer's default for its activation: He normal for the ReLU family, ELU, GELU, SiLU,
/// Softplus and Mish, Xavier uniform for Tanh, HardTanh and Sigmoid, LeCun normal for
/// Identity.
struct Default {};

/// Every weight 0 (a network that cannot break its symmetry; see examples/symmetry.cpp).
struct Zeros {
  static double sample(Rng&, std::size_t, std::size_t) { return 0.0; }
};

/// Every weight the same value.
struct Constant {
  double value = 0.0;
  double sample(Rng&, std::size_t, std::size_t) const { return value; }
};

/// Glorot & Bengio (2010): U(−a, a), a = sqrt(6 / (fan_in + fan_out)). For tanh, sigmoid.
struct XavierUniform {
  static double sample(Rng& rng, std::size_t fan_in, std::size_t fan_out) {
    const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    return rng.uniform(-bound, bound);
  }
};

/// Glorot & Bengio (2010): N(0, 2 / (fan_in + fan_out)).
struct XavierNormal {
  static double sample(Rng& rng, std::size_t fan_in, std::size_t fan_out) {
    return std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)) * rng.normal();
  }
};

/// He et al. (2015): U(−a, a), a = sqrt(6 / fan_in). For the ReLU family.
struct HeUniform {
  static double sample(Rng& rng, std::size_t fan_in, std::size_t /*fan_out*/) {
    const double bound = std::sqrt(6.0 / static_cast<double>(fan_in));
    return rng.uniform(-bound, bound);
  }
};

/// He et al. (2015): N(0, 2 / fan_in). For the ReLU family, GELU, SiLU.
struct HeNormal {
  static double sample(Rng& rng, std::size_t fan_in, std::size_t /*fan_out*/) {
    return std::sqrt(2.0 / static_cast<double>(fan_in)) * rng.normal();
  }
};

/// LeCun (1998): N(0, 1 / fan_in). For linear layers.
struct LeCunNormal {
  static double sample(Rng& rng, std::size_t fan_in, std::size_t /*fan_out*/) {
    return std::sqrt(1.0 / static_cast<double>(fan_in)) * rng.normal();
  }
};

/// Draws the parameters of one layer again, from `scheme`: pick a scheme per layer with
/// `init::initialize(model.layer<1>(), rng, init::HeUniform{})`. Composite layers pass the
/// scheme to each of their layers.
template <class Spec, class T, class Scheme = Default>
void initialize(LayerView<Spec, T> layer, Rng& rng, const Scheme& scheme = {}) {
  Spec::template initialize<T>(layer.flat(), rng, scheme);
}

}  // namespace staticgrad::init
