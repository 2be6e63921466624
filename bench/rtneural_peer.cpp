// RTNeural's compile-time API (ModelT with GRULayerT, LSTMLayerT, Conv1DT,
// TanhActivationT, DenseT) running the streaming bench's networks one sample at a time. Compiled once per backend, each time with
// its own RTNEURAL_NAMESPACE and RTNEURAL_USE_* (bench/CMakeLists.txt), so the three builds
// live side by side in one program. The weights come in as PyTorch's state_dict, read by
// RTNeural's own torch_helpers (which map PyTorch's gate order onto RTNeural's).
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#if RTNEURAL_USE_XSIMD
#include <xsimd/xsimd.hpp>
// RTNeural calls xsimd::reduce_add, which xsimd 8 (Debian's) still names hadd.
namespace xsimd {
template <class T, class A>
T reduce_add(const batch<T, A>& values) noexcept {
  return hadd(values);
}
}  // namespace xsimd
#endif

#include <RTNeural/RTNeural.h>
#include <benchmark/benchmark.h>
#include <boost/mp11/algorithm.hpp>

#include "recurrent_peers.hpp"

namespace {

namespace rt = RTNEURAL_NAMESPACE;

template <int In, int Hidden>
using Gru = rt::GRULayerT<float, In, Hidden>;
template <int In, int Hidden>
using Lstm = rt::LSTMLayerT<float, In, Hidden>;
template <int In, int Out>
using Dense = rt::DenseT<float, In, Out>;
template <int In, int Out, int Kernel, int Dilation = 1>
using Conv = rt::Conv1DT<float, In, Out, Kernel, Dilation>;
template <int N>
using Tanh = rt::TanhActivationT<float, N>;

template <class Layer>
void load_layer(Layer& layer, const nlohmann::json& state_dict, const std::string& prefix) {
  if constexpr (std::is_same_v<Layer, Gru<Layer::in_size, Layer::out_size>>)
    rt::torch_helpers::loadGRU<float>(state_dict, prefix, layer);
  else if constexpr (std::is_same_v<Layer, Lstm<Layer::in_size, Layer::out_size>>)
    rt::torch_helpers::loadLSTM<float>(state_dict, prefix, layer);
  else if constexpr (requires { Layer::filters_per_group; })
    rt::torch_helpers::loadConv1D<float>(state_dict, prefix, layer);
  else if constexpr (!std::is_same_v<Layer, Tanh<Layer::in_size>>)  // an activation has no weights
    rt::torch_helpers::loadDense<float>(state_dict, prefix, layer);
}

// Layer k of the model from the tensors named "k.…".
template <class Model, std::size_t... K>
void load(Model& model, const nlohmann::json& state_dict, std::index_sequence<K...>) {
  (load_layer(model.template get<K>(), state_dict, std::to_string(K) + "."), ...);
}

template <class... Layers>
void register_model(const StreamingCase& c) {
  using Model = rt::ModelT<float, 1, 1, Layers...>;
  auto model = std::make_shared<Model>();
  load(*model, c.state_dict, std::index_sequence_for<Layers...>{});
  model->reset();
  double worst = 0;
  for (std::size_t t = 0; t < c.signal.size(); ++t)
    worst = std::max(worst, static_cast<double>(std::abs(model->forward(&c.signal[t]) - c.expected[t])));
  // Both compute in float with their own tanh and σ; the state carries the differences on.
  if (!(worst <= 1e-4)) {
    std::fprintf(stderr, "bench: %s: RTNeural (%s) differs from staticgrad by %g\n", c.name.c_str(),
                 STATICGRAD_RTNEURAL_BACKEND, worst);
    std::exit(1);
  }
  model->reset();
  const std::string name = c.name + "/stream/rtneural " + STATICGRAD_RTNEURAL_BACKEND;
  register_stream(name, c.signal.size(), [model, signal = c.signal](std::size_t t) { return model->forward(&signal[t]); });
}

// The model whose layers are those of the tuples Parts, one after the other.
template <class... Parts>
void register_model_of(const StreamingCase& c) {
  [&]<class... Layers>(std::tuple<Layers...>*) { register_model<Layers...>(c); }(
      static_cast<boost::mp11::mp_append<Parts...>*>(nullptr));
}

// Conv1D<1, 8, 3> and Tanh, then Conv1D<8, 8, 3, 2^(K+1)> and Tanh for each K, then Dense<8, 1>.
template <std::size_t... K>
std::function<void(const StreamingCase&)> dilated_stack(std::index_sequence<K...>) {
  return [](const StreamingCase& c) {
    register_model_of<std::tuple<Conv<1, 8, 3>, Tanh<8>>, std::tuple<Conv<8, 8, 3, (2 << K)>, Tanh<8>>...,
                      std::tuple<Dense<8, 1>>>(c);
  };
}

}  // namespace

void STATICGRAD_RTNEURAL_REGISTER(const std::vector<StreamingCase>& cases) {
  const std::map<std::string, std::function<void(const StreamingCase&)>> networks{
      {"GRU-8 x4", register_model<Gru<1, 8>, Gru<8, 8>, Gru<8, 8>, Gru<8, 8>, Dense<8, 1>>},
      {"GRU-16", register_model<Gru<1, 16>, Dense<16, 1>>},
      {"LSTM-16", register_model<Lstm<1, 16>, Dense<16, 1>>},
      {"GRU-40", register_model<Gru<1, 40>, Dense<40, 1>>},
      {"LSTM-40", register_model<Lstm<1, 40>, Dense<40, 1>>},
      {"Conv1D 1-12 k5", register_model<Conv<1, 12, 5>, Dense<12, 1>>},
      {"Conv1D-8 d1-512", dilated_stack(std::make_index_sequence<9>{})},
  };
  for (const auto& c : cases) networks.at(c.name)(c);
}
