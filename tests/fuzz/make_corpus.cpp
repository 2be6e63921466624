// Writes the fuzzers' seed corpus: valid files of each format for the fuzz network, and
// files of each kind the loaders must refuse (tensors that overlap or leave bytes over, a
// name twice, a file of another network), from which libFuzzer's mutations start.
//   fuzz_make_corpus DIR   writes DIR/binary, DIR/safetensors, DIR/rtneural
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <staticgrad/io/safetensors.hpp>

#include "fuzz_network.hpp"

namespace {

namespace fs = std::filesystem;

std::vector<char> read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A safetensors file from its header's members ("name":{...}, joined as given) and data.
void write_safetensors(const fs::path& path, const std::vector<std::string>& members, std::vector<char> data) {
  std::string header = "{";
  for (const auto& member : members) header += (header.size() > 1 ? "," : "") + member;
  header += "}";
  std::ofstream out(path, std::ios::binary);
  for (std::size_t i = 0; i < 8; ++i) out.put(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  out << header;
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Variants of a valid safetensors file, one per kind of inconsistency.
void write_refused_safetensors(const fs::path& valid, const fs::path& folder) {
  const auto bytes = read(valid);
  const std::size_t header_size = staticgrad::detail::take<std::uint64_t>(reinterpret_cast<const unsigned char*>(bytes.data()));
  const auto header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_size));
  const std::vector<char> data(bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_size), bytes.end());
  std::vector<std::string> members, at_zero;
  for (const auto& [name, entry] : header.items()) {
    members.push_back(nlohmann::json(name).dump() + ":" + entry.dump());
    auto moved = entry;
    if (entry.contains("data_offsets"))
      moved["data_offsets"] = {0, entry["data_offsets"][1].get<std::size_t>() - entry["data_offsets"][0].get<std::size_t>()};
    at_zero.push_back(nlohmann::json(name).dump() + ":" + moved.dump());
  }
  write_safetensors(folder / "every_tensor_at_0.safetensors", at_zero, data);
  auto twice = members;
  twice.push_back(members.back());
  write_safetensors(folder / "name_twice.safetensors", twice, data);
  auto longer = data;
  longer.resize(data.size() + 8);
  write_safetensors(folder / "bytes_left_over.safetensors", members, longer);
}

// RTNeural's format for sgfuzz::RTNeuralNet: the layers of tests/data/rtneural's recurrent
// model, then those of its convolutional and batch_norm ones.
void write_rtneural_seed(const fs::path& folder) {
  fs::create_directories(folder);
  const fs::path data = fs::path(STATICGRAD_TEST_DATA) / "rtneural";
  auto model = nlohmann::json::parse(std::ifstream(data / "recurrent.json"));
  model.erase("staticgrad_test");
  for (const char* name : {"convolutional.json", "batch_norm.json"}) {
    const auto more = nlohmann::json::parse(std::ifstream(data / name));
    for (const auto& layer : more["layers"]) model["layers"].push_back(layer);
  }
  std::ofstream(folder / "valid.json") << model.dump();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const fs::path corpus = argv[1];
  fs::create_directories(corpus / "binary");
  fs::create_directories(corpus / "safetensors");
  staticgrad::save(staticgrad::Model<sgfuzz::Net, float>{1}, corpus / "binary" / "valid.sgrd");
  staticgrad::save(staticgrad::Model<sgfuzz::Net, double>{2}, corpus / "binary" / "valid_f64.sgrd");
  staticgrad::save(staticgrad::Model<staticgrad::Sequential<staticgrad::Dense<2, 1>>, float>{3},
                   corpus / "binary" / "another_network.sgrd");
  staticgrad::save_safetensors(staticgrad::Model<sgfuzz::Net, float>{1}, corpus / "safetensors" / "valid.safetensors");
  staticgrad::save_safetensors(staticgrad::Model<sgfuzz::Net, double>{2},
                               corpus / "safetensors" / "valid_f64.safetensors");
  write_refused_safetensors(corpus / "safetensors" / "valid.safetensors", corpus / "safetensors");
  write_rtneural_seed(corpus / "rtneural");
}
