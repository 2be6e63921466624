/// @file Defines staticgrad::Model and staticgrad::Gradients, a network's parameters (or
/// their gradients) in one flat array, and staticgrad::param_count and staticgrad::flops.
/// It includes value_and_grad.hpp, which computes a Gradients from a Model.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <type_traits>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/detail/batch_norm_pass.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/detail/arguments.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/detail/samples.hpp>
#include <staticgrad/detail/sequences.hpp>
#include <staticgrad/init.hpp>
#include <staticgrad/sequence.hpp>
#include <staticgrad/state.hpp>

namespace staticgrad {

/// The number of parameters of network spec Net.
template <Layer Net>
inline constexpr std::size_t param_count = Net::param_count;

/// The forward FLOPs of network spec Net (a multiply-add counts 2).
template <Layer Net>
inline constexpr std::size_t flops = Net::flops;

namespace detail {

template <class Net, class T>
struct check_model_arguments {
  static_assert(std::is_floating_point_v<T>, "staticgrad::Model: T must be float or double");
  static_assert(sizeof(check_is_layer<0, Net>) > 0);  // names what Net lacks to be a layer spec
};

struct no_init_t {};

/// One aligned flat array of a network's parameters (or of their gradients), in the flat
/// order, with views of its layers.
template <class Net, class T>
class flat_params {
 public:
  using network = Net;
  using value_type = T;
  static constexpr std::size_t in_size = network_sizes<Net>::in_size;
  static constexpr std::size_t out_size = network_sizes<Net>::out_size;
  static constexpr std::size_t param_count = network_sizes<Net>::param_count;

  /// All parameters in the flat order: layer by layer, depth first.
  constexpr std::span<T, param_count> flat() { return values_; }
  constexpr std::span<const T, param_count> flat() const { return values_; }

  /// A view of the whole network's parameters.
  constexpr LayerView<Net, T> view() { return LayerView<Net, T>(flat()); }
  constexpr LayerView<Net, const T> view() const { return LayerView<Net, const T>(flat()); }

  /// A view of layer I (for Sequential and Residual networks).
  template <std::size_t I>
  constexpr auto layer() {
    return view().template layer<I>();
  }
  template <std::size_t I>
  constexpr auto layer() const {
    return view().template layer<I>();
  }

 protected:
  constexpr flat_params() : values_{} {}
  // Leaves the values unset, for a caller that writes every one of them next. Not
  // constexpr on purpose: g++ folds a constexpr call that leaves members unset into a
  // zero constant, and then memsets the whole array at run time (a gradient's worth of
  // stores per value_and_grad).
  explicit flat_params(no_init_t) {}

 private:
  static_assert(sizeof(check_model_arguments<Net, T>) > 0);
  alignas(64) std::array<T, param_count> values_;
};

struct gradients_access;

}  // namespace detail

/// The parameters of network Net with scalar type T, in one flat array, inline.
///
/// `Model{}` holds zeros (ready to be loaded or filled); `Model{seed}` initializes each
/// layer with the default for its activation (He, Xavier or LeCun; biases 0, norm gains 1).
/// @tparam Net the network spec, e.g. Sequential<Dense<3, 4, ReLU>, Dense<4, 2>>
/// @tparam T   float or double
template <class Net, class T>
class Model : public detail::flat_params<Net, T> {
  using base = detail::flat_params<Net, T>;

 public:
  using typename base::value_type;
  using base::in_size;
  using base::out_size;
  using base::param_count;

  /// All parameters zero.
  constexpr Model() = default;

  /// Parameters drawn with this seed, from `scheme` (init::Default: each layer's default
  /// for its activation); biases 0, norm gains 1. The same seed gives the same parameters
  /// on every compiler and standard library.
  template <class Scheme = init::Default>
  explicit Model(std::uint64_t seed, const Scheme& scheme = {}) {
    if constexpr (detail::ValidLayer<Net>) {
      init::Rng rng(seed);
      Net::template initialize<T>(this->flat(), rng, scheme);
    }
  }

  /// A model holding `values` (in the flat order); usable in constant expressions, so that
  /// a model baked into a header (staticgrad::emit_header) is built at compile time.
  explicit constexpr Model(const std::array<T, param_count>& values) {
    for (std::size_t i = 0; i < param_count; ++i) this->flat()[i] = values[i];
  }

  /// Inference: the network's output for input x (a std::array<T, in_size>, T[in_size] or
  /// std::span<T, in_size>). Allocates nothing and keeps nothing for a backward pass.
  template <class X>
    requires(!detail::SequenceOf<X>)
  constexpr std::array<T, out_size> operator()(const X& x) const {
    static_assert(!detail::has_state<Net>,
                  "staticgrad::Model: this network carries state from one time step to the next (GRU, ...): "
                  "pass the stream's staticgrad::State, model(x, state)");
    std::array<T, out_size> y;
    if constexpr (detail::ValidLayer<Net> && !detail::has_state<Net>)
      Net::template infer<T>(this->flat(), detail::fixed_span<detail::check_input_size, T, in_size>(x), y);
    return y;
  }

  /// One time step of a stream: the output for input x, from the stream's state, which
  /// advances (a network without state leaves it empty: any network takes it). Allocates
  /// nothing.
  template <class X>
    requires(!detail::SequenceOf<X>)
  constexpr std::array<T, out_size> operator()(const X& x, State<Net, T>& state) const {
    std::array<T, out_size> y;
    if constexpr (detail::ValidLayer<Net>)
      detail::infer_block<Net, 1, T>(this->flat(), state.flat(),
                                     detail::fixed_span<detail::check_input_size, T, in_size>(x), std::span(y));
    return y;
  }

