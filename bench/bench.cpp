// Generated code against the dynamic tape, hand-written loops and LibTorch (when found), on
// the same networks with the same parameters and inputs: ns per inference and per
// value_and_grad, and each column's ratio to the generated code.
//
//   build/gcc/bench/staticgrad_bench            (Google Benchmark flags work as usual)
//
// Before timing anything it checks that both sides compute the same outputs, losses and
// gradients, so the comparison is between equal work.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/mp11/algorithm.hpp>

#include <staticgrad/staticgrad.hpp>

#ifdef STATICGRAD_BENCH_EIGEN
#include "eigen_peer.hpp"
#endif
#include "hand_written.hpp"
#include "medians.hpp"
#include "peers.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace sg = staticgrad;
namespace tape = staticgrad::tape;

namespace {

// One network on both sides. Hand must hold exactly the model's flat parameters.
struct NoEigen {};

template <class Net, class Hand, class Loss, class Target, class EigenNet = NoEigen>
struct Contender {
  using T = float;
  std::string name;
  sg::Model<Net, T> model{7};
  Hand hand{};
  Hand hand_grads{};
  std::array<T, Net::in_size> x{};
  Target target{};

  NetworkSpec spec;
  EigenNet eigen{};
  mutable tape::Tape<T> recorder;
  sg::Gradients<Net, T> tape_grads;

  Contender(std::string network_name, NetworkSpec network) : name(std::move(network_name)), spec(std::move(network)) {
    static_assert(sizeof(Hand) == sg::param_count<Net> * sizeof(T), "layouts differ");
    std::memcpy(&hand, model.flat().data(), sizeof(Hand));
    if constexpr (!std::is_same_v<EigenNet, NoEigen>) eigen.load(model.flat());
    sg::init::Rng rng(11);
    for (auto& v : x) v = static_cast<T>(rng.normal());
    if constexpr (std::is_same_v<Target, std::size_t>) target = Net::out_size - 1;
    else for (auto& v : target) v = static_cast<T>(rng.normal());
  }

  const T* target_ptr() const {
    if constexpr (std::is_same_v<Target, std::size_t>) return nullptr;
    else return target.data();
  }
  auto hand_target() const {
    if constexpr (std::is_same_v<Target, std::size_t>) return target;
    else return target.data();
  }

  // Both sides must agree before their times mean anything.
  void verify() const {
    const auto generated = sg::value_and_grad(model, Loss{}, x, target);
    Hand grads{};
    const T loss = hand.value_and_grad(x.data(), hand_target(), grads);
    std::array<T, Net::out_size> y{};
    hand.infer(x.data(), y.data());
    const auto same = [](T a, T b) { return std::abs(a - b) <= 1e-4f * std::max(1.0f, std::abs(b)); };
    bool ok = same(generated.loss, loss);
    for (std::size_t o = 0; o < Net::out_size; ++o) ok = ok && same(model(x)[o], y[o]);
    const T* hand_flat = reinterpret_cast<const T*>(&grads);
    for (std::size_t i = 0; i < sg::param_count<Net>; ++i) ok = ok && same(generated.grads.flat()[i], hand_flat[i]);
    if (!ok) {
      std::fprintf(stderr, "bench: %s: generated and hand-written results differ\n", name.c_str());
      std::exit(1);
    }
  }

  void register_benchmarks() {
    benchmark::RegisterBenchmark((name + "/infer/generated").c_str(), [this](benchmark::State& state) {
      for (auto _ : state) {
        auto input = x;
        benchmark::DoNotOptimize(input);
        auto y = model(input);
        benchmark::DoNotOptimize(y);
      }
    });
    benchmark::RegisterBenchmark((name + "/infer/hand").c_str(), [this](benchmark::State& state) {
      for (auto _ : state) {
        auto input = x;
        benchmark::DoNotOptimize(input);
        std::array<T, Net::out_size> y;
        hand.infer(input.data(), y.data());
        benchmark::DoNotOptimize(y);
      }
    });
    benchmark::RegisterBenchmark((name + "/value_and_grad/generated").c_str(),
                                 [this](benchmark::State& state) {
      for (auto _ : state) {
        auto input = x;
        benchmark::DoNotOptimize(input);
        auto result = sg::value_and_grad(model, Loss{}, input, target);
        benchmark::DoNotOptimize(result);
      }
    });
    benchmark::RegisterBenchmark((name + "/value_and_grad/hand").c_str(),
                                 [this](benchmark::State& state) {
      for (auto _ : state) {
        auto input = x;
        benchmark::DoNotOptimize(input);
        T loss = hand.value_and_grad(input.data(), hand_target(), hand_grads);
        benchmark::DoNotOptimize(loss);
        benchmark::DoNotOptimize(hand_grads);
      }
    });
    benchmark::RegisterBenchmark((name + "/infer/tape").c_str(), [this](benchmark::State& state) {
      for (auto _ : state) {
        auto input = x;
        benchmark::DoNotOptimize(input);
        auto y = tape::infer(recorder, model, input);
        benchmark::DoNotOptimize(y);
      }
    });
    benchmark::RegisterBenchmark((name + "/value_and_grad/tape").c_str(), [this](benchmark::State& state) {
      for (auto _ : state) {
        auto input = x;
        benchmark::DoNotOptimize(input);
        T loss = tape::value_and_grad(recorder, model, Loss{}, input, target, tape_grads);
        benchmark::DoNotOptimize(loss);
        benchmark::DoNotOptimize(tape_grads);
      }
    });
    std::array<T, Net::out_size> target_values{};
    std::size_t label = 0;
    if constexpr (std::is_same_v<Target, std::size_t>) label = target;
    else target_values = target;
    register_torch_benchmarks(name, spec, model.flat(), x, target_values, label);
    if constexpr (!std::is_same_v<EigenNet, NoEigen>) register_eigen(target_values, label);
  }

