// Training over MPI (staticgrad::mpi): samples per second of one training step
// (mpi::value_and_grad, then Adam) on as many ranks as mpirun starts, each with the OpenMP
// threads OMP_NUM_THREADS gives it, for N4 with batches of 256 and for the amp model
// (GRU-16 + Dense, 16 sequences of 256 steps). The parameters after the timed steps are
// the same on every rank count (the tests check that, bit for bit); here only time counts.
//   mpirun -np 2 build/bench/bench/staticgrad_bench_mpi
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <vector>

#include <staticgrad/mpi.hpp>
#include <staticgrad/staticgrad.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace sg = staticgrad;

namespace {

// The median over 7 runs of `steps` training steps, in seconds per step; the ranks start
// each run together.
template <class Step>
double seconds_per_step(int steps, const Step& step) {
  std::array<double, 7> runs;
  step();  // the first step grows the workspaces
  for (double& run : runs) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    run = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / steps;
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

template <class Net, class X, class Y>
void bench(const char* name, const std::vector<X>& xs, const std::vector<Y>& ys, std::size_t samples, int steps) {
  const auto model = std::make_unique<sg::Model<Net, float>>(7);
  const auto grads = std::make_unique<sg::Gradients<Net, float>>();
  sg::Adam<Net, float> adam{{.lr = 1e-4}};
  const double seconds = seconds_per_step(steps, [&] {
    sg::mpi::value_and_grad(MPI_COMM_WORLD, *model, sg::MSE{}, xs, ys, *grads);
    adam.step(*model, *grads);
  });
  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  if (sg::mpi::rank(MPI_COMM_WORLD) == 0)
    std::printf("%-44s %d rank(s) x %d thread(s): %9.1f us per step, %10.0f samples/s\n", name,
                sg::mpi::size(MPI_COMM_WORLD), threads, 1e6 * seconds, static_cast<double>(samples) / seconds);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  using N4 = sg::Sequential<sg::Dense<64, 128, sg::ReLU>, sg::Dense<128, 128, sg::ReLU>, sg::Dense<128, 10>>;
  using Amp = sg::Sequential<sg::GRU<1, 16>, sg::Dense<16, 1>>;
  sg::init::Rng rng(5);
  std::vector<std::array<float, 64>> xs(256);
  std::vector<std::array<float, 10>> ys(256);
  for (auto& x : xs)
    for (auto& v : x) v = static_cast<float>(rng.normal());
  for (auto& y : ys)
    for (auto& v : y) v = static_cast<float>(rng.normal());
  bench<N4>("N4 64-128-128-10, batch 256", xs, ys, 256, 200);

  constexpr std::size_t steps = 256;
  std::vector<sg::Sequence<float, steps, 1>> signal(16), target(16);
  for (std::size_t s = 0; s < signal.size(); ++s)
    for (std::size_t t = 0; t < steps; ++t) {
      signal[s][t][0] = static_cast<float>(rng.normal());
      target[s][t][0] = 0.5f * signal[s][t][0];
    }
  bench<Amp>("GRU-16 + Dense, 16 sequences of 256 steps", signal, target, 16, 20);
  MPI_Finalize();
}
