// A batch of more than one shard is split across OpenMP's threads (core/shards.hpp): the
// result is the same bits for any number of threads, it is the batch's mean, and a bad
// target in any shard is an exception, not a crash. Without OpenMP the same tests run on
// one thread (thread counts are then ignored).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

#include "support/testing.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace sg = staticgrad;

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
// LLVM's OpenMP runtime is not instrumented: ThreadSanitizer checks our code, not the
// runtime's insides (whose own locking it would otherwise misreport).
extern "C" const char* __tsan_default_options() { return "ignore_noninstrumented_modules=1"; }
#endif
#endif

namespace {

using sgtest::on_threads;
using Net = sg::Sequential<sg::Dense<12, 48, sg::Tanh>, sg::Residual<sg::Dense<48, 48, sg::GELU>>,
                           sg::Frozen<sg::Dense<48, 24, sg::ReLU>>, sg::Dense<24, 5>>;
constexpr std::size_t classes = 5;

template <class T>
struct Batch {
  std::vector<std::array<T, 12>> inputs;
  std::vector<std::size_t> labels;
};

template <class T>
Batch<T> random_batch(std::size_t count, std::uint64_t seed) {
  sg::init::Rng rng(seed);
  Batch<T> batch;
  for (std::size_t s = 0; s < count; ++s) {
    batch.inputs.push_back(sgtest::random_vector<T, 12>(rng));
    batch.labels.push_back(s * 7 % classes);
  }
  return batch;
}

template <class T>
bool same_bits(std::span<const T> a, std::span<const T> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

// Softmax cross-entropy that also notes which OpenMP threads evaluated it.
struct ThreadNotingLoss : sg::SoftmaxCrossEntropy {
  std::atomic<unsigned>* threads_seen;

  template <class T, std::size_t N, class Target>
  T value_and_grad(std::span<const T, N> prediction, const Target& target, std::span<T, N> grad) const {
#ifdef _OPENMP
    threads_seen->fetch_or(1u << (omp_get_thread_num() % 32), std::memory_order_relaxed);
#endif
    return sg::SoftmaxCrossEntropy::value_and_grad<T, N>(prediction, target, grad);
  }
};

}  // namespace

TEST_CASE_TEMPLATE("threads: a batch of several shards gives the same bits on any number of threads", T, float,
                   double) {
  constexpr std::size_t shard = sg::detail::shard_samples<Net, T>;
  static_assert(sg::detail::shardable<Net, T> && shard >= 64);
  const sg::Model<Net, T> model{11};
  // Two shards, a last shard of one sample, several whole shards, more shards than threads.
  for (const std::size_t count : {shard + 1, 2 * shard + 1, 4 * shard, 9 * shard + 17}) {
    CAPTURE(count);
    const auto batch = random_batch<T>(count, count);
    const auto one_thread = std::make_unique<sg::LossAndGradients<Net, T>>();
    on_threads(1, [&] { *one_thread = sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, batch.inputs, batch.labels); });
    for (const int threads : {2, 3, 8}) {
      CAPTURE(threads);
      const auto result = std::make_unique<sg::LossAndGradients<Net, T>>();
      on_threads(threads,
                 [&] { *result = sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, batch.inputs, batch.labels); });
      CHECK(result->loss == one_thread->loss);
      CHECK(same_bits<T>(result->grads.flat(), one_thread->grads.flat()));
    }
  }
}