  void register_eigen(const std::array<T, Net::out_size>& target_values, std::size_t label) {
    const typename EigenNet::Input input = Eigen::Map<const typename EigenNet::Input>(x.data());
    const typename EigenNet::Output wanted = Eigen::Map<const typename EigenNet::Output>(target_values.data());
    // The same check as for hand-written code: equal results before any timing.
    const T eigen_loss = [&] {
      if constexpr (std::is_same_v<Target, std::size_t>) return eigen.value_and_grad(input, label);
      else return eigen.value_and_grad(input, wanted);
    }();
    if (std::abs(eigen_loss - sg::value_and_grad(model, Loss{}, x, target).loss) > 1e-4f * (1 + std::abs(eigen_loss))) {
      std::fprintf(stderr, "bench: %s: generated and Eigen losses differ\n", name.c_str());
      std::exit(1);
    }
    benchmark::RegisterBenchmark((name + "/infer/eigen").c_str(), [this, input](benchmark::State& state) {
      for (auto _ : state) {
        auto in = input;
        benchmark::DoNotOptimize(in);
        auto y = eigen.infer(in);
        benchmark::DoNotOptimize(y);
      }
    });
    benchmark::RegisterBenchmark((name + "/value_and_grad/eigen").c_str(), [=, this](benchmark::State& state) {
      for (auto _ : state) {
        auto in = input;
        benchmark::DoNotOptimize(in);
        T loss;
        if constexpr (std::is_same_v<Target, std::size_t>) loss = eigen.value_and_grad(in, label);
        else loss = eigen.value_and_grad(in, wanted);
        benchmark::DoNotOptimize(loss);
        benchmark::ClobberMemory();
      }
    });
  }
};

template <std::size_t N>
using Vec = std::array<float, N>;

// One training step (value_and_grad, then Adam) on N4 for a batch of B samples, both sides.
// Every 256 steps the starting state is restored (untimed): trained for long on the same
// batch, Adam's moments of parameters whose gradient is 0 decay into denormal floats, and
// both sides would time denormal arithmetic (30x slower) instead of a training step.
using N4 = sg::Sequential<sg::Dense<64, 128, sg::ReLU>, sg::Dense<128, 128, sg::ReLU>, sg::Dense<128, 10>>;
using HandN4 = hand::Mlp3<float, 64, 128, 128, 10, hand::ReLU>;

template <std::size_t B>
struct TrainingStep {
  sg::Model<N4, float> model{7};
  sg::Gradients<N4, float> grads;
  sg::Adam<N4, float> adam{};
  sg::SGD<N4, float> sgd{{.lr = 1e-3}};
  HandN4 hand{}, hand_grads{};
  hand::Adam<float, sg::param_count<N4>> hand_adam{};
  tape::Tape<float> recorder;
  std::array<std::array<float, 64>, B> xs{};
  std::array<std::size_t, B> labels{};
  std::array<std::array<float, 10>, B> outputs{};
  // Mixed precision: bfloat16 passes, float master weights and Adam state (same start)
  sg::Model<sg::Bf16Training<N4>, float> mixed_model{7};
  sg::Gradients<sg::Bf16Training<N4>, float> mixed_grads;
  sg::MixedPrecision<sg::Adam<sg::Bf16Training<N4>, float>> mixed_adam{mixed_model};

  TrainingStep() {
    std::memcpy(&hand, model.flat().data(), sizeof(HandN4));
    sg::init::Rng rng(5);
    for (auto& x : xs)
      for (auto& v : x) v = static_cast<float>(rng.normal());
    for (std::size_t s = 0; s < B; ++s) labels[s] = s % 10;
  }

