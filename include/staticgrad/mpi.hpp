/// @file Defines staticgrad::mpi: data-parallel training over an MPI communicator, with the
/// same parameters, bit for bit, as one process. An optional component: link
/// staticgrad::mpi (CMake finds MPI for it); nothing else in the library includes this.
///
/// One process splits a batch into shards of a fixed number of samples and adds up their
/// gradients one by one in shard order (core/shards.hpp). Over MPI each rank computes a
/// contiguous run of those shards (on its own OpenMP threads, as one process would), and
/// the ranks add them up in the same order: rank 0 adds its shards and passes the sum to
/// rank 1, which adds its own onto it, and so on; the last rank's sum, the batch's, goes to
/// every rank. Each rank sends and receives one gradient (param_count scalars) and the
/// loss per step besides the final broadcast. A batch of at most one shard, and a network
/// whose batches one process does not split (Dropout, BatchNorm, a gradient over 1 MiB),
/// is computed whole on every rank: the same result, no speed-up.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <mpi.h>

#include <staticgrad/io/binary.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/train.hpp>
#include <staticgrad/value_and_grad.hpp>

namespace staticgrad::mpi {

namespace detail {

using namespace staticgrad::detail;

/// Throws std::runtime_error naming the MPI call that failed, with MPI's message.
inline void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string("staticgrad::mpi: ") + call + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

template <class T>
MPI_Datatype datatype() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  return std::is_same_v<T, float> ? MPI_FLOAT : MPI_DOUBLE;
}

struct place {
  int rank = 0;
  int size = 1;
};
inline place where(MPI_Comm comm) {
  place p;
  check(MPI_Comm_rank(comm, &p.rank), "MPI_Comm_rank");
  check(MPI_Comm_size(comm, &p.size), "MPI_Comm_size");
  return p;
}

/// The shards [first, last) of `shards` that a rank computes: contiguous runs in rank
/// order, as even as they can be.
struct shard_run {
  std::size_t first, last;
};
inline shard_run shards_of(std::size_t shards, place p) {
  const auto rank = static_cast<std::size_t>(p.rank), size = static_cast<std::size_t>(p.size);
  return {shards * rank / size, shards * (rank + 1) / size};
}

/// One shard's loss and gradient, kept until the sum of the shards before it arrives.
template <class Net, class T>
struct shard_sums {
  T loss;
  alignas(64) std::array<T, Net::param_count> grads;
};

/// This rank's shards of a batch: grown to the most shards a rank has computed (on the
/// first step of a run), then reused.
template <class Net, class T>
std::vector<shard_sums<Net, T>>& shard_storage() {
  thread_local std::vector<shard_sums<Net, T>> storage;
  return storage;
}

/// The shards of a batch computed by the ranks of `comm` and added up in shard order, as
/// core/shards.hpp's threads_in_order does on one process: each rank computes its run of
/// the shards (on its OpenMP threads) and keeps them; the sum of the shards before its run
/// arrives from the rank before, its shards go onto it one by one, and the sum goes on to
/// the next rank; the last rank's sum, the batch's, goes to every rank.
struct ranks_in_order {
  MPI_Comm comm;

  template <class Net, class T, class Compute>
  T sum(std::size_t count, const Compute& compute, std::span<T, Net::param_count> dparams) const {
    const place p = where(comm);
    const shard_run run = shards_of(count, p);
    auto& mine = shard_storage<Net, T>();
    if (mine.size() < run.last - run.first) mine.resize(run.last - run.first);
    // Each shard's gradient goes straight into its place in `mine`; a thread's partial is
    // its loss alone.
    struct shard_loss {
      T loss{};
    };
    for_each_shard_in_order<shard_loss>(
        run.last - run.first,
        [&](std::size_t k, shard_loss& partial) { partial.loss = compute(run.first + k, std::span(mine[k].grads)); },
        [&](std::size_t k, const shard_loss& partial) { mine[k].loss = partial.loss; });

    T total{};
    constexpr int tag = 1;
    constexpr int size = static_cast<int>(Net::param_count);
    if (p.rank > 0) {
      check(MPI_Recv(&total, 1, datatype<T>(), p.rank - 1, tag, comm, MPI_STATUS_IGNORE), "MPI_Recv");
      check(MPI_Recv(dparams.data(), size, datatype<T>(), p.rank - 1, tag, comm, MPI_STATUS_IGNORE), "MPI_Recv");
    }
    for (std::size_t shard = run.first; shard < run.last; ++shard) {
      const auto& partial = mine[shard - run.first];
      total = shard == 0 ? partial.loss : total + partial.loss;
      add_trainable<Net>(std::span<const T, Net::param_count>(partial.grads), dparams, shard == 0);
    }
    if (p.rank + 1 < p.size) {
      check(MPI_Send(&total, 1, datatype<T>(), p.rank + 1, tag, comm), "MPI_Send");
      check(MPI_Send(dparams.data(), size, datatype<T>(), p.rank + 1, tag, comm), "MPI_Send");
    }
    check(MPI_Bcast(&total, 1, datatype<T>(), p.size - 1, comm), "MPI_Bcast");
    check(MPI_Bcast(dparams.data(), size, datatype<T>(), p.size - 1, comm), "MPI_Bcast");
    return total;
  }
};

/// The model's parameters, bit by bit, in 64 bits: the checksum that closes a saved file.
template <class Net, class T>
std::uint64_t fingerprint(const Model<Net, T>& model) {
  return checksum(reinterpret_cast<const unsigned char*>(model.flat().data()), sizeof(T) * Net::param_count);
}

}  // namespace detail

