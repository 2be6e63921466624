// load_safetensors / save_safetensors: PyTorch's names and layout, a committed file written
// by PyTorch, round trips, and every bad file refused with the file, tensor and sizes named.
#include <array>
#include <bit>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/io/safetensors.hpp>
#include <staticgrad/layers/batch_norm.hpp>

#include "support/files.hpp"

namespace sg = staticgrad;
namespace fs = std::filesystem;

namespace {

// Every kind of parameter tensor, and the numbering of nested modules.
using Net = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Residual<sg::LayerNorm<4>, sg::Dense<4, 4, sg::Tanh>>,
                           sg::RMSNorm<4>, sg::Activation<sg::GELU, 4>, sg::Dense<4, 2>>;

// A safetensors file from a header text and raw data, for the bad-file cases.
void write_safetensors(const fs::path& path, const std::string& header, const std::vector<char>& data) {
  std::vector<char> bytes;
  for (std::size_t i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  sgtest::write_bytes(path, bytes);
}

// A one-layer network: its two tensors are easy to write by hand.
using Small = sg::Dense<2, 1, sg::Identity>;

std::string small_header(const std::string& weight_entry) {
  return R"({"weight":)" + weight_entry + R"(,"bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
}

const std::vector<char> small_data(12, 0);  // weight 2 floats, bias 1 float: all zero

void check_refused(sg::Model<Small, float>& model, const fs::path& file, const std::vector<std::string>& fragments) {
  sgtest::check_refused(model, file, [](auto& m, const fs::path& f) { sg::load_safetensors(m, f); }, fragments);
}

}  // namespace

TEST_CASE("safetensors: default names follow nn.Sequential numbering") {
  const std::vector<std::string> expected{"0.weight",   "0.bias",   "2.0.weight", "2.0.bias", "2.1.weight",
                                          "2.1.bias",   "3.weight", "5.weight",   "5.bias"};
  CHECK(sg::tensor_names<Net>() == expected);
  CHECK(sg::tensor_names<Small>() == std::vector<std::string>{"weight", "bias"});
}

TEST_CASE("safetensors: a file written by PyTorch gives PyTorch's outputs") {
  using Mlp = sg::Sequential<sg::Dense<4, 16, sg::Tanh>, sg::LayerNorm<16>, sg::Dense<16, 16, sg::GELU>,
                             sg::Dense<16, 3>>;
  sg::Model<Mlp, float> model{};
  sg::load_safetensors(model, STATICGRAD_TEST_DATA "/pytorch_mlp.safetensors");
  // The first line of pytorch_mlp.txt (examples/from_pytorch.py wrote both files; the
  // from_pytorch example's test compares all eight): an input and PyTorch's output for it.
  const std::array<float, 4> x{0x1.b46dap-1f, -0x1.9e837p-2f, 0x1.801a18p-1f, -0x1.865bp-6f};
  const std::array<float, 3> torch_y{0x1.ddbbdap-2f, 0x1.f5a5c8p-1f, -0x1.1eb638p-4f};
  const auto y = model(x);
  for (std::size_t i = 0; i < 3; ++i) CHECK(y[i] == doctest::Approx(torch_y[i]).epsilon(1e-5));
}

TEST_CASE("safetensors: save then load gives the same bits, F32 and F64 convert") {
  sgtest::Folder folder("safetensors_round_trip");
  const sg::Model<Net, float> saved{42};
  sg::save_safetensors(saved, folder.path / "model.safetensors");
  sg::Model<Net, float> loaded{};
  sg::load_safetensors(loaded, folder.path / "model.safetensors");
  CHECK(sgtest::fingerprint(loaded) == sgtest::fingerprint(saved));

  // The data starts 8-byte aligned, as the safetensors format asks.
  const auto bytes = sgtest::read_bytes(folder.path / "model.safetensors");
  CHECK(static_cast<unsigned char>(bytes[0]) % 8 == 0);

  sg::Model<Net, double> widened{};  // an F32 file into a double model: exact
  sg::load_safetensors(widened, folder.path / "model.safetensors");
  for (std::size_t i = 0; i < sg::param_count<Net>; ++i)
    CHECK(widened.flat()[i] == static_cast<double>(saved.flat()[i]));
  sg::save_safetensors(widened, folder.path / "double.safetensors");
  sg::Model<Net, float> narrowed{};  // and back
  sg::load_safetensors(narrowed, folder.path / "double.safetensors");
  CHECK(sgtest::fingerprint(narrowed) == sgtest::fingerprint(saved));
}

TEST_CASE("safetensors: names given by the caller") {
  sgtest::Folder folder("safetensors_names");
  const std::vector<std::string> names{"fc.weight", "fc.bias"};
  const sg::Model<Small, float> saved{3};
  sg::save_safetensors(saved, folder.path / "named.safetensors", names);
  sg::Model<Small, float> loaded{};
  sg::load_safetensors(loaded, folder.path / "named.safetensors", names);
  CHECK(sgtest::fingerprint(loaded) == sgtest::fingerprint(saved));
  // Default names do not find them.
  check_refused(loaded, folder.path / "named.safetensors", {"no tensor 'weight'", "[1, 2]", "Dense<2,1,Identity>"});
  // A list of the wrong length is the caller's mistake, said before any file is touched.
  const std::vector<std::string> too_few{"fc.weight"};
  CHECK_THROWS_WITH_AS(sg::load_safetensors(loaded, folder.path / "named.safetensors", too_few),
                       "staticgrad: 1 tensor names for Dense<2,1,Identity>, which has 2 parameter tensors",
                       std::invalid_argument);
}

TEST_CASE("safetensors: bad files are refused, naming the file, the tensor and the sizes") {
  sgtest::Folder folder("safetensors_bad");
  const auto file = folder.path / "bad.safetensors";
  sg::Model<Small, float> model{5};
  const std::string good_weight = R"({"dtype":"F32","shape":[1,2],"data_offsets":[0,8]})";

  SUBCASE("the well-formed file loads") {
    write_safetensors(file, small_header(good_weight), small_data);
    sg::load_safetensors(model, file);
    CHECK(model.flat()[0] == 0.0f);
  }
  SUBCASE("wrong shape") {
    write_safetensors(file, small_header(R"({"dtype":"F32","shape":[2,1],"data_offsets":[0,8]})"), small_data);
    check_refused(model, file, {"tensor 'weight' has shape [2, 1], but Dense<2,1,Identity> needs [1, 2]"});
  }
  SUBCASE("unsupported dtype") {
    write_safetensors(file, small_header(R"({"dtype":"F16","shape":[1,2],"data_offsets":[0,8]})"), small_data);
    check_refused(model, file, {"tensor 'weight' has dtype F16; staticgrad reads F32, F64 and I64"});
  }
  SUBCASE("missing tensor") {
    write_safetensors(file, R"({"weight":)" + good_weight + "}", small_data);
    check_refused(model, file, {"no tensor 'bias' (shape [1], for Dense<2,1,Identity>)"});
  }
  SUBCASE("a tensor the model does not have") {
    const std::string header = R"({"weight":)" + good_weight +
                               R"(,"bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
                               R"("extra":{"dtype":"F32","shape":[],"data_offsets":[8,12]}})";
    write_safetensors(file, header, small_data);
    check_refused(model, file, {"holds tensors that Dense<2,1,Identity> does not have: 'extra'"});
  }
  SUBCASE("data size disagrees with dtype and shape") {
    write_safetensors(file, small_header(R"({"dtype":"F32","shape":[1,2],"data_offsets":[0,4]})"), small_data);
    check_refused(model, file, {"tensor 'weight' has 4 bytes of data for 2 F32 values"});
  }
  SUBCASE("offsets beyond the data") {
    write_safetensors(file, small_header(R"({"dtype":"F32","shape":[1,2],"data_offsets":[0,800]})"), small_data);
    check_refused(model, file, {"tensor 'weight'", "[0, 800] lie outside the 12 bytes of data"});
  }
  SUBCASE("malformed entry") {
    write_safetensors(file, small_header(R"({"dtype":"F32","shape":[1,-2],"data_offsets":[0,8]})"), small_data);
    check_refused(model, file, {"tensor 'weight': its shape holds something other than sizes"});
  }
  SUBCASE("header is not JSON") {
    write_safetensors(file, "{not json", small_data);
    check_refused(model, file, {"its header is not a JSON object"});
  }
  SUBCASE("header size beyond the file") {
    std::vector<char> bytes(8, 0);
    bytes[3] = 1;  // 16 MiB
    sgtest::write_bytes(file, bytes);
    check_refused(model, file, {"truncated: a header of 16777216 bytes in a file of 8"});
  }
  SUBCASE("too short for a header") {
    sgtest::write_bytes(file, {'h', 'i'});
    check_refused(model, file, {"not a safetensors file: 2 bytes"});
  }
  SUBCASE("missing file") { check_refused(model, folder.path / "none.safetensors", {"cannot open it"}); }
  SUBCASE("a directory") { check_refused(model, folder.path, {"is a directory, not a file"}); }
  // The tensors must tile the data, as the format requires.
  SUBCASE("overlapping tensors") {
    const std::string bias = R"(,"bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
    write_safetensors(file, R"({"weight":)" + good_weight + bias, std::vector<char>(8, 0));
    check_refused(model, file, {"tensor 'bias' (data_offsets [4, 8]) overlaps tensor 'weight' ([0, 8])"});
  }
  SUBCASE("every tensor at offset 0") {
    const std::string bias = R"(,"bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    write_safetensors(file, R"({"weight":)" + good_weight + bias, std::vector<char>(8, 0));
    check_refused(model, file, {"tensor 'weight' (data_offsets [0, 8]) overlaps tensor 'bias' ([0, 4])"});
  }
  SUBCASE("bytes between tensors") {
    const std::string bias = R"(,"bias":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})";
    write_safetensors(file, R"({"weight":)" + good_weight + bias, std::vector<char>(16, 0));
    check_refused(model, file, {"bytes [8, 12] of the data belong to no tensor"});
  }
  SUBCASE("bytes after the last tensor") {
    write_safetensors(file, small_header(good_weight), std::vector<char>(16, 0));
    check_refused(model, file, {"the data section holds 16 bytes, but its tensors end at 12"});
  }
  SUBCASE("a tensor named twice") {
    const std::string bias = R"("bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]})";
    write_safetensors(file, R"({"weight":)" + good_weight + "," + bias + "," + bias + "}", small_data);
    check_refused(model, file, {"its header names 'bias' twice"});
  }
  SUBCASE("a field named twice") {
    write_safetensors(file, small_header(R"({"dtype":"F32","shape":[1,2],"shape":[2,1],"data_offsets":[0,8]})"),
                      small_data);
    check_refused(model, file, {"its header names 'shape' twice"});
  }
}

