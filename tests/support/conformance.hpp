// What the conformance tests share (tests/conformance.cpp, tests/conformance_state.cpp):
// the network around a layer under test, and the checks of files and summary.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <memory>
#include <ratio>
#include <sstream>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/io/safetensors.hpp>

#include "files.hpp"
#include "testing.hpp"

namespace sgtest::conformance {

namespace sg = staticgrad;

// The layer under test between two Dense layers: its input gradient reaches the first
// one's parameters, and the last mixes its outputs into the loss.
template <class L>
using Surrounded = sg::Sequential<sg::Dense<3, L::in_size, sg::Tanh>, L, sg::Dense<L::out_size, 2>>;

// Dropout's masks: the same key for every evaluation.
constexpr sg::Training key{.seed = 7, .step = 3};

// Random inputs for a block of samples, sample-major.
template <class T, std::size_t Size>
std::array<T, Size> random_block(sg::init::Rng& rng) {
  std::array<T, Size> block;
  for (auto& v : block) v = static_cast<T>(rng.normal());
  return block;
}

// |a − b| ≤ tolerance · max(|a|, |b|, 1), for every element.
template <class A, class B>
void check_close(const A& a, const B& b, double tolerance) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(sgtest::relative_error(static_cast<double>(a[i]), static_cast<double>(b[i]), 1.0) <= tolerance);
  }
}

// What summary's row for L says: a leaf's name, a composite's label, a Frozen layer's.
template <class L>
std::string summary_label() {
  if constexpr (sg::detail::is_wrapper<L>())
    return std::string(L::summary_label) + " " + summary_label<boost::mp11::mp_front<typename L::children>>();
  else if constexpr (sg::detail::CompositeLayer<L>)
    return std::string(L::summary_label);
  else
    return std::string(sg::detail::spec_name_v<L>);
}

// Every parameter in exactly one safetensors tensor.
template <class Net>
void check_tensors_cover_parameters() {
  std::vector<int> covered(sg::param_count<Net>, 0);
  for (const auto& tensor : sg::detail::torch_tensors<Net>())
    for (std::size_t k = 0; k < tensor.size(); ++k) ++covered.at(tensor.flat_index(k));
  for (std::size_t i = 0; i < covered.size(); ++i) {
    CAPTURE(i);
    CHECK(covered[i] == 1);
  }
}

template <class Net, class T>
void check_round_trips(const sg::Model<Net, T>& model) {
  // A folder of its own: ctest runs the layers' cases at the same time.
  sgtest::Folder folder("conformance_" + std::to_string(sg::structure_fingerprint<Net>) + "_" +
                        std::to_string(sizeof(T)));
  sg::save(model, folder.path / "model.sgrd");
  sg::save_safetensors(model, folder.path / "model.safetensors");
  sg::Model<Net, T> from_binary{}, from_safetensors{};
  sg::load(from_binary, folder.path / "model.sgrd");
  sg::load_safetensors(from_safetensors, folder.path / "model.safetensors");
  CHECK(sgtest::fingerprint(from_binary) == sgtest::fingerprint(model));
  CHECK(sgtest::fingerprint(from_safetensors) == sgtest::fingerprint(model));
}

// Both file formats return every bit, every parameter is in one safetensors tensor, and
// summary has a row for L (layer 1 of the network).
template <class L, class Net, class T>
void check_files_and_summary(const sg::Model<Net, T>& model) {
  check_round_trips(model);
  check_tensors_cover_parameters<Net>();
  std::ostringstream table;
  sg::summary<Net, T>(table);
  CAPTURE(table.str());
  CHECK(table.str().find("\n1          " + summary_label<L>()) != std::string::npos);
}

}  // namespace sgtest::conformance