/// The rank of this process in `comm`, and how many ranks it has.
inline int rank(MPI_Comm comm) { return detail::where(comm).rank; }
inline int size(MPI_Comm comm) { return detail::where(comm).size; }

/// Makes every rank's parameters root's.
template <class Net, class T>
void broadcast(MPI_Comm comm, Model<Net, T>& model, int root = 0) {
  detail::check(MPI_Bcast(model.flat().data(), static_cast<int>(Net::param_count), detail::datatype<T>(), root, comm),
                "MPI_Bcast");
}

/// Throws std::runtime_error on every rank, naming the first rank whose parameters differ
/// from rank 0's, unless all ranks hold the same parameters bit for bit (compared by a
/// 64-bit fingerprint: one number per rank crosses the network).
template <class Net, class T>
void check_same_parameters(MPI_Comm comm, const Model<Net, T>& model) {
  const auto p = detail::where(comm);
  std::vector<std::uint64_t> prints(static_cast<std::size_t>(p.size));
  std::uint64_t mine = detail::fingerprint(model);
  detail::check(MPI_Allgather(&mine, 1, MPI_UINT64_T, prints.data(), 1, MPI_UINT64_T, comm), "MPI_Allgather");
  for (std::size_t r = 1; r < prints.size(); ++r)
    if (prints[r] != prints[0])
      throw std::runtime_error("staticgrad::mpi: rank " + std::to_string(r) +
                               " holds other parameters than rank 0 (load the same file on every rank, or "
                               "staticgrad::mpi::broadcast from one)");
}

/// value_and_grad over a batch of samples or of sequences (each from zeros), computed by
/// all the ranks of `comm` together: every rank passes the same whole batch (it reads only
/// its shards' samples) and the same parameters, and every rank gets the mean loss and
/// gradient that one process gets from staticgrad::value_and_grad, bit for bit. A rank's
/// shards run on its OpenMP threads. A batch of one shard or less, and a network with
/// Dropout or BatchNorm, is computed whole on every rank. After the first call with a
/// batch this large, allocates nothing but what MPI does.
template <class Net, class T, class Loss, class X, class Y>
T value_and_grad(MPI_Comm comm, const Model<Net, T>& model, const Loss& loss, const X& xs, const Y& ys,
                 Gradients<Net, T>& grads, Training training = {}) {
  static_assert(detail::BatchLike<X>, "staticgrad::mpi::value_and_grad takes a batch (of samples or of sequences)");
  using problem = detail::arguments_problem<Net, T, Loss, X, Y>;
  if constexpr (detail::has_problem<problem>) {
    static_assert(sizeof(problem) > 0);
    return T{};
  } else {
    // Bad data throws on every rank alike, before any rank waits for another.
    if constexpr (!detail::SequenceRange<X>) detail::check_arguments<Net, Loss>(xs, ys, "staticgrad::mpi::value_and_grad");
    if constexpr (detail::is_stochastic<Net>) {
      return staticgrad::value_and_grad(model, loss, xs, ys, grads, training);
    } else {
      return detail::value_and_grad_into(model, loss, xs, ys, grads, detail::no_layer_hook{},
                                         detail::ranks_in_order{comm});
    }
  }
}

/// staticgrad::fit with each batch's gradient computed by all the ranks of `comm`
/// together (mpi::value_and_grad) and every rank taking the same optimizer step: every rank
/// passes the same data, options and a model and optimizer in the same state (checked at
/// the start: check_same_parameters), and ends with the parameters one process would have,
/// bit for bit. Progress goes to options.progress on rank 0 only; `callback` runs on every
/// rank.
template <class Net, class T, class Optimizer, class Loss, class Inputs, class Targets,
          class Callback = staticgrad::detail::keep_training>
std::vector<T> fit(MPI_Comm comm, Model<Net, T>& model, Optimizer& optimizer, const Loss& loss,
                   const Inputs& inputs, const Targets& targets, FitOptions options, Callback&& callback = {}) {
  check_same_parameters(comm, model);
  if (rank(comm) != 0) options.progress = nullptr;
  const auto grads = std::make_unique<Gradients<Net, T>>();
  return staticgrad::detail::fit_loop<Net, T, Loss>(
      "staticgrad::mpi::fit", inputs, targets, options,
      [&](const auto& batch_x, const auto& batch_y, Training key, FitStep<Net, T>& info) {
        const T batch_loss = mpi::value_and_grad(comm, model, loss, batch_x, batch_y, *grads, key);
        info.grad_norms = grad_norms(*grads);
        if (options.clip_norm > 0) clip_grad_norm(*grads, static_cast<T>(options.clip_norm));
        optimizer.step(model, *grads);
        return batch_loss;
      },
      callback);
}

/// staticgrad::save on rank 0 alone; every rank returns once the file is written, or
/// throws rank 0's error (a save that fails leaves the old file intact, as save does).
template <class Net, class T>
void save(MPI_Comm comm, const Model<Net, T>& model, const std::filesystem::path& path) {
  std::string error;
  if (rank(comm) == 0) {
    try {
      staticgrad::save(model, path);
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "staticgrad::mpi::save: failed";
    }
  }
  int length = static_cast<int>(error.size());
  detail::check(MPI_Bcast(&length, 1, MPI_INT, 0, comm), "MPI_Bcast");
  error.resize(static_cast<std::size_t>(length));
  detail::check(MPI_Bcast(error.data(), length, MPI_CHAR, 0, comm), "MPI_Bcast");
  if (!error.empty()) throw std::runtime_error(error);
}

}  // namespace staticgrad::mpi
