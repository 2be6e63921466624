/// @file Defines staticgrad::load_rtneural: a model from the JSON files RTNeural reads, as
/// its python/model_utils.py writes them from a Keras model:
///
///     {"in_shape": [null, null, 1],
///      "layers": [{"type": "gru", "activation": "tanh", "shape": [null, null, 8],
///                  "weights": [kernel, recurrent kernel, bias]}, ...]}
///
/// Each layer of the file must be the network's next layer, of the same kind and sizes
/// (the last entry of "shape" is the layer's output size), with the same activation:
///
///   file layer                          staticgrad layer
///   dense, time-distributed-dense       Dense<In, Out, Act> (Act: Identity "", Tanh, ReLU,
///                                       Sigmoid, ELU; "softmax": Dense<In, Out>, Softmax<Out>;
///                                       without a bias, use_bias=False: the bias is 0)
///   gru                                 GRU<In, Hidden> (Keras' reset_after form)
///   lstm                                LSTM<In, Hidden>
///   conv1d                              Conv1D<In, Out, Kernel, Dilation, Act, Groups>
///   prelu                               PReLU<N> (one slope shared by all: each gets it)
///   batchnorm                           BatchNorm<N, Eps> with the file's "epsilon" (weights
///                                       γ, β, running mean, running variance; or without γ
///                                       and β, which are then 1 and 0)
///   activation                          Activation<Act, N>, or Softmax<N> for "softmax"
///
/// Keras' weights are converted to staticgrad's (PyTorch's) layout: a dense kernel is
/// [In][Out]; a GRU's kernels hold the gates z, r, h (PyTorch's order is r, z, n) and its bias
/// two rows, input then recurrent; an LSTM's one bias row (PyTorch's b_ih, with b_hh zero);
/// a Conv1D kernel is [Kernel][In / Groups][Out], the first tap the oldest step, as in a
/// causal nn.Conv1d. RTNeural's batchnorm2d and conv2d layers have no staticgrad counterpart
/// yet and are refused by name. Any difference is a std::runtime_error that
/// names the file and the layer; the model changes only when the whole file loads.
///
/// Needs nlohmann/json (Debian: nlohmann-json3-dev); not part of the umbrella header.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cmath>
#include <filesystem>
#include <functional>
#include <sstream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/mp11/algorithm.hpp>
#include <nlohmann/json.hpp>

#include <staticgrad/core/tensors.hpp>
#include <staticgrad/detail/spec_name.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/io/files.hpp>
#include <staticgrad/layers/activation.hpp>
#include <staticgrad/layers/batch_norm.hpp>
#include <staticgrad/layers/conv1d.hpp>
#include <staticgrad/layers/dense.hpp>
#include <staticgrad/layers/frozen.hpp>
#include <staticgrad/layers/gru.hpp>
#include <staticgrad/layers/lstm.hpp>
#include <staticgrad/layers/prelu.hpp>
#include <staticgrad/layers/sequential.hpp>
#include <staticgrad/layers/softmax.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