  void generated() {
    sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, xs, labels, grads);
    adam.step(model, grads);
  }
  // The same steps fused by train_step (same results, tested), and both with plain SGD.
  void fused() { sg::train_step(model, adam, sg::SoftmaxCrossEntropy{}, xs, labels, grads); }
  void sgd_unfused() {
    sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, xs, labels, grads);
    sgd.step(model, grads);
  }
  void sgd_fused() { sg::train_step(model, sgd, sg::SoftmaxCrossEntropy{}, xs, labels, grads); }
  void mixed_fused() { sg::train_step(mixed_model, mixed_adam, sg::SoftmaxCrossEntropy{}, xs, labels, mixed_grads); }
  void gradient_only() { sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, xs, labels, grads); }
  void inference_only() { model.infer_batch(xs, outputs); }
  void taped() {
    tape::value_and_grad(recorder, model, sg::SoftmaxCrossEntropy{}, xs, labels, grads);
    adam.step(model, grads);
  }
  void written() {
    hand.batch_value_and_grad(xs.front().data(), labels.data(), B, hand_grads);
    hand_adam.step(reinterpret_cast<float*>(&hand), reinterpret_cast<const float*>(&hand_grads));
  }

  template <class Step>
  static void run(benchmark::State& state, TrainingStep& self, const TrainingStep& start, Step step) {
    std::int64_t since_reset = 0;
    for (auto _ : state) {
      if (++since_reset == 256) {
        state.PauseTiming();
        self = start;
        since_reset = 0;
        state.ResumeTiming();
      }
      (self.*step)();
      benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(B));
  }

  // value_and_grad or inference alone over the batch: the matrix-matrix path's share of the
  // peak.
  void register_batch_benchmark(const std::string& name, void (TrainingStep::*work)()) {
    benchmark::RegisterBenchmark((name + "/generated").c_str(), [this, work](benchmark::State& state) {
      for (auto _ : state) {
        (this->*work)();
        benchmark::ClobberMemory();
      }
      state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(B));
    });
  }

  void register_benchmarks(const std::string& name, const TrainingStep& start) {
    benchmark::RegisterBenchmark((name + "/generated").c_str(), [this, &start](benchmark::State& state) {
      run(state, *this, start, &TrainingStep::generated);
    });
    benchmark::RegisterBenchmark((name + "/hand").c_str(), [this, &start](benchmark::State& state) {
      run(state, *this, start, &TrainingStep::written);
    });
    benchmark::RegisterBenchmark((name + "/tape").c_str(), [this, &start](benchmark::State& state) {
      run(state, *this, start, &TrainingStep::taped);
    });
    const std::pair<const char*, void (TrainingStep::*)()> fusion[] = {
        {"/fused Adam", &TrainingStep::fused},
        {"/unfused SGD", &TrainingStep::sgd_unfused},
        {"/fused SGD", &TrainingStep::sgd_fused},
        {"/fused Adam, mixed precision", &TrainingStep::mixed_fused}};
    for (const auto& [suffix, step] : fusion)
      benchmark::RegisterBenchmark((name + suffix).c_str(), [this, &start, step = step](benchmark::State& state) {
        run(state, *this, start, step);
      });
  }
};

// A batch of several shards (core/shards.hpp) on one thread and on two: the speed-up of
// splitting a batch across cores. Timed by the wall clock, which counts every thread.
template <std::size_t B>
void register_threads([[maybe_unused]] const std::string& name, [[maybe_unused]] TrainingStep<B>& step,
                      [[maybe_unused]] const TrainingStep<B>& start) {
  static_assert(B > sg::detail::shard_samples<N4, float>);
#ifdef _OPENMP
  const std::pair<const char*, void (TrainingStep<B>::*)()> modes[] = {
      {"/value_and_grad", &TrainingStep<B>::gradient_only}, {"/train step (Adam)", &TrainingStep<B>::generated}};
  for (const auto& [mode, work] : modes) {
    for (const int threads : {1, 2}) {
      benchmark::RegisterBenchmark((name + mode + "/threads " + std::to_string(threads)).c_str(),
                                   [&step, &start, work = work, threads](benchmark::State& state) {
                                     const int before = omp_get_max_threads();
                                     omp_set_num_threads(threads);
                                     TrainingStep<B>::run(state, step, start, work);
                                     omp_set_num_threads(before);
                                   })
          ->UseRealTime();
    }
  }
#endif
}

// The tape's fixed cost per recorded operation: 100 additions of one-value vectors and the
// walk back, per node.
constexpr std::size_t cost_nodes = 100;
void register_tape_node_cost() {
  benchmark::RegisterBenchmark("tape node cost/100 nodes/tape", [](benchmark::State& state) {
    tape::Tape<float> t;
    const std::array<float, 1> one{1.0f};
    std::array<float, 1> grad{};
    for (auto _ : state) {
      t.reset();
      auto x = t.parameter(std::span<const float>(one), std::span<float>(grad), 1);
      for (std::size_t i = 1; i < cost_nodes - 1; ++i) x = x + x;
      auto loss = tape::sum(x);
      t.backward(loss);
      benchmark::DoNotOptimize(grad);
    }
  });
}

// The core's peak: independent chains of fused multiply-adds in the widest registers, 2
// FLOPs per lane per instruction; enough chains to cover the FMA latency.
constexpr std::size_t fma_chains = 12, fma_steps = 4096;
using Register = xsimd::batch<float>;
constexpr double fma_flops = 2.0 * Register::size * fma_chains * fma_steps;
void register_fma_peak() {
  benchmark::RegisterBenchmark("peak/fma", [](benchmark::State& state) {
    std::array<Register, fma_chains> sums;
    sums.fill(Register(0.0f));
    const Register a(0.999f), b(0.001f);
    for (auto _ : state) {
      for (std::size_t step = 0; step < fma_steps; ++step)
        // xsimd's fma, which the Release build contracts into the instruction: through the
        // AVX-512 intrinsic, g++ 12 kept this array (which escapes) in memory, storing every
        // register after every multiply-add (a third of the peak)
        for (auto& sum : sums) sum = xsimd::fma(sum, a, b);
      benchmark::DoNotOptimize(sums);
    }
  });
}

// Every register of `values` loaded once, into several sums so that the additions do not
// set the pace.
std::array<Register, 8> load_all(const std::vector<Register>& values) {
  constexpr std::size_t ways = 8;
  std::array<Register, ways> sums;
  sums.fill(Register(0.0f));
  for (std::size_t r = 0; r + ways <= values.size(); r += ways)
    for (std::size_t k = 0; k < ways; ++k) sums[k] += values[r + k];
  for (std::size_t r = values.size() / ways * ways; r < values.size(); ++r) sums[0] += values[r];
  return sums;
}

