/// @file Defines staticgrad::Model, staticgrad::Gradients, staticgrad::value_and_grad,
/// staticgrad::param_count and staticgrad::flops.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <staticgrad/core/batch.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/shards.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/detail/inputs.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/init.hpp>

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
  constexpr std::array<T, out_size> operator()(const X& x) const {
    std::array<T, out_size> y;
    if constexpr (detail::ValidLayer<Net>)
      Net::template infer<T>(this->flat(), detail::fixed_span<detail::check_input_size, T, in_size>(x), y);
    return y;
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
};

}  // namespace detail

template <class Net, class T>
constexpr LossAndGradients<Net, T>::LossAndGradients(detail::no_init_t)
    : grads(detail::gradients_access::fresh<Net, T>()) {}

namespace detail {

/// A target: a class index (only for losses that accept one), or a fixed-size vector.
template <class Loss, class T, std::size_t Out, class Y>
constexpr auto target_view(const Y& target) {
  if constexpr (std::integral<Y>) {
    if constexpr (Loss::accepts_class_index) {
      return static_cast<std::size_t>(target);
    } else {
      static_assert(sizeof(check_class_index_target<Loss, false>) > 0);
      return std::span<const T, Out>(static_cast<const T*>(nullptr), Out);  // only after an error
    }
  } else {
    return fixed_span<check_target_size, T, Out>(target);
  }
}

/// Throws what value_and_grad throws for these arguments, but before anything changes: a
/// batch of inputs and targets that differ in number, an empty one, a class index that
/// the loss refuses (its check_target). train_step and fit call it first, so that a step
/// that throws leaves the model and the optimizer as they were.
template <class Net, class Loss, class X, class Y>
void check_arguments(const X& x, const Y& target, const char* who) {
  if constexpr (!FixedVector<X>) batch_size(x, target, who);
  if constexpr (requires { Loss::check_target(std::size_t{}, std::size_t{}); }) {
    if constexpr (std::integral<Y>) {
      Loss::check_target(static_cast<std::size_t>(target), Net::out_size);
    } else if constexpr (IndexRange<Y>) {
      for (const auto index : target) Loss::check_target(static_cast<std::size_t>(index), Net::out_size);
    }
  }
}

/// Forward, loss and backward for one sample. dŷ is multiplied by `scale` (1/batch size);
/// `layer_done` is the backward pass's callback (core/batch.hpp's network_backward).
template <BackwardMode Mode, class Net, class T, class Loss, class Target, class LayerDone = no_layer_hook>
constexpr T sample_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss,
                                  std::span<const T, Net::in_size> x, const Target& target,
                                  T scale, std::span<T, Net::param_count> dparams,
                                  const LayerDone& layer_done = {}) {
  std::array<T, Net::cache_size> cache;
  std::array<T, Net::out_size> y;
  std::array<T, Net::out_size> dy;
  std::array<T, Net::in_size> unused_dx;  // Mode.input_grad is false: never written
  Net::template forward<T>(params, cache, x, y);
  const T value = loss.template value_and_grad<T, Net::out_size>(y, target, dy);
  if (scale != T{1}) {
    for (auto& d : dy) d *= scale;
  }
  network_backward<Mode, Net, 1, T>(params, cache, x, y, dy, dparams, unused_dx, layer_done);
  return value;
}

/// Samples per block on the batched path: as many as keep a block's inputs, caches, outputs
/// and output gradients within 64 KiB, at most 32. 32 rather than 16 samples fill the
/// input gradient's tiles (two registers of samples) and give the weight gradient twice the
/// sum per store.
template <class Net, class T>
inline constexpr std::size_t block_samples =
    std::clamp<std::size_t>(65536 / (sizeof(T) * (Net::in_size + Net::cache_size + 2 * Net::out_size)), 1, 32);

/// The Samples inputs at `inputs`, copied into one sample-major block.
template <class T, std::size_t In, std::size_t Samples, class Input>
void gather_inputs(const Input* inputs, std::span<T, Samples * In> block) {
  for (std::size_t s = 0; s < Samples; ++s)
    std::ranges::copy(fixed_span<check_input_size, T, In>(inputs[s]), sample_row<In>(block, s).begin());
}

/// Calls run.template operator()<Block>(start) on whole blocks of samples from s on, while
/// fewer than `count` are done: blocks of block_samples, then, when they hold more than 16,
/// one of half as many if the rest fills it (a batch of 16 stays on the batched path with
/// blocks of 32). s ends at the first sample left for one-at-a-time.
template <class Net, class T, class Run>
void for_each_block(std::size_t& s, std::size_t count, Run&& run) {
  constexpr std::size_t block = block_samples<Net, T>;
  if constexpr (block > 1 && !is_stochastic<Net>) {
    for (; s + block <= count; s += block) run.template operator()<block>(s);
    if constexpr (block > 16) {
      if (s + block / 2 <= count) {
        run.template operator()<block / 2>(s);
        s += block / 2;
      }
    }
  }
}

