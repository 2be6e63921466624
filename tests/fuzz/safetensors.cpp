// libFuzzer target: staticgrad::load_safetensors' parser on arbitrary bytes. It may refuse
// them with std::runtime_error; anything else (a crash, a sanitizer report, another
// exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>

#include <staticgrad/io/safetensors.hpp>

#include "fuzz_network.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  staticgrad::Model<sgfuzz::Net, float> model{};
  try {
    staticgrad::detail::load_safetensors(model, staticgrad::detail::memory_source({data, size}, "fuzz input"),
                                          staticgrad::detail::torch_tensors<sgfuzz::Net>());
  } catch (const std::runtime_error&) {
  }
  return 0;
}
