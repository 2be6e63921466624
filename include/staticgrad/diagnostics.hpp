/// @file Defines the diagnostics staticgrad::grad_norms, staticgrad::parameter_layer_count,
/// staticgrad::parameter_layer_sizes, staticgrad::global_norm, staticgrad::all_finite and
/// staticgrad::gradcheck.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <vector>

#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/options.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/detail/spec_name.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/sequence.hpp>

namespace staticgrad {

/// How many of Net's parameters train: all but Frozen layers' and LoRA layers' base weights.
template <class Net>
inline constexpr std::size_t trainable_param_count = [] {
  std::size_t count = 0;
  for (const auto run : detail::trainable_ranges<Net>()) count += run.size;
  return count;
}();

/// How many layers of Net own parameters (the length of grad_norms' result).
template <class Net>
inline constexpr std::size_t parameter_layer_count = detail::parameter_layers<Net>().size();

/// How many parameters each parameterized layer owns, in grad_norms' order (divide a norm
/// by the square root to compare layers of different sizes).
template <class Net>
inline constexpr std::array<std::size_t, parameter_layer_count<Net>> parameter_layer_sizes = [] {
  std::array<std::size_t, parameter_layer_count<Net>> sizes{};
  for (std::size_t l = 0; l < sizes.size(); ++l) sizes[l] = detail::parameter_layers<Net>()[l].size;
  return sizes;
}();

/// The L2 norm of each parameterized layer's gradient, input side first: the vanishing /
/// exploding-gradient view of a network.
template <class Net, class T>
std::array<T, parameter_layer_count<Net>> grad_norms(const Gradients<Net, T>& grads) {
  constexpr auto layers = detail::parameter_layers<Net>();
  std::array<T, parameter_layer_count<Net>> norms{};
  for (std::size_t l = 0; l < layers.size(); ++l) {
    T sum{};
    for (std::size_t i = 0; i < layers[l].size; ++i) {
      const T g = grads.flat()[layers[l].offset + i];
      sum += g * g;
    }
    norms[l] = std::sqrt(sum);
  }
  return norms;
}

/// The L2 norm of all gradients together.
template <class Net, class T>
T global_norm(const Gradients<Net, T>& grads) {
  T sum{};
  for (T g : grads.flat()) sum += g * g;
  return std::sqrt(sum);
}

/// True when every parameter is finite (no NaN, no infinity).
template <class Net, class T>
bool all_finite(const Model<Net, T>& model) {
  return std::ranges::all_of(model.flat(), [](T v) { return std::isfinite(v); });
}
/// True when every gradient is finite.
template <class Net, class T>
bool all_finite(const Gradients<Net, T>& grads) {
  return std::ranges::all_of(grads.flat(), [](T v) { return std::isfinite(v); });
}

namespace detail {

/// A value on its way through first_nonfinite_layer's run: a vector that adds.
template <class T>
struct traced {
  std::vector<T> values;
  friend traced operator+(const traced& a, const traced& b) {
    traced sum = a;
    for (std::size_t k = 0; k < sum.values.size(); ++k) sum.values[k] += b.values[k];
    return sum;
  }
};

template <class Node, class T>
traced<T> trace_layer(std::span<const T> params, const traced<T>& x, std::optional<std::string>& found);

/// What a composite's `record(r, x)` works with in first_nonfinite_layer's run: its
/// children, each run and checked in turn.
template <class T, class Node>
class tracing {
 public:
  using value = traced<T>;
  using scalar = T;
  tracing(std::span<const T> params, std::optional<std::string>& found) : params_(params), found_(found) {}

  template <std::size_t I>
  traced<T> child(const traced<T>& x) const {
    return trace_layer<child_node<Node, I>>(params_, x, found_);
  }
  traced<T> concat(traced<T> a, const traced<T>& b) const {
    a.values.insert(a.values.end(), b.values.begin(), b.values.end());
    return a;
  }