TEST_CASE("safetensors: a header larger than the format allows is refused before it is read") {
  sgtest::Folder folder("safetensors_huge");
  const auto file = folder.path / "huge.safetensors";
  constexpr std::uint64_t header_size = 100'000'001;
  std::vector<char> bytes(8);
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header_size >> (8 * i)) & 0xff);
  sgtest::write_bytes(file, bytes);
  fs::resize_file(file, 8 + header_size);  // sparse
  sg::Model<Small, float> model{5};
  sgtest::counting_source<sg::detail::file_source> counted{sg::detail::file_source(file)};
  CHECK_THROWS_WITH_AS(sg::detail::load_safetensors(model, counted, sg::detail::torch_tensors<Small>()),
                       doctest::Contains("a header of 100000001 bytes, more than the format's limit of 100000000"),
                       std::runtime_error);
  CHECK(counted.bytes_read == 8);
}

TEST_CASE("safetensors: data that is not the model's tensors is not read") {
  sgtest::Folder folder("safetensors_long");
  const auto file = folder.path / "long.safetensors";
  write_safetensors(file, small_header(R"({"dtype":"F32","shape":[1,2],"data_offsets":[0,8]})"), small_data);
  const auto header_end = fs::file_size(file) - small_data.size();
  fs::resize_file(file, std::uint64_t{1} << 28);  // 256 MiB, sparse
  sg::Model<Small, float> model{5};
  sgtest::counting_source<sg::detail::file_source> counted{sg::detail::file_source(file)};
  CHECK_THROWS_WITH_AS(sg::detail::load_safetensors(model, counted, sg::detail::torch_tensors<Small>()), doctest::Contains("but its tensors end at 12"),
                       std::runtime_error);
  CHECK(counted.bytes_read == header_end);
}