/// outputs[s] = Net's output for inputs[s], for the `count` samples: whole blocks through
/// infer_batch, the rest through infer. The outputs may be the inputs themselves.
template <class Net, class T, class Input, class Output>
void batch_infer(std::span<const T, Net::param_count> params, const Input* inputs, Output* outputs, std::size_t count) {
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  std::size_t s = 0;
  for_each_block<Net, T>(s, count, [&]<std::size_t Block>(std::size_t start) {
    std::array<T, Block * in> x;
    gather_inputs<T, in, Block>(inputs + start, std::span(x));
    std::array<T, Block * out> y;
    infer_batch<Net, Block, T>(params, x, y);
    for (std::size_t b = 0; b < Block; ++b)
      std::ranges::copy(sample_row<out>(std::span<const T, Block * out>(y), b), outputs[start + b].begin());
  });
  for (; s < count; ++s) {
    // A copy: the outputs may be the inputs (infer_batch(xs, xs)), and a layer may write
    // its output before it has read all of its input.
    std::array<T, in> x;
    std::ranges::copy(fixed_span<check_input_size, T, in>(inputs[s]), x.begin());
    Net::template infer<T>(params, x, std::span<T, out>(outputs[s]));
  }
}

/// Forward, loss and backward for the Samples samples at inputs and targets, in one block
/// (core/batch.hpp): the same numbers as sample_value_and_grad on each of them in turn.
/// Adds each sample's loss to `total`, in order.
template <BackwardMode Mode, class Net, std::size_t Samples, class T, class Loss, class Input, class Target,
          class LayerDone = no_layer_hook>
void block_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss, const Input* inputs,
                          const Target* targets, T scale, std::span<T, Net::param_count> dparams, T& total,
                          const LayerDone& layer_done = {}) {
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  std::array<T, Samples * in> x;
  gather_inputs<T, in, Samples>(inputs, std::span(x));
  std::array<T, Samples * Net::cache_size> cache;
  std::array<T, Samples * out> y;
  std::array<T, Samples * out> dy;
  std::array<T, Samples * in> unused_dx;  // Mode.input_grad is false: never written
  forward_batch<Net, Samples, T>(params, cache, x, y);
  for (std::size_t s = 0; s < Samples; ++s) {
    const auto dy_s = sample_row<out>(std::span(dy), s);
    total += loss.template value_and_grad<T, out>(sample_row<out>(std::span<const T, Samples * out>(y), s),
                                                  target_view<Loss, T, out>(targets[s]), dy_s);
    if (scale != T{1}) {
      for (auto& d : dy_s) d *= scale;
    }
  }
  network_backward<Mode, Net, Samples, T>(params, cache, x, y, dy, dparams, unused_dx, layer_done);
}

/// A layer_done callback for one sample or block of a batch: the caller's for the last,
/// none (a null pointer) for the others, whose gradients are not final yet.
template <class LayerDone>
struct last_hook {
  const LayerDone* last;
  constexpr void operator()(std::size_t offset, std::size_t size) const {
    if (last != nullptr) (*last)(offset, size);
  }
};

/// The summed loss of the `count` samples at inputs and targets, and their gradient, each
/// sample's multiplied by `scale`, into `dparams`: whole blocks of samples on the batched
/// path, the rest one at a time. The backward pass of the last sample (or block) calls
/// `layer_done(offset, size)` as each layer's gradient becomes final.
template <class Net, class T, class Loss, class Input, class Target, class LayerDone>
constexpr T samples_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss,
                                   const Input* inputs, const Target* targets, std::size_t count, T scale,
                                   std::span<T, Net::param_count> dparams, const LayerDone& layer_done) {
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  constexpr BackwardMode first{.accumulate = false, .input_grad = false};
  constexpr BackwardMode others{.accumulate = true, .input_grad = false};
  T total{};
  std::size_t s = 0;
  // A Dropout network stays one sample at a time (for_each_block), which draws its masks in
  // the order the tape draws them.
  if (!std::is_constant_evaluated()) {
    for_each_block<Net, T>(s, count, [&]<std::size_t Block>(std::size_t start) {
      const last_hook<LayerDone> hook{start + Block == count ? &layer_done : nullptr};
      const auto run = [&]<BackwardMode Mode>() {
        block_value_and_grad<Mode, Net, Block>(params, loss, inputs + start, targets + start, scale, dparams, total,
                                               hook);
      };
      start == 0 ? run.template operator()<first>() : run.template operator()<others>();
    });
  }
  for (; s < count; ++s) {
    const last_hook<LayerDone> hook{s + 1 == count ? &layer_done : nullptr};
    const auto run = [&]<BackwardMode Mode>() {
      return sample_value_and_grad<Mode, Net>(params, loss, fixed_span<check_input_size, T, in>(inputs[s]),
                                              target_view<Loss, T, out>(targets[s]), scale, dparams, hook);
    };
    total += s == 0 ? run.template operator()<first>() : run.template operator()<others>();
  }
  return total;
}

