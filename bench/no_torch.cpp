// Built instead of torch_peer.cpp when LibTorch is not found: the bench says so and runs
// without that column.
#include <cstdio>

#include "peers.hpp"
#include "recurrent_peers.hpp"

void register_torch_benchmarks(const std::string& name, const NetworkSpec&, std::span<const float>,
                               std::span<const float>, std::span<const float>, std::size_t) {
  static bool said = false;
  if (!said) std::printf("LibTorch not found (Debian: libtorch-dev): no torch column (%s)\n", name.c_str());
  said = true;
}
void register_torch_training(const std::string&, const NetworkSpec&, std::span<const float>,
                             std::span<const float>, std::span<const std::size_t>) {}
void register_torch_streaming(const std::vector<StreamingCase>&) {}
void register_torch_sequence_training(const StreamingCase&, const TrainingCase&) {}
