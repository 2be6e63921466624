// Recurrent and convolutional networks streamed one sample at a time, as an audio callback
// runs them: ns per sample for staticgrad's generated step against our dynamic tape,
// RTNeural's compile-time API with each of its backends that builds here (Eigen, xsimd,
// STL; the WaveNet with Eigen) and LibTorch (the recurrent ones), on the same weights and
// the same input, every peer checked to compute staticgrad's outputs before it is timed
// (the tape is checked by the tests); the whole signal as one Sequence (layer by layer)
// against streaming; and a training step through time against LibTorch's.
//
//   build/bench/bench/staticgrad_bench_recurrent   (Google Benchmark flags work as usual)
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <staticgrad/io/safetensors.hpp>
#include <staticgrad/staticgrad.hpp>

#include "../tests/support/wavenet.hpp"
#include "medians.hpp"
#include "recurrent_peers.hpp"

namespace sg = staticgrad;

namespace {

constexpr std::size_t signal_length = 4096;

// Values [first, …) of a tensor in row-major order, nested as its shape from dimension d on
// (a matrix is an array of rows, a vector one row).
template <class Value>
nlohmann::json nested(const Value& value, const sg::TensorLayout& layout, std::size_t d, std::size_t first) {
  std::size_t stride = 1;
  for (std::size_t e = d + 1; e < layout.rank; ++e) stride *= layout.shape[e];
  nlohmann::json values = nlohmann::json::array();
  for (std::size_t i = 0; i < layout.shape[d]; ++i) {
    if (d + 1 == layout.rank) values.push_back(value(first + i));
    else values.push_back(nested(value, layout, d + 1, first + i * stride));
  }
  return values;
}

// The model's parameters as PyTorch's state_dict of the same network would hold them.
template <class Net>
nlohmann::json state_dict(const sg::Model<Net, float>& model) {
  nlohmann::json dict;
  for (const auto& tensor : sg::detail::torch_tensors<Net>())
    dict[tensor.name] = nested([&](std::size_t k) { return model.flat()[tensor.flat_index(k)]; }, tensor.layout, 0, 0);
  return dict;
}

// Registers "<name>/stream/generated" and returns what the peers need to build and check
// the same network.
template <class Net>
StreamingCase register_generated(const std::string& name, const std::vector<float>& signal) {
  const auto model = std::make_shared<const sg::Model<Net, float>>(7);
  StreamingCase stream{name, state_dict(*model), signal, {}};
  sg::State<Net, float> from_zero{};
  for (const float x : signal) stream.expected.push_back((*model)(std::array<float, 1>{x}, from_zero)[0]);
  register_stream(name + "/stream/generated", signal.size(),
                  [model, signal, state = sg::State<Net, float>{}](std::size_t t) mutable {
                    return (*model)(std::array<float, 1>{signal[t]}, state)[0];
                  });
  // The whole signal as one Sequence: each layer over all the steps before the next (a
  // Conv1D as one matrix product), timed per signal, reported per sample.
  auto xs = std::make_shared<sg::Sequence<float, signal_length, 1>>();
  for (std::size_t t = 0; t < signal_length; ++t) (*xs)[t][0] = signal[t];
  benchmark::RegisterBenchmark((name + "/sequence/generated").c_str(), [model, xs](benchmark::State& bench) {
    sg::State<Net, float> state{};
    const auto ys = std::make_unique<sg::Sequence<float, signal_length, 1>>();
    for (auto _ : bench) {
      *ys = (*model)(*xs, state);
      benchmark::DoNotOptimize(ys->data());
    }
  });
  // The same network on the dynamic tape, one recorded step per sample.
  register_stream(name + "/stream/tape", signal.size(),
                  [model, signal, tape = std::make_shared<sg::tape::Tape<float>>(),
                   state = sg::State<Net, float>{}](std::size_t t) mutable {
                    return sg::tape::infer(*tape, *model, std::array<float, 1>{signal[t]}, state)[0];
                  });
  return stream;
}

// OpenMP's thread count becomes `threads`; returns what it was (1 without OpenMP).
int set_threads([[maybe_unused]] int threads) {
#ifdef _OPENMP
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  return before;
#else
  return 1;
#endif
}

// Registers "<name>/train/generated 1" and "… 2" (threads) and LibTorch's: one training step (Adam, lr 1e-3) on
// 16 sequences of 256 steps, the signal cut in 16, learning a drive (tanh(4x)) one sample
// late, from zero states (every step a fresh batch's first: what BPTT over independent
// windows does).
template <class Net>
void register_training(const StreamingCase& network, const std::vector<float>& signal) {
  constexpr std::size_t sequences = 16, steps = signal_length / sequences;
  TrainingCase batch{sequences, steps, {}, {}, 0};
  auto xs = std::make_shared<std::vector<sg::Sequence<float, steps, 1>>>(sequences);
  auto ys = std::make_shared<std::vector<sg::Sequence<float, steps, 1>>>(sequences);
  for (std::size_t s = 0; s < sequences; ++s)
    for (std::size_t t = 0; t < steps; ++t) {
      const std::size_t at = s * steps + t;
      (*xs)[s][t][0] = signal[at];
      (*ys)[s][t][0] = std::tanh(4 * signal[at == 0 ? 0 : at - 1]);
      batch.inputs.push_back((*xs)[s][t][0]);
      batch.targets.push_back((*ys)[s][t][0]);
    }
  auto model = std::make_shared<sg::Model<Net, float>>(7);  // the weights `network` was made from
  auto grads = std::make_shared<sg::Gradients<Net, float>>();
  batch.first_loss = sg::value_and_grad(*model, sg::MSE{}, *xs, *ys, *grads);
  // On one thread, as LibTorch (which is faster on one here), and on two (the batch's
  // sequences in shards). LibTorch's set_num_threads sets OpenMP's too: each run says its own.
  for (const int threads : {1, 2}) {
    benchmark::RegisterBenchmark(
        (network.name + "/train/generated " + std::to_string(threads)).c_str(),
        [model, grads, xs, ys, threads, adam = sg::Adam<Net, float>{}](benchmark::State& state) mutable {
          [[maybe_unused]] const int before = set_threads(threads);
          for (auto _ : state) benchmark::DoNotOptimize(sg::train_step(*model, adam, sg::MSE{}, *xs, *ys, *grads));
          set_threads(before);
        })
        ->UseRealTime();
  }
  register_torch_sequence_training(network, batch);
}

// Conv1D<1, 8, 3> then Conv1D<8, 8, 3, 2^(K+1)> for each K, each with tanh, and a Dense
// head: dilations 1 … 512, a receptive field of 2,047 samples.
template <class Dilations>
struct dilated_stack;
template <std::size_t... K>
struct dilated_stack<std::index_sequence<K...>> {
  using type = sg::Sequential<sg::Conv1D<1, 8, 3, 1, sg::Tanh>, sg::Conv1D<8, 8, 3, std::size_t{2} << K, sg::Tanh>...,
                              sg::Dense<8, 1>>;
};
using DilatedStack = dilated_stack<std::make_index_sequence<9>>::type;

// Neural Amp Modeler's smallest standard WaveNet ("nano") as a type, as NAM writes it: two
// arrays of layers, 4 channels with dilations 1 … 64, then 2 channels with 128, 256, 512,
// 1 … 512; the network carries [x, the head's sum, the input audio] from layer to layer. A
// layer: a = tanh(conv(x) + mixer(audio)) (NAM's "input mixer", a 1×1 convolution of the
// audio), then x + 1×1(a), head + a, the audio passed on. Between the arrays 1×1
// convolutions of x and of the head's sum down to 2 channels, the head a 1×1 convolution of
// the head's sum. NAM's mixers and its 1×1 convolutions between the arrays have no bias,
// these have (no work for the bench to speak of: one addition each).
template <std::size_t C, std::size_t Dilation>
using NamLayer = sgtest::NamLayer<C, 3, Dilation>;  // as the tests check it against NAM's formulas
template <std::size_t C, std::size_t... Dilations>
using NamArray = sg::Sequential<NamLayer<C, Dilations>...>;
using NamNano = sg::Sequential<
    sg::Concat<sg::Conv1D<1, 4, 1>, sg::Conv1D<1, 4, 1>, sg::Activation<sg::Identity, 1>>,
    NamArray<4, 1, 2, 4, 8, 16, 32, 64>,
    sg::Concat<sg::Sequential<sg::Slice<0, 4, 9>, sg::Conv1D<4, 2, 1>>, sg::Sequential<sg::Slice<4, 4, 9>, sg::Conv1D<4, 2, 1>>,
               sg::Slice<8, 1, 9>>,
    NamArray<2, 128, 256, 512, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512>, sg::Slice<2, 2, 5>, sg::Conv1D<2, 1, 1>>;

// A GRU and a stateless block after it, plain, with the block as a Checkpoint, and with
// both: value_and_grad through one sequence of 1,024 steps, whose backward pass keeps every
// step's cache.
using CheckpointBlock =
    sg::Sequential<sg::Dense<16, 64, sg::Tanh>, sg::Dense<64, 64, sg::Tanh>, sg::Dense<64, 16, sg::Tanh>>;
using GruBlock = sg::Sequential<sg::GRU<1, 16>, CheckpointBlock, sg::Dense<16, 1>>;
using GruCheckpointedBlock = sg::Sequential<sg::GRU<1, 16>, sg::Checkpoint<CheckpointBlock>, sg::Dense<16, 1>>;
using GruBlockCheckpointed =
    sg::Sequential<sg::Checkpoint<sg::GRU<1, 16>>, sg::Checkpoint<CheckpointBlock>, sg::Dense<16, 1>>;
constexpr std::size_t checkpoint_steps = 1024;

template <class Net>
void register_sequence_gradient(const std::string& name, const std::vector<float>& signal) {
  auto xs = std::make_shared<sg::Sequence<float, checkpoint_steps, 1>>();
  auto ys = std::make_shared<sg::Sequence<float, checkpoint_steps, 1>>();
  for (std::size_t t = 0; t < checkpoint_steps; ++t) {
    (*xs)[t][0] = signal[t];
    (*ys)[t][0] = std::tanh(4 * signal[t]);
  }
  auto model = std::make_shared<sg::Model<Net, float>>(7);
  auto grads = std::make_shared<sg::Gradients<Net, float>>();
  benchmark::RegisterBenchmark(name.c_str(), [model, grads, xs, ys](benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(sg::value_and_grad(*model, sg::MSE{}, *xs, *ys, *grads));
  });
}

// A checkpointed network's line: its time against the plain one's, the bytes its sequence
// keeps and what a checkpoint recomputes at a time.
template <class Net>
void print_checkpointed(const char* what, double checkpointed, double plain) {
  constexpr std::size_t recomputed = sg::detail::recompute_scalars<Net, checkpoint_steps>() * sizeof(float);
  std::printf("  %s: %.1f us (%.2fx), %zu bytes kept + %zu recomputed at a time\n", what, checkpointed / 1000,
              checkpointed / plain, sg::detail::sequence_workspace_bytes<Net, float, checkpoint_steps> - recomputed,
              recomputed);
}

// 4,096 samples of a plucked-string-like tone and noise, at the levels a guitar signal has.
std::vector<float> make_signal() {
  std::vector<float> signal(signal_length);
  sg::init::Rng rng(3);
  for (std::size_t t = 0; t < signal.size(); ++t) {
    const double seconds = static_cast<double>(t) / 48000;
    signal[t] = static_cast<float>(0.6 * std::exp(-30 * seconds) * std::sin(2 * 3.14159265358979 * 110 * seconds) +
                                   0.02 * rng.normal());
  }
  return signal;
}

}  // namespace