  /// A whole sequence, step by step from the stream's state (which it leaves at the end
  /// state), or from zeros: the outputs streaming would give, each step's.
  template <class U, std::size_t Len, std::size_t N>
  Sequence<T, Len, out_size> operator()(const Sequence<U, Len, N>& xs, State<Net, T>& state) const {
    using problem = detail::input_problem<Net, T, typename Sequence<U, Len, N>::value_type>;
    Sequence<T, Len, out_size> ys;
    if constexpr (detail::has_problem<problem>) static_assert(sizeof(problem) > 0);
    else if constexpr (detail::ValidLayer<Net>) detail::sequence_infer<Net>(this->flat(), state.flat(), xs, ys);
    return ys;
  }
  template <class U, std::size_t Len, std::size_t N>
  Sequence<T, Len, out_size> operator()(const Sequence<U, Len, N>& xs) const {
    State<Net, T> zeros;
    return (*this)(xs, zeros);
  }

  /// Inference over a batch: ys[s] = (*this)(xs[s]) for every s, but whole blocks of samples
  /// run through the batched kernels, which reuse each weight across the samples (a network
  /// with Dropout goes one sample at a time). The same outputs up to rounding (one sample
  /// sums a layer's inputs in several partial sums, a block in one). xs is a
  /// contiguous range of inputs, ys a contiguous range of as many std::array<T, out_size>
  /// (std::invalid_argument otherwise), or xs itself (in place). Allocates nothing.
  template <class Xs, class Ys>
  void infer_batch(const Xs& xs, Ys&& ys) const;
};

/// The gradient of a loss with respect to every parameter of a Model<Net, T>: the same
/// flat order, `flat()` and `layer<I>()` views as the model. Zero when default-constructed.
template <class Net, class T>
class Gradients : public detail::flat_params<Net, T> {
 public:
  constexpr Gradients() = default;

 private:
  friend struct detail::gradients_access;
  explicit Gradients(detail::no_init_t tag) : detail::flat_params<Net, T>(tag) {}

  // A BatchNorm network's batch statistics (layers/batch_norm.hpp); nothing otherwise.
  [[no_unique_address]] detail::batch_statistics<Net, T> batch_statistics_;
};

/// What value_and_grad returns: `auto [loss, grads] = value_and_grad(...)`.
template <class Net, class T>
struct LossAndGradients {
  T loss{};
  Gradients<Net, T> grads;

  /// Zero loss and zero gradients.
  constexpr LossAndGradients() = default;

 private:
  friend struct detail::gradients_access;
  // Member by member, not as an aggregate: g++ clears a whole aggregate before filling
  // it, which here would mean a memset of every gradient.
  constexpr explicit LossAndGradients(detail::no_init_t);
};

namespace detail {

struct gradients_access {
  template <class Net, class T>
  static constexpr LossAndGradients<Net, T> fresh_result() {
    return LossAndGradients<Net, T>(no_init_t{});
  }

  // Gradients whose every value the backward pass is about to overwrite: left unset at run
  // time, zeros in constant evaluation (which must not read anything unset).
  template <class Net, class T>
  static constexpr Gradients<Net, T> fresh() {
    if (std::is_constant_evaluated()) return Gradients<Net, T>{};
    return Gradients<Net, T>(no_init_t{});
  }

  template <class Net, class T>
  static constexpr auto& batch_statistics(Gradients<Net, T>& grads) {
    return grads.batch_statistics_;
  }
  template <class Net, class T>
  static constexpr const auto& batch_statistics(const Gradients<Net, T>& grads) {
    return grads.batch_statistics_;
  }
};

}  // namespace detail

template <class Net, class T>
constexpr LossAndGradients<Net, T>::LossAndGradients(detail::no_init_t)
    : grads(detail::gradients_access::fresh<Net, T>()) {}

template <class Net, class T>
template <class Xs, class Ys>
void Model<Net, T>::infer_batch(const Xs& xs, Ys&& ys) const {
  using problem = detail::batch_input_problem<Net, T, Xs>;
  if constexpr (detail::has_problem<problem>) static_assert(sizeof(problem) > 0);
  constexpr bool outputs_fit = [] {
    if constexpr (std::ranges::contiguous_range<Ys>)
      return std::is_same_v<std::ranges::range_value_t<Ys>, std::array<T, out_size>>;
    return false;
  }();
  static_assert(outputs_fit,
                "staticgrad::Model::infer_batch: ys must be a contiguous range of std::array<T, out_size>");
  static_assert(!detail::has_state<Net>,
                "staticgrad::Model::infer_batch: this network carries state from one time step to the next: a "
                "sequence goes through model(xs, state), step by step");
  if constexpr (detail::ValidLayer<Net> && !detail::has_state<Net> && !detail::has_problem<problem> && outputs_fit) {
    const std::size_t count = detail::paired_size(xs, ys, "staticgrad::Model::infer_batch", "outputs");
    detail::infer_samples<Net, T>(this->flat(), std::ranges::data(xs), std::ranges::data(ys), count);
  }
}

}  // namespace staticgrad

#include <staticgrad/value_and_grad.hpp>
