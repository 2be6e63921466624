// LoRA: a fresh adapter changes nothing, only A and B get gradients and updates, merge()
// folds them into plain Dense weights with the same outputs, names follow PEFT's.
// (Finite differences, the tape and PyTorch's values: gradcheck.cpp, tape.cpp, golden.cpp.)
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/io/safetensors.hpp>

#include "support/files.hpp"
#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {
using Plain = sg::Sequential<sg::Dense<3, 6, sg::Tanh>, sg::Residual<sg::Dense<6, 6, sg::GELU>>, sg::Dense<6, 2>>;
using Adapted = sg::Sequential<sg::LoRA<sg::Dense<3, 6, sg::Tanh>, 2, 4>, sg::Residual<sg::LoRA<sg::Dense<6, 6, sg::GELU>, 3>>,
                               sg::Dense<6, 2>>;
using First = sg::LoRA<sg::Dense<3, 6, sg::Tanh>, 2, 4>;
const std::array<double, 3> x{0.4, -0.1, 0.8};
const std::array<double, 2> y{1.0, -1.0};
}  // namespace

static_assert(std::is_same_v<sg::merged_t<Adapted>, Plain>);
static_assert(sg::param_count<First> == 3 * 6 + 6 + 3 * 2 + 2 * 6);
static_assert(First::scale == 2.0);
// Trainable: the first A,B; the second A,B joined with the last Dense (they are adjacent).
static_assert(sg::detail::trainable_ranges<Adapted>().size() == 2);

TEST_CASE("LoRA: fresh adapters leave a pretrained network's outputs as they were") {
  const sg::Model<Plain, double> pretrained{11};
  const auto adapted = sg::with_adapters<Adapted>(pretrained, 3);
  CHECK(adapted(x) == pretrained(x));  // B starts at zero
  CHECK(adapted.layer<0>().lora_a(1, 2) != 0.0);
  CHECK(adapted.layer<0>().lora_b(5, 1) == 0.0);
  CHECK(adapted.layer<0>().weight(4, 2) == pretrained.layer<0>().weight(4, 2));
}

TEST_CASE("LoRA: only the adapters get gradients and updates") {
  sg::Model<Adapted, double> model{};
  sg::init::Rng rng{6};
  sgtest::randomize(model, rng);
  const auto grads = sg::value_and_grad(model, sg::MSE{}, x, y).grads;
  const auto first = grads.layer<0>();
  for (std::size_t o = 0; o < 6; ++o) {
    CHECK(first.bias(o) == 0.0);
    for (std::size_t i = 0; i < 3; ++i) CHECK(first.weight(o, i) == 0.0);
  }
  CHECK(first.lora_a(0, 0) != 0.0);
  CHECK(first.lora_b(0, 0) != 0.0);

  const auto before = model;
  sg::AdamW<Adapted, double> optimizer{{.lr = 0.01, .weight_decay = 0.1}};
  optimizer.step(model, grads);
  CHECK(model.layer<0>().weight(3, 1) == before.layer<0>().weight(3, 1));
  CHECK(model.layer<1>().layer<0>().bias(2) == before.layer<1>().layer<0>().bias(2));
  CHECK(model.layer<0>().lora_a(1, 1) != before.layer<0>().lora_a(1, 1));
}

TEST_CASE("LoRA: merge folds the adapters into plain Dense weights, same outputs") {
  sg::Model<Adapted, double> model{};
  sg::init::Rng rng{7};
  sgtest::randomize(model, rng);
  const sg::Model<Plain, double> merged = sg::merge(model);
  const auto adapted_y = model(x), merged_y = merged(x);
  for (std::size_t o = 0; o < 2; ++o) CHECK(merged_y[o] == doctest::Approx(adapted_y[o]).epsilon(1e-13));
  // W + (α/r)·A·B for one weight, by hand.
  const auto a = model.layer<0>();
  double update = 0;
  for (std::size_t r = 0; r < 2; ++r) update += a.lora_a(r, 1) * a.lora_b(4, r);
  CHECK(merged.layer<0>().weight(4, 1) == doctest::Approx(a.weight(4, 1) + 2.0 * update).epsilon(1e-15));
}

TEST_CASE("LoRA: tensor names as PEFT's, and a safetensors round trip") {
  CHECK(sg::tensor_names<Adapted>() ==
        std::vector<std::string>{"0.weight", "0.bias", "0.lora_A.weight", "0.lora_B.weight", "2.0.weight",
                                 "2.0.bias", "2.0.lora_A.weight", "2.0.lora_B.weight", "3.weight", "3.bias"});
  CHECK(sg::detail::spec_name<First>() == "LoRA<Dense<3,6,Tanh>,2,4>");
  sgtest::Folder folder("lora");
  sg::Model<Adapted, float> model{};
  sg::init::Rng rng{8};
  sgtest::randomize(model, rng);
  sg::save_safetensors(model, folder.path / "lora.safetensors");
  sg::Model<Adapted, float> loaded{};
  sg::load_safetensors(loaded, folder.path / "lora.safetensors");
  CHECK(sgtest::fingerprint(loaded) == sgtest::fingerprint(model));
}
