// Proves that inference (one sample and a batch), value_and_grad (single, batch, and a batch split across threads)
// and the backward pass never touch the heap: global operator new is replaced by one that counts its calls.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <ratio>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/staticgrad.hpp>

namespace {
std::size_t allocations = 0;
}

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc{};
}
// g++ cannot see that the replaced operator new above pairs with these.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace sg = staticgrad;

TEST_CASE("no heap: inference and value_and_grad allocate nothing") {
  using Net = sg::Sequential<sg::LayerNorm<8>, sg::Dense<8, 32, sg::GELU>,
                             sg::Residual<sg::Dense<32, 32, sg::Tanh>>, sg::RMSNorm<32>, sg::Dense<32, 3>>;
  // Set-up may allocate; the measured calls below may not.
  const auto model = std::make_unique<sg::Model<Net, float>>(42);
  auto grads = std::make_unique<sg::Gradients<Net, float>>();
  const std::array<float, 8> x{1, 2, 3, 4, 5, 6, 7, 8};
  const std::array<float, 3> y{0, 1, 0};
  const std::vector<std::array<float, 8>> xs(16, x);
  const std::vector<std::array<float, 3>> ys(16, y);
  const std::vector<std::size_t> labels(16, 2);
  std::vector<std::array<float, 3>> outputs(16);

  const std::size_t before = allocations;
  float sink = (*model)(x)[0];
  sink += sg::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, x, std::size_t{2}).loss;
  sink += sg::value_and_grad(*model, sg::MSE{}, x, y).grads.flat()[0];
  sink += sg::value_and_grad(*model, sg::MSE{}, xs, ys).loss;
  sink += sg::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, xs, labels, *grads);
  sink += sg::value_and_grad(*model, sg::BCEWithLogits{}, x, y, *grads);
  model->infer_batch(xs, outputs);
  sink += outputs.back()[0];
  CHECK(allocations == before);
  CHECK(sink == sink);  // keeps the calls from being optimized away; false only for NaN
}

namespace {
struct Swish {
  template <class X>
  X operator()(X x) const {
    using std::exp;
    return x / (1 + exp(-x));
  }
};
}  // namespace

TEST_CASE("no heap: Dropout, Frozen, branches and custom activations allocate nothing") {
  using Net = sg::Sequential<sg::Frozen<sg::Dense<4, 8, sg::Tanh>>, sg::Dropout<8, std::ratio<1, 10>>,
                             sg::Sum<sg::Dense<8, 6, Swish>, sg::Concat<sg::Dense<8, 3>, sg::Dense<8, 3, sg::ReLU>>>,
                             sg::Dense<6, 2>>;
  const auto model = std::make_unique<sg::Model<Net, float>>(42);
  auto grads = std::make_unique<sg::Gradients<Net, float>>();
  const std::array<float, 4> x{1, 2, 3, 4};
  const std::array<float, 2> y{0, 1};
  const std::vector<std::array<float, 4>> xs(16, x);
  const std::vector<std::array<float, 2>> ys(16, y);

  const std::size_t before = allocations;
  float sink = (*model)(x)[0];
  sink += sg::value_and_grad(*model, sg::MSE{}, x, y, sg::Training{1, 2}).loss;
  sink += sg::value_and_grad(*model, sg::MSE{}, xs, ys, *grads, sg::Training{1, 3});
  CHECK(allocations == before);
  CHECK(sink == sink);
}

