// LibTorch (Debian's libtorch-dev) running the bench networks with autograd, one thread.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "peers.hpp"
#include "recurrent_peers.hpp"

namespace {

struct TorchNet {
  torch::nn::Sequential body;
  bool residual = false;
  bool cross_entropy = false;

  torch::Tensor forward(const torch::Tensor& x) {
    auto y = body->forward(x);
    return residual ? x + y : y;
  }
  torch::Tensor loss(const torch::Tensor& y, const torch::Tensor& target) {
    return cross_entropy ? torch::nn::functional::cross_entropy(y, target)
                         : torch::nn::functional::mse_loss(y, target);
  }
};

std::shared_ptr<TorchNet> build(const NetworkSpec& spec, std::span<const float> params) {
  torch::set_num_threads(1);
  auto net = std::make_shared<TorchNet>();
  net->residual = spec.residual;
  net->cross_entropy = spec.cross_entropy;
  std::size_t offset = 0;
  torch::NoGradGuard no_grad;
  for (const auto& layer : spec.layers) {
    torch::nn::Linear linear(static_cast<std::int64_t>(layer.in), static_cast<std::int64_t>(layer.out));
    const auto in = static_cast<std::int64_t>(layer.in), out = static_cast<std::int64_t>(layer.out);
    // staticgrad stores W as [In][Out]; nn.Linear as [Out][In].
    auto w = torch::from_blob(const_cast<float*>(params.data() + offset), {in, out}).t().clone();
    linear->weight.copy_(w);
    offset += layer.in * layer.out;
    linear->bias.copy_(torch::from_blob(const_cast<float*>(params.data() + offset), {out}).clone());
    offset += layer.out;
    net->body->push_back(linear);
    if (layer.activation == "relu") net->body->push_back(torch::nn::ReLU());
    else if (layer.activation == "tanh") net->body->push_back(torch::nn::Tanh());
    else if (layer.activation == "gelu") net->body->push_back(torch::nn::GELU());
  }
  return net;
}

torch::Tensor tensor(std::span<const float> values, std::int64_t rows, std::int64_t cols) {
  return torch::from_blob(const_cast<float*>(values.data()), {rows, cols}).clone();
}

torch::Tensor tensor(const nlohmann::json& values) {
  if (!values.front().is_array()) {
    const std::vector<float> vector = values;
    return tensor(vector, 1, static_cast<std::int64_t>(vector.size())).flatten();
  }
  std::vector<float> matrix;
  for (const auto& row : values)
    for (const float v : row) matrix.push_back(v);
  const auto rows = static_cast<std::int64_t>(values.size());
  return tensor(matrix, rows, static_cast<std::int64_t>(matrix.size()) / rows);
}

// A stack of one-layer nn.GRU or nn.LSTM modules and an nn.Linear head, stepped one sample
// at a time with each layer's hidden state carried (as an audio callback would call it).
struct TorchStream {
  std::vector<torch::nn::GRU> grus;
  std::vector<torch::nn::LSTM> lstms;
  torch::nn::Linear head{nullptr};
  std::vector<torch::Tensor> h, c;

