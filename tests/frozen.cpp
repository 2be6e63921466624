// Frozen<L>: the same gradients as the unfrozen network for the layers that train, zeros
// for the frozen ones, no optimizer update, and the model, views and files unchanged.
// (Finite differences and the tape cover Frozen in gradcheck.cpp and tape.cpp.)
#include <array>
#include <cstddef>
#include <vector>

#include <doctest/doctest.h>

#include <staticgrad/io/safetensors.hpp>

#include "support/testing.hpp"

namespace sg = staticgrad;

namespace {

template <class Base>
using Trainable = sg::Sequential<sg::Dense<3, 4, sg::Tanh>, Base, sg::Dense<4, 2>>;
using Frozen = Trainable<sg::Frozen<sg::Residual<sg::Dense<4, 4, sg::GELU>>>>;
using Unfrozen = Trainable<sg::Residual<sg::Dense<4, 4, sg::GELU>>>;

// Where the frozen block's parameters sit: after Dense<3,4>'s 16.
constexpr std::size_t frozen_begin = 16, frozen_end = 16 + 20;

template <class From, class To>
sg::Model<To, double> copy_of(const sg::Model<From, double>& from) {
  sg::Model<To, double> to{};
  std::copy(from.flat().begin(), from.flat().end(), to.flat().begin());
  return to;
}

}  // namespace

TYPE_TO_STRING_AS("SGD", sg::SGD<Frozen, double>);
TYPE_TO_STRING_AS("Adam", sg::Adam<Frozen, double>);
TYPE_TO_STRING_AS("AdamW", sg::AdamW<Frozen, double>);

static_assert(sg::param_count<Frozen> == sg::param_count<Unfrozen>);
static_assert(sg::detail::trainable_ranges<Frozen>().size() == 2);
static_assert(sg::detail::trainable_ranges<Frozen>()[0].size == frozen_begin);
static_assert(sg::detail::trainable_ranges<Frozen>()[1].offset == frozen_end);
static_assert(sg::detail::trainable_ranges<Unfrozen>().size() == 1);  // one run: nothing changes
static_assert(sg::detail::trainable_ranges<sg::Frozen<Unfrozen>>().empty());
static_assert(sg::detail::frozen_ranges<Frozen>().size() == 1);
static_assert(sg::detail::frozen_ranges<Frozen>()[0].offset == frozen_begin);
static_assert(sg::detail::frozen_ranges<Frozen>()[0].size == frozen_end - frozen_begin);
static_assert(sg::detail::frozen_ranges<Unfrozen>().empty());
static_assert(sg::detail::frozen_ranges<sg::Frozen<Unfrozen>>()[0].size == sg::param_count<Unfrozen>);

TEST_CASE("Frozen: trainable layers get the unfrozen network's gradient, frozen ones zeros") {
  sg::init::Rng rng{5};
  sg::Model<Frozen, double> model{};
  sgtest::randomize(model, rng);
  const auto twin = copy_of<Frozen, Unfrozen>(model);
  std::vector<std::array<double, 3>> xs;
  std::vector<std::array<double, 2>> ys;
  for (int i = 0; i < 4; ++i) {
    xs.push_back(sgtest::random_vector<double, 3>(rng));
    ys.push_back(sgtest::random_vector<double, 2>(rng));
  }
  SUBCASE("one sample") {
    const auto [loss, grads] = sg::value_and_grad(model, sg::MSE{}, xs[0], ys[0]);
    const auto [twin_loss, twin_grads] = sg::value_and_grad(twin, sg::MSE{}, xs[0], ys[0]);
    CHECK(loss == twin_loss);
    for (std::size_t i = 0; i < sg::param_count<Frozen>; ++i) {
      CAPTURE(i);
      const bool frozen = i >= frozen_begin && i < frozen_end;
      CHECK(grads.flat()[i] == (frozen ? 0.0 : twin_grads.flat()[i]));
    }
  }
  SUBCASE("a batch, into a Gradients: the frozen slice is never written") {
    sg::Gradients<Frozen, double> grads{};
    std::fill(grads.flat().begin(), grads.flat().end(), 7.0);
    sg::value_and_grad(model, sg::MSE{}, xs, ys, grads);
    const auto twin_grads = sg::value_and_grad(twin, sg::MSE{}, xs, ys).grads;
    for (std::size_t i = 0; i < sg::param_count<Frozen>; ++i) {
      CAPTURE(i);
      const bool frozen = i >= frozen_begin && i < frozen_end;
      CHECK(grads.flat()[i] == (frozen ? 7.0 : twin_grads.flat()[i]));
    }
    CHECK(sg::Gradients<Frozen, double>{}.flat()[frozen_begin] == 0.0);  // a new Gradients holds zeros
  }
}

TEST_CASE_TEMPLATE("Frozen: optimizers leave frozen parameters alone, even with weight decay", Optimizer,
                   sg::SGD<Frozen, double>, sg::Adam<Frozen, double>, sg::AdamW<Frozen, double>) {
  sg::Model<Frozen, double> model{3};
  const sg::Model<Frozen, double> start = model;
  Optimizer optimizer{{.lr = 0.1, .weight_decay = 0.5}};
  const std::array<double, 3> x{0.3, -0.2, 0.9};
  const std::array<double, 2> y{1.0, -1.0};
  for (int step = 0; step < 3; ++step) optimizer.step(model, sg::value_and_grad(model, sg::MSE{}, x, y).grads);
  for (std::size_t i = 0; i < sg::param_count<Frozen>; ++i) {
    CAPTURE(i);
    if (i >= frozen_begin && i < frozen_end) CHECK(model.flat()[i] == start.flat()[i]);
    else CHECK(model.flat()[i] != start.flat()[i]);
  }
}

TEST_CASE("Frozen: the same names, views, init and files as the layer it freezes") {
  CHECK(sg::detail::spec_name<Frozen>() ==
        "Sequential<Dense<3,4,Tanh>,Frozen<Residual<Dense<4,4,GELU>>>,Dense<4,2,Identity>>");
  const sg::Model<Frozen, double> frozen{9};
  const sg::Model<Unfrozen, double> unfrozen{9};
  CHECK(sgtest::fingerprint(frozen) == sgtest::fingerprint(copy_of<Unfrozen, Frozen>(unfrozen)));
  CHECK(frozen.layer<1>().layer<0>().weight(2, 3) == unfrozen.layer<1>().layer<0>().weight(2, 3));
  CHECK(sg::parameter_layer_count<Frozen> == 3);  // grad_norms still lists the frozen layer
  CHECK(sg::tensor_names<Frozen>() == sg::tensor_names<Unfrozen>());  // as requires_grad=False in PyTorch
}