TEST_CASE_TEMPLATE("threads: a batch of several shards is the mean over its samples", T, float, double) {
  constexpr std::size_t shard = sg::detail::shard_samples<Net, T>;
  const std::size_t count = 3 * shard + 7;
  const sg::Model<Net, T> model{12};
  const auto batch = random_batch<T>(count, 5);
  const auto sharded = std::make_unique<sg::LossAndGradients<Net, T>>();
  on_threads(2, [&] { *sharded = sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, batch.inputs, batch.labels); });
  // The reference: pieces of at most one shard (not split), weighted by their sizes.
  double loss = 0;
  std::vector<double> grads(sg::param_count<Net>, 0.0);
  for (std::size_t first = 0; first < count; first += shard) {
    const std::size_t size = std::min(shard, count - first);
    const auto piece = sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, std::span(batch.inputs).subspan(first, size),
                                          std::span(batch.labels).subspan(first, size));
    const double weight = static_cast<double>(size) / static_cast<double>(count);
    loss += weight * piece.loss;
    for (std::size_t i = 0; i < grads.size(); ++i) grads[i] += weight * piece.grads.flat()[i];
  }
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  CHECK(sharded->loss == doctest::Approx(loss).epsilon(tolerance));
  double largest = 0, worst = 0;
  for (const double g : grads) largest = std::max(largest, std::abs(g));
  REQUIRE(largest > 1e-3);
  for (std::size_t i = 0; i < grads.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(sharded->grads.flat()[i]) - grads[i]) / largest);
  CHECK(worst < tolerance);
  // The Frozen layer's gradient is never written.
  const auto frozen = sharded->grads.template layer<2>().flat();
  CHECK(std::all_of(frozen.begin(), frozen.end(), [](T g) { return g == T{}; }));
}

TEST_CASE("threads: the shards of a batch run on the threads OpenMP gives") {
  constexpr std::size_t shard = sg::detail::shard_samples<Net, float>;
  const sg::Model<Net, float> model{13};
  const auto batch = random_batch<float>(4 * shard, 6);
  const auto grads = std::make_unique<sg::Gradients<Net, float>>();
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    std::atomic<unsigned> seen{0};
    on_threads(threads, [&] { sg::value_and_grad(model, ThreadNotingLoss{{}, &seen}, batch.inputs, batch.labels, *grads); });
#ifdef _OPENMP
    CHECK(seen.load() == (threads == 1 ? 0b1u : 0b11u));
#else
    CHECK(seen.load() == 0);
#endif
  }
  // A batch of one shard stays on the calling thread.
  std::atomic<unsigned> seen{0};
  on_threads(2, [&] {
    sg::value_and_grad(model, ThreadNotingLoss{{}, &seen}, std::span(batch.inputs).first(shard),
                       std::span(batch.labels).first(shard), *grads);
  });
  CHECK(seen.load() <= 0b1u);
}

TEST_CASE("threads: a bad class index in any shard is an exception on any number of threads") {
  constexpr std::size_t shard = sg::detail::shard_samples<Net, float>;
  const sg::Model<Net, float> model{14};
  auto batch = random_batch<float>(4 * shard, 7);
  batch.labels[2 * shard + 3] = 9;
  batch.labels[3 * shard] = 8;
  const auto grads = std::make_unique<sg::Gradients<Net, float>>();
  for (const int threads : {1, 2, 4}) {
    CAPTURE(threads);
    on_threads(threads, [&] {
      // The first bad sample in batch order is the one reported.
      CHECK_THROWS_WITH_AS(sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, batch.inputs, batch.labels, *grads),
                           doctest::Contains("class index 9"), std::out_of_range);
    });
  }
}

TEST_CASE("threads: fit and train_step with large batches give the same model on any number of threads") {
  constexpr std::size_t shard = sg::detail::shard_samples<Net, float>;
  const auto batch = random_batch<float>(6 * shard + 5, 8);
  const auto train = [&](int threads) {
    auto model = std::make_unique<sg::Model<Net, float>>(15);
    auto adam = std::make_unique<sg::Adam<Net, float>>(sg::Adam<Net, float>::Options{.lr = 0.01});
    on_threads(threads, [&] {
      sg::fit(*model, *adam, sg::SoftmaxCrossEntropy{}, batch.inputs, batch.labels,
              {.epochs = 3, .batch_size = 2 * shard + 3, .seed = 4});
      const auto grads = std::make_unique<sg::Gradients<Net, float>>();
      sg::train_step(*model, *adam, sg::SoftmaxCrossEntropy{}, batch.inputs, batch.labels, *grads);
    });
    return model;
  };
  const auto one_thread = train(1);
  CHECK(sgtest::fingerprint(*one_thread) != sgtest::fingerprint(sg::Model<Net, float>(15)));
  for (const int threads : {2, 3}) {
    CAPTURE(threads);
    CHECK(sgtest::fingerprint(*train(threads)) == sgtest::fingerprint(*one_thread));
  }
}
