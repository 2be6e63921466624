// Run under mpirun with any number of ranks: training over MPI gives the parameters one
// process gives, bit for bit. Every rank also computes the single-process reference
// itself, so each compares locally; the program exits non-zero on any rank's mismatch.
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <mpi.h>

#include <staticgrad/mpi.hpp>
#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::printf("rank %d: FAILED: %s\n", sg::mpi::rank(MPI_COMM_WORLD), what.c_str());
  }
}

template <class A, class B>
bool same_bits(const A& a, const B& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(a[0]) * a.size()) == 0;
}

template <class T, std::size_t In>
std::vector<std::array<T, In>> points(std::size_t count, std::uint64_t seed) {
  sg::init::Rng rng(seed);
  std::vector<std::array<T, In>> xs(count);
  for (auto& x : xs)
    for (auto& v : x) v = static_cast<T>(rng.normal());
  return xs;
}

// The batch gradient over MPI against one process's, for batches of one shard or less
// (computed whole on every rank) and of several shards (split across the ranks).
template <class Net, class T>
void check_gradients(const std::string& name) {
  const auto model = std::make_unique<sg::Model<Net, T>>(3);
  const auto reference = std::make_unique<sg::Gradients<Net, T>>();
  const auto over_mpi = std::make_unique<sg::Gradients<Net, T>>();
  for (std::size_t count : {std::size_t{5}, sg::detail::shard_samples<Net, T>, 5 * sg::detail::shard_samples<Net, T> - 7}) {
    const auto xs = points<T, Net::in_size>(count, 11);
    std::vector<std::size_t> labels(count);
    for (std::size_t s = 0; s < count; ++s) labels[s] = s % Net::out_size;
    const T expected = sg::value_and_grad(*model, sg::SoftmaxCrossEntropy{}, xs, labels, *reference);
    const T loss = sg::mpi::value_and_grad(MPI_COMM_WORLD, *model, sg::SoftmaxCrossEntropy{}, xs, labels, *over_mpi);
    const std::string what = name + ", batch of " + std::to_string(count);
    expect(std::memcmp(&loss, &expected, sizeof(T)) == 0, what + ": loss");
    expect(same_bits(over_mpi->flat(), reference->flat()), what + ": gradient");
  }
}

// A batch of sequences through a GRU (backpropagation through time), split into shards of
// sequences across the ranks, against one process.
template <class T>
void check_sequences() {
  using Net = sg::Sequential<sg::GRU<1, 8>, sg::Dense<8, 1>>;
  constexpr std::size_t length = 64;
  const std::size_t count = 5 * sg::detail::shard_sequences<Net, length> - 1;
  std::vector<sg::Sequence<T, length, 1>> xs(count), ys(count);
  sg::init::Rng rng(2);
  for (std::size_t s = 0; s < count; ++s)
    for (std::size_t t = 0; t < length; ++t) {
      xs[s][t][0] = static_cast<T>(rng.normal());
      ys[s][t][0] = static_cast<T>(std::tanh(static_cast<double>(xs[s][t][0])));
    }
  const auto model = std::make_unique<sg::Model<Net, T>>(3);
  sg::Gradients<Net, T> reference, over_mpi;
  const T expected = sg::value_and_grad(*model, sg::MSE{}, xs, ys, reference);
  const T loss = sg::mpi::value_and_grad(MPI_COMM_WORLD, *model, sg::MSE{}, xs, ys, over_mpi);
  const std::string what = std::string("GRU sequences, ") + (std::is_same_v<T, float> ? "float" : "double");
  expect(std::memcmp(&loss, &expected, sizeof(T)) == 0, what + ": loss");
  expect(same_bits(over_mpi.flat(), reference.flat()), what + ": gradient");
}