/// Samples per shard of a batch that threads share (core/shards.hpp): at least 64, more
/// for a small network, so that a shard's forward and backward passes (about 2^18 FLOPs)
/// outweigh waking a thread and adding up its gradient; whole blocks.
template <class Net, class T>
inline constexpr std::size_t shard_samples = [] {
  constexpr std::size_t block = block_samples<Net, T>;
  const std::size_t samples = std::max<std::size_t>(64, (std::size_t{1} << 18) / (3 * Net::flops + 1));
  return (samples + block - 1) / block * block;
}();

/// Whether a batch of Net is split into shards: not with Dropout (its masks are drawn in
/// sample order), nor when a shard's gradient, on each thread's stack, would be larger
/// than 1 MiB (LLVM's OpenMP threads have 4 MiB stacks).
template <class Net, class T>
inline constexpr bool shardable = !is_stochastic<Net> && Net::param_count * sizeof(T) <= (std::size_t{1} << 20);

/// samples_value_and_grad over a batch of more than one shard: the shards on OpenMP's
/// threads, their losses and gradients added up in shard order, so the result does not
/// depend on the number of threads. `layer_done` is called once, for all parameters.
template <class Net, class T, class Loss, class Input, class Target, class LayerDone>
T sharded_value_and_grad(std::span<const T, Net::param_count> params, const Loss& loss, const Input* inputs,
                         const Target* targets, std::size_t count, T scale,
                         std::span<T, Net::param_count> dparams, const LayerDone& layer_done) {
  constexpr std::size_t shard_size = shard_samples<Net, T>;
  struct partial_sums {
    T loss;
    alignas(64) std::array<T, Net::param_count> grads;
  };
  T total{};
  for_each_shard_in_order<partial_sums>(
      (count + shard_size - 1) / shard_size,
      [&](std::size_t shard, partial_sums& partial) {
        const std::size_t first = shard * shard_size;
        partial.loss = samples_value_and_grad<Net>(params, loss, inputs + first, targets + first,
                                                   std::min(shard_size, count - first), scale,
                                                   std::span(partial.grads), no_layer_hook{});
      },
      [&](std::size_t shard, const partial_sums& partial) {
        total = shard == 0 ? partial.loss : total + partial.loss;
        for (const auto run : trainable_ranges<Net>()) {  // a Frozen layer's slice stays unwritten
          const auto from = std::span(partial.grads).subspan(run.offset, run.size);
          const auto to = dparams.subspan(run.offset, run.size);
          if (shard == 0) {
            std::ranges::copy(from, to.begin());
          } else {
            for (std::size_t i = 0; i < run.size; ++i) to[i] += from[i];
          }
        }
      });
  layer_done(std::size_t{0}, Net::param_count);
  return total;
}

/// The mean loss and gradient of a sample or a batch into `grads`. `layer_done(offset,
/// size)` is called as each layer's gradient becomes final (train_step's hook; nothing for
/// value_and_grad). A batch of more than one shard is split across OpenMP's threads.
template <class Net, class T, class Loss, class X, class Y, class LayerDone = no_layer_hook>
constexpr T value_and_grad_into(const Model<Net, T>& model, const Loss& loss, const X& x,
                                const Y& target, Gradients<Net, T>& grads, const LayerDone& layer_done = {}) {
  constexpr std::size_t in = Net::in_size, out = Net::out_size;
  if constexpr (FixedVector<X>) {
    constexpr BackwardMode overwrite{.accumulate = false, .input_grad = false};
    return sample_value_and_grad<overwrite, Net>(model.flat(), loss, fixed_span<check_input_size, T, in>(x),
                                                 target_view<Loss, T, out>(target), T{1}, grads.flat(),
                                                 layer_done);
  } else {
    static_assert(FixedVectorRange<X>,
                  "staticgrad::value_and_grad: x must be one input (std::array<T, in_size>) or a "
                  "contiguous range of inputs (std::vector, std::span, std::array of them)");
    static_assert(FixedVectorRange<Y> || IndexRange<Y>,
                  "staticgrad::value_and_grad: a batch of inputs needs a contiguous range of "
                  "targets (vectors, or class indices)");
    const std::size_t count = batch_size(x, target, "staticgrad::value_and_grad");
    const T scale = T{1} / static_cast<T>(count);
    const auto* inputs = std::ranges::data(x);
    const auto* targets = std::ranges::data(target);
    if constexpr (shardable<Net, T>) {
      if (count > shard_samples<Net, T> && !std::is_constant_evaluated())
        return sharded_value_and_grad<Net>(model.flat(), loss, inputs, targets, count, scale, grads.flat(),
                                           layer_done) *
               scale;
    }
    return samples_value_and_grad<Net>(model.flat(), loss, inputs, targets, count, scale, grads.flat(),
                                       layer_done) *
           scale;
  }
}