TEST_CASE("no heap: BatchNorm's passes over a batch and its running statistics allocate nothing") {
  using Net = sg::Sequential<sg::Dense<4, 8, sg::Tanh>, sg::BatchNorm<8>, sg::Residual<sg::BatchNorm<8>, sg::Dense<8, 8>>,
                             sg::Dense<8, 2>>;
  const auto model = std::make_unique<sg::Model<Net, float>>(42);
  auto grads = std::make_unique<sg::Gradients<Net, float>>();
  sg::Adam<Net, float> adam({.lr = 0.01});
  const std::vector<std::array<float, 4>> xs{{1, 2, 3, 4}, {0, -1, 2, 1}, {3, 1, 0, 2}, {2, 2, -1, 0}};
  const std::vector<std::array<float, 2>> ys(4, std::array<float, 2>{0, 1});

  const std::size_t before = allocations;
  float sink = (*model)(xs[0])[0];
  sink += sg::value_and_grad(*model, sg::MSE{}, xs, ys, *grads);
  adam.step(*model, *grads);
  sink += sg::train_step(*model, adam, sg::MSE{}, xs, ys, *grads);
  CHECK(allocations == before);
  CHECK(sink == sink);
}

TEST_CASE("no heap: optimizer steps, fused training steps and clipping allocate nothing") {
  using Net = sg::Sequential<sg::Dense<8, 32, sg::ReLU>, sg::Dense<32, 3>>;
  const auto model = std::make_unique<sg::Model<Net, float>>(1);
  const auto grads = std::make_unique<sg::Gradients<Net, float>>();
  const auto sgd = std::make_unique<sg::SGD<Net, float>>(
      sg::SGD<Net, float>::Options{.lr = 0.1, .momentum = 0.9, .nesterov = true});
  const auto adam = std::make_unique<sg::Adam<Net, float>>(sg::Adam<Net, float>::Options{.amsgrad = true});
  const auto adamw = std::make_unique<sg::AdamW<Net, float>>();
  const std::array<float, 8> x{1, 2, 3, 4, 5, 6, 7, 8};

  const std::size_t before = allocations;
  for (int i = 0; i < 3; ++i) {
    sg::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, x, std::size_t{1}, *grads);
    sg::clip_grad_norm(*grads, 1.0f);
    sg::clip_grad_value(*grads, 0.5f);
    sgd->step(*model, *grads);
    adam->step(*model, *grads);
    adamw->step(*model, *grads);
    sg::train_step(*model, *sgd, sg::SoftmaxCrossEntropy{}, x, std::size_t{1}, *grads);
    sg::train_step(*model, *adam, sg::SoftmaxCrossEntropy{}, x, std::size_t{1}, *grads);
  }
  CHECK(allocations == before);
}

TEST_CASE("no heap: mixed-precision passes and steps allocate nothing") {
  using Mixed = sg::Bf16Training<sg::Sequential<sg::Dense<8, 32, sg::ReLU>, sg::Dense<32, 3>>>;
  const auto model = std::make_unique<sg::Model<Mixed, float>>(1);
  const auto grads = std::make_unique<sg::Gradients<Mixed, float>>();
  const auto adam = std::make_unique<sg::MixedPrecision<sg::Adam<Mixed, float>>>(*model);
  const std::vector<std::array<float, 8>> xs(16, {1, 2, 3, 4, 5, 6, 7, 8});
  const std::vector<std::size_t> labels(16, 1);

  const std::size_t before = allocations;
  float sink = (*model)(xs[0])[0];
  sink += sg::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, xs, labels, *grads);
  adam->step(*model, *grads);
  sink += sg::train_step(*model, *adam, sg::SoftmaxCrossEntropy{}, xs, labels, *grads);
  CHECK(allocations == before);
  CHECK(sink == sink);
}

TEST_CASE("no heap: a fit step allocates nothing (only fit's set-up does)") {
  using Net = sg::Sequential<sg::Dense<2, 16, sg::Tanh>, sg::Dense<16, 2>>;
  const std::vector<std::array<double, 2>> xs(50, {0.5, -1});
  const std::vector<std::size_t> labels(50, 1);
  sg::Model<Net, double> model{1};
  sg::Adam<Net, double> adam{};
  std::vector<std::size_t> counts;
  counts.reserve(100);
  for (const double clip_norm : {1.0, 0.0}) {  // clipped steps, and fused ones (train_step)
    counts.clear();
    sg::fit(model, adam, sg::SoftmaxCrossEntropy{}, xs, labels,
            {.epochs = 4, .batch_size = 8, .clip_norm = clip_norm},
            [&](const sg::FitStep<Net, double>&) { counts.push_back(allocations); });
    REQUIRE(counts.size() == 28);
    CHECK(counts.back() == counts.front());  // nothing between the first step and the last
  }
}