int main(int argc, char** argv) {
  const auto signal = make_signal();
  std::vector<StreamingCase> cases{
      register_generated<sg::Sequential<sg::GRU<1, 8>, sg::GRU<8, 8>, sg::GRU<8, 8>, sg::GRU<8, 8>, sg::Dense<8, 1>>>(
          "GRU-8 x4", signal),
      register_generated<sg::Sequential<sg::GRU<1, 16>, sg::Dense<16, 1>>>("GRU-16", signal),
      register_generated<sg::Sequential<sg::LSTM<1, 16>, sg::Dense<16, 1>>>("LSTM-16", signal),
      register_generated<sg::Sequential<sg::GRU<1, 40>, sg::Dense<40, 1>>>("GRU-40", signal),
      register_generated<sg::Sequential<sg::LSTM<1, 40>, sg::Dense<40, 1>>>("LSTM-40", signal),
  };
  const std::vector<StreamingCase> recurrent = cases;
  register_training<sg::Sequential<sg::GRU<1, 16>, sg::Dense<16, 1>>>(cases[1], signal);
  register_training<sg::Sequential<sg::LSTM<1, 16>, sg::Dense<16, 1>>>(cases[2], signal);
  // A convolution, a dilated stack and a WaveNet.
  cases.push_back(register_generated<sg::Sequential<sg::Conv1D<1, 12, 5>, sg::Dense<12, 1>>>("Conv1D 1-12 k5", signal));
  cases.push_back(register_generated<DilatedStack>("Conv1D-8 d1-512", signal));
  register_training<DilatedStack>(cases.back(), signal);
  cases.push_back(register_generated<NamNano>("WaveNet NAM nano", signal));
  const std::string checkpoint_plain = "checkpoint/GRU-16 + Dense 16-64-64-16 Tanh, sequence of 1024";
  const std::string checkpoint_block = checkpoint_plain + ", block as Checkpoint";
  const std::string checkpoint_both = checkpoint_plain + ", GRU and block as Checkpoints";
  register_sequence_gradient<GruBlock>(checkpoint_plain, signal);
  register_sequence_gradient<GruCheckpointedBlock>(checkpoint_block, signal);
  register_sequence_gradient<GruBlockCheckpointed>(checkpoint_both, signal);
  std::vector<std::string> columns{"generated", "tape"};
#ifdef STATICGRAD_BENCH_RTNEURAL_EIGEN
  register_rtneural_eigen(cases);
  columns.push_back("rtneural eigen");
#endif
#ifdef STATICGRAD_BENCH_RTNEURAL_XSIMD
  register_rtneural_xsimd(cases);
  columns.push_back("rtneural xsimd");
#endif
#ifdef STATICGRAD_BENCH_RTNEURAL_STL
  register_rtneural_stl(cases);
  columns.push_back("rtneural stl");
#else
  std::printf("RTNeural not found (set STATICGRAD_RTNEURAL_DIR to its checkout): no RTNeural columns\n");
#endif
  register_torch_streaming(recurrent);
  columns.push_back("torch");

  MedianCollector reporter;
  run_benchmarks(argc, argv, reporter);

  // ns per sample, each peer's ratio to the generated step, and the generated step over the
  // fastest RTNeural backend.
  std::printf("\n%-10s", "ns/sample");
  for (const auto& column : columns) std::printf(" %22s", column.c_str());
  std::printf("  generated / fastest RTNeural;  the whole signal as one Sequence\n");
  for (const auto& stream : cases) {
    const double generated = reporter.median(stream.name + "/stream/generated");
    if (generated == 0) continue;
    std::printf("%-10s", stream.name.c_str());
    double fastest = 0;
    for (const auto& column : columns) {
      const double ns = reporter.median(stream.name + "/stream/" + column);
      if (ns == 0) std::printf(" %22s", "-");
      else std::printf(" %12.1f (%6.2fx)", ns, ns / generated);
      if (ns > 0 && column.starts_with("rtneural") && (fastest == 0 || ns < fastest)) fastest = ns;
    }
    if (fastest > 0) std::printf("  %.2fx", generated / fastest);
    if (const double sequence = reporter.median(stream.name + "/sequence/generated") / signal_length; sequence > 0)
      std::printf("  sequence %.1f ns (%.2fx faster)", sequence, generated / sequence);
    std::printf("\n");
  }
  std::printf("\ntraining through time (16 sequences of 256 steps, Adam), us per step, on one and two threads:\n");
  for (const auto& stream : cases) {
    const double generated = reporter.median(stream.name + "/train/generated 1");
    if (generated == 0) continue;
    const double two = reporter.median(stream.name + "/train/generated 2");
    std::printf("%-16s generated %9.1f %9.1f", stream.name.c_str(), generated / 1000, two / 1000);
    const double torch = reporter.median(stream.name + "/train/torch 1"), torch_two = reporter.median(stream.name + "/train/torch 2");
    if (torch > 0)
      std::printf("   torch %9.1f %9.1f (its faster %.1fx the generated one thread's)", torch / 1000, torch_two / 1000,
                  std::min(torch, torch_two) / generated);
    std::printf("\n");
  }
  if (const double plain = reporter.median(checkpoint_plain); plain > 0) {
    std::printf("\nCheckpoint: GRU-16 + Dense 16-64-64-16 Tanh, value_and_grad over %zu steps: %.1f us, %zu bytes of "
                "workspace\n",
                checkpoint_steps, plain / 1000, sg::detail::sequence_workspace_bytes<GruBlock, float, checkpoint_steps>);
    print_checkpointed<GruCheckpointedBlock>("the block as a Checkpoint", reporter.median(checkpoint_block), plain);
    print_checkpointed<GruBlockCheckpointed>("the GRU and the block as Checkpoints", reporter.median(checkpoint_both),
                                             plain);
  }
  benchmark::Shutdown();
  return 0;
}