 private:
  std::span<const T> params_;
  std::optional<std::string>& found_;
};

// The layer at Node run on x (a composite through its record, a leaf through infer);
// the first layer to give a NaN or an infinity, the innermost, goes into `found`.
template <class Node, class T>
traced<T> trace_layer(std::span<const T> params, const traced<T>& x, std::optional<std::string>& found) {
  using L = typename Node::layer;
  traced<T> y;
  if constexpr (Node::composite) {
    tracing<T, Node> r(params, found);
    y = L::record(r, x);
  } else {
    y.values.resize(L::out_size);
    L::template infer<T>(params.template subspan<Node::param_offset, L::param_count>(),
                         std::span<const T, L::in_size>(x.values.data(), L::in_size),
                         std::span<T, L::out_size>(y.values.data(), L::out_size));
  }
  if (!found && !std::ranges::all_of(y.values, [](T v) { return std::isfinite(v); })) {
    const std::string path = Node::path();
    found = (path.empty() ? std::string("the network") : "layer " + path) + " (" + spec_name<L>() + ")";
  }
  return y;
}

}  // namespace detail

/// For debugging a NaN: runs the network on x layer by layer and names the first layer
/// (innermost, as "layer 2.0 (Dense<32,32,Tanh>)") whose output holds a NaN or an
/// infinity; "the input" when no layer's output does but x does (an infinite input that a
/// ReLU turns into zeros still makes NaN gradients: ∞ · 0); nothing when all is finite. A
/// separate function, so value_and_grad pays nothing for it. Allocates: not for a
/// real-time loop.
template <class Net, class T, class X>
std::optional<std::string> first_nonfinite_layer(const Model<Net, T>& model, const X& x) {
  static_assert(!detail::has_state<Net>, "staticgrad::first_nonfinite_layer: runs one sample through layers "
                                        "without state; a network with state (GRU, ...) is not supported yet");
  const auto in = detail::fixed_span<detail::check_input_size, T, Net::in_size>(x);
  std::optional<std::string> found;
  detail::trace_layer<detail::root_node<Net>>(std::span<const T>(model.flat()), detail::traced<T>{{in.begin(), in.end()}},
                                            found);
  if (!found && !std::ranges::all_of(in, [](T v) { return std::isfinite(v); })) found = "the input";
  return found;
}

/// How gradcheck compares.
struct GradcheckOptions {
  double step = 1e-5;        ///< central differences: (L(θ + h) − L(θ − h)) / 2h
  double tolerance = 1e-6;   ///< the largest relative error that passes
  double floor = 1e-3;       ///< relative error = |a − n| / max(|a|, |n|, floor)
  Training training{};       ///< the Dropout masks, the same for every evaluation
};

/// The worst disagreement between the generated gradient and finite differences.
struct GradcheckError {
  double absolute = 0;
  double relative = 0;
};

/// gradcheck's result: the worst errors per parameterized layer (grad_norms' order) and
/// overall, and whether the overall relative error is within the tolerance.
template <class Net>
struct GradcheckReport {
  std::array<GradcheckError, parameter_layer_count<Net>> layers{};
  GradcheckError overall{};
  bool passed = false;
};

namespace detail {
// One input or target in double (a class index stays an index).
template <class X>
auto in_double(const X& x) {
  if constexpr (std::integral<X>) {
    return x;
  } else if constexpr (SequenceOf<X>) {
    Sequence<double, X::length, X::width> steps;
    for (std::size_t t = 0; t < X::length; ++t) steps[t] = in_double(x[t]);
    return steps;
  } else if constexpr (FixedVector<X>) {
    std::array<double, fixed_extent<std::remove_cvref_t<X>>::size> out{};
    std::copy(std::begin(x), std::end(x), out.begin());
    return out;
  } else {
    std::vector<decltype(in_double(*std::ranges::begin(x)))> out;
    for (const auto& item : x) out.push_back(in_double(item));
    return out;
  }
}
}  // namespace detail

/// Checks value_and_grad against central finite differences, in double (a float model is
/// checked as its double twin: the same generated code, without float's rounding in the
/// differences). x and target are anything value_and_grad takes: one sample or a batch.
/// Costs two loss evaluations per parameter: for tests and debugging, not for a hot loop.
template <class Net, class T, class Loss, class X, class Y>
GradcheckReport<Net> gradcheck(const Model<Net, T>& model, const Loss& loss, const X& x,
                               const Y& target, const GradcheckOptions& options = {}) {
  detail::require_option(std::isfinite(options.step) && options.step > 0, "staticgrad::gradcheck", "step",
                         options.step, "a finite number > 0");
  detail::require_nonnegative("staticgrad::gradcheck", "tolerance", options.tolerance);
  detail::require_nonnegative("staticgrad::gradcheck", "floor", options.floor);
  auto twin = std::make_unique<Model<Net, double>>();
  std::copy(model.flat().begin(), model.flat().end(), twin->flat().begin());
  const auto xs = detail::in_double(x);
  const auto targets = detail::in_double(target);
  auto grads = std::make_unique<Gradients<Net, double>>();
  value_and_grad(*twin, loss, xs, targets, *grads, options.training);
  auto scratch = std::make_unique<Gradients<Net, double>>();

  GradcheckReport<Net> report;
  constexpr auto layers = detail::parameter_layers<Net>();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    for (std::size_t k = 0; k < layers[l].size; ++k) {
      const std::size_t i = layers[l].offset + k;
      if (!detail::trains<Net>(i)) continue;  // Frozen: no gradient by definition
      const double saved = twin->flat()[i];
      twin->flat()[i] = saved + options.step;
      const double up = value_and_grad(*twin, loss, xs, targets, *scratch, options.training);
      twin->flat()[i] = saved - options.step;
      const double down = value_and_grad(*twin, loss, xs, targets, *scratch, options.training);
      twin->flat()[i] = saved;
      const double numeric = (up - down) / (2 * options.step);
      const double analytic = grads->flat()[i];
      const double absolute = std::abs(analytic - numeric);
      const double relative =
          absolute / std::max({std::abs(analytic), std::abs(numeric), options.floor});
      auto& worst = report.layers[l];
      worst.absolute = std::max(worst.absolute, absolute);
      worst.relative = std::max(worst.relative, relative);
      report.overall.absolute = std::max(report.overall.absolute, absolute);
      report.overall.relative = std::max(report.overall.relative, relative);
    }
  }
  report.passed = report.overall.relative <= options.tolerance;
  return report;
}

}  // namespace staticgrad
