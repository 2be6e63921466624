// The embed example, part 2 of 2 (the device): loads the network that embed_train saved and
// runs it the way an audio plug-in would, one inference per sample at 48 kHz, timing every
// call. Prints the latency distribution against the real-time budget of one sample period
// and the heap allocations in the audio loop (there must be none).
//
//   embed_deploy FILE [SECONDS]      ./dev.sh example embed   runs both parts
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <vector>

#include <staticgrad/staticgrad.hpp>

#include "count_allocations.hpp"
#include "embed_net.hpp"
#include "latency.hpp"

namespace sg = staticgrad;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: embed_deploy FILE [SECONDS]\n");
    return 2;
  }
  const double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
  // Set-up, where allocating is fine: load (it checks the network, the file and its sizes).
  sg::Model<embed::Net, float> model{};
  try {
    sg::load(model, argv[1]);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "embed_deploy: %s\n", error.what());
    return 1;
  }
  const auto samples = static_cast<std::size_t>(seconds * embed::sample_rate);
  std::vector<float> output(samples);
  latency::Recorder latencies(samples);

  // The audio loop: a 220 Hz tone swelling from silence to full level.
  std::array<float, 4> history{};
  for (int i = 0; i < 1000; ++i) output[0] = model(history)[0];  // warm the caches, as a host's prepare step would
  const std::size_t allocations_before = allocations;
  double squared_error = 0;
  for (std::size_t n = 0; n < samples; ++n) {
    const double t = static_cast<double>(n) / embed::sample_rate;
    embed::push(history, static_cast<float>(t / seconds * std::sin(2 * std::numbers::pi * 220 * t)));
    latencies.time(n, [&] { output[n] = model(history)[0]; });
    const double error = output[n] - embed::saturator(history);
    squared_error += error * error;
  }
  const std::size_t loop_allocations = allocations - allocations_before;

  std::printf("embed_deploy: %zu samples (%.1f s of 48 kHz audio), one inference each\n", samples, seconds);
  const double median_ns = latencies.report(1e9 / embed::sample_rate);
  std::printf("  RMS error against the saturator: %.4f\n", std::sqrt(squared_error / static_cast<double>(samples)));
  std::printf("  %zu heap allocations in the audio loop\n", loop_allocations);
  return loop_allocations == 0 && median_ns < 1e9 / embed::sample_rate ? 0 : 1;
}
