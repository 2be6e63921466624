// RTNeural's JSON model files (tests/data/rtneural, written by tools/make_rtneural_files.py
// from PyTorch modules in Keras' layouts): a recurrent and a convolutional model load into
// the staticgrad types with the same layers and reproduce PyTorch's outputs; a file that
// describes another network, or that is broken, is refused with a message that names the
// file and the layer, and the model stays as it was.
#include <array>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <ratio>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <staticgrad/io/rtneural.hpp>
#include <staticgrad/staticgrad.hpp>

#include "support/files.hpp"

namespace sg = staticgrad;

namespace {

const std::filesystem::path data = std::filesystem::path(STATICGRAD_TEST_DATA) / "rtneural";

using Recurrent = sg::Sequential<sg::Dense<1, 4, sg::Tanh>, sg::GRU<4, 6>, sg::LSTM<6, 5>, sg::Dense<5, 2, sg::Sigmoid>>;
using Convolutional =
    sg::Sequential<sg::Conv1D<2, 4, 3, 2, sg::Tanh>, sg::Conv1D<4, 6, 2, 1, sg::Identity, 2>, sg::PReLU<6>,
                   sg::PReLU<6>, sg::Activation<sg::ELU, 6>, sg::Dense<6, 3>, sg::Softmax<3>>;
template <class Eps = std::ratio<1, 100>>
using Normalized = sg::Sequential<sg::Dense<3, 4>, sg::BatchNorm<4, Eps>, sg::Activation<sg::Tanh, 4>, sg::Dense<4, 2>,
                                  sg::BatchNorm<2, std::ratio<5>>>;

nlohmann::json read_json(const std::filesystem::path& path) { return nlohmann::json::parse(std::ifstream(path)); }

void write_json(const std::filesystem::path& path, const nlohmann::json& content) {
  std::ofstream(path) << content.dump();
}

/// Streams the file's test signal through the loaded model from zero state and compares
/// each step's output with PyTorch's.
template <class Net>
void check_reproduces_pytorch(const std::string& name) {
  sg::Model<Net, double> model{};
  sg::load_rtneural(model, data / (name + ".json"));
  const auto test = read_json(data / (name + ".json"))["staticgrad_test"];
  sg::State<Net, double> state{};
  REQUIRE(test["x"].size() == test["y"].size());
  for (std::size_t t = 0; t < test["x"].size(); ++t) {
    const auto y = model(test["x"][t].get<std::array<double, Net::in_size>>(), state);
    const auto expected = test["y"][t].get<std::array<double, Net::out_size>>();
    for (std::size_t o = 0; o < Net::out_size; ++o) CHECK(y[o] == doctest::Approx(expected[o]).epsilon(1e-12));
  }
}

}  // namespace

TEST_CASE("load_rtneural: a GRU and an LSTM behind a time-distributed dense reproduce PyTorch") {
  check_reproduces_pytorch<Recurrent>("recurrent");
}

TEST_CASE("load_rtneural: dilated and grouped Conv1D, shared and per-channel PReLU, ELU, dense with softmax") {
  check_reproduces_pytorch<Convolutional>("convolutional");
}

TEST_CASE("load_rtneural: batchnorm with and without γ and β, with its file's ε") {
  check_reproduces_pytorch<Normalized<>>("batch_norm");
}

