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
#include <vector>

#include <staticgrad/staticgrad.hpp>

#include "audio.hpp"
#include "count_allocations.hpp"
#include "latency.hpp"

namespace sg = staticgrad;

namespace {

using Amp = sg::Sequential<sg::GRU<1, 16>, sg::Dense<16, 1>>;
using Audio = audio::Mono;

}  // namespace

int main(int argc, char** argv) {
  const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 40;
  const std::filesystem::path out = argc > 2 ? argv[2] : "out/amp";
  std::filesystem::create_directories(out);

  const Audio train_in = audio::make_signal(6, 1), held_out_in = audio::make_signal(2, 2);
  const Audio train_target = audio::drive_pedal(train_in), held_out_target = audio::drive_pedal(held_out_in);
  sg::Model<Amp, float> model{7};
  sg::Adam<Amp, float> adam({.lr = 0.005});
  // Independent windows of 512 samples, each from a state warmed up over the 256 before it
  // (left out of the loss), 16 windows per step.
  const sg::WindowOptions options{.epochs = epochs, .batch_size = 16, .warmup = 256, .seed = 3, .clip_norm = 1};
  std::ofstream curve(out / "loss.csv");
  curve << "epoch,training loss (MSE),held-out ESR\n";
  std::printf("amp: GRU-16 + Dense on %.0f s of audio through a drive pedal, %zu epochs\n",
              static_cast<double>(train_in.size()) / audio::rate, epochs);
  sg::fit_windows<512>(model, adam, sg::MSE{}, train_in, train_target, options, [&](const sg::FitStep<Amp, float>& step) {
    if (!step.epoch_end) return;
    const double held_out_esr = audio::esr(held_out_target, audio::stream(model, held_out_in));
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
  const double final_esr = audio::esr(held_out_target, output);
  std::printf("amp: held-out audio (%zu samples) through the reloaded model, one step per sample\n", output.size());
  const double median_ns = latencies.report(1e9 / audio::rate);
  std::printf("  error-to-signal ratio %.4f (%.1f dB)\n", final_esr, 10 * std::log10(final_esr));
  std::printf("  %zu heap allocations in the audio loop\n", loop_allocations);
  audio::write_wav(out / "held_out_input.wav", held_out_in);
  audio::write_wav(out / "held_out_target.wav", held_out_target);
  audio::write_wav(out / "held_out_model.wav", output);
  std::printf("wrote %s and %s\n", (out / "loss.csv").c_str(), (out / "amp.sgrd").c_str());
  return loop_allocations == 0 && median_ns < 1e9 / audio::rate ? 0 : 1;
}
