// Model and Gradients: the flat order, layer views, inference against a hand-written
// reference, seeded initialization, and the overload that writes into caller's gradients.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {
using Mlp = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 4, sg::Tanh>, sg::Dense<4, 2>>;

// The seed texts' recursion a_l = φ(W_l a_{l−1} + b_l), written out with W as [Out][In].
template <std::size_t In, std::size_t Out, class Act>
std::array<double, Out> reference_layer(const std::array<double, In>& x,
                                        const std::array<std::array<double, In>, Out>& w,
                                        const std::array<double, Out>& b) {
  std::array<double, Out> y{};
  for (std::size_t o = 0; o < Out; ++o) {
    double z = b[o];
    for (std::size_t i = 0; i < In; ++i) z += w[o][i] * x[i];
    y[o] = Act::value(z);
  }
  return y;
}
}  // namespace

TEST_CASE("model: the flat order is layer by layer, Dense weights [In][Out] then bias") {
  static_assert(sg::param_count<Mlp> == (3 * 4 + 4) + (4 * 4 + 4) + (4 * 2 + 2));
  static_assert(sg::flops<Mlp> == (2 * 3 * 4 + 4) + (2 * 4 * 4 + 4) + 2 * 4 * 2);
  sg::Model<Mlp, double> model{};
  std::iota(model.flat().begin(), model.flat().end(), 0.0);
  CHECK(model.layer<0>().weight(0, 0) == 0);
  CHECK(model.layer<0>().weight(1, 0) == 1);   // input 0 to output 1: next in the row
  CHECK(model.layer<0>().weight(0, 1) == 4);   // input 1 to output 0: one row of Out further
  CHECK(model.layer<0>().bias(0) == 12);
  CHECK(model.layer<1>().weight(0, 0) == 16);
  CHECK(model.layer<2>().bias(1) == sg::param_count<Mlp> - 1);
  CHECK(model.layer<2>().flat().size() == 10);

  SUBCASE("nested composites are viewed the same way") {
    using Net = sg::Sequential<sg::LayerNorm<2>, sg::Residual<sg::Dense<2, 2>, sg::RMSNorm<2>>>;
    sg::Model<Net, float> m{};
    std::iota(m.flat().begin(), m.flat().end(), 0.0f);
    CHECK(m.layer<0>().gain(1) == 1);
    CHECK(m.layer<0>().bias(0) == 2);
    CHECK(m.layer<1>().layer<0>().weight(1, 0) == 5);
    CHECK(m.layer<1>().layer<1>().gain(0) == 10);
  }
}

TEST_CASE("model: inference matches the hand-written recursion") {
  sg::init::Rng rng(3);
  sg::Model<Mlp, double> model{};
  sgtest::randomize(model, rng);
  std::array<std::array<double, 3>, 4> w0{};
  std::array<std::array<double, 4>, 4> w1{};
  std::array<std::array<double, 4>, 2> w2{};
  for (std::size_t o = 0; o < 4; ++o)
    for (std::size_t i = 0; i < 3; ++i) w0[o][i] = model.layer<0>().weight(o, i);
  for (std::size_t o = 0; o < 4; ++o)
    for (std::size_t i = 0; i < 4; ++i) w1[o][i] = model.layer<1>().weight(o, i);
  for (std::size_t o = 0; o < 2; ++o)
    for (std::size_t i = 0; i < 4; ++i) w2[o][i] = model.layer<2>().weight(o, i);
  const auto bias = [&](auto view, auto& b) {
    for (std::size_t o = 0; o < b.size(); ++o) b[o] = view.bias(o);
  };
  std::array<double, 4> b0{}, b1{};
  std::array<double, 2> b2{};
  bias(model.layer<0>(), b0);
  bias(model.layer<1>(), b1);
  bias(model.layer<2>(), b2);

  for (int trial = 0; trial < 20; ++trial) {
    const auto x = sgtest::random_vector<double, 3>(rng);
    const auto expected = reference_layer<4, 2, sg::Identity>(
        reference_layer<4, 4, sg::Tanh>(reference_layer<3, 4, sg::ReLU>(x, w0, b0), w1, b1), w2, b2);
    const auto y = model(x);
    CHECK(y[0] == doctest::Approx(expected[0]).epsilon(1e-14));
    CHECK(y[1] == doctest::Approx(expected[1]).epsilon(1e-14));
  }
}