// fit over MPI against fit in one process: Adam, shuffled batches larger than a shard
// and a last smaller one, with and without clipping.
template <class Net, class T>
void check_fit(const std::string& name, double clip_norm) {
  const std::size_t count = 4 * sg::detail::shard_samples<Net, T> + 37;
  const auto xs = points<T, Net::in_size>(count, 5);
  std::vector<std::size_t> labels(count);
  for (std::size_t s = 0; s < count; ++s) labels[s] = (xs[s][0] > 0 ? 1u : 0u) + (xs[s][1] > 0 ? 1u : 0u);
  const sg::FitOptions options{.epochs = 3, .batch_size = 3 * sg::detail::shard_samples<Net, T>, .seed = 9,
                               .clip_norm = clip_norm};
  const auto alone = std::make_unique<sg::Model<Net, T>>(1);
  const auto together = std::make_unique<sg::Model<Net, T>>(*alone);
  sg::Adam<Net, T> adam_alone{{.lr = 0.01}}, adam_together{{.lr = 0.01}};
  const auto losses_alone = sg::fit(*alone, adam_alone, sg::SoftmaxCrossEntropy{}, xs, labels, options);
  const auto losses_together =
      sg::mpi::fit(MPI_COMM_WORLD, *together, adam_together, sg::SoftmaxCrossEntropy{}, xs, labels, options);
  const std::string what = name + (clip_norm > 0 ? ", clipped" : "");
  expect(same_bits(together->flat(), alone->flat()), what + ": parameters after fit");
  expect(same_bits(losses_together, losses_alone), what + ": losses");
  expect(!same_bits(together->flat(), sg::Model<Net, T>(1).flat()), what + ": fit changed the parameters");
}

template <class Net, class T>
void check_same_parameters() {
  sg::Model<Net, T> model{4};
  sg::mpi::check_same_parameters(MPI_COMM_WORLD, model);  // the same seed: the same parameters
  if (sg::mpi::size(MPI_COMM_WORLD) < 2) return;
  if (sg::mpi::rank(MPI_COMM_WORLD) == 1) model.flat()[0] += 1;
  bool thrown = false;
  try {
    sg::mpi::check_same_parameters(MPI_COMM_WORLD, model);
  } catch (const std::runtime_error& e) {
    thrown = std::string(e.what()).find("rank 1 holds other parameters") != std::string::npos;
  }
  expect(thrown, "check_same_parameters names rank 1");
  sg::mpi::broadcast(MPI_COMM_WORLD, model);
  sg::mpi::check_same_parameters(MPI_COMM_WORLD, model);
  expect(same_bits(model.flat(), sg::Model<Net, T>(4).flat()), "broadcast gives rank 0's parameters");
}

template <class Net>
void check_save() {
  const sg::Model<Net, float> model{6};
  const auto path = std::filesystem::temp_directory_path() / "staticgrad_mpi_test.sgrd";
  if (sg::mpi::rank(MPI_COMM_WORLD) == 0) std::filesystem::remove(path);
  MPI_Barrier(MPI_COMM_WORLD);
  sg::mpi::save(MPI_COMM_WORLD, model, path);
  sg::Model<Net, float> loaded;
  sg::load(loaded, path);  // written before any rank returned from save
  expect(same_bits(loaded.flat(), model.flat()), "mpi::save wrote the model");
  bool thrown = false;
  try {
    sg::mpi::save(MPI_COMM_WORLD, model, "/nonexistent-folder/model.sgrd");
  } catch (const std::runtime_error& e) {
    thrown = std::string(e.what()).find("nonexistent-folder") != std::string::npos;
  }
  expect(thrown, "rank 0's failed save throws on every rank");
  MPI_Barrier(MPI_COMM_WORLD);
  if (sg::mpi::rank(MPI_COMM_WORLD) == 0) std::filesystem::remove(path);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  using Net = sg::Sequential<sg::Dense<8, 64, sg::ReLU>, sg::Dense<64, 64, sg::Tanh>, sg::Dense<64, 3>>;
  using Head = sg::Sequential<sg::Frozen<sg::Dense<8, 64, sg::ReLU>>, sg::Dense<64, 3>>;
  try {
    check_gradients<Net, float>("float");
    check_gradients<Net, double>("double");
    check_gradients<Head, float>("Frozen base");
    check_sequences<float>();
    check_sequences<double>();
    check_fit<Net, float>("float", 0);
    check_fit<Net, double>("double", 0);
    check_fit<Net, float>("float", 0.5);
    check_same_parameters<Net, float>();
    check_save<Net>();
  } catch (const std::exception& e) {
    std::printf("rank %d: FAILED: %s\n", sg::mpi::rank(MPI_COMM_WORLD), e.what());
    ++failures;
  }
  int all = 0;
  MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (sg::mpi::rank(MPI_COMM_WORLD) == 0)
    std::printf("%d ranks: %s\n", sg::mpi::size(MPI_COMM_WORLD), all == 0 ? "bit-identical to one process" : "MISMATCH");
  MPI_Finalize();
  return all == 0 ? 0 : 1;
}