TEST_CASE("safetensors: a name given twice is refused before any file is touched") {
  sgtest::Folder folder("safetensors_names_twice");
  const auto file = folder.path / "model.safetensors";
  const sg::Model<Small, float> model{5};
  const std::vector<std::string> twice{"fc.weight", "fc.weight"}, metadata{"fc.weight", "__metadata__"};
  CHECK_THROWS_WITH_AS(sg::save_safetensors(model, file, twice), "staticgrad: the tensor name 'fc.weight' is given twice",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(sg::save_safetensors(model, file, metadata),
                       "staticgrad: the tensor name '__metadata__' is given (it names the file's metadata)",
                       std::invalid_argument);
  CHECK_FALSE(fs::exists(file));
  sg::Model<Small, float> loaded{};
  CHECK_THROWS_AS(sg::load_safetensors(loaded, file, twice), std::invalid_argument);
}

TEST_CASE("safetensors: a save that fails leaves the previous file intact") {
  sgtest::Folder folder("safetensors_failed_save");
  sgtest::check_failed_save_keeps_old_file(folder.path, [](int seed, const fs::path& path) {
    sg::save_safetensors(sg::Model<Small, float>{static_cast<std::uint64_t>(seed)}, path);
  });
}

TEST_CASE("safetensors: two threads saving to one path and one loading from it see whole files") {
  sgtest::Folder folder("safetensors_concurrent_saves");
  sgtest::check_concurrent_saves(
      folder.path,
      [](int seed, const fs::path& path) {
        sg::save_safetensors(sg::Model<Net, float>{static_cast<std::uint64_t>(seed)}, path);
      },
      [](const fs::path& path) {
        sg::Model<Net, float> model{};
        sg::load_safetensors(model, path);
        return sgtest::fingerprint(model);
      });
}

TEST_CASE("safetensors: a BatchNorm's state_dict as PyTorch saves it, num_batches_tracked an int64 scalar") {
  sgtest::Folder folder("safetensors_batch_norm");
  const auto file = folder.path / "norm.safetensors";
  const std::string header =
      R"({"weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
      R"("running_mean":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},)"
      R"("running_var":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},)"
      R"("num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[32,40]}})";
  std::vector<char> data;
  for (const float value : {1.5f, 2.5f, 0.25f, -0.25f, 3.0f, 4.0f, 0.5f, 2.0f}) {
    const auto bits = std::bit_cast<std::array<char, 4>>(value);
    data.insert(data.end(), bits.begin(), bits.end());
  }
  const auto count = std::bit_cast<std::array<char, 8>>(std::int64_t{1234});
  data.insert(data.end(), count.begin(), count.end());
  write_safetensors(file, header, data);

  sg::Model<sg::BatchNorm<2>, float> model{};
  sg::load_safetensors(model, file);
  const auto norm = model.view();
  CHECK(norm.gain(0) == 1.5f);
  CHECK(norm.bias(1) == -0.25f);
  CHECK(norm.running_mean(1) == 4.0f);
  CHECK(norm.running_var(0) == 0.5f);
  CHECK(norm.batches_tracked() == 1234.0f);
  // Saved back: the same names, the count as a float scalar (PyTorch's load_state_dict
  // converts it).
  sg::save_safetensors(model, folder.path / "back.safetensors");
  sg::Model<sg::BatchNorm<2>, float> back{};
  sg::load_safetensors(back, folder.path / "back.safetensors");
  CHECK(sgtest::fingerprint(back) == sgtest::fingerprint(model));
}
