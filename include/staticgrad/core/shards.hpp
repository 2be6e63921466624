/// @file A large batch split into shards of a fixed number of samples, which OpenMP threads
/// compute at the same time and which are then added up one by one in shard order: the
/// result is the same, bit for bit, for any number of threads (and without OpenMP).
///
/// Built with OpenMP (-fopenmp; the CMake option STATICGRAD_OPENMP links it), the shards run
/// on the threads that OpenMP's usual controls give (OMP_NUM_THREADS, omp_set_num_threads);
/// inside another parallel region they run on the calling thread alone.
#pragma once

#include <cstddef>
#include <exception>

namespace staticgrad::detail {

/// For each shard 0 … count−1: `compute(shard, partial)` into a default-initialized Partial
/// of its own on the computing thread's stack, then `combine(shard, partial)`, one
/// shard at a time in shard order. The shards compute in parallel; combining is serial.
/// An exception from `compute` is rethrown (the first in shard order) once all have finished:
/// none may escape a parallel region.
template <class Partial, class Compute, class Combine>
void for_each_shard_in_order(std::size_t count, const Compute& compute, const Combine& combine) {
  std::exception_ptr first_error;
  const auto shards = static_cast<std::ptrdiff_t>(count);
#ifdef _OPENMP
#pragma omp parallel for ordered schedule(static, 1) if (shards > 1)
#endif
  for (std::ptrdiff_t s = 0; s < shards; ++s) {
    const auto shard = static_cast<std::size_t>(s);
    Partial partial;
    std::exception_ptr error;
    try {
      compute(shard, partial);
    } catch (...) {
      error = std::current_exception();
    }
#ifdef _OPENMP
#pragma omp ordered
#endif
    {
      if (error && !first_error) first_error = error;
      if (!first_error) combine(shard, partial);
    }
  }
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace staticgrad::detail
