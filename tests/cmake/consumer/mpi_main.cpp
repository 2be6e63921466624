// A program that uses staticgrad's MPI component as a dependency (staticgrad::mpi): built
// by the packaging tests, which shows that the installed package finds MPI for it.
#include <array>
#include <cstdio>
#include <vector>

#include <staticgrad/mpi.hpp>
#include <staticgrad/staticgrad.hpp>

namespace sg = staticgrad;

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const sg::Model<sg::Sequential<sg::Dense<1, 1, sg::ReLU>, sg::Dense<1, 1>>, double> model{1};
  sg::Gradients<sg::Sequential<sg::Dense<1, 1, sg::ReLU>, sg::Dense<1, 1>>, double> grads;
  const std::vector<std::array<double, 1>> xs(1000, {2}), ys(1000, {5});
  const double loss = sg::mpi::value_and_grad(MPI_COMM_WORLD, model, sg::MSE{}, xs, ys, grads);
  std::printf("consumer: rank %d of %d, loss %.2f\n", sg::mpi::rank(MPI_COMM_WORLD), sg::mpi::size(MPI_COMM_WORLD), loss);
  MPI_Finalize();
}
