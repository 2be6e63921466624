// The latency report of an audio loop, as the embed and amp examples print it: every call
// timed, the distribution against the real-time budget of one sample period.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <vector>

namespace latency {

using Clock = std::chrono::steady_clock;

/// One time per call of the loop, in ns; allocated before the loop.
class Recorder {
 public:
  explicit Recorder(std::size_t calls) : ns_(calls) {}
  /// Times f() as call n.
  template <class F>
  void time(std::size_t n, const F& f) {
    const auto start = Clock::now();
    f();
    ns_[n] = std::chrono::duration<float, std::nano>(Clock::now() - start).count();
  }

  /// Prints p50, p99 and the maximum against `budget_ns`; returns the median.
  double report(double budget_ns) {
    std::vector<float> clock_ns(10000);  // what reading the clock costs, included in each time
    for (float& ns : clock_ns) {
      const auto start = Clock::now();
      ns = std::chrono::duration<float, std::nano>(Clock::now() - start).count();
    }
    std::sort(clock_ns.begin(), clock_ns.end());
    std::sort(ns_.begin(), ns_.end());
    const auto percentile = [&](double p) {
      return static_cast<double>(ns_[static_cast<std::size_t>(p * static_cast<double>(ns_.size() - 1))]);
    };
    std::printf("  latency per sample: p50 %.0f ns, p99 %.0f ns, max %.0f ns (clock read: %.0f ns, included)\n",
                percentile(0.5), percentile(0.99), percentile(1.0), static_cast<double>(clock_ns[clock_ns.size() / 2]));
    const auto overruns = static_cast<std::size_t>(
        ns_.end() - std::upper_bound(ns_.begin(), ns_.end(), static_cast<float>(budget_ns)));
    std::printf("  real-time budget %.0f ns per sample: the median uses %.2f%% of it; %zu calls over it\n", budget_ns,
                100 * percentile(0.5) / budget_ns, overruns);
    if (overruns > 0)
      std::printf("  (the calls over it are the OS taking the core away: this process is not real-time\n"
                  "   scheduled; an audio thread runs with SCHED_FIFO, on an isolated core for hard deadlines)\n");
    return percentile(0.5);
  }

 private:
  std::vector<float> ns_;
};

}  // namespace latency
