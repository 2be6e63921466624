// What the peers outside staticgrad (LibTorch) need to build the same networks: a plain
// description, and the parameters in staticgrad's flat order.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

struct DenseSpec {
  std::size_t in, out;
  std::string activation;  // "identity", "relu", "tanh", "gelu"
};

struct NetworkSpec {
  std::vector<DenseSpec> layers;
  bool residual = false;      // the whole network is x + f(x)
  bool cross_entropy = false; // softmax cross-entropy with a class index, else MSE
};

/// Registers "<name>/infer/torch" and "<name>/value_and_grad/torch" (one sample), or does
/// nothing when the bench was built without LibTorch.
void register_torch_benchmarks(const std::string& name, const NetworkSpec& spec,
                               std::span<const float> params, std::span<const float> input,
                               std::span<const float> target, std::size_t label);

/// Registers "<name>/train/torch": value_and_grad and an Adam step for a batch.
void register_torch_training(const std::string& name, const NetworkSpec& spec,
                             std::span<const float> params, std::span<const float> inputs,
                             std::span<const std::size_t> labels);