TEST_CASE("model: inputs may be std::array, C arrays or fixed-extent spans") {
  sg::init::Rng rng(5);
  sg::Model<Mlp, float> model{};
  sgtest::randomize(model, rng);
  const std::array<float, 3> x{0.5f, -1.f, 2.f};
  const float c_array[3] = {0.5f, -1.f, 2.f};
  const auto y = model(x);
  CHECK(model(c_array) == y);
  CHECK(model(std::span<const float, 3>(x)) == y);
  CHECK(model(std::span<const float, 3>(x)) == y);
}

TEST_CASE("model: seeded initialization follows the activation and is reproducible") {
  using Net = sg::Sequential<sg::LayerNorm<64>, sg::Dense<64, 256, sg::ReLU>, sg::Dense<256, 256, sg::Tanh>,
                             sg::Dense<256, 4>>;
  const auto a = std::make_unique<sg::Model<Net, double>>(42);
  const auto b = std::make_unique<sg::Model<Net, double>>(42);
  const auto c = std::make_unique<sg::Model<Net, double>>(43);
  CHECK(std::equal(a->flat().begin(), a->flat().end(), b->flat().begin()));
  CHECK_FALSE(std::equal(a->flat().begin(), a->flat().end(), c->flat().begin()));

  const auto variance = [](auto values) {
    double sum = 0, sq = 0;
    for (double v : values) { sum += v; sq += v * v; }
    const double n = static_cast<double>(values.size());
    return sq / n - (sum / n) * (sum / n);
  };
  CHECK(a->layer<0>().gain(7) == 1.0);
  CHECK(a->layer<0>().bias(7) == 0.0);
  // He normal for ReLU: 2 / fan_in. Xavier uniform for Tanh: 2 / (fan_in + fan_out).
  CHECK(variance(sg::Dense<64, 256, sg::ReLU>::weights(a->layer<1>().flat())) ==
        doctest::Approx(2.0 / 64).epsilon(0.05));
  CHECK(variance(sg::Dense<256, 256, sg::Tanh>::weights(a->layer<2>().flat())) ==
        doctest::Approx(2.0 / 512).epsilon(0.05));
  for (std::size_t o = 0; o < 256; ++o) CHECK(a->layer<1>().bias(o) == 0.0);
}

TEST_CASE("value_and_grad: writing into the caller's Gradients gives the same result") {
  sg::init::Rng rng(11);
  sg::Model<Mlp, double> model{};
  sgtest::randomize(model, rng);
  const auto x = sgtest::random_vector<double, 3>(rng);
  const auto y = sgtest::random_vector<double, 2>(rng);
  const auto expected = sg::value_and_grad(model, sg::MSE{}, x, y);

  auto grads = std::make_unique<sg::Gradients<Mlp, double>>();  // off the stack
  std::fill(grads->flat().begin(), grads->flat().end(), 99.0);   // overwritten, not added to
  const double loss = sg::value_and_grad(model, sg::MSE{}, x, y, *grads);
  CHECK(loss == expected.loss);
  CHECK(std::equal(grads->flat().begin(), grads->flat().end(), expected.grads.flat().begin()));
}

