// Recurrent networks streamed one sample at a time, as an audio callback runs them: ns per
// sample for staticgrad's generated step against our dynamic tape, RTNeural's compile-time
// API with each of its backends that builds here (Eigen, xsimd, STL) and LibTorch, on the
// same weights and the same input, every peer checked to compute staticgrad's outputs
// before it is timed (the tape is checked by the tests).
//
//   build/bench/bench/staticgrad_bench_recurrent   (Google Benchmark flags work as usual)
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <staticgrad/io/safetensors.hpp>
#include <staticgrad/staticgrad.hpp>

#include "medians.hpp"
#include "recurrent_peers.hpp"

namespace sg = staticgrad;

namespace {

// The model's parameters as PyTorch's state_dict of the same network would hold them.
template <class Net>
nlohmann::json state_dict(const sg::Model<Net, float>& model) {
  nlohmann::json dict;
  for (const auto& tensor : sg::detail::torch_tensors<Net>()) {
    const auto value = [&](std::size_t k) { return model.flat()[tensor.flat_index(k)]; };
    // Row by row, each row a vector (a matrix is a vector of rows, a vector one row).
    const std::size_t rank = tensor.layout.rank, columns = tensor.layout.shape[rank - 1];
    const std::size_t rows = tensor.size() / columns;
    nlohmann::json matrix = nlohmann::json::array();
    for (std::size_t r = 0; r < rows; ++r) {
      std::vector<float> row;
      for (std::size_t c = 0; c < columns; ++c) row.push_back(value(r * columns + c));
      matrix.push_back(row);
    }
    dict[tensor.name] = rank == 1 ? matrix[0] : matrix;
  }
  return dict;
}

// Registers "<name>/stream/generated" and returns what the peers need to build and check
// the same network.
template <class Net>
StreamingCase register_generated(const std::string& name, const std::vector<float>& signal) {
  const auto model = std::make_shared<const sg::Model<Net, float>>(7);
  StreamingCase stream{name, state_dict(*model), signal, {}};
  sg::State<Net, float> from_zero{};
  for (const float x : signal) stream.expected.push_back((*model)(std::array<float, 1>{x}, from_zero)[0]);
  register_stream(name + "/stream/generated", signal.size(),
                  [model, signal, state = sg::State<Net, float>{}](std::size_t t) mutable {
                    return (*model)(std::array<float, 1>{signal[t]}, state)[0];
                  });
  // The same network on the dynamic tape, one recorded step per sample.
  register_stream(name + "/stream/tape", signal.size(),
                  [model, signal, tape = std::make_shared<sg::tape::Tape<float>>(),
                   state = sg::State<Net, float>{}](std::size_t t) mutable {
                    return sg::tape::infer(*tape, *model, std::array<float, 1>{signal[t]}, state)[0];
                  });
  return stream;
}

// 4,096 samples of a plucked-string-like tone and noise, at the levels a guitar signal has.
std::vector<float> make_signal() {
  std::vector<float> signal(4096);
  sg::init::Rng rng(3);
  for (std::size_t t = 0; t < signal.size(); ++t) {
    const double seconds = static_cast<double>(t) / 48000;
    signal[t] = static_cast<float>(0.6 * std::exp(-30 * seconds) * std::sin(2 * 3.14159265358979 * 110 * seconds) +
                                   0.02 * rng.normal());
  }
  return signal;
}

}  // namespace

int main(int argc, char** argv) {
  const auto signal = make_signal();
  const std::vector<StreamingCase> cases{
      register_generated<sg::Sequential<sg::GRU<1, 8>, sg::GRU<8, 8>, sg::GRU<8, 8>, sg::GRU<8, 8>, sg::Dense<8, 1>>>(
          "GRU-8 x4", signal),
      register_generated<sg::Sequential<sg::GRU<1, 16>, sg::Dense<16, 1>>>("GRU-16", signal),
      register_generated<sg::Sequential<sg::LSTM<1, 16>, sg::Dense<16, 1>>>("LSTM-16", signal),
      register_generated<sg::Sequential<sg::GRU<1, 40>, sg::Dense<40, 1>>>("GRU-40", signal),
      register_generated<sg::Sequential<sg::LSTM<1, 40>, sg::Dense<40, 1>>>("LSTM-40", signal),
  };
  std::vector<std::string> columns{"generated", "tape"};
#ifdef STATICGRAD_BENCH_RTNEURAL_EIGEN
  register_rtneural_eigen(cases);
  columns.push_back("rtneural eigen");
#endif
#ifdef STATICGRAD_BENCH_RTNEURAL_XSIMD
  register_rtneural_xsimd(cases);
  columns.push_back("rtneural xsimd");
#endif
#ifdef STATICGRAD_BENCH_RTNEURAL_STL
  register_rtneural_stl(cases);
  columns.push_back("rtneural stl");
#else
  std::printf("RTNeural not found (set STATICGRAD_RTNEURAL_DIR to its checkout): no RTNeural columns\n");
#endif
  register_torch_streaming(cases);
  columns.push_back("torch");

  MedianCollector reporter;
  run_benchmarks(argc, argv, reporter);

  // ns per sample, each peer's ratio to the generated step, and the generated step over the
  // fastest RTNeural backend.
  std::printf("\n%-10s", "ns/sample");
  for (const auto& column : columns) std::printf(" %22s", column.c_str());
  std::printf("  generated / fastest RTNeural\n");
  for (const auto& stream : cases) {
    const double generated = reporter.median(stream.name + "/stream/generated");
    if (generated == 0) continue;
    std::printf("%-10s", stream.name.c_str());
    double fastest = 0;
    for (const auto& column : columns) {
      const double ns = reporter.median(stream.name + "/stream/" + column);
      if (ns == 0) std::printf(" %22s", "-");
      else std::printf(" %12.1f (%6.2fx)", ns, ns / generated);
      if (ns > 0 && column.starts_with("rtneural") && (fastest == 0 || ns < fastest)) fastest = ns;
    }
    if (fastest > 0) std::printf("  %.2fx", generated / fastest);
    std::printf("\n");
  }
  benchmark::Shutdown();
  return 0;
}