TEST_CASE("load_rtneural: a file for another network, or a broken one, is refused naming the layer") {
  sgtest::Folder folder("rtneural");
  const auto good = read_json(data / "recurrent.json");
  sg::Model<Recurrent, double> model{3};
  const auto load = [](auto& m, const std::filesystem::path& path) { sg::load_rtneural(m, path); };
  const auto refused = [&](const std::string& name, const nlohmann::json& content,
                           const std::vector<std::string>& fragments) {
    CAPTURE(name);
    write_json(folder.path / name, content);
    sgtest::check_refused(model, folder.path / name, load, fragments);
  };

  auto batchnorm2d = good;
  batchnorm2d["layers"].insert(batchnorm2d["layers"].begin() + 1,
                               nlohmann::json::object({{"type", "batchnorm2d"}, {"shape", {nullptr, 4}}}));
  refused("batchnorm2d.json", batchnorm2d, {"layer 1 (batchnorm2d) has no staticgrad counterpart yet"});

  auto activation = good;
  activation["layers"][3]["activation"] = "relu";
  refused("activation.json", activation,
          {"layer 3 (dense of 2, activation 'relu') does not match the network's layer 3, Dense<5,2,Sigmoid>: "
           "activation 'sigmoid'"});

  auto size = good;
  size["layers"][1]["shape"] = {nullptr, nullptr, 7};
  refused("size.json", size, {"layer 1 (gru of 7", "GRU<4,6>: 6 outputs"});

  auto kind = good;
  kind["layers"][2]["type"] = "gru";
  refused("kind.json", kind, {"layer 2 (gru of 5", "LSTM<6,5>: another kind of layer"});

  auto weight = good;
  weight["layers"][1]["weights"][0].erase(0);
  refused("weight.json", weight, {"layer 1 (gru) weight 0 is not [4, 18]: 3 at depth 0"});

  auto one_bias = good;
  one_bias["layers"][1]["weights"][2] = good["layers"][1]["weights"][2][0];
  refused("one_bias.json", one_bias, {"layer 1 (gru)", "reset_after=False"});

  auto fewer = good;
  fewer["layers"].erase(3);
  refused("fewer.json", fewer, {"holds 3 layers; the network's layer 3, Dense<5,2,Sigmoid>, and any after it are missing"});

  auto more = good;
  more["layers"].push_back(good["layers"][3]);
  refused("more.json", more, {"layer 4 (dense) is one more than the network's 4 layers"});

  auto inputs = good;
  inputs["in_shape"] = {nullptr, nullptr, 2};
  refused("inputs.json", inputs, {"the model takes 2 inputs"});

  refused("not_json.json", "[1, 2", {"not an RTNeural model"});
  sgtest::check_refused(model, folder.path / "absent.json", load, {"absent.json"});
}

TEST_CASE("load_rtneural: a batchnorm whose ε is not the network's is refused") {
  sg::Model<Normalized<std::ratio<1, 100000>>, double> model{2};
  sgtest::check_refused(model, data / "batch_norm.json",
                        [](auto& m, const std::filesystem::path& path) { sg::load_rtneural(m, path); },
                        {"layer 1 (batchnorm of 4, epsilon 0.01, activation '') does not match the network's layer 1, "
                         "BatchNorm<4>: epsilon 1e-05"});
}

TEST_CASE("load_rtneural: a network that a file's chain of layers cannot describe is refused") {
  using WithResidual = sg::Sequential<sg::Dense<1, 4, sg::Tanh>, sg::GRU<4, 6>, sg::Residual<sg::LSTM<6, 6>>,
                                      sg::Dense<6, 2, sg::Sigmoid>>;
  sg::Model<WithResidual, double> residual{1};
  sgtest::check_refused(residual, data / "recurrent.json",
                        [](auto& m, const std::filesystem::path& path) { sg::load_rtneural(m, path); },
                        {"layer 2 (lstm of 5", "sits in a branch or a residual block"});
  using WithGELU = sg::Sequential<sg::Dense<1, 4, sg::GELU>, sg::GRU<4, 6>, sg::LSTM<6, 5>, sg::Dense<5, 2, sg::Sigmoid>>;
  sg::Model<WithGELU, double> gelu{1};
  sgtest::check_refused(gelu, data / "recurrent.json",
                        [](auto& m, const std::filesystem::path& path) { sg::load_rtneural(m, path); },
                        {"layer 0 (dense of 4, activation 'tanh')", "its activation has no name in RTNeural's files"});
}
