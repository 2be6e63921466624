// The spirals classifier (classifier.cpp) trained by several processes over MPI: each rank
// computes its share of every batch of 256, the ranks add their gradients in one fixed
// order, and every rank takes the same Adam step. Rank 0 then trains the same model alone
// and checks that both runs end with the same parameters, bit for bit.
//   mpirun -np 2 ./mpi_classifier [epochs]     (./dev.sh example mpi_classifier)
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <staticgrad/mpi.hpp>
#include <staticgrad/staticgrad.hpp>

#include "datasets.hpp"

namespace sg = staticgrad;

using Net = sg::Sequential<sg::Dense<2, 64, sg::ReLU>, sg::Dense<64, 64, sg::ReLU>, sg::Dense<64, 2>>;

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const int rank = sg::mpi::rank(MPI_COMM_WORLD), ranks = sg::mpi::size(MPI_COMM_WORLD);
  const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200;
  // Every rank holds the data set (generated from the same seed) and starts from the same
  // parameters (the same seed); mpi::fit checks the latter.
  const auto train = datasets::spirals<float>(1000, 1);
  const auto test = datasets::spirals<float>(1000, 2);
  const sg::FitOptions options{.epochs = epochs, .batch_size = 256, .seed = 3};
  const sg::Adam<Net, float>::Options adam_options{.lr = 0.01};

  auto model = std::make_unique<sg::Model<Net, float>>(7);
  sg::Adam<Net, float> adam{adam_options};
  const auto start = std::chrono::steady_clock::now();
  sg::mpi::fit(MPI_COMM_WORLD, *model, adam, sg::SoftmaxCrossEntropy{}, train.points, train.labels, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double accuracy = *sg::evaluate(*model, sg::SoftmaxCrossEntropy{}, test.points, test.labels).accuracy;

  int status = accuracy >= 0.95 ? 0 : 1;
  if (rank == 0) {
    std::printf("Two spirals, 1000 training points; 2-64-64-2 ReLU, Adam, batches of 256, %zu epochs on %d ranks: "
                "%.2f s, test accuracy %.3f\n", epochs, ranks, seconds, accuracy);
    auto alone = std::make_unique<sg::Model<Net, float>>(7);
    sg::Adam<Net, float> adam_alone{adam_options};
    sg::fit(*alone, adam_alone, sg::SoftmaxCrossEntropy{}, train.points, train.labels, options);
    const bool same = std::memcmp(alone->flat().data(), model->flat().data(), sizeof(float) * alone->param_count) == 0;
    std::printf("trained by one process alone: %s parameters\n", same ? "the same" : "DIFFERENT");
    if (!same) status = 1;
  }
  MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return status;
}