namespace detail {

/// A layer of the network as RTNeural's files describe one; `kind` is empty for a layer
/// they cannot describe.
struct rtneural_form {
  std::string_view kind;        // "dense", "gru", "lstm", "conv1d", "prelu", "batchnorm", "activation"
  std::string_view activation;  // Keras' name; "" for none
  std::size_t in = 0, out = 0;
  std::size_t kernel = 0, dilation = 0, groups = 0;
  bool known_activation = true;  // false: an activation Keras' files cannot name
  double epsilon = 0;            // a batchnorm's
};

/// Keras' name of activation Act ("" for Identity); known is false when it has none.
template <class Act>
constexpr std::pair<std::string_view, bool> keras_activation() {
  if constexpr (std::is_same_v<Act, Identity>) return {"", true};
  else if constexpr (std::is_same_v<Act, Tanh>) return {"tanh", true};
  else if constexpr (std::is_same_v<Act, ReLU>) return {"relu", true};
  else if constexpr (std::is_same_v<Act, Sigmoid>) return {"sigmoid", true};
  else if constexpr (std::is_same_v<Act, ELU>) return {"elu", true};
  else return {Act::name, false};
}

template <class L>
struct rtneural_form_of {
  static constexpr rtneural_form value{};
};
template <std::size_t In, std::size_t Out, class Act>
struct rtneural_form_of<Dense<In, Out, Act>> {
  static constexpr auto act = keras_activation<typename Dense<In, Out, Act>::activation>();
  static constexpr rtneural_form value{"dense", act.first, In, Out, 0, 0, 0, act.second};
};
template <std::size_t In, std::size_t Hidden>
struct rtneural_form_of<GRU<In, Hidden>> {
  static constexpr rtneural_form value{"gru", "tanh", In, Hidden};
};
template <std::size_t In, std::size_t Hidden>
struct rtneural_form_of<LSTM<In, Hidden>> {
  static constexpr rtneural_form value{"lstm", "tanh", In, Hidden};
};
template <std::size_t InCh, std::size_t OutCh, std::size_t Kernel, std::size_t Dilation, class Act, std::size_t Groups>
struct rtneural_form_of<Conv1D<InCh, OutCh, Kernel, Dilation, Act, Groups>> {
  static constexpr auto act = keras_activation<typename Conv1D<InCh, OutCh, Kernel, Dilation, Act, Groups>::activation>();
  static constexpr rtneural_form value{"conv1d", act.first, InCh, OutCh, Kernel, Dilation, Groups, act.second};
};
template <std::size_t N>
struct rtneural_form_of<PReLU<N>> {
  static constexpr rtneural_form value{"prelu", "", N, N};
};
template <std::size_t N, class Eps, class Momentum>
struct rtneural_form_of<BatchNorm<N, Eps, Momentum>> {
  static constexpr rtneural_form value{"batchnorm", "", N, N, 0, 0, 0, true, BatchNorm<N, Eps, Momentum>::epsilon};
};
template <class Act, std::size_t N>
struct rtneural_form_of<Activation<Act, N>> {
  static constexpr auto act = keras_activation<typename Activation<Act, N>::activation>();
  static constexpr rtneural_form value{"activation", act.first, N, N, 0, 0, 0, act.second && !act.first.empty()};
};
template <std::size_t N>
struct rtneural_form_of<Softmax<N>> {
  static constexpr rtneural_form value{"activation", "softmax", N, N};
};

template <class L>
struct is_chain : std::false_type {};
template <class... Ls>
struct is_chain<Sequential<Ls...>> : std::true_type {};
template <class L>
struct is_chain<Frozen<L>> : std::true_type {};

/// One leaf of the network: its form, where its parameters start, its tensors, its spec.
struct rtneural_leaf {
  rtneural_form form;
  std::size_t offset = 0;
  std::span<const TensorLayout> tensors;
  std::string spec;
  bool in_chain = true;  // false: inside a composite that a file's chain of layers cannot say
};

template <class L>
constexpr std::span<const TensorLayout> tensors_of() {
  if constexpr (requires { L::tensors; }) return L::tensors;
  else return {};
}

template <class Net>
std::vector<rtneural_leaf> rtneural_leaves() {
  std::vector<rtneural_leaf> leaves;
  visit_leaves<Net>([&](auto node) {
    using N = decltype(node);
    using L = typename N::layer;
    bool in_chain = true;
    boost::mp11::mp_for_each<typename N::parents>([&]<class P>(P) { in_chain = in_chain && is_chain<P>::value; });
    leaves.push_back({rtneural_form_of<L>::value, N::param_offset, tensors_of<L>(), spec_name<L>(), in_chain});
  });
  return leaves;
}

/// A JSON array of the given shape, its numbers in row-major order.
inline std::vector<double> rtneural_array(const nlohmann::json& value, const std::vector<std::size_t>& shape,
                                          const std::function<void(const std::string&)>& bad) {
  std::vector<double> numbers;
  const auto read = [&](const auto& self, const nlohmann::json& v, std::size_t depth) -> void {
    if (depth == shape.size()) {
      if (!v.is_number()) bad("holds something other than numbers");
      numbers.push_back(v.get<double>());
      return;
    }
    if (!v.is_array() || v.size() != shape[depth]) {
      std::string given = v.is_array() ? std::to_string(v.size()) : std::string("no array");
      bad("is not " + shape_string(shape) + ": " + given + " at depth " + std::to_string(depth));
    }
    for (const auto& item : v) self(self, item, depth + 1);
  };
  read(read, value, 0);
  return numbers;
}

inline std::size_t rtneural_last_size(const nlohmann::json& shape, const std::function<void(const std::string&)>& bad) {
  if (!shape.is_array() || shape.empty() || !shape.back().is_number_unsigned())
    bad("its shape does not end with a size");
  return shape.back().get<std::size_t>();
}

/// Writes a tensor given in PyTorch's shape, row-major, into `flat` through its layout.
template <class T>
void put_tensor(std::vector<T>& flat, const rtneural_leaf& leaf, std::string_view name,
                const std::vector<double>& values) {
  for (const auto& layout : leaf.tensors) {
    if (layout.name != name) continue;
    for (std::size_t k = 0; k < values.size(); ++k) flat[leaf.offset + layout.index(k)] = static_cast<T>(values[k]);
    return;
  }
  throw std::logic_error("staticgrad::load_rtneural: " + leaf.spec + " has no tensor " + std::string(name));
}

/// rows × cols (row-major) transposed, with the column blocks of `gates` columns each taken
/// in the order `order` (PyTorch's gate g is Keras' block order[g]).
inline std::vector<double> keras_gates_transposed(const std::vector<double>& m, std::size_t rows, std::size_t cols,
                                                  std::size_t gate, std::span<const std::size_t> order) {
  std::vector<double> out(rows * cols);
  for (std::size_t g = 0; g < order.size(); ++g)
    for (std::size_t j = 0; j < gate; ++j)
      for (std::size_t i = 0; i < rows; ++i) out[(g * gate + j) * rows + i] = m[i * cols + order[g] * gate + j];
  return out;
}

inline std::vector<double> keras_gates(const double* v, std::size_t gate, std::span<const std::size_t> order) {
  std::vector<double> out(order.size() * gate);
  for (std::size_t g = 0; g < order.size(); ++g)
    for (std::size_t j = 0; j < gate; ++j) out[g * gate + j] = v[order[g] * gate + j];
  return out;
}

/// The parameters of one file layer, converted into `flat` for `leaf`.
template <class T>
void load_rtneural_weights(std::vector<T>& flat, const rtneural_leaf& leaf, const nlohmann::json& weights,
                           const std::function<void(const std::string&)>& bad) {
  const auto& f = leaf.form;
  const auto count = [&](std::size_t n) {
    if (!weights.is_array() || weights.size() != n)
      bad("has " + (weights.is_array() ? std::to_string(weights.size()) : std::string("no list of")) +
          " weights, not " + std::to_string(n));
  };
  const auto tensor = [&](std::size_t i, const std::vector<std::size_t>& shape) {
    return rtneural_array(weights[i], shape, [&](const std::string& what) { bad("weight " + std::to_string(i) + " " + what); });
  };
  if (f.kind == "dense") {
    const bool has_bias = !(weights.is_array() && weights.size() == 1);  // use_bias=False: bias 0
    count(has_bias ? 2 : 1);
    const auto kernel = tensor(0, {f.in, f.out});  // [In][Out]: PyTorch's weight [Out][In] transposed
    std::vector<double> weight(f.in * f.out);
    for (std::size_t i = 0; i < f.in; ++i)
      for (std::size_t o = 0; o < f.out; ++o) weight[o * f.in + i] = kernel[i * f.out + o];
    put_tensor(flat, leaf, "weight", weight);
    put_tensor(flat, leaf, "bias", has_bias ? tensor(1, {f.out}) : std::vector<double>(f.out, 0.0));
  } else if (f.kind == "gru") {
    count(3);
    const std::size_t h = f.out;
    static constexpr std::array<std::size_t, 3> order{1, 0, 2};  // r, z, n from Keras' z, r, h
    if (weights[2].is_array() && !weights[2].empty() && !weights[2][0].is_array())
      bad("has one bias row: Keras' GRU with reset_after=False, whose equations differ from PyTorch's");
    const auto bias = tensor(2, {2, 3 * h});
    put_tensor(flat, leaf, "weight_ih_l0", keras_gates_transposed(tensor(0, {f.in, 3 * h}), f.in, 3 * h, h, order));
    put_tensor(flat, leaf, "weight_hh_l0", keras_gates_transposed(tensor(1, {h, 3 * h}), h, 3 * h, h, order));
    put_tensor(flat, leaf, "bias_ih_l0", keras_gates(bias.data(), h, order));
    put_tensor(flat, leaf, "bias_hh_l0", keras_gates(bias.data() + 3 * h, h, order));
  } else if (f.kind == "lstm") {
    count(3);
    const std::size_t h = f.out;
    static constexpr std::array<std::size_t, 4> order{0, 1, 2, 3};  // i, f, g (Keras' c), o
    put_tensor(flat, leaf, "weight_ih_l0", keras_gates_transposed(tensor(0, {f.in, 4 * h}), f.in, 4 * h, h, order));
    put_tensor(flat, leaf, "weight_hh_l0", keras_gates_transposed(tensor(1, {h, 4 * h}), h, 4 * h, h, order));
    put_tensor(flat, leaf, "bias_ih_l0", tensor(2, {4 * h}));
    put_tensor(flat, leaf, "bias_hh_l0", std::vector<double>(4 * h, 0.0));
  } else if (f.kind == "conv1d") {
    count(2);
    const std::size_t per_group = f.in / f.groups;
    const auto kernel = tensor(0, {f.kernel, per_group, f.out});  // PyTorch's [Out][In / Groups][Kernel]
    std::vector<double> weight(kernel.size());
    for (std::size_t k = 0; k < f.kernel; ++k)
      for (std::size_t i = 0; i < per_group; ++i)
        for (std::size_t o = 0; o < f.out; ++o)
          weight[(o * per_group + i) * f.kernel + k] = kernel[(k * per_group + i) * f.out + o];
    put_tensor(flat, leaf, "weight", weight);
    put_tensor(flat, leaf, "bias", tensor(1, {f.out}));
  } else if (f.kind == "prelu") {
    count(1);
    const bool shared = weights[0].is_array() && weights[0].size() == 1 && weights[0][0].is_array() &&
                        weights[0][0].size() == 1;
    const auto alpha = tensor(0, {1, shared ? 1 : f.out});
    put_tensor(flat, leaf, "weight", shared ? std::vector<double>(f.out, alpha[0]) : alpha);
  } else if (f.kind == "batchnorm") {
    const bool affine = !(weights.is_array() && weights.size() == 2);
    count(affine ? 4 : 2);
    const std::size_t statistics = affine ? 2 : 0;
    put_tensor(flat, leaf, "weight", affine ? tensor(0, {f.out}) : std::vector<double>(f.out, 1.0));
    put_tensor(flat, leaf, "bias", affine ? tensor(1, {f.out}) : std::vector<double>(f.out, 0.0));
    put_tensor(flat, leaf, "running_mean", tensor(statistics, {f.out}));
    put_tensor(flat, leaf, "running_var", tensor(statistics + 1, {f.out}));
    put_tensor(flat, leaf, "num_batches_tracked", {0.0});
  } else {
    count(0);
  }
}

inline std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

inline std::string describe(const rtneural_form& f) {
  std::string text = std::string(f.kind) + " of " + std::to_string(f.out);
  if (f.kind == "conv1d")
    text += ", kernel " + std::to_string(f.kernel) + ", dilation " + std::to_string(f.dilation) + ", groups " +
            std::to_string(f.groups);
  if (f.kind == "batchnorm") text += ", epsilon " + number_text(f.epsilon);
  return text + ", activation '" + std::string(f.activation) + "'";
}

/// The body of staticgrad::load_rtneural, for any ByteSource (a file, or bytes in memory).
template <class Net, class T, ByteSource Source>
void load_rtneural(Model<Net, T>& model, Source&& source) {
  namespace d = staticgrad::detail;
  const auto& path = source.path();
  const auto bytes = source.read(0, source.size());
  const nlohmann::json file = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (file.is_discarded() || !file.is_object()) d::file_error(path, "not an RTNeural model: not a JSON object");
  const auto in_shape = file.find("in_shape");
  const auto layers = file.find("layers");
  if (in_shape == file.end() || layers == file.end() || !layers->is_array())
    d::file_error(path, "not an RTNeural model: no \"in_shape\" and \"layers\" list");
  const std::size_t in =
      d::rtneural_last_size(*in_shape, [&](const std::string& what) { d::file_error(path, "in_shape: " + what); });
  if (in != Net::in_size)
    d::file_error(path, "the model takes " + std::to_string(in) + " inputs, " + d::spec_name<Net>() + " takes " +
                            std::to_string(Net::in_size));

  const auto leaves = d::rtneural_leaves<Net>();
  std::vector<T> staged(model.flat().begin(), model.flat().end());
  std::size_t next = 0;  // the network's next leaf
  for (std::size_t i = 0; i < layers->size(); ++i) {
    const auto& layer = (*layers)[i];
    std::string type = "?";
    if (layer.is_object() && layer.contains("type") && layer["type"].is_string()) type = layer["type"];
    const auto bad = [&](const std::string& what) {
      d::file_error(path, "layer " + std::to_string(i) + " (" + type + ") " + what);
    };
    if (type == "batchnorm2d" || type == "conv2d")
      bad("has no staticgrad counterpart yet (BatchNorm2D and Conv2D are not in staticgrad)");
    if (type != "dense" && type != "time-distributed-dense" && type != "gru" && type != "lstm" && type != "conv1d" &&
        type != "prelu" && type != "batchnorm" && type != "activation")
      bad("is not a layer kind RTNeural's files hold");
    const auto text = [&](const char* key) -> std::string {
      const auto it = layer.find(key);
      if (it == layer.end()) return "";
      if (!it->is_string()) bad(std::string("has a \"") + key + "\" that is not a string");
      return it->get<std::string>();
    };
    const auto size_of = [&](const char* key) -> std::size_t {
      const auto it = layer.find(key);
      if (it == layer.end()) bad(std::string("has no \"") + key + "\"");
      return d::rtneural_last_size(it->is_array() ? *it : nlohmann::json::array({*it}),
                                   [&](const std::string& what) { bad(std::string(key) + ": " + what); });
    };
    d::rtneural_form given{};
    const std::string kind = type == "time-distributed-dense" ? "dense" : type;
    const std::string activation = text("activation");
    given.kind = kind;
    given.activation = activation;
    given.out = size_of("shape");
    if (kind == "conv1d") {
      given.kernel = size_of("kernel_size");
      given.dilation = size_of("dilation");
      given.groups = layer.contains("groups") ? size_of("groups") : 1;
    }
    if (kind == "batchnorm") {
      const auto epsilon = layer.find("epsilon");
      if (epsilon == layer.end() || !epsilon->is_number() || !(epsilon->get<double>() > 0))
        bad("has no positive \"epsilon\"");
      given.epsilon = epsilon->get<double>();
    }
    // Keras' dense with softmax is the network's Dense<In, Out> followed by Softmax<Out>.
    const bool dense_softmax = kind == "dense" && activation == "softmax";
    if (dense_softmax) given.activation = "";

    if (next == leaves.size()) bad("is one more than the network's " + std::to_string(leaves.size()) + " layers");
    const auto& leaf = leaves[next];
    const auto& want = leaf.form;
    const auto mismatch = [&](const std::string& what) {
      d::file_error(path, "layer " + std::to_string(i) + " (" + d::describe(given) + ") does not match the network's layer " +
                              std::to_string(next) + ", " + leaf.spec + ": " + what);
    };
    if (!leaf.in_chain) mismatch("a file holds a chain of layers, and this one sits in a branch or a residual block");
    if (want.kind.empty()) mismatch("RTNeural's files have no such layer");
    if (!want.known_activation) mismatch("its activation has no name in RTNeural's files");
    if (want.kind != given.kind) mismatch("another kind of layer");
    if (want.out != given.out) mismatch(std::to_string(want.out) + " outputs");
    if (want.activation != given.activation)
      mismatch("activation '" + std::string(want.activation) + "'");
    // A file written from float32 holds ε to float's precision.
    if (std::abs(want.epsilon - given.epsilon) > 1e-6 * want.epsilon)
      mismatch("epsilon " + d::number_text(want.epsilon) + " (BatchNorm's Eps)");
    if (want.kernel != given.kernel || want.dilation != given.dilation || want.groups != given.groups)
      mismatch("kernel " + std::to_string(want.kernel) + ", dilation " + std::to_string(want.dilation) + ", groups " +
               std::to_string(want.groups));
    const auto weights = layer.find("weights");
    d::load_rtneural_weights(staged, leaf, weights == layer.end() ? nlohmann::json::array() : *weights, bad);
    ++next;
    if (dense_softmax) {
      if (next == leaves.size() || leaves[next].form.kind != "activation" || leaves[next].form.activation != "softmax")
        bad("ends in a softmax: the network's next layer must be Softmax<" + std::to_string(given.out) + ">");
      ++next;
    }
  }
  if (next != leaves.size())
    d::file_error(path, "holds " + std::to_string(layers->size()) + " layers; the network's layer " +
                            std::to_string(next) + ", " + leaves[next].spec + ", and any after it are missing");
  std::copy(staged.begin(), staged.end(), model.flat().begin());
}

}  // namespace detail

/// Loads the model's parameters from an RTNeural JSON model file (see the file's comment
/// for the layers and layouts). Throws std::runtime_error naming the file and the layer
/// when the file is not such a file or describes a different network; the model is then
/// untouched.
template <class Net, class T>
void load_rtneural(Model<Net, T>& model, const std::filesystem::path& path) {
  detail::load_rtneural(model, detail::file_source(path));
}

}  // namespace staticgrad
