/// @file What a BatchNorm layer sees of the batch it trains on.
///
/// A BatchNorm in training normalizes each sample by the batch's statistics, and its
/// backward pass needs two means over the batch of its output gradient. Samples otherwise
/// go through the network one by one (or a block at a time, or a shard per thread), so the
/// batch driver (core/batch_norm_training.hpp) makes passes over the batch: one per
/// BatchNorm, in forward order, for its statistics; one per BatchNorm, in backward order,
/// for its gradient means; then the gradient itself. The pass running on a thread is
/// `batch_norm_pass<T>::current`; outside one (inference, input_grad, one sample) a
/// BatchNorm is the fixed affine map of its running statistics.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <type_traits>

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <staticgrad/detail/traversal.hpp>

namespace staticgrad::detail {

/// Whether leaf layer L normalizes over the batch in training (BatchNorm).
template <class L>
constexpr bool couples_batch() {
  if constexpr (requires { L::couples_batch; }) return L::couples_batch;
  else return false;
}

/// A BatchNorm of a network: where its parameters start in the flat array, how many
/// features it has, where they start among all BatchNorms' features (end to end), and its ε.
struct batch_norm_site {
  std::size_t param_offset = 0;
  std::size_t features = 0;
  std::size_t first = 0;
  double epsilon = 0;
};

/// Net's BatchNorms in the flat order, which is the order of the forward pass.
template <class Net>
inline constexpr auto batch_norm_sites = [] {
  constexpr std::size_t count = [] {
    std::size_t n = 0;
    visit_leaves<Net>([&](auto node) { n += couples_batch<typename decltype(node)::layer>(); });
    return n;
  }();
  std::array<batch_norm_site, count> sites{};
  std::size_t k = 0, first = 0;
  visit_leaves<Net>([&](auto node) {
    using N = decltype(node);
    if constexpr (couples_batch<typename N::layer>()) {
      sites[k++] = {N::param_offset, N::layer::in_size, first, N::layer::epsilon};
      first += N::layer::in_size;
    }
  });
  return sites;
}();

template <class L>
struct couples_batch_test : std::bool_constant<couples_batch<L>()> {};

/// Whether layer L is or holds a BatchNorm (by its type alone: cheap for every network).
template <class L>
constexpr bool contains_batch_norm() {
  return any_layer<couples_batch_test, L>();
}

template <class Net>
inline constexpr bool has_batch_norm = contains_batch_norm<Net>();

/// All of Net's BatchNorm features, and the most any one of them has.
template <class Net>
inline constexpr std::size_t batch_norm_features = [] {
  std::size_t n = 0;
  for (const auto site : batch_norm_sites<Net>) n += site.features;
  return n;
}();
template <class Net>
inline constexpr std::size_t widest_batch_norm = [] {
  std::size_t n = 0;
  for (const auto site : batch_norm_sites<Net>) n = site.features > n ? site.features : n;
  return n;
}();

/// One pass over a batch, as a BatchNorm on this thread sees it. In the `statistics` pass
/// of site k, the sites before k normalize by the batch statistics already known, and site
/// k adds its inputs to this shard's sums (what comes after it is not used). In the
/// `gradient_means` pass of site k, the sites after k have their gradient means, and site
/// k adds its output gradients to this shard's sums (what its backward pass gives the
/// layers before it is not used). In the `gradient` pass every site has both. What is not
/// used is not computed: once site k has collected, the chains around it skip their next
/// layers (`forward_stopped`, `backward_stopped`) and give zeros.
template <class T>
struct batch_norm_pass {
  enum class kind { statistics, gradient_means, gradient };

