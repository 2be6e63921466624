// What the recurrent bench's peers need to build the same networks: PyTorch's state_dict of
// each, and a signal with staticgrad's outputs for it, so that a peer checks it computes the
// same thing before it is timed.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

/// One streaming network: one input and one output per step, through a stack of GRU, LSTM
/// or Conv1D layers (a Conv1D with Tanh is two modules, as in nn.Sequential) and a Dense
/// head, as nn.Sequential would hold them.
struct StreamingCase {
  std::string name;             ///< "GRU-16", ...: which network the peer builds
  nlohmann::json state_dict;    ///< "0.weight_ih_l0": [[...]], ..., "<k>.weight", "<k>.bias"
  std::vector<float> signal;    ///< one input per step
  std::vector<float> expected;  ///< staticgrad's output at every step, from zero state
};

/// Registers the benchmark `name`: `step(t)` once per iteration, t the step of the signal,
/// going round it (so that a stream sees a signal, not one value again and again).
template <class Step>
void register_stream(const std::string& name, std::size_t steps, Step step) {
  benchmark::RegisterBenchmark(name.c_str(), [steps, step = std::move(step)](benchmark::State& bench) mutable {
    std::size_t t = 0;
    for (auto _ : bench) {
      auto y = step(t);
      benchmark::DoNotOptimize(y);
      t = t + 1 == steps ? 0 : t + 1;
    }
  });
}

/// Registers "<name>/stream/rtneural <backend>" for every case, after checking that the
/// peer's outputs over the signal are staticgrad's (it exits when they are not). Each is
/// built only when RTNeural and the backend's library are found (bench/CMakeLists.txt).
void register_rtneural_eigen(const std::vector<StreamingCase>& cases);
void register_rtneural_xsimd(const std::vector<StreamingCase>& cases);
void register_rtneural_stl(const std::vector<StreamingCase>& cases);

/// A batch of sequences to train on through time: inputs and targets [sequence][step], one
/// value per step, and the loss of the first training step as staticgrad computed it.
struct TrainingCase {
  std::size_t sequences = 0, steps = 0;
  std::vector<float> inputs, targets;
  float first_loss = 0;
};

/// Registers "<name>/train/torch 1" and "… 2" (threads): one step of Adam (lr 1e-3) on the
/// MSE of the whole batch through nn.GRU/nn.LSTM and nn.Linear over [steps, sequences, 1],
/// or for the dilated stack nn.Conv1d (left zero padding) and nn.Linear, at once
/// (backpropagation through time by autograd), after checking that its first loss is
/// staticgrad's. Without LibTorch it does nothing.
void register_torch_sequence_training(const StreamingCase& network, const TrainingCase& batch);

/// Registers "<name>/stream/torch" for recurrent cases: nn.GRU/nn.LSTM and nn.Linear called
/// once per step with the hidden state carried, one thread, no autograd. Without LibTorch it
/// does nothing.
void register_torch_streaming(const std::vector<StreamingCase>& cases);