  TorchStream(const StreamingCase& stream) {
    torch::NoGradGuard no_grad;
    const bool lstm = stream.name.starts_with("LSTM");
    std::size_t k = 0;
    for (; stream.state_dict.contains(std::to_string(k) + ".weight_ih_l0"); ++k) {
      const std::string prefix = std::to_string(k) + ".";
      const auto weight_ih = tensor(stream.state_dict.at(prefix + "weight_ih_l0"));
      const auto in = weight_ih.size(1), hidden = weight_ih.size(0) / (lstm ? 4 : 3);
      auto parameters = lstm ? lstms.emplace_back(torch::nn::LSTMOptions(in, hidden))->named_parameters()
                             : grus.emplace_back(torch::nn::GRUOptions(in, hidden))->named_parameters();
      for (const char* name : {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"})
        parameters[name].copy_(tensor(stream.state_dict.at(prefix + name)));
      h.push_back(torch::zeros({1, 1, hidden}));
      c.push_back(torch::zeros({1, 1, hidden}));
    }
    const std::string prefix = std::to_string(k) + ".";
    const auto weight = tensor(stream.state_dict.at(prefix + "weight"));
    head = torch::nn::Linear(weight.size(1), weight.size(0));
    head->weight.copy_(weight);
    head->bias.copy_(tensor(stream.state_dict.at(prefix + "bias")));
  }

  // x: [1, 1, 1] (one step of a sequence of a batch of one).
  torch::Tensor step(torch::Tensor x) {
    for (std::size_t k = 0; k < grus.size(); ++k) std::tie(x, h[k]) = grus[k]->forward(x, h[k]);
    for (std::size_t k = 0; k < lstms.size(); ++k) {
      std::tuple<torch::Tensor, torch::Tensor> state;
      std::tie(x, state) = lstms[k]->forward(x, std::make_tuple(h[k], c[k]));
      std::tie(h[k], c[k]) = state;
    }
    return head->forward(x);
  }
};

}  // namespace

void register_torch_streaming(const std::vector<StreamingCase>& cases) {
  torch::set_num_threads(1);
  for (const auto& stream : cases) {
    auto net = std::make_shared<TorchStream>(stream);
    std::vector<torch::Tensor> inputs;
    for (const float x : stream.signal) inputs.push_back(torch::full({1, 1, 1}, x));
    torch::NoGradGuard no_grad;
    double worst = 0;
    for (std::size_t t = 0; t < inputs.size(); ++t)
      worst = std::max(worst, std::abs(net->step(inputs[t]).item<double>() - stream.expected[t]));
    if (!(worst <= 1e-4)) {
      std::fprintf(stderr, "bench: %s: LibTorch differs from staticgrad by %g\n", stream.name.c_str(), worst);
      std::exit(1);
    }
    register_stream(stream.name + "/stream/torch", inputs.size(), [net, inputs](std::size_t t) {
      torch::NoGradGuard no_grad;
      return net->step(inputs[t]);
    });
  }
}

namespace {

// A convolution weight [Out][In][Kernel] as a tensor.
torch::Tensor conv_weight(const nlohmann::json& values) {
  std::vector<float> flat;
  for (const auto& row : values)
    for (const auto& taps : row)
      for (const float v : taps) flat.push_back(v);
  const auto out = static_cast<std::int64_t>(values.size()), in = static_cast<std::int64_t>(values[0].size());
  return torch::from_blob(flat.data(), {out, in, static_cast<std::int64_t>(values[0][0].size())}).clone();
}

// bench/recurrent.cpp's dilated stack ("Conv1D-8 d1-512": convolution i dilated 2^i, each
// followed by Tanh, a Dense head) as nn.Conv1d modules, each after a left zero pad of
// (kernel − 1) · dilation steps: causal from zero state, as staticgrad's Conv1D over a
// sequence from zeros. Input [sequences, 1, steps]; output [sequences, steps, 1].
struct TorchConvStack {
  torch::nn::Sequential convs;
  torch::nn::Linear head{nullptr};
  explicit TorchConvStack(const StreamingCase& stream) {
    torch::NoGradGuard no_grad;
    std::int64_t dilation = 1;
    // Modules k: a convolution, its Tanh (no tensors), …, the head; each has two tensors.
    for (std::size_t k = 0; k < stream.state_dict.size(); ++k) {
      const std::string prefix = std::to_string(k) + ".";
      if (!stream.state_dict.contains(prefix + "weight")) continue;
      const auto& weight = stream.state_dict.at(prefix + "weight");
      if (!weight[0][0].is_array()) {
        const auto matrix = tensor(weight);
        head = torch::nn::Linear(matrix.size(1), matrix.size(0));
        head->weight.copy_(matrix);
        head->bias.copy_(tensor(stream.state_dict.at(prefix + "bias")));
        return;
      }
      const auto w = conv_weight(weight);
      const auto kernel = w.size(2);
      torch::nn::Conv1d conv(torch::nn::Conv1dOptions(w.size(1), w.size(0), kernel).dilation(dilation));
      conv->weight.copy_(w);
      conv->bias.copy_(tensor(stream.state_dict.at(prefix + "bias")));
      convs->push_back(torch::nn::ConstantPad1d(torch::nn::ConstantPad1dOptions({(kernel - 1) * dilation, 0}, 0.0)));
      convs->push_back(conv);
      convs->push_back(torch::nn::Tanh());
      dilation *= 2;
    }
    std::fprintf(stderr, "bench: %s: no Linear head in its state_dict\n", stream.name.c_str());
    std::exit(1);
  }
  torch::Tensor forward(const torch::Tensor& x) { return head->forward(convs->forward(x).transpose(1, 2)); }
  std::vector<torch::Tensor> parameters() {
    auto all = convs->parameters();
    for (auto& p : head->parameters()) all.push_back(p);
    return all;
  }
};

// Registers "<name>/train/torch <threads>" for 1 and 2 threads: one step of Adam (lr 1e-3)
// on `loss()`, after checking that its first value is staticgrad's.
template <class Loss>
void register_adam_steps(const StreamingCase& network, const TrainingCase& batch,
                         std::vector<torch::Tensor> parameters, Loss loss) {
  const double first = loss().template item<double>();
  if (!(std::abs(first - batch.first_loss) <= 1e-5 * std::max(1.0, std::abs(first)))) {
    std::fprintf(stderr, "bench: %s: LibTorch's loss %g, staticgrad's %g\n", network.name.c_str(), first,
                 static_cast<double>(batch.first_loss));
    std::exit(1);
  }
  auto adam = std::make_shared<torch::optim::Adam>(parameters, torch::optim::AdamOptions(1e-3));
  for (const int threads : {1, 2}) {
    benchmark::RegisterBenchmark((network.name + "/train/torch " + std::to_string(threads)).c_str(),
                                 [adam, loss, threads](benchmark::State& state) {
                                   torch::set_num_threads(threads);
                                   for (auto _ : state) {
                                     adam->zero_grad();
                                     auto value = loss();
                                     value.backward();
                                     adam->step();
                                     benchmark::DoNotOptimize(value);
                                   }
                                   torch::set_num_threads(1);
                                 })
        ->UseRealTime();
  }
}

}  // namespace

void register_torch_sequence_training(const StreamingCase& network, const TrainingCase& batch) {
  const auto sequences = static_cast<std::int64_t>(batch.sequences), steps = static_cast<std::int64_t>(batch.steps);
  if (network.name.starts_with("Conv1D")) {
    auto net = std::make_shared<TorchConvStack>(network);
    auto x = torch::from_blob(const_cast<float*>(batch.inputs.data()), {sequences, 1, steps}).clone();
    auto y = torch::from_blob(const_cast<float*>(batch.targets.data()), {sequences, steps, 1}).clone();
    register_adam_steps(network, batch, net->parameters(),
                        [net, x, y] { return torch::nn::functional::mse_loss(net->forward(x), y); });
    return;
  }
  auto net = std::make_shared<TorchStream>(network);
  // [sequence][step] as nn.GRU's [step][sequence][1].
  const auto as_input = [&](const std::vector<float>& values) {
    return torch::from_blob(const_cast<float*>(values.data()), {sequences, steps}).t().contiguous().unsqueeze(2);
  };
  auto x = as_input(batch.inputs), y = as_input(batch.targets);
  std::vector<torch::Tensor> parameters;
  for (auto& gru : net->grus) for (auto& p : gru->parameters()) parameters.push_back(p);
  for (auto& lstm : net->lstms) for (auto& p : lstm->parameters()) parameters.push_back(p);
  for (auto& p : net->head->parameters()) parameters.push_back(p);
  // The whole sequence through each layer from zero state, then the head on every step.
  register_adam_steps(network, batch, parameters, [net, x, y] {
    torch::Tensor h = x;
    for (auto& gru : net->grus) h = std::get<0>(gru->forward(h));
    for (auto& lstm : net->lstms) h = std::get<0>(lstm->forward(h));
    return torch::nn::functional::mse_loss(net->head->forward(h), y);
  });
}

void register_torch_benchmarks(const std::string& name, const NetworkSpec& spec,
                               std::span<const float> params, std::span<const float> input,
                               std::span<const float> target, std::size_t label) {
  auto net = build(spec, params);
  auto x = tensor(input, 1, static_cast<std::int64_t>(input.size()));
  auto t = spec.cross_entropy ? torch::tensor({static_cast<std::int64_t>(label)})
                              : tensor(target, 1, static_cast<std::int64_t>(target.size()));
  benchmark::RegisterBenchmark((name + "/infer/torch").c_str(), [net, x](benchmark::State& state) {
    torch::NoGradGuard no_grad;
    for (auto _ : state) benchmark::DoNotOptimize(net->forward(x));
  });
  benchmark::RegisterBenchmark((name + "/value_and_grad/torch").c_str(), [net, x, t](benchmark::State& state) {
    for (auto _ : state) {
      net->body->zero_grad();
      auto loss = net->loss(net->forward(x), t);
      loss.backward();
      benchmark::DoNotOptimize(loss);
    }
  });
}

void register_torch_training(const std::string& name, const NetworkSpec& spec,
                             std::span<const float> params, std::span<const float> inputs,
                             std::span<const std::size_t> labels) {
  const auto count = static_cast<std::int64_t>(labels.size());
  auto net = build(spec, params);
  auto x = tensor(inputs, count, static_cast<std::int64_t>(inputs.size()) / count);
  std::vector<std::int64_t> classes(labels.begin(), labels.end());
  auto t = torch::tensor(classes);
  auto adam = std::make_shared<torch::optim::Adam>(net->body->parameters(), torch::optim::AdamOptions(1e-3));
  benchmark::RegisterBenchmark((name + "/train/torch").c_str(), [net, x, t, adam](benchmark::State& state) {
    for (auto _ : state) {
      adam->zero_grad();
      auto loss = net->loss(net->forward(x), t);
      loss.backward();
      adam->step();
      benchmark::DoNotOptimize(loss);
    }
  });
}
