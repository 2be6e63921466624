// What the amp and wavenet_amp examples share: test audio at 48 kHz, the drive pedal they
// learn, streaming a model over it, the error-to-signal ratio they report, and WAV output
// (with libsndfile).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <vector>

#ifdef STATICGRAD_EXAMPLE_SNDFILE
#include <sndfile.h>
#endif

#include <staticgrad/staticgrad.hpp>

namespace audio {

using Mono = std::vector<std::array<float, 1>>;
constexpr double rate = 48000;

// Test audio, a quarter second at a time: sine sweeps, plucked-string-like notes (decaying
// harmonics) and noise bursts, each at one of several levels.
inline Mono make_signal(double seconds, std::uint64_t seed) {
  staticgrad::init::Rng rng(seed);
  Mono signal;
  const auto segment = static_cast<std::size_t>(rate / 4);
  while (static_cast<double>(signal.size()) < seconds * rate) {
    const double level = 0.1 + 0.8 * rng.uniform(0, 1);
    const std::size_t kind = rng.index(3);
    const double f0 = 82 * std::pow(2.0, rng.uniform(0, 2));  // E2 to E4
    double phase = 0;
    for (std::size_t n = 0; n < segment; ++n) {
      const double t = static_cast<double>(n) / rate;
      double value = 0;
      if (kind == 0) {  // a logarithmic sweep from 60 Hz to 6 kHz
        phase += 2 * std::numbers::pi * 60 * std::pow(100.0, t * 4) / rate;
        value = std::sin(phase);
      } else if (kind == 1) {  // a plucked note: harmonics k decaying faster as k grows
        for (int k = 1; k <= 8; ++k) value += std::exp(-(3.0 + 2 * k) * t) * std::sin(2 * std::numbers::pi * k * f0 * t) / k;
      } else {  // a noise burst with a fast attack and a slower decay
        value = rng.uniform(-1, 1) * std::min(1.0, t / 0.005) * std::exp(-12 * t);
      }
      signal.push_back({static_cast<float>(level * value)});
    }
  }
  return signal;
}

// The effect: a one-pole low-pass at 3 kHz, tanh drive with gain `drive`, a one-pole
// high-pass at 120 Hz (what removes DC and thins the low end after a drive stage), and
// half gain.
inline Mono drive_pedal(const Mono& input, double drive = 5) {
  const double lowpass = 1 - std::exp(-2 * std::numbers::pi * 3000 / rate);
  const double highpass = std::exp(-2 * std::numbers::pi * 120 / rate);
  double low = 0, driven_before = 0, high = 0;
  Mono output;
  for (const auto& x : input) {
    low += lowpass * (x[0] - low);
    const double driven = std::tanh(drive * low);
    high = highpass * (high + driven - driven_before);
    driven_before = driven;
    output.push_back({static_cast<float>(0.5 * high)});
  }
  return output;
}

// A model's output for every step of `inputs`, streamed from zero state, one call per step.
template <class Net, std::size_t In>
Mono stream(const staticgrad::Model<Net, float>& model, const std::vector<std::array<float, In>>& inputs) {
  staticgrad::State<Net, float> state;
  Mono output;
  for (const auto& x : inputs) output.push_back(model(x, state));
  return output;
}

// Error-to-signal ratio: Σ(target − output)² / Σ target², what amp-modelling papers report.
inline double esr(const Mono& target, const Mono& output) {
  double error = 0, energy = 0;
  for (std::size_t n = 0; n < target.size(); ++n) {
    error += (target[n][0] - output[n][0]) * (target[n][0] - output[n][0]);
    energy += target[n][0] * target[n][0];
  }
  return error / energy;
}

inline void write_wav([[maybe_unused]] const std::filesystem::path& path, [[maybe_unused]] const Mono& signal) {
#ifdef STATICGRAD_EXAMPLE_SNDFILE
  SF_INFO info{};
  info.samplerate = static_cast<int>(rate);
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!file) {
    std::fprintf(stderr, "cannot write %s: %s\n", path.c_str(), sf_strerror(nullptr));
    return;
  }
  sf_writef_float(file, signal.front().data(), static_cast<sf_count_t>(signal.size()));
  sf_close(file);
  std::printf("wrote %s\n", path.c_str());
#endif
}

}  // namespace audio