// The core's load and store rates, floors under any forward and backward pass: a register
// loaded (stored) per Register::size floats, over as many floats as the network has
// parameters (the weights a forward pass reads, the gradients value_and_grad writes, once
// each). And both in one pass, as value_and_grad does them: where parameters and
// gradients fit the L1 cache one at a time but not together (N5, N6), this floor includes
// what fetching them back from L2 costs a plain loop.
template <class Net>
void register_memory_floors(const std::string& name) {
  static constexpr std::size_t registers = (sg::param_count<Net> + Register::size - 1) / Register::size;
  benchmark::RegisterBenchmark((name + "/parameter loads/floor").c_str(), [](benchmark::State& state) {
    const std::vector<Register> parameters(registers, Register(0.5f));
    for (auto _ : state) {
      benchmark::DoNotOptimize(load_all(parameters));
      benchmark::ClobberMemory();
    }
  });
  const auto store_all = [](std::vector<Register>& gradients, Register value) {
    for (auto& gradient : gradients) gradient = value;
    benchmark::DoNotOptimize(gradients.data());
    benchmark::ClobberMemory();
  };
  benchmark::RegisterBenchmark((name + "/gradient stores/floor").c_str(), [=](benchmark::State& state) {
    std::vector<Register> gradients(registers);
    for (auto _ : state) store_all(gradients, Register(0.5f));
  });
  benchmark::RegisterBenchmark((name + "/loads then stores/floor").c_str(), [=](benchmark::State& state) {
    const std::vector<Register> parameters(registers, Register(0.5f));
    std::vector<Register> gradients(registers);
    for (auto _ : state) {
      const auto sums = load_all(parameters);
      benchmark::DoNotOptimize(sums);  // all of them: storing one must not drop the others' loads
      store_all(gradients, sums[0]);
    }
  });
}

#ifdef STATICGRAD_BENCH_EIGEN
// The largest error of Eigen's vectorized float tanh, of ours (the Tanh activation's) and of
// xsimd's, in ulps of the exact value, over every 97th float of magnitude 5e-10 to 10: what
// the tanh networks' speed difference costs (tools/float_ulps.cpp checks every float).
void print_tanh_errors() {
  std::vector<float> xs;
  for (std::uint32_t bits = 0x30000000u; bits < 0x41200000u; bits += 97) {
    float x;
    std::memcpy(&x, &bits, sizeof x);
    xs.push_back(x);
    xs.push_back(-x);
  }
  xs.resize((xs.size() + Register::size - 1) / Register::size * Register::size, 0.5f);
  const Eigen::ArrayXf eigen = Eigen::Map<const Eigen::ArrayXf>(xs.data(), static_cast<Eigen::Index>(xs.size())).tanh();
  std::vector<float> ours(xs.size()), theirs(xs.size());
  for (std::size_t i = 0; i < xs.size(); i += Register::size) {
    const Register x = Register::load_unaligned(xs.data() + i);
    sg::detail::simd::fast_tanh(x).store_unaligned(ours.data() + i);
    xsimd::tanh(x).store_unaligned(theirs.data() + i);
  }
  double eigen_worst = 0, ours_worst = 0, xsimd_worst = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double exact = std::tanh(static_cast<double>(xs[i]));
    const float rounded = static_cast<float>(exact);
    const double ulp = static_cast<double>(std::nextafter(std::abs(rounded), 2.0f)) - std::abs(rounded);
    eigen_worst = std::max(eigen_worst, std::abs(eigen[static_cast<Eigen::Index>(i)] - exact) / ulp);
    ours_worst = std::max(ours_worst, std::abs(ours[i] - exact) / ulp);
    xsimd_worst = std::max(xsimd_worst, std::abs(theirs[i] - exact) / ulp);
  }
  std::printf("float tanh, largest error over [-10, 10]: Eigen %.2f ulp, staticgrad %.2f ulp, xsimd %.2f ulp\n",
              eigen_worst, ours_worst, xsimd_worst);
}
#endif

// value_and_grad of N4 with its first two layers frozen (fine-tuning the head), against
// all of N4 training: the frozen layers cost their forward pass only.
using N4FrozenBase = sg::Sequential<sg::Frozen<sg::Sequential<sg::Dense<64, 128, sg::ReLU>, sg::Dense<128, 128, sg::ReLU>>>,
                                    sg::Dense<128, 10>>;

// 32 × Dense<64, 64, Tanh> as 4 segments of 8, plain and each segment a Checkpoint: the
// cache kept against the time of the second forward pass.
template <class L, std::size_t Count>
using repeated = boost::mp11::mp_rename<boost::mp11::mp_repeat_c<boost::mp11::mp_list<L>, Count>, sg::Sequential>;
using Segment8 = repeated<sg::Dense<64, 64, sg::Tanh>, 8>;
using Deep32 = repeated<Segment8, 4>;
using Deep32Checkpointed = repeated<sg::Checkpoint<Segment8>, 4>;

// value_and_grad of one sample of 64 inputs, class 3.
template <class Net>
void register_one_sample(const char* name) {
  benchmark::RegisterBenchmark(name, [](benchmark::State& state) {
    const sg::Model<Net, float> model{7};
    sg::Gradients<Net, float> grads;
    std::array<float, 64> x{};
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) * 0.1f - 0.3f;
    for (auto _ : state) {
      benchmark::DoNotOptimize(sg::value_and_grad(model, sg::SoftmaxCrossEntropy{}, x, std::size_t{3}, grads));
      benchmark::ClobberMemory();
    }
  });
}

