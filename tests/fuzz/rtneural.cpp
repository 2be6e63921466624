// libFuzzer target: staticgrad::load_rtneural's parser on arbitrary bytes. It may refuse
// them with std::runtime_error; anything else (a crash, a sanitizer report, another
// exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <staticgrad/io/rtneural.hpp>

#include "fuzz_network.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  staticgrad::Model<sgfuzz::RTNeuralNet, float> model{};
  try {
    staticgrad::detail::load_rtneural(model, staticgrad::detail::memory_source({data, size}, "fuzz input"));
  } catch (const std::runtime_error&) {
  }
  return 0;
}
