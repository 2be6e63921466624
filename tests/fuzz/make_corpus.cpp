// Writes the fuzzers' seed corpus: valid files of each format for the fuzz network, from
// which libFuzzer's mutations start.   fuzz_make_corpus DIR   writes DIR/binary, DIR/safetensors
#include <filesystem>

#include <staticgrad/io/safetensors.hpp>

#include "fuzz_network.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::filesystem::path corpus = argv[1];
  std::filesystem::create_directories(corpus / "binary");
  std::filesystem::create_directories(corpus / "safetensors");
  staticgrad::save(staticgrad::Model<sgfuzz::Net, float>{1}, corpus / "binary" / "valid.sgrd");
  staticgrad::save(staticgrad::Model<sgfuzz::Net, double>{2}, corpus / "binary" / "valid_f64.sgrd");
  staticgrad::save_safetensors(staticgrad::Model<sgfuzz::Net, float>{1}, corpus / "safetensors" / "valid.safetensors");
  staticgrad::save_safetensors(staticgrad::Model<sgfuzz::Net, double>{2},
                               corpus / "safetensors" / "valid_f64.safetensors");
}