// value_and_grad_into with `training` as the thread's key for the Dropout masks (not
// constexpr: the key lives in a thread_local).
template <class Net, class T, class Loss, class X, class Y>
T value_and_grad_training(const Model<Net, T>& model, const Loss& loss, const X& x, const Y& target,
                          Gradients<Net, T>& grads, Training training) {
  const training_scope scope(training);
  return value_and_grad_into(model, loss, x, target, grads);
}

}  // namespace detail

/// The loss of `model` on (x, target) and its gradient with respect to every parameter,
/// by the generated backward pass. Allocates nothing.
///
/// x is one input (std::array<T, in_size>, T[in_size], std::span<T, in_size>) or a
/// contiguous range of them (a batch: the result is the mean loss and mean gradient).
/// target is a vector of out_size, or a std::size_t class index for SoftmaxCrossEntropy;
/// for a batch, a contiguous range of those. Built with OpenMP, a batch of more than
/// `detail::shard_samples<Net, T>` samples runs on OpenMP's threads, with the same result
/// on any number of them (core/shards.hpp).
template <class Net, class T, class Loss, class X, class Y>
constexpr LossAndGradients<Net, T> value_and_grad(const Model<Net, T>& model, const Loss& loss,
                                                  const X& x, const Y& target) {
  static_assert(!detail::is_stochastic<Net>, "staticgrad::value_and_grad: this network has Dropout: pass "
                                             "staticgrad::Training{seed, step}, the key of its masks");
  return value_and_grad(model, loss, x, target, Training{});
}

/// As value_and_grad above, but writes the gradient into the caller's `grads` (which may
/// live anywhere: a thread with a small stack keeps it off the stack) and returns the loss.
template <class Net, class T, class Loss, class X, class Y>
constexpr T value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x,
                           const Y& target, Gradients<Net, T>& grads) {
  static_assert(!detail::is_stochastic<Net>, "staticgrad::value_and_grad: this network has Dropout: pass "
                                             "staticgrad::Training{seed, step}, the key of its masks");
  return value_and_grad(model, loss, x, target, grads, Training{});
}

/// value_and_grad for a training step whose Dropout masks are keyed by `training` (the same
/// key, the same masks). Networks without Dropout ignore it, so generic code can always
/// pass one.
template <class Net, class T, class Loss, class X, class Y>
constexpr T value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x, const Y& target,
                           Gradients<Net, T>& grads, Training training) {
  if constexpr (!detail::ValidLayer<Net>) {
    return T{};
  } else if constexpr (detail::is_stochastic<Net>) {
    return detail::value_and_grad_training(model, loss, x, target, grads, training);
  } else {
    return detail::value_and_grad_into(model, loss, x, target, grads);
  }
}

/// As above, returning {loss, grads}.
template <class Net, class T, class Loss, class X, class Y>
constexpr LossAndGradients<Net, T> value_and_grad(const Model<Net, T>& model, const Loss& loss, const X& x,
                                                  const Y& target, Training training) {
  auto result = detail::gradients_access::fresh_result<Net, T>();
  for (const auto run : detail::frozen_ranges<Net>())  // never written by the backward pass
    std::fill_n(result.grads.flat().begin() + static_cast<std::ptrdiff_t>(run.offset), run.size, T{});
  result.loss = value_and_grad(model, loss, x, target, result.grads, training);
  return result;
}

template <class Net, class T>
template <class Xs, class Ys>
void Model<Net, T>::infer_batch(const Xs& xs, Ys&& ys) const {
  static_assert(detail::FixedVectorRange<Xs>,
                "staticgrad::Model::infer_batch: xs must be a contiguous range of inputs "
                "(std::vector, std::span, std::array of std::array<T, in_size>)");
  static_assert(std::ranges::contiguous_range<Ys> &&
                    std::is_same_v<std::ranges::range_value_t<Ys>, std::array<T, out_size>>,
                "staticgrad::Model::infer_batch: ys must be a contiguous range of std::array<T, out_size>");
  const std::size_t count = detail::paired_size(xs, ys, "staticgrad::Model::infer_batch", "outputs");
  if constexpr (detail::ValidLayer<Net>)
    detail::batch_infer<Net, T>(this->flat(), std::ranges::data(xs), std::ranges::data(ys), count);
}

}  // namespace staticgrad