// N4 with a BatchNorm before each hidden activation: what BatchNorm's passes over a batch
// cost in training, and what fold gives back in inference (it folds into N4 itself).
using N4BatchNorm = sg::Sequential<sg::Dense<64, 128>, sg::BatchNorm<128>, sg::Activation<sg::ReLU, 128>,
                                   sg::Dense<128, 128>, sg::BatchNorm<128>, sg::Activation<sg::ReLU, 128>,
                                   sg::Dense<128, 10>>;
static_assert(std::is_same_v<sg::folded_t<N4BatchNorm>, N4>);

// value_and_grad over a batch of 256, or infer_batch of it, per sample.
template <class Net>
void register_batch_of_256(const std::string& name, bool gradient) {
  benchmark::RegisterBenchmark(name.c_str(), [gradient](benchmark::State& state) {
    const auto model = std::make_unique<sg::Model<Net, float>>(7);
    const auto grads = std::make_unique<sg::Gradients<Net, float>>();
    std::vector<std::array<float, 64>> xs(256);
    std::vector<std::size_t> labels(256);
    std::vector<std::array<float, 10>> outputs(256);
    sg::init::Rng rng(5);
    for (auto& x : xs)
      for (auto& v : x) v = static_cast<float>(rng.normal());
    for (std::size_t s = 0; s < labels.size(); ++s) labels[s] = s % 10;
    for (auto _ : state) {
      if (gradient) benchmark::DoNotOptimize(sg::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, xs, labels, *grads));
      else model->infer_batch(xs, outputs);
      benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * 256);
  });
}

// How far a quantized model's outputs are from the float model's over a test set.
struct QuantizationError {
  double largest = 0;    // the largest |quantized − float| of any output
  double relative = 0;   // that over the largest |float output| of the set
};

// The model with its Dense weights in bfloat16 and in int8 (staticgrad::quantize): its
// inference time, one sample at a time on the bench's input as the float model's, and its
// error over 1,000 inputs drawn as the bench's (standard normal).
template <class Contender>
std::pair<std::string, std::array<QuantizationError, 2>> register_quantized(const Contender& contender) {
  using Net = typename decltype(contender.model)::network;
  const std::string& name = contender.name;
  const auto& model = contender.model;
  const auto& x = contender.x;
  const auto bf16 = std::make_shared<sg::Model<sg::quantized_t<Net, sg::bf16>, float>>(sg::quantize<sg::bf16>(model));
  const auto int8 = std::make_shared<sg::Model<sg::quantized_t<Net, sg::int8>, float>>(sg::quantize<sg::int8>(model));
  const auto time = [&](const char* format, const auto& quantized) {
    benchmark::RegisterBenchmark((name + "/infer/" + format).c_str(), [quantized, x](benchmark::State& state) {
      for (auto _ : state) {
        auto input = x;
        benchmark::DoNotOptimize(input);
        auto y = (*quantized)(input);
        benchmark::DoNotOptimize(y);
      }
    });
  };
  time("bf16", bf16);
  time("int8", int8);
  std::array<QuantizationError, 2> errors{};
  double largest_output = 0;
  sg::init::Rng rng(23);
  for (int sample = 0; sample < 1000; ++sample) {
    std::array<float, Net::in_size> input;
    for (auto& v : input) v = static_cast<float>(rng.normal());
    const auto exact = model(input), in_bf16 = (*bf16)(input), in_int8 = (*int8)(input);
    for (std::size_t o = 0; o < Net::out_size; ++o) {
      largest_output = std::max(largest_output, static_cast<double>(std::abs(exact[o])));
      errors[0].largest = std::max(errors[0].largest, static_cast<double>(std::abs(in_bf16[o] - exact[o])));
      errors[1].largest = std::max(errors[1].largest, static_cast<double>(std::abs(in_int8[o] - exact[o])));
    }
  }
  for (auto& error : errors) error.relative = error.largest / largest_output;
  return {name, errors};
}

NetworkSpec dense_chain(std::vector<DenseSpec> layers, bool cross_entropy = false) {
  return {std::move(layers), false, cross_entropy};
}

}  // namespace

