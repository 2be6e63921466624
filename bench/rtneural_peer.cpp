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

// Checks that `model` (forward(const float*), reset()) computes staticgrad's outputs, then
// registers it.
template <class Model>
void register_checked(const StreamingCase& c, std::shared_ptr<Model> model) {
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

template <class... Layers>
void register_model(const StreamingCase& c) {
  auto model = std::make_shared<rt::ModelT<float, 1, 1, Layers...>>();
  load(*model, c.state_dict, std::index_sequence_for<Layers...>{});
  model->reset();
  register_checked(c, model);
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

#if RTNEURAL_USE_EIGEN
// Neural Amp Modeler's nano WaveNet as bench/recurrent.cpp defines it, the way RTNeural's
// users build a WaveNet (as RTNeural-NAM does): its layers (Conv1DT, TanhActivationT, DenseT
// for a 1×1 convolution) called one after the other, the residual and skip sums added
// with Eigen between them. Eigen backend only: the sums are Eigen vector expressions.
template <int C>
using Vector = Eigen::Matrix<float, C, 1>;

// A Dense from a 1×1 convolution's weight [Out][In][1] and bias.
template <int In, int Out>
void load_pointwise(Dense<In, Out>& dense, const nlohmann::json& state_dict, const std::string& prefix) {
  std::vector<std::vector<float>> weights(Out, std::vector<float>(In));
  for (int o = 0; o < Out; ++o)
    for (int i = 0; i < In; ++i) weights[o][i] = state_dict.at(prefix + "weight")[o][i][0];
  dense.setWeights(weights);
  const std::vector<float> bias = state_dict.at(prefix + "bias");
  dense.setBias(bias.data());
}

template <int C, int Dilation>
struct NamLayer {
  Conv<C, C, 3, Dilation> conv;
  Dense<1, C> mixer;
  Tanh<C> tanh;
  Dense<C, C> mix;
  // Tensor names as staticgrad's Concat<Sum<Slice, Sequential<Sum<…conv…, …mixer…>, Tanh,
  // Concat<Conv1D, …>>>, Slice> has them.
  void load(const nlohmann::json& state_dict, const std::string& prefix) {
    rt::torch_helpers::loadConv1D<float>(state_dict, prefix + "0.0.1.0.0.1.", conv);
    load_pointwise(mixer, state_dict, prefix + "0.0.1.0.1.1.");
    load_pointwise(mix, state_dict, prefix + "0.0.1.2.0.0.");
  }
  void forward(Vector<C>& x, Vector<C>& skip, const Vector<1>& audio) {
    conv.forward(x);
    mixer.forward(audio);
    const Vector<C> z = conv.outs + mixer.outs;
    tanh.forward(z);
    mix.forward(tanh.outs);
    x += mix.outs;
    skip += tanh.outs;
  }
};

template <int C, int... Dilations>
struct NamArray {
  std::tuple<NamLayer<C, Dilations>...> layers;
  void load(const nlohmann::json& state_dict, const std::string& prefix) {
    std::size_t k = 0;
    std::apply([&](auto&... layer) { (layer.load(state_dict, prefix + std::to_string(k++) + "."), ...); }, layers);
  }
  void reset() {
    std::apply([](auto&... layer) { (layer.conv.reset(), ...); }, layers);
  }
  void forward(Vector<C>& x, Vector<C>& skip, const Vector<1>& audio) {
    std::apply([&](auto&... layer) { (layer.forward(x, skip, audio), ...); }, layers);
  }
};

struct NamNano {
  Dense<1, 4> input_x, input_skip;
  NamArray<4, 1, 2, 4, 8, 16, 32, 64> first;
  Dense<4, 2> x_down, skip_down;
  NamArray<2, 128, 256, 512, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512> second;
  Dense<2, 1> head;
  Vector<4> x4, skip4;
  Vector<2> x2, skip2;

  explicit NamNano(const nlohmann::json& state_dict) {
    load_pointwise(input_x, state_dict, "0.0.0.");
    load_pointwise(input_skip, state_dict, "0.1.0.");
    first.load(state_dict, "1.");
    load_pointwise(x_down, state_dict, "2.0.1.");
    load_pointwise(skip_down, state_dict, "2.1.1.");
    second.load(state_dict, "3.");
    load_pointwise(head, state_dict, "5.");
    reset();
  }
  void reset() {
    first.reset();
    second.reset();
  }
  float forward(const float* input) {
    const Vector<1> in{input[0]};
    input_x.forward(in);
    input_skip.forward(in);
    x4 = input_x.outs;
    skip4 = input_skip.outs;
    first.forward(x4, skip4, in);
    x_down.forward(x4);
    skip_down.forward(skip4);
    x2 = x_down.outs;
    skip2 = skip_down.outs;
    second.forward(x2, skip2, in);
    head.forward(skip2);
    return head.outs(0);
  }
};
#endif

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
#if RTNEURAL_USE_EIGEN
      {"WaveNet NAM nano", [](const StreamingCase& c) { register_checked(c, std::make_shared<NamNano>(c.state_dict)); }},
#endif
  };
  for (const auto& c : cases)
    if (const auto network = networks.find(c.name); network != networks.end()) network->second(c);
}