TEST_CASE("value_and_grad: a batch may be any contiguous range") {
  sg::init::Rng rng(13);
  sg::Model<Mlp, float> model{};
  sgtest::randomize(model, rng);
  std::array<std::array<float, 3>, 3> xs{};
  std::array<std::array<float, 2>, 3> ys{};
  for (auto& x : xs) x = sgtest::random_vector<float, 3>(rng);
  for (auto& y : ys) y = sgtest::random_vector<float, 2>(rng);
  const std::vector<std::array<float, 3>> xv(xs.begin(), xs.end());
  const std::vector<std::array<float, 2>> yv(ys.begin(), ys.end());

  const auto from_arrays = sg::value_and_grad(model, sg::MSE{}, xs, ys);
  const auto from_vectors = sg::value_and_grad(model, sg::MSE{}, xv, yv);
  const auto from_spans = sg::value_and_grad(model, sg::MSE{}, std::span(xv), std::span(yv));
  CHECK(from_arrays.loss == from_vectors.loss);
  CHECK(from_arrays.loss == from_spans.loss);
  CHECK(from_arrays.grads.flat()[5] == from_spans.grads.flat()[5]);

  SUBCASE("mismatched or empty batches are refused with a message") {
    const std::vector<std::array<float, 2>> two(yv.begin(), yv.begin() + 2);
    CHECK_THROWS_WITH_AS(sg::value_and_grad(model, sg::MSE{}, xv, two),
                         "staticgrad::value_and_grad: 3 inputs but 2 targets", std::invalid_argument);
    const std::vector<std::array<float, 3>> none;
    const std::vector<std::array<float, 2>> no_targets;
    CHECK_THROWS_AS(sg::value_and_grad(model, sg::MSE{}, none, no_targets), std::invalid_argument);
  }
}

TEST_CASE("value_and_grad: a batch is the mean of its samples (GELU, 7 samples: a g++ -O3 regression)") {
  using Net = sg::Sequential<sg::Dense<3, 4, sg::GELU>, sg::Dense<4, 2>>;
  sg::init::Rng rng(99);
  sg::Model<Net, double> model{};
  sgtest::randomize(model, rng);
  std::vector<std::array<double, 3>> xs;
  std::vector<std::array<double, 2>> ys;
  for (int s = 0; s < 7; ++s) {
    xs.push_back(sgtest::random_vector<double, 3>(rng));
    ys.push_back(sgtest::random_vector<double, 2>(rng));
  }
  const auto batch = sg::value_and_grad(model, sg::MSE{}, xs, ys);
  std::array<double, sg::param_count<Net>> mean{};
  for (std::size_t s = 0; s < xs.size(); ++s) {
    const auto single = sg::value_and_grad(model, sg::MSE{}, xs[s], ys[s]);
    for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += single.grads.flat()[i] / 7;
  }
  for (std::size_t i = 0; i < mean.size(); ++i) CHECK(batch.grads.flat()[i] == doctest::Approx(mean[i]).epsilon(1e-12));
}

// value_and_grad over 37 samples (blocks and a rest) against the mean of one at a time.
template <class Net, class T>
void check_batch_is_mean_of_samples() {
  static_assert(sg::detail::block_samples<Net, T> > 1);
  constexpr std::size_t in = Net::in_size;
  sg::init::Rng rng(5);
  const sg::Model<Net, T> model{3};
  std::vector<std::array<T, in>> xs;
  std::vector<std::size_t> labels;
  for (std::size_t s = 0; s < 37; ++s) {
    xs.push_back(sgtest::random_vector<T, in>(rng));
    labels.push_back(s % 5);
  }
  const auto batch = sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, xs, labels);
  double mean_loss = 0;
  std::vector<double> mean(sg::param_count<Net>, 0.0);
  double largest = 0;
  for (std::size_t s = 0; s < xs.size(); ++s) {
    const auto single = sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, xs[s], labels[s]);
    mean_loss += single.loss / 37.0;
    for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += single.grads.flat()[i] / 37.0;
  }
  for (const double g : mean) largest = std::max(largest, std::abs(g));
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  CHECK(batch.loss == doctest::Approx(mean_loss).epsilon(tolerance));
  REQUIRE(largest > 1e-3);
  double worst = 0;
  for (std::size_t i = 0; i < mean.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(batch.grads.flat()[i]) - mean[i]) / largest);
  CHECK(worst < tolerance);
}

