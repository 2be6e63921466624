// LibTorch (Debian's libtorch-dev) running the bench networks with autograd, one thread.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "peers.hpp"

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

}  // namespace

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