TEST_CASE("no heap: a batch split into shards across threads allocates nothing") {
  using Net = sg::Sequential<sg::Dense<8, 32, sg::Tanh>, sg::Dense<32, 3>>;
  const auto model = std::make_unique<sg::Model<Net, float>>(2);
  const auto grads = std::make_unique<sg::Gradients<Net, float>>();
  const auto adam = std::make_unique<sg::Adam<Net, float>>();
  const std::size_t count = 3 * sg::detail::shard_samples<Net, float> + 1;
  const std::vector<std::array<float, 8>> xs(count, {1, 2, 3, 4, 5, 6, 7, 8});
  const std::vector<std::size_t> labels(count, 1);
  // The first parallel region starts OpenMP's threads (with malloc, not operator new).
  float sink = sg::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, xs, labels, *grads);
  const std::size_t before = allocations;
  sink += sg::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, xs, labels, *grads);
  sink += sg::train_step(*model, *adam, sg::SoftmaxCrossEntropy{}, xs, labels, *grads);
  CHECK(allocations == before);
  CHECK(sink == sink);
}

TEST_CASE("no heap: a warm tape records and walks back without allocating") {
  using Net = sg::Sequential<sg::LayerNorm<8>, sg::Dense<8, 32, sg::GELU>,
                             sg::Residual<sg::Dense<32, 32, sg::Tanh>>, sg::RMSNorm<32>, sg::Dense<32, 3>>;
  const auto model = std::make_unique<sg::Model<Net, float>>(42);
  auto grads = std::make_unique<sg::Gradients<Net, float>>();
  const std::array<float, 8> x{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<std::array<float, 8>> xs(16, x);
  const std::vector<std::size_t> labels(16, 2);
  sg::tape::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, x, std::size_t{2}, *grads);  // warm-up

  const std::size_t before = allocations;
  float sink = sg::tape::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, x, std::size_t{1}, *grads);
  sink += sg::tape::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, xs, labels, *grads);
  sink += sg::tape::value_and_grad(*model, sg::MSE{}, x, std::array<float, 3>{}).loss;
  CHECK(allocations == before);
  CHECK(sink == sink);
}

TEST_CASE("no heap: the counter sees an allocation") {
  const std::size_t before = allocations;
  const auto probe = std::make_unique<int>(1);
  const std::size_t after = allocations;
  CHECK(after == before + 1);
}

TEST_CASE("no heap: a quantized model's inference allocates nothing") {
  using Net = sg::Sequential<sg::Dense<8, 32, sg::ReLU>, sg::GRU<32, 16>, sg::Dense<16, 3>>;
  const auto model = std::make_unique<sg::Model<Net, float>>(42);
  const auto bf16 = std::make_unique<sg::Model<sg::quantized_t<Net, sg::bf16>, float>>(sg::quantize<sg::bf16>(*model));
  const auto int8 = std::make_unique<sg::Model<sg::quantized_t<Net, sg::int8>, float>>(sg::quantize<sg::int8>(*model));
  sg::State<sg::quantized_t<Net, sg::bf16>, float> bf16_state;
  sg::State<sg::quantized_t<Net, sg::int8>, float> int8_state;
  const std::array<float, 8> x{1, 2, 3, 4, 5, 6, 7, 8};

  const std::size_t before = allocations;
  float sink = (*bf16)(x, bf16_state)[0];
  sink += (*int8)(x, int8_state)[0];
  CHECK(allocations == before);
  CHECK(sink == sink);
}