TEST_CASE_TEMPLATE("value_and_grad: a batch of blocks of samples is the mean of its samples", T, float, double) {
  // Wide enough for the matrix-matrix kernels in float on AVX-512 too (16 lanes): 40 and 20
  // outputs end in a partial register, 10 are a zero-padded one.
  check_batch_is_mean_of_samples<sg::Sequential<sg::Dense<24, 40, sg::Tanh>, sg::Residual<sg::Dense<40, 40, sg::GELU>>,
                                                sg::Dense<40, 20, sg::ReLU>, sg::Dense<20, 10>>,
                                 T>();
}

TEST_CASE_TEMPLATE("value_and_grad: blocks of an odd number of samples", T, float, double) {
  // A wide input makes the blocks small and odd (float 23, double 11 samples): the input
  // gradients' samples fill registers only in part.
  using Net = sg::Sequential<sg::Dense<600, 40, sg::Tanh>, sg::Dense<40, 24, sg::GELU>, sg::Dense<24, 10>>;
  static_assert(sg::detail::block_samples<Net, T> % 2 == 1);
  check_batch_is_mean_of_samples<Net, T>();
}

TEST_CASE_TEMPLATE("Model::infer_batch: the outputs of one sample at a time", T, float, double) {
  // Wide layers (the matrix-matrix kernels), a layer without a batched path (LayerNorm) in a
  // block, and Dropout (identity in inference; one sample at a time); 37 samples are blocks
  // and a rest.
  using Wide = sg::Sequential<sg::Dense<24, 40, sg::Tanh>, sg::Residual<sg::Dense<40, 40, sg::GELU>>,
                              sg::Dense<40, 20, sg::ReLU>, sg::Dense<20, 10>>;
  using Mixed = sg::Sequential<sg::LayerNorm<24>, sg::Dense<24, 32, sg::SiLU>, sg::Dense<32, 3>>;
  using WithDropout = sg::Sequential<sg::Dense<24, 8, sg::Tanh>, sg::Dropout<8>, sg::Dense<8, 2>>;
  sg::init::Rng rng(8);
  std::vector<std::array<T, 24>> xs;
  for (std::size_t s = 0; s < 37; ++s) xs.push_back(sgtest::random_vector<T, 24>(rng));
  const auto check = [&]<class Net>(const sg::Model<Net, T>& model) {
    std::vector<std::array<T, Net::out_size>> ys(xs.size());
    model.infer_batch(xs, ys);
    // One sample sums a layer's inputs in several partial sums (gemm::affine_one), a block
    // in one: last-bit differences, which later layers carry on.
    const double tolerance = 64 * std::numeric_limits<T>::epsilon();
    for (std::size_t s = 0; s < xs.size(); ++s) {
      CAPTURE(s);
      const auto one = model(xs[s]);
      for (std::size_t o = 0; o < one.size(); ++o)
        CHECK(sgtest::relative_error(ys[s][o], one[o], 1.0) <= tolerance);
    }
    std::vector<std::array<T, Net::out_size>> too_few(3);
    CHECK_THROWS_WITH_AS(model.infer_batch(xs, too_few), "staticgrad::Model::infer_batch: 37 inputs but 3 outputs",
                         std::invalid_argument);
  };
  // Layers narrower than half a register: a register of samples' dot products at a time
  // (gemm::affine_reduced), or one sample at a time for the smallest.
  using Narrow = sg::Sequential<sg::Dense<24, 3, sg::Tanh>, sg::Dense<3, 12>>;
  static_assert(sg::detail::block_samples<Wide, T> > 1);
  check(sg::Model<Wide, T>{3});
  check(sg::Model<Mixed, T>{4});
  check(sg::Model<WithDropout, T>{5});
  check(sg::Model<Narrow, T>{6});
}

