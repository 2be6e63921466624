// The amp example's job with a WaveNet, as Neural Amp Modeler builds one, and a knob: the
// drive pedal rendered at several gain settings, the knob's setting a second input beside
// the audio, so that one network learns every setting (and the ones between).
//
//   wavenet_amp [EPOCHS] [OUTPUT DIRECTORY]       ./dev.sh example wavenet_amp  (30 epochs)
//
// Prints the training loss, then for every knob setting the error-to-signal ratio on
// held-out audio (one setting never trained on), the latency of every sample streamed
// through the saved and reloaded model against the 20.8 µs a sample lasts at 48 kHz, and
// the heap allocations in that loop (none). Writes loss.csv and waveforms.csv
// (examples/plot.py draws loss.png and waveforms.png from them), wavenet_amp.sgrd, and with
// libsndfile the held-out target and model output for every setting as WAV files.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <staticgrad/staticgrad.hpp>

#include "audio.hpp"
#include "count_allocations.hpp"
#include "latency.hpp"

namespace sg = staticgrad;

namespace {

constexpr std::size_t channels = 8, skip_channels = 8;

// One layer: the network carries [x, the sum of the skips]; the gated activation
// a = tanh(conv(x)) ⊙ σ(conv′(x)), computed once, feeds the 1×1 residual projection
// (x + R a) and the 1×1 skip projection (skip + K a).
template <std::size_t Dilation>
using Layer = sg::Residual<
    sg::Slice<0, channels, channels + skip_channels>,
    sg::Product<sg::Conv1D<channels, channels, 3, Dilation, sg::Tanh>,
                sg::Conv1D<channels, channels, 3, Dilation, sg::Sigmoid>>,
    sg::Concat<sg::Conv1D<channels, channels, 1>, sg::Conv1D<channels, skip_channels, 1>>>;

// Input [audio, knob]: 1×1 convolutions into the channels and into the skips, eight
// layers of dilations 1 to 128, and a head reading the skips.
using WaveNet = sg::Sequential<
    sg::Concat<sg::Conv1D<2, channels, 1>, sg::Conv1D<2, skip_channels, 1>>, Layer<1>, Layer<2>, Layer<4>,
    Layer<8>, Layer<16>, Layer<32>, Layer<64>, Layer<128>,
    sg::Slice<channels, skip_channels, channels + skip_channels>, sg::Conv1D<skip_channels, 1, 1>>;

using Input = std::array<float, 2>;

// The knob turns the pedal's drive from 1 (almost clean) to 20 (heavy), logarithmically,
// as a potentiometer with an audio taper would.
double drive(double knob) { return std::pow(20.0, knob); }

// The audio with the knob's setting beside every sample.
std::vector<Input> with_knob(const audio::Mono& signal, double knob) {
  std::vector<Input> inputs;
  for (const auto& x : signal) inputs.push_back({x[0], static_cast<float>(knob)});
  return inputs;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t epochs = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 30;
  const std::filesystem::path out = argc > 2 ? argv[2] : "out/wavenet_amp";
  std::filesystem::create_directories(out);
  constexpr std::size_t receptive_field = sg::receptive_field<WaveNet>;

  // Training: two seconds of audio at each of five settings, one after another.
  const std::array trained_knobs{0.0, 0.25, 0.5, 0.75, 1.0};
  std::vector<Input> train_in;
  audio::Mono train_target;
  for (std::size_t k = 0; k < trained_knobs.size(); ++k) {
    const audio::Mono signal = audio::make_signal(2, 10 + k);
    const auto inputs = with_knob(signal, trained_knobs[k]);
    const auto target = audio::drive_pedal(signal, drive(trained_knobs[k]));
    train_in.insert(train_in.end(), inputs.begin(), inputs.end());
    train_target.insert(train_target.end(), target.begin(), target.end());
  }
  // Held out: other audio, at the trained settings and at one between them.
  const std::array held_out_knobs{0.0, 0.25, 0.5, 0.6, 0.75, 1.0};
  const audio::Mono held_out_signal = audio::make_signal(1, 2);
  std::vector<std::vector<Input>> held_out_in;
  std::vector<audio::Mono> held_out_target;
  for (const double knob : held_out_knobs) {
    held_out_in.push_back(with_knob(held_out_signal, knob));
    held_out_target.push_back(audio::drive_pedal(held_out_signal, drive(knob)));
  }

  sg::Model<WaveNet, float> model{7};
  sg::Adam<WaveNet, float> adam({.lr = 0.01});
  // The learning rate falls along a cosine to zero over the run, one step per epoch.
  sg::LRScheduler schedule(adam, sg::CosineAnnealingLR{.T_max = epochs});
  // Independent windows of 256 samples, 16 per step, each after as many samples as one
  // output sees (the receptive field) to fill the convolutions' past.
  const sg::WindowOptions options{.epochs = epochs, .batch_size = 16, .warmup = receptive_field, .seed = 3,
                                  .clip_norm = 1};
  std::ofstream curve(out / "loss.csv");
  curve << "epoch,training loss (MSE)";
  for (const double knob : held_out_knobs) curve << ",held-out ESR at knob " << knob;
  curve << '\n';
  std::printf("wavenet_amp: a gated WaveNet (%zu layers, %zu channels, receptive field %zu samples, %zu parameters)\n"
              "  on %.0f s of a drive pedal at %zu knob settings, %zu epochs\n",
              std::size_t{8}, channels, receptive_field, sg::param_count<WaveNet>,
              static_cast<double>(train_in.size()) / audio::rate, trained_knobs.size(), epochs);
  sg::fit_windows<256>(model, adam, sg::MSE{}, train_in, train_target, options, [&](const sg::FitStep<WaveNet, float>& step) {
    if (!step.epoch_end) return;
    schedule.step();
    curve << step.epoch + 1 << ',' << step.epoch_loss;
    for (std::size_t k = 0; k < held_out_knobs.size(); ++k)
      curve << ',' << audio::esr(held_out_target[k], audio::stream(model, held_out_in[k]));
    curve << '\n';
    if (step.epoch % 5 == 4 || step.epoch + 1 == epochs)
      std::printf("  epoch %3zu  loss %.6f\n", step.epoch + 1, static_cast<double>(step.epoch_loss));
  });
  sg::save(model, out / "wavenet_amp.sgrd");

  // Deployment: the saved model, loaded as a plug-in would load it, one call per sample.
  sg::Model<WaveNet, float> deployed{};
  sg::load(deployed, out / "wavenet_amp.sgrd");
  sg::State<WaveNet, float> state;
  const std::size_t samples = held_out_signal.size();
  latency::Recorder latencies(samples * held_out_knobs.size());
  audio::Mono output(samples);
  std::ofstream waveforms(out / "waveforms.csv");
  waveforms << "knob,time (ms),input,target,model\n";
  std::printf("wavenet_amp: held-out audio (%zu samples per setting) through the reloaded model, one step per sample\n",
              samples);
  std::size_t loop_allocations = 0;
  for (std::size_t k = 0; k < held_out_knobs.size(); ++k) {
    for (int i = 0; i < 1000; ++i) deployed(held_out_in[k][0], state);  // warm the caches, as a host's prepare step would
    state.reset();
    const std::size_t allocations_before = allocations;
    for (std::size_t n = 0; n < samples; ++n)
      latencies.time(k * samples + n, [&] { output[n] = deployed(held_out_in[k][n], state); });
    loop_allocations += allocations - allocations_before;
    const double knob_esr = audio::esr(held_out_target[k], output);
    std::printf("  knob %.2f (drive %4.1f)%s  error-to-signal ratio %.4f (%.1f dB)\n", held_out_knobs[k],
                drive(held_out_knobs[k]), held_out_knobs[k] == 0.6 ? ", never trained on" : "                  ",
                knob_esr, 10 * std::log10(knob_esr));
    // 20 ms of a plucked note's attack, for the plot.
    for (std::size_t n = 0; n < 960; ++n)
      waveforms << held_out_knobs[k] << ',' << 1e3 * static_cast<double>(n) / audio::rate << ','
                << held_out_signal[n][0] << ',' << held_out_target[k][n][0] << ',' << output[n][0] << '\n';
    const std::string setting = "knob_" + std::to_string(held_out_knobs[k]).substr(0, 4);
    audio::write_wav(out / ("held_out_" + setting + "_target.wav"), held_out_target[k]);
    audio::write_wav(out / ("held_out_" + setting + "_model.wav"), output);
  }
  const double median_ns = latencies.report(1e9 / audio::rate);
  std::printf("  %zu heap allocations in the audio loop\n", loop_allocations);
  audio::write_wav(out / "held_out_input.wav", held_out_signal);
  std::printf("wrote %s, %s and %s\n", (out / "loss.csv").c_str(), (out / "waveforms.csv").c_str(),
              (out / "wavenet_amp.sgrd").c_str());
  return loop_allocations == 0 && median_ns < 1e9 / audio::rate ? 0 : 1;
}