  kind pass = kind::gradient;
  std::size_t site = 0;  // the site this pass collects for
  const T* params = nullptr;  // the model's flat parameters: a BatchNorm is found by where its own start
  std::span<const batch_norm_site> sites;
  // Over every site's features: the batch means and 1/√(biased variance + ε) of the inputs;
  // the batch means of dy and of dy·x̂.
  const T* mean = nullptr;
  const T* inv_std = nullptr;
  const T* mean_dy = nullptr;
  const T* mean_dy_xhat = nullptr;
  // This shard's sums for `site`: in a statistics pass Welford's count, means and sums of
  // squared deviations; in a gradient_means pass Σ dy and Σ dy·x̂ (count unused).
  T* count = nullptr;
  T* first_sums = nullptr;
  T* second_sums = nullptr;
  // Set once `site` has collected this sample's (or block's) sums; cleared before the next.
  bool* stopped = nullptr;

  /// The pass of the calling thread, or null (evaluation).
  static inline thread_local const batch_norm_pass* current = nullptr;

  /// Whether the calling thread's forward pass has gone past what its pass needs (a
  /// statistics pass, past the site it collects for).
  static bool forward_stopped() { return current != nullptr && current->pass == kind::statistics && *current->stopped; }
  /// Whether its backward pass has (a gradient-means pass, past the site it collects for).
  static bool backward_stopped() {
    return current != nullptr && current->pass == kind::gradient_means && *current->stopped;
  }

  /// The index of the BatchNorm whose parameters start at `layer_params`.
  std::size_t site_of(const T* layer_params) const {
    const auto offset = static_cast<std::size_t>(layer_params - params);
    std::size_t k = 0;
    while (sites[k].param_offset != offset) ++k;
    return k;
  }
  bool has_statistics(std::size_t k) const { return pass != kind::statistics || k < site; }
  bool has_gradient_means(std::size_t k) const {
    return pass == kind::gradient || (pass == kind::gradient_means && k > site);
  }
  bool collects_statistics(std::size_t k) const { return pass == kind::statistics && k == site; }
  bool collects_gradient(std::size_t k) const { return pass == kind::gradient_means && k == site; }

  /// Adds one sample's inputs to the shard's statistics (Welford's update); the rest of the
  /// forward pass is not needed.
  void add_inputs(const T* x, std::size_t features) const {
    *stopped = true;
    const T inverse_count = T{1} / ++*count;
    for (std::size_t i = 0; i < features; ++i) {
      const T delta = x[i] - first_sums[i];
      first_sums[i] += delta * inverse_count;
      second_sums[i] += delta * (x[i] - first_sums[i]);
    }
  }

  /// Adds one sample's output gradient and normalized input to the shard's sums; the rest of
  /// the backward pass is not needed.
  void add_gradient(const T* dy, const T* xhat, std::size_t features) const {
    *stopped = true;
    for (std::size_t i = 0; i < features; ++i) {
      first_sums[i] += dy[i];
      second_sums[i] += dy[i] * xhat[i];
    }
  }
};

/// Makes `pass` the calling thread's pass while it lives.
template <class T>
class batch_norm_scope {
 public:
  explicit batch_norm_scope(const batch_norm_pass<T>& pass) : saved_(batch_norm_pass<T>::current) {
    batch_norm_pass<T>::current = &pass;
  }
  ~batch_norm_scope() { batch_norm_pass<T>::current = saved_; }
  batch_norm_scope(const batch_norm_scope&) = delete;
  batch_norm_scope& operator=(const batch_norm_scope&) = delete;

 private:
  const batch_norm_pass<T>* saved_;
};

/// The statistics of each BatchNorm's inputs over the batch that value_and_grad computed a
/// gradient from (their means, then their unbiased variances, each over all sites'
/// features), which an optimizer's step folds into the running statistics. `fresh` until
/// then: a gradient that no batch wrote does not move them.
template <class Net, class T, std::size_t Features = batch_norm_features<Net>>
struct batch_statistics {
  std::array<T, 2 * Features> values;
  bool fresh = false;
};
template <class Net, class T>
struct batch_statistics<Net, T, 0> {};

}  // namespace staticgrad::detail