TEST_CASE_TEMPLATE("Model: a sequence through narrow layers gives what streaming gives", T, float, double) {
  // Convolutions into twelve and into three channels, Dense layers into twelve and one: the
  // sequence takes the windows of all the steps, and the narrow layers' dot products a
  // register of steps at a time (150 steps: whole chunks and a rest). Three narrow layers:
  // two would undo each other's steps in the wrong lanes.
  using Net = sg::Sequential<sg::Conv1D<1, 12, 5, 2, sg::Tanh>, sg::Conv1D<12, 3, 2, 4, sg::Tanh>,
                             sg::Dense<3, 12, sg::Tanh>, sg::Dense<12, 1>, sg::Dense<1, 12, sg::Tanh>, sg::Dense<12, 1>>;
  const sg::Model<Net, T> model{11};
  sg::init::Rng rng(12);
  sg::Sequence<T, 150, 1> xs;
  for (std::size_t t = 0; t < xs.size(); ++t) xs[t][0] = static_cast<T>(rng.normal());
  sg::State<Net, T> whole, streamed;
  const auto ys = model(xs, whole);
  for (std::size_t t = 0; t < xs.size(); ++t) {
    CAPTURE(t);
    CHECK(sgtest::relative_error(ys[t][0], model(xs[t], streamed)[0], 1.0) <= 64 * std::numeric_limits<T>::epsilon());
  }
}

TEST_CASE_TEMPLATE("Model: convolutions over a sequence read their windows where the inputs are", T, float, double) {
  // Wide enough for the matrix products: a past of 6 steps, which the chunks of 64 steps
  // leave wrapped round the ring, read in place; a dilation longer than a chunk, whose
  // windows are set side by side; a 1×1 convolution reading its input itself. From a state
  // that some steps have filled, over 150 steps (whole chunks and a rest).
  static_assert(150 % sg::detail::inference_chunk != 0 && sg::detail::inference_chunk % 6 != 0);
  const auto check = [&]<class Net>() {
    const auto model = std::make_unique<sg::Model<Net, T>>(13);
    sg::init::Rng rng(14);
    sg::State<Net, T> state;
    for (std::size_t t = 0; t < 75; ++t) (*model)(sgtest::random_vector<T, Net::in_size>(rng), state);
    const auto xs = std::make_unique<sg::Sequence<T, 150, Net::in_size>>();
    for (auto& x : *xs) x = sgtest::random_vector<T, Net::in_size>(rng);
    sgtest::check_sequence_as_streamed(*model, *xs, state);
  };
  check.template operator()<sg::Sequential<sg::Conv1D<3, 16, 3, 3, sg::Tanh>, sg::Conv1D<16, 16, 2, 70>,
                                           sg::Conv1D<16, 8, 1, 1, sg::Tanh>, sg::Dense<8, 1>>>();
  // Eight, four and two outputs: a register's lanes hold two, four or eight inputs'
  // products for each (gemm::affine_interleaved), in whole registers or narrower ones,
  // depending on the target.
  check.template operator()<sg::Sequential<sg::Conv1D<4, 8, 3, 5, sg::Tanh>, sg::Conv1D<8, 4, 2, 70>,
                                           sg::Conv1D<4, 2, 3, 2, sg::Tanh>, sg::Conv1D<2, 2, 1>, sg::Dense<2, 1>>>();
}

TEST_CASE_TEMPLATE("Model::infer_batch: in place (the outputs over the inputs) gives the same outputs", T, float, double) {
  // Layers that write their output while they still read their input (a wide Dense, a
  // Residual, a Sum), in blocks of samples and one at a time.
  const auto check = [&]<class Net>(const sg::Model<Net, T>& model) {
    sg::init::Rng rng(9);
    std::vector<std::array<T, Net::in_size>> xs;
    for (std::size_t s = 0; s < 37; ++s) xs.push_back(sgtest::random_vector<T, Net::in_size>(rng));
    std::vector<std::array<T, Net::out_size>> ys(xs.size());
    model.infer_batch(xs, ys);
    model.infer_batch(xs, xs);
    CHECK(xs == ys);
  };
  check(sg::Model<sg::Dense<200, 200>, T>{1});
  check(sg::Model<sg::Residual<sg::Dense<64, 64, sg::Tanh>>, T>{2});
  check(sg::Model<sg::Sum<sg::Dense<64, 64>, sg::Dense<64, 64>>, T>{3});
}
