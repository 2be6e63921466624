// The job our audio users do: model an effect that has memory (a pedal: a tone filter, a
// tanh drive and a DC-blocking high-pass) with a GRU, trained in C++ on audio passed
// through the effect, then run it per sample as a real-time audio loop would.
//
//   amp [EPOCHS] [OUTPUT DIRECTORY]       ./dev.sh example amp  (40 epochs, out/amp)
//
// Prints the loss and the error-to-signal ratio on held-out audio as it trains, then the
// latency of every sample of the held-out audio through the saved and reloaded model
// against the 20.8 µs a sample lasts at 48 kHz, and the heap allocations in that loop
// (none). Writes loss.csv (examples/plot.py draws loss.png from it), amp.sgrd (the model),
// and with libsndfile the held-out input, target and model output as WAV files to listen to.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#ifdef STATICGRAD_EXAMPLE_SNDFILE
#include <sndfile.h>
#endif

#include <staticgrad/staticgrad.hpp>

#include "count_allocations.hpp"
#include "latency.hpp"

namespace sg = staticgrad;

namespace {

using Amp = sg::Sequential<sg::GRU<1, 16>, sg::Dense<16, 1>>;
using Audio = std::vector<std::array<float, 1>>;
constexpr double rate = 48000;

// Test audio at 48 kHz, a quarter second at a time: sine sweeps, plucked-string-like notes
// (decaying harmonics) and noise bursts, each at one of several levels.
Audio make_signal(double seconds, std::uint64_t seed) {
  sg::init::Rng rng(seed);
  Audio audio;
  const auto segment = static_cast<std::size_t>(rate / 4);
  while (static_cast<double>(audio.size()) < seconds * rate) {
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
      audio.push_back({static_cast<float>(level * value)});
    }
  }
  return audio;
}

// The effect: a one-pole low-pass at 3 kHz, tanh drive with gain 5, a one-pole high-pass at
// 120 Hz (what removes DC and thins the low end after a drive stage), and half gain.
Audio effect(const Audio& input) {
  const double lowpass = 1 - std::exp(-2 * std::numbers::pi * 3000 / rate);
  const double highpass = std::exp(-2 * std::numbers::pi * 120 / rate);
  double low = 0, driven_before = 0, high = 0;
  Audio output;
  for (const auto& x : input) {
    low += lowpass * (x[0] - low);
    const double driven = std::tanh(5 * low);
    high = highpass * (high + driven - driven_before);
    driven_before = driven;
    output.push_back({static_cast<float>(0.5 * high)});
  }
  return output;
}

// The model's output for every sample, streamed from zero state.
Audio run(const sg::Model<Amp, float>& model, const Audio& input) {
  sg::State<Amp, float> state;
  Audio output;
  for (const auto& x : input) output.push_back(model(x, state));
  return output;
}

// Error-to-signal ratio: Σ(target − output)² / Σ target², what amp-modelling papers report.
double esr(const Audio& target, const Audio& output) {
  double error = 0, energy = 0;
  for (std::size_t n = 0; n < target.size(); ++n) {
    error += (target[n][0] - output[n][0]) * (target[n][0] - output[n][0]);
    energy += target[n][0] * target[n][0];
  }
  return error / energy;
}

void write_wav([[maybe_unused]] const std::filesystem::path& path, [[maybe_unused]] const Audio& audio) {
#ifdef STATICGRAD_EXAMPLE_SNDFILE
  SF_INFO info{};
  info.samplerate = static_cast<int>(rate);
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!file) {
    std::fprintf(stderr, "amp: cannot write %s: %s\n", path.c_str(), sf_strerror(nullptr));
    return;
  }
  sf_writef_float(file, audio.front().data(), static_cast<sf_count_t>(audio.size()));
  sf_close(file);
  std::printf("wrote %s\n", path.c_str());
#endif
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 40;
  const std::filesystem::path out = argc > 2 ? argv[2] : "out/amp";
  std::filesystem::create_directories(out);

  const Audio train_in = make_signal(6, 1), held_out_in = make_signal(2, 2);
  const Audio train_target = effect(train_in), held_out_target = effect(held_out_in);
  sg::Model<Amp, float> model{7};
  sg::Adam<Amp, float> adam({.lr = 0.005});
  // Independent windows of 512 samples, each from a state warmed up over the 256 before it
  // (left out of the loss), 16 windows per step.
  const sg::WindowOptions options{.epochs = epochs, .batch_size = 16, .warmup = 256, .seed = 3, .clip_norm = 1};
  std::ofstream curve(out / "loss.csv");
  curve << "epoch,training loss (MSE),held-out ESR\n";
  std::printf("amp: GRU-16 + Dense on %.0f s of audio through a drive pedal, %zu epochs\n",
              static_cast<double>(train_in.size()) / rate, epochs);
  sg::fit_windows<512>(model, adam, sg::MSE{}, train_in, train_target, options, [&](const sg::FitStep<Amp, float>& step) {
    if (!step.epoch_end) return;
    const double held_out_esr = esr(held_out_target, run(model, held_out_in));
    curve << step.epoch + 1 << ',' << step.epoch_loss << ',' << held_out_esr << '\n';
    if (step.epoch % 5 == 4 || step.epoch + 1 == epochs)
      std::printf("  epoch %3zu  loss %.6f  held-out ESR %.4f\n", step.epoch + 1, static_cast<double>(step.epoch_loss),
                  held_out_esr);
  });
  sg::save(model, out / "amp.sgrd");

  // Deployment: the saved model, loaded as a plug-in would load it, one call per sample.
  sg::Model<Amp, float> deployed{};
  sg::load(deployed, out / "amp.sgrd");
  sg::State<Amp, float> state;
  Audio output(held_out_in.size());
  latency::Recorder latencies(held_out_in.size());
  for (int i = 0; i < 1000; ++i) deployed(held_out_in[0], state);  // warm the caches, as a host's prepare step would
  state.reset();
  const std::size_t allocations_before = allocations;
  for (std::size_t n = 0; n < held_out_in.size(); ++n)
    latencies.time(n, [&] { output[n] = deployed(held_out_in[n], state); });
  const std::size_t loop_allocations = allocations - allocations_before;
  const double final_esr = esr(held_out_target, output);
  std::printf("amp: held-out audio (%zu samples) through the reloaded model, one step per sample\n", output.size());
  const double median_ns = latencies.report(1e9 / rate);
  std::printf("  error-to-signal ratio %.4f (%.1f dB)\n", final_esr, 10 * std::log10(final_esr));
  std::printf("  %zu heap allocations in the audio loop\n", loop_allocations);
  write_wav(out / "held_out_input.wav", held_out_in);
  write_wav(out / "held_out_target.wav", held_out_target);
  write_wav(out / "held_out_model.wav", output);
  std::printf("wrote %s and %s\n", (out / "loss.csv").c_str(), (out / "amp.sgrd").c_str());
  return loop_allocations == 0 && median_ns < 1e9 / rate ? 0 : 1;
}