int main(int argc, char** argv) {
  using N1 = sg::Sequential<sg::Dense<1, 1, sg::ReLU>, sg::Dense<1, 1>>;
  using N2 = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 4, sg::ReLU>, sg::Dense<4, 2>>;
  using N3 = sg::Sequential<sg::Dense<16, 32, sg::Tanh>, sg::Dense<32, 32, sg::Tanh>, sg::Dense<32, 4>>;
  using N5 = sg::Residual<sg::Dense<32, 128, sg::GELU>, sg::Dense<128, 32>>;
  using Tanh32 = sg::Dense<32, 32, sg::Tanh>;
  using N6 = sg::Sequential<Tanh32, Tanh32, Tanh32, Tanh32, Tanh32, Tanh32, Tanh32, Tanh32>;
  const std::vector<DenseSpec> eight_tanh(8, DenseSpec{32, 32, "tanh"});

#ifdef STATICGRAD_BENCH_EIGEN
  namespace ep = eigen_peer;
  using E1 = ep::Chain<false, ep::Dense<1, 1, ep::Act::relu>, ep::Dense<1, 1, ep::Act::identity>>;
  using E2 = ep::Chain<false, ep::Dense<3, 4, ep::Act::relu>, ep::Dense<4, 4, ep::Act::relu>,
                       ep::Dense<4, 2, ep::Act::identity>>;
  using E3 = ep::Chain<false, ep::Dense<16, 32, ep::Act::tanh>, ep::Dense<32, 32, ep::Act::tanh>,
                       ep::Dense<32, 4, ep::Act::identity>>;
  using E4 = ep::Chain<false, ep::Dense<64, 128, ep::Act::relu>, ep::Dense<128, 128, ep::Act::relu>,
                       ep::Dense<128, 10, ep::Act::identity>>;
  using E5 = ep::Chain<true, ep::Dense<32, 128, ep::Act::gelu>, ep::Dense<128, 32, ep::Act::identity>>;
  using ET = ep::Dense<32, 32, ep::Act::tanh>;
  using E6 = ep::Chain<false, ET, ET, ET, ET, ET, ET, ET, ET>;
#else
  std::printf("Eigen not found (Debian: libeigen3-dev): no Eigen column\n");
  using E1 = NoEigen;
  using E2 = NoEigen;
  using E3 = NoEigen;
  using E4 = NoEigen;
  using E5 = NoEigen;
  using E6 = NoEigen;
#endif
  Contender<N1, hand::Mlp2<float, 1, 1, 1>, sg::MSE, Vec<1>, E1> n1(
      "N1 1-1-1 ReLU", dense_chain({{1, 1, "relu"}, {1, 1, "identity"}}));
  Contender<N2, hand::Mlp3<float, 3, 4, 4, 2, hand::ReLU>, sg::MSE, Vec<2>, E2> n2(
      "N2 3-4-4-2 ReLU", dense_chain({{3, 4, "relu"}, {4, 4, "relu"}, {4, 2, "identity"}}));
  Contender<N3, hand::Mlp3<float, 16, 32, 32, 4, hand::Tanh>, sg::MSE, Vec<4>, E3> n3(
      "N3 16-32-32-4 Tanh", dense_chain({{16, 32, "tanh"}, {32, 32, "tanh"}, {32, 4, "identity"}}));
  auto n4 = std::make_unique<Contender<N4, HandN4, sg::SoftmaxCrossEntropy, std::size_t, E4>>(
      "N4 64-128-128-10 ReLU+CE",
      dense_chain({{64, 128, "relu"}, {128, 128, "relu"}, {128, 10, "identity"}}, true));
  Contender<N5, hand::ResidualGelu<float, 32, 128>, sg::MSE, Vec<32>, E5> n5(
      "N5 x+Dense(GELU(Dense(x))) 32-128-32", {{{32, 128, "gelu"}, {128, 32, "identity"}}, true, false});
  auto n6 = std::make_unique<Contender<N6, hand::TanhStack<float, 32, 8>, sg::MSE, Vec<32>, E6>>(
      "N6 8 x Dense<32,32,Tanh>", dense_chain(eight_tanh));

#ifdef STATICGRAD_BENCH_EIGEN
  print_tanh_errors();
#endif
  n1.verify(); n2.verify(); n3.verify(); n4->verify(); n5.verify(); n6->verify();
  n1.register_benchmarks(); n2.register_benchmarks(); n3.register_benchmarks();
  n4->register_benchmarks(); n5.register_benchmarks(); n6->register_benchmarks();
  const std::array quantization{register_quantized(n1), register_quantized(n2), register_quantized(n3),
                                register_quantized(*n4), register_quantized(n5), register_quantized(*n6)};
  const auto start1 = std::make_unique<TrainingStep<1>>();
  const auto start32 = std::make_unique<TrainingStep<32>>();
  auto train1 = std::make_unique<TrainingStep<1>>(*start1);
  auto train32 = std::make_unique<TrainingStep<32>>(*start32);
  const char* step1 = "N4 train step (Adam), batch 1";
  const char* step32 = "N4 train step (Adam), batch 32";
  train1->register_benchmarks(std::string(step1) + "/train", *start1);
  train32->register_benchmarks(std::string(step32) + "/train", *start32);
  const char* gradient32 = "N4 value_and_grad, batch 32";
  train32->register_batch_benchmark(std::string(gradient32) + "/batch", &TrainingStep<32>::gradient_only);
  const char* infer32 = "N4 infer, batch 32";
  train32->register_batch_benchmark(std::string(infer32) + "/batch", &TrainingStep<32>::inference_only);
  register_torch_training(step32, n4->spec, start32->model.flat(), std::span(start32->xs.front().data(), 32 * 64),
                          start32->labels);
  const auto start256 = std::make_unique<TrainingStep<256>>();
  auto train256 = std::make_unique<TrainingStep<256>>(*start256);
  const char* batch256 = "N4 batch 256";
  register_threads(batch256, *train256, *start256);
  register_tape_node_cost();
  register_fma_peak();
  register_memory_floors<N4>(n4->name);
  register_memory_floors<N5>(n5.name);
  register_memory_floors<N6>(n6->name);
  const char* frozen_none = "frozen/N4 value_and_grad, all layers train";
  const char* frozen_half = "frozen/N4 value_and_grad, layers 0-1 Frozen";
  register_one_sample<N4>(frozen_none);
  register_one_sample<N4FrozenBase>(frozen_half);
  const char* deep_plain = "checkpoint/32 x Dense<64,64,Tanh> value_and_grad";
  const char* deep_checkpointed = "checkpoint/32 x Dense<64,64,Tanh> value_and_grad, 4 Checkpoints of 8";
  register_one_sample<Deep32>(deep_plain);
  register_one_sample<Deep32Checkpointed>(deep_checkpointed);
  const std::string norm_plain = "batchnorm/N4 value_and_grad, batch 256";
  const std::string norm_trained = "batchnorm/N4 + 2 BatchNorm value_and_grad, batch 256";
  const std::string norm_infer = "batchnorm/N4 + 2 BatchNorm infer_batch 256";
  const std::string norm_folded = "batchnorm/fold(N4 + 2 BatchNorm) infer_batch 256";
  register_batch_of_256<N4>(norm_plain, true);
  register_batch_of_256<N4BatchNorm>(norm_trained, true);
  register_batch_of_256<N4BatchNorm>(norm_infer, false);
  register_batch_of_256<sg::folded_t<N4BatchNorm>>(norm_folded, false);

  MedianCollector reporter;
  run_benchmarks(argc, argv, reporter);
  const auto median = [&](const std::string& key) { return reporter.median(key); };

  // The table: ns per call (per sample for training), and each column over generated.
  const std::array<const char*, 5> columns{"generated", "tape", "hand", "eigen", "torch"};
  const auto row = [&](const std::string& name, const std::string& mode, double divisor) {
    const std::string key = name + "/" + (mode == "per sample" ? std::string("train") : mode) + "/";
    const auto generated = reporter.median_ns.find(key + "generated");
    if (generated == reporter.median_ns.end()) return;
    std::printf("%-38s %-15s", name.c_str(), mode.c_str());
    for (const char* column : columns) {
      const auto found = reporter.median_ns.find(key + column);
      if (found == reporter.median_ns.end()) std::printf(" %21s", "-");
      else std::printf(" %11.1f (%6.2fx)", found->second / divisor, found->second / generated->second);
    }
    std::printf("\n");
  };
  std::printf("\n%-38s %-15s %21s %21s %21s %21s %21s\n", "network", "mode (ns)", "generated", "tape",
              "hand-written", "Eigen", "LibTorch");
  for (const std::string& name : {n1.name, n2.name, n3.name, n4->name, n5.name, n6->name}) {
    row(name, "infer", 1);
    row(name, "value_and_grad", 1);
  }
  row(step1, "per sample", 1);
  row(step32, "per sample", 32);
  const auto node_cost = reporter.median_ns.find("tape node cost/100 nodes/tape");
  if (node_cost != reporter.median_ns.end())
    std::printf("tape: %.1f ns per recorded node (record + walk back, 100 one-value additions)\n",
                node_cost->second / cost_nodes);
  const auto peak = reporter.median_ns.find("peak/fma");
  const auto n4_vag = reporter.median_ns.find(n4->name + "/value_and_grad/generated");
  if (peak != reporter.median_ns.end() && n4_vag != reporter.median_ns.end()) {
    const double peak_gflops = fma_flops / peak->second;
    // Forward, the weight gradients (as many FLOPs again) and the input gradients of every
    // layer but the first: 3·flops − 2·64·128 (activations and the loss not counted).
    const double vag_flops = 3.0 * sg::flops<N4> - 2.0 * 64 * 128;
    std::printf("FMA peak of this core: %.1f GFLOP/s (%zu float lanes); N4 value_and_grad: %.1f GFLOP/s, %.0f%% of it",
                peak_gflops, Register::size, vag_flops / n4_vag->second, 100 * vag_flops / n4_vag->second / peak_gflops);
    // No one-sample value_and_grad is faster than loading every parameter and storing
    // every gradient once.
    const double loads = median(n4->name + "/parameter loads/floor"), stores = median(n4->name + "/gradient stores/floor");
    if (loads > 0 && stores > 0)
      std::printf(" (at most %.0f%% at the memory floor, %.0f ns)", 100 * vag_flops / (loads + stores) / peak_gflops,
                  loads + stores);
    std::printf("\n");
  }
  for (const std::string& name : {n4->name, n5.name, n6->name}) {
    const double forward = median(name + "/infer/generated"), both = median(name + "/value_and_grad/generated");
    const double loads = median(name + "/parameter loads/floor"), stores = median(name + "/gradient stores/floor");
    const double one_pass = median(name + "/loads then stores/floor");
    if (forward > 0 && both > 0 && loads > 0 && stores > 0 && one_pass > 0) {
      std::printf("%s: loading its parameters takes %.0f ns on this core, storing its gradients %.0f ns; "
                  "inference is %.2fx the loads",
                  name.c_str(), loads, stores, forward / loads);
      if (const double eigen = median(name + "/infer/eigen"); eigen > 0) std::printf(" (Eigen's %.2fx)", eigen / loads);
      std::printf(", value_and_grad %.2fx loads + stores", both / (loads + stores));
      if (const double eigen = median(name + "/value_and_grad/eigen"); eigen > 0)
        std::printf(" (Eigen's %.2fx)", eigen / (loads + stores));
      std::printf("; both in one pass %.0f ns (%.2fx forward), value_and_grad %.2fx that", one_pass, one_pass / forward,
                  both / one_pass);
      std::printf("; forward+backward is %.2fx forward\n", both / forward);
    }
  }
  const auto batch32 = reporter.median_ns.find(std::string(gradient32) + "/batch/generated");
  const auto train32_ns = reporter.median_ns.find(std::string(step32) + "/train/generated");
  if (peak != reporter.median_ns.end() && batch32 != reporter.median_ns.end() && train32_ns != reporter.median_ns.end()) {
    const double peak_gflops = fma_flops / peak->second;
    const double batch_flops = 32 * (3.0 * sg::flops<N4> - 2.0 * 64 * 128);
    std::printf("N4 batch 32: value_and_grad %.1f ns per sample, %.1f GFLOP/s, %.0f%% of peak; "
                "training step (with Adam) %.0f samples/s\n",
                batch32->second / 32, batch_flops / batch32->second, 100 * batch_flops / batch32->second / peak_gflops,
                32e9 / train32_ns->second);
  }
  const auto infer_batch32 = reporter.median_ns.find(std::string(infer32) + "/batch/generated");
  const auto infer_one = reporter.median_ns.find(n4->name + "/infer/generated");
  if (infer_batch32 != reporter.median_ns.end() && infer_one != reporter.median_ns.end())
    std::printf("N4 inference, ns per sample: one at a time %.1f, infer_batch of 32 %.1f (%.2fx)\n", infer_one->second,
                infer_batch32->second / 32, infer_one->second / (infer_batch32->second / 32));
  for (const auto& [step_name, batch] : {std::pair{step1, 1}, std::pair{step32, 32}}) {
    // Copies of the bindings: clang 14 cannot capture a structured binding.
    const auto ns = [&, name = std::string(step_name), samples = batch](const char* suffix) {
      return median(name + "/train" + suffix) / samples;
    };
    if (ns("/generated") > 0 && ns("/fused Adam") > 0 && ns("/unfused SGD") > 0 && ns("/fused SGD") > 0)
      std::printf("train_step (fused) batch %d, ns per sample: Adam %.1f -> %.1f (%.2fx), SGD %.1f -> %.1f (%.2fx)\n",
                  batch, ns("/generated"), ns("/fused Adam"), ns("/generated") / ns("/fused Adam"), ns("/unfused SGD"),
                  ns("/fused SGD"), ns("/unfused SGD") / ns("/fused SGD"));
    if (ns("/fused Adam") > 0 && ns("/fused Adam, mixed precision") > 0)
      std::printf("train_step (fused Adam) batch %d, ns per sample: float %.1f, bfloat16 passes with float master "
                  "weights %.1f (%.2fx)\n",
                  batch, ns("/fused Adam"), ns("/fused Adam, mixed precision"),
                  ns("/fused Adam, mixed precision") / ns("/fused Adam"));
  }
  for (const char* mode : {"/value_and_grad", "/train step (Adam)"}) {
    const auto one = reporter.median_ns.find(batch256 + std::string(mode) + "/threads 1");
    const auto two = reporter.median_ns.find(batch256 + std::string(mode) + "/threads 2");
    if (one != reporter.median_ns.end() && two != reporter.median_ns.end())
      std::printf("N4 batch 256%s, ns per sample: 1 thread %.1f, 2 threads %.1f (%.2fx; %.0f samples/s)\n", mode,
                  one->second / 256, two->second / 256, one->second / two->second, 256e9 / two->second);
  }
  const auto none = reporter.median_ns.find(frozen_none), half = reporter.median_ns.find(frozen_half);
  if (none != reporter.median_ns.end() && half != reporter.median_ns.end())
    std::printf("Frozen: N4 value_and_grad %.1f ns; with layers 0-1 Frozen %.1f ns (%.2fx)\n", none->second,
                half->second, half->second / none->second);
  if (const double plain = median(deep_plain), checkpointed = median(deep_checkpointed);
      plain > 0 && checkpointed > 0)
    std::printf("Checkpoint: 32 x Dense<64,64,Tanh> value_and_grad %.1f ns, %zu bytes of cache; as 4 Checkpoints of 8 "
                "%.1f ns (%.2fx), %zu bytes kept + %zu recomputed at a time\n",
                plain, Deep32::cache_size * sizeof(float), checkpointed, checkpointed / plain,
                Deep32Checkpointed::cache_size * sizeof(float), Segment8::cache_size * sizeof(float));
  if (const double plain_grad = median(norm_plain), trained = median(norm_trained), inferred = median(norm_infer),
      folded = median(norm_folded);
      plain_grad > 0 && trained > 0 && inferred > 0 && folded > 0)
    std::printf("BatchNorm: N4 value_and_grad, batch 256, %.1f ns per sample; with a BatchNorm before each hidden "
                "activation %.1f ns (%.2fx: the passes over the batch); infer_batch %.1f ns per sample, folded %.1f "
                "(%.2fx)\n",
                plain_grad / 256, trained / 256, trained / plain_grad, inferred / 256, folded / 256, folded / inferred);
  std::printf("\nquantized inference, ns per call; error against float over 1,000 inputs: the largest |difference|, "
              "and that over the largest |float output|\n%-38s %11s %21s %10s %9s %21s %10s %9s\n",
              "network", "float", "bf16", "error", "relative", "int8", "error", "relative");
  for (const auto& [name, errors] : quantization) {
    const double plain = median(name + "/infer/generated"), bf16 = median(name + "/infer/bf16"),
                 int8 = median(name + "/infer/int8");
    if (plain > 0 && bf16 > 0 && int8 > 0)
      std::printf("%-38s %11.1f %11.1f (%6.2fx) %10.2g %9.2g %11.1f (%6.2fx) %10.2g %9.2g\n", name.c_str(), plain, bf16,
                  bf16 / plain, errors[0].largest, errors[0].relative, int8, int8 / plain, errors[1].largest,
                  errors[1].relative);
  }
  benchmark::Shutdown();
  return 0;
}
