// Runs the registered benchmarks and keeps each one's median, for the tables of ratios the
// bench programs print at the end.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

// Keeps the median of each benchmark (or its one run).
class MedianCollector : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, double> median_ns;
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median")
        median_ns[run.run_name.function_name] = run.GetAdjustedRealTime();
      else if (run.run_type == Run::RT_Iteration)  // a single repetition has no median
        median_ns.try_emplace(run.run_name.function_name, run.GetAdjustedRealTime());
    }
  }
  /// A benchmark's median in ns, 0 when it did not run (filtered out, or no peer).
  double median(const std::string& key) const {
    const auto found = median_ns.find(key);
    return found == median_ns.end() ? 0.0 : found->second;
  }
};

// Medians of 5 repetitions, run in random order across all benchmarks (so that a machine
// that slows down for a minute slows every contender alike, not the one that ran then),
// unless the command line says otherwise.
inline void run_benchmarks(int argc, char** argv, MedianCollector& reporter) {
  std::vector<char*> args(argv, argv + argc);
  std::string repetitions = "--benchmark_repetitions=5";
  std::string aggregates = "--benchmark_report_aggregates_only=true";
  std::string interleaving = "--benchmark_enable_random_interleaving=true";
  const auto given = [&](const std::string& flag) {
    const std::string name = flag.substr(0, flag.find('='));
    return std::any_of(argv + 1, argv + argc, [&](const char* arg) { return std::string(arg).starts_with(name); });
  };
  if (!given(repetitions)) {
    args.push_back(repetitions.data());
    args.push_back(aggregates.data());
  }
  if (!given(interleaving)) args.push_back(interleaving.data());
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  benchmark::RunSpecifiedBenchmarks(&reporter);
}
