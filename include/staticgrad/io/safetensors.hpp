/// @file Defines staticgrad::load_safetensors and staticgrad::save_safetensors: PyTorch
/// weights in and out, through the safetensors format (https://huggingface.co/docs/safetensors):
///   u64 header size N (little-endian), N bytes of JSON
///   {"<name>": {"dtype": "F32", "shape": [4, 3], "data_offsets": [begin, end]}, ...,
///    "__metadata__": {...}}, then the tensors' bytes (offsets count from there).
///
/// Tensor names follow PyTorch's nn.Sequential numbering by default, the way the same
/// network is written in PyTorch. Each layer declares its tensors (`tensors`, in its own
/// header: core/tensors.hpp) and how many nn.Sequential indices it takes (a Dense with an
/// activation is nn.Linear and the activation's module: two); each composite declares the
/// prefix of its children (`torch_prefix<I>()`): a nested Sequential or a Residual is one
/// module whose members are numbered inside it (in PyTorch: a subclass of nn.Sequential), a
/// Concat or Sum is one module holding its branches as an nn.ModuleList of nn.Sequential
/// (branch j's layers are "j.0", "j.1", …), a Frozen layer is named as the layer. So
/// Sequential<Dense<3,4,ReLU>, Dense<4,2>> has "0.weight", "0.bias", "2.weight", "2.bias".
/// Dense weights are [Out, In] in the file (nn.Linear's layout) and transposed on the way.
///
/// Needs nlohmann/json (Debian: nlohmann-json3-dev); not part of the umbrella header.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <type_traits>
#include <vector>

#include <boost/mp11/algorithm.hpp>
#include <nlohmann/json.hpp>

#include <staticgrad/core/tensors.hpp>
#include <staticgrad/detail/spec_name.hpp>
#include <staticgrad/detail/traversal.hpp>
#include <staticgrad/io/files.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

namespace detail {

/// One parameter tensor as PyTorch sees it, and where it lives in the flat array.
struct torch_tensor {
  std::string name;
  std::string layer;     // the layer's spec, for error messages
  TensorLayout layout;   // as the layer declares it
  std::size_t offset = 0;  // of the layer's parameters in the flat array

  std::vector<std::size_t> shape() const {
    return {layout.shape.begin(), layout.shape.begin() + static_cast<std::ptrdiff_t>(layout.rank)};
  }
  std::size_t size() const { return layout.size(); }
  /// Where the file's k-th value (row-major in PyTorch's shape) lives in the flat array.
  std::size_t flat_index(std::size_t k) const { return offset + layout.index(k); }
};

template <class L>
struct check_layer_tensors {
  static_assert(L::param_count == 0 || requires { L::tensors; },
                "staticgrad: a layer with parameters has no tensors to name them in a safetensors file; "
                "give it `static constexpr std::array tensors{staticgrad::vector_tensor(\"weight\", N, 0), ...}`, "
                "covering each parameter once (see check_layer_tensors<layer>)");
};
template <class L, std::size_t Declared>
struct check_layer_tensor_sizes {
  static_assert(Declared == L::param_count,
                "staticgrad: a layer's tensors do not hold as many values as it has parameters "
                "(see check_layer_tensor_sizes<layer, values in its tensors>)");
};

template <class L>
constexpr std::size_t tensor_values() {
  std::size_t count = 0;
  if constexpr (requires { L::tensors; })
    for (const auto& tensor : L::tensors) count += tensor.size();
  return count;
}

// The tensor names' prefix of a layer at `Steps` inside `Parents`: each parent's prefix
// for its child, joined ("2.0." for the first layer of a Residual at index 2).
template <class Parents, class Steps>
std::string torch_prefix() {
  std::string prefix;
  boost::mp11::mp_for_each<boost::mp11::mp_iota<boost::mp11::mp_size<Steps>>>([&](auto level) {
    using parent = boost::mp11::mp_at_c<Parents, decltype(level)::value>;
    prefix += parent::template torch_prefix<boost::mp11::mp_at_c<Steps, decltype(level)::value>::value>();
  });
  return prefix;
}

/// Every parameter tensor of Net, in the flat order, named as PyTorch names the same
/// network's: each layer's tensors (its `tensors`), under the prefix its composites give it
/// (their `torch_prefix`: nn.Sequential indices, branches as an nn.ModuleList).
template <class Net>
std::vector<torch_tensor> torch_tensors() {
  std::vector<torch_tensor> tensors;
  visit_leaves<Net>([&](auto node) {
    using N = decltype(node);
    using L = typename N::layer;
    static_assert(sizeof(check_layer_tensors<L>) > 0);
    if constexpr (L::param_count > 0 && requires { L::tensors; }) {
      static_assert(sizeof(check_layer_tensor_sizes<L, tensor_values<L>()>) > 0);
      const std::string prefix = torch_prefix<typename N::parents, typename N::steps>();
      for (const auto& layout : L::tensors)
        tensors.push_back({prefix + std::string(layout.name), spec_name<L>(), layout, N::param_offset});
    }
  });
  return tensors;
}

/// The model's tensors, renamed when the caller gave names. Throws std::invalid_argument
/// for a list of the wrong length or with a name twice (a file cannot hold two tensors of
/// one name: the second would be lost).
template <class Net>
std::vector<torch_tensor> named_tensors(std::span<const std::string> names) {
  auto tensors = torch_tensors<Net>();
  if (names.empty()) return tensors;
  if (names.size() != tensors.size())
    throw std::invalid_argument("staticgrad: " + std::to_string(names.size()) + " tensor names for " +
                                spec_name<Net>() + ", which has " + std::to_string(tensors.size()) +
                                " parameter tensors");
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "__metadata__" || std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i),
                                                names[i]) != names.begin() + static_cast<std::ptrdiff_t>(i))
      throw std::invalid_argument("staticgrad: the tensor name '" + names[i] + "' is given " +
                                  (names[i] == "__metadata__" ? "(it names the file's metadata)" : "twice"));
    tensors[i].name = names[i];
  }
  return tensors;
}

/// A tensor's entry in a safetensors header, checked against the bytes that follow it.
struct safetensors_entry {
  std::string dtype;
  std::vector<std::size_t> shape;
  std::size_t begin = 0, end = 0;
};

inline safetensors_entry read_entry(const std::filesystem::path& path, const std::string& name,
                                    const nlohmann::json& entry, std::size_t data_size) {
  const auto bad = [&](const std::string& what) { file_error(path, "tensor '" + name + "': " + what); };
  if (!entry.is_object()) bad("its header entry is not an object");
  const auto dtype = entry.find("dtype");
  const auto shape = entry.find("shape");
  const auto offsets = entry.find("data_offsets");
  if (dtype == entry.end() || !dtype->is_string()) bad("no dtype string");
  if (shape == entry.end() || !shape->is_array()) bad("no shape list");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
    bad("no data_offsets [begin, end]");
  safetensors_entry result;
  result.dtype = dtype->get<std::string>();
  for (const auto& extent : *shape) {
    if (!extent.is_number_unsigned()) bad("its shape holds something other than sizes");
    result.shape.push_back(extent.get<std::size_t>());
  }
  result.begin = (*offsets)[0].get<std::size_t>();
  result.end = (*offsets)[1].get<std::size_t>();
  if (result.begin > result.end || result.end > data_size)
    bad("data_offsets [" + std::to_string(result.begin) + ", " + std::to_string(result.end) +
        "] lie outside the " + std::to_string(data_size) + " bytes of data");
  return result;
}

/// The bytes of one value of a dtype staticgrad reads (I64: PyTorch's integer buffers,
/// BatchNorm's num_batches_tracked), or 0 for any other.
inline std::size_t element_size(const std::string& dtype) {
  return dtype == "F32" ? 4 : dtype == "F64" || dtype == "I64" ? 8 : 0;
}

template <class T>
void read_values(std::span<T> flat, const torch_tensor& tensor, const unsigned char* data, const std::string& dtype) {
  // The dtype is looked at once per tensor, not per value.
  const auto read = [&]<class Stored>(Stored) {
    using Bits = std::conditional_t<sizeof(Stored) == 4, std::uint32_t, std::uint64_t>;
    for (std::size_t k = 0; k < tensor.size(); ++k)
      flat[tensor.flat_index(k)] = static_cast<T>(std::bit_cast<Stored>(take<Bits>(data + k * sizeof(Stored))));
  };
  if (dtype == "F32") read(float{});
  else if (dtype == "I64") read(std::int64_t{});
  else read(double{});
}

/// The format's limit on the header (the reference implementation's MAX_HEADER_SIZE).
inline constexpr std::uint64_t safetensors_header_limit = 100'000'000;

/// The header's JSON; a key twice in one object is refused (JSON leaves it open; a parser
/// keeps one of them, so a file with a name twice could load a tensor it did not mean).
inline nlohmann::json parse_safetensors_header(const std::filesystem::path& path, std::span<const unsigned char> text) {
  std::vector<std::vector<std::string>> open_objects;  // the keys seen in each
  std::string repeated;
  const auto check_keys = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using event_t = nlohmann::json::parse_event_t;
    if (event == event_t::object_start) open_objects.emplace_back();
    if (event == event_t::object_end) open_objects.pop_back();
    if (event == event_t::key && repeated.empty()) {
      auto& keys = open_objects.back();
      const auto& key = parsed.get_ref<const std::string&>();
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) repeated = key;
      keys.push_back(key);
    }
    return true;
  };
  nlohmann::json header = nlohmann::json::parse(text.begin(), text.end(), check_keys, false);
  if (header.is_discarded() || !header.is_object())
    file_error(path, "not a safetensors file: its header is not a JSON object");
  if (!repeated.empty()) file_error(path, "its header names '" + repeated + "' twice");
  return header;
}

/// The tensors' data must tile the data section, as the format requires: sorted by
/// offset, each begins where the one before ends, from 0 to the section's end. Overlapping
/// tensors would load one tensor's bytes into another, and bytes of no tensor say that the
/// header and the data disagree.
inline void check_tiling(const std::filesystem::path& path,
                         std::vector<std::pair<safetensors_entry, std::string>> entries, std::size_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.begin, a.first.end) < std::pair(b.first.begin, b.first.end);
  });
  const auto range = [](const safetensors_entry& e) { return shape_string({e.begin, e.end}); };
  std::size_t covered = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& [entry, name] = entries[i];
    if (entry.begin < covered)
      file_error(path, "tensor '" + name + "' (data_offsets " + range(entry) + ") overlaps tensor '" +
                           entries[i - 1].second + "' (" + range(entries[i - 1].first) + ")");
    if (entry.begin > covered)
      file_error(path, "bytes " + shape_string({covered, entry.begin}) + " of the data belong to no tensor");
    covered = entry.end;
  }
  if (covered != data_size)
    file_error(path, "the data section holds " + std::to_string(data_size) + " bytes, but its tensors end at " +
                         std::to_string(covered));
}

/// The body of staticgrad::load_safetensors, for any ByteSource (a file, or bytes in
/// memory) and the model's tensors (torch_tensors or named_tensors). The header is read and
/// checked whole before the data, and the data is read only when it is exactly the tensors'.
template <class Net, class T, ByteSource Source>
void load_safetensors(Model<Net, T>& model, Source&& source, const std::vector<torch_tensor>& tensors) {
  const auto& path = source.path();
  const std::size_t size = source.size();
  if (size < 8) file_error(path, "not a safetensors file: " + std::to_string(size) + " bytes");
  const std::uint64_t header_size = take<std::uint64_t>(source.read(0, 8).data());
  if (header_size > size - 8)
    file_error(path, "truncated: a header of " + std::to_string(header_size) + " bytes in a file of " +
                         std::to_string(size));
  if (header_size > safetensors_header_limit)
    file_error(path, "a header of " + std::to_string(header_size) + " bytes, more than the format's limit of " +
                         std::to_string(safetensors_header_limit));
  const nlohmann::json header = parse_safetensors_header(path, source.read(8, header_size));
  const std::size_t data_size = size - 8 - header_size;

  std::vector<std::pair<safetensors_entry, std::string>> entries;  // in the model's order
  for (const auto& tensor : tensors) {
    const auto found = header.find(tensor.name);
    if (found == header.end())
      file_error(path, "no tensor '" + tensor.name + "' (shape " + shape_string(tensor.shape()) + ", for " +
                           tensor.layer + ")");
    auto entry = read_entry(path, tensor.name, *found, data_size);
    const std::size_t bytes = element_size(entry.dtype);
    if (bytes == 0)
      file_error(path, "tensor '" + tensor.name + "' has dtype " + entry.dtype +
                           "; staticgrad reads F32, F64 and I64");
    if (entry.shape != tensor.shape())
      file_error(path, "tensor '" + tensor.name + "' has shape " + shape_string(entry.shape) + ", but " +
                           tensor.layer + " needs " + shape_string(tensor.shape()));
    if (entry.end - entry.begin != tensor.size() * bytes)
      file_error(path, "tensor '" + tensor.name + "' has " + std::to_string(entry.end - entry.begin) +
                           " bytes of data for " + std::to_string(tensor.size()) + " " + entry.dtype + " values");
    entries.emplace_back(std::move(entry), tensor.name);
  }
  std::string unexpected;
  for (const auto& item : header.items()) {
    if (item.key() == "__metadata__") continue;
    bool known = false;
    for (const auto& tensor : tensors) known = known || tensor.name == item.key();
    if (!known) unexpected += (unexpected.empty() ? "'" : ", '") + item.key() + "'";
  }
  if (!unexpected.empty())
    file_error(path, "holds tensors that " + spec_name<Net>() + " does not have: " + unexpected);
  check_tiling(path, entries, data_size);

  const unsigned char* data = source.read(8 + header_size, data_size).data();
  std::vector<T> values(model.flat().begin(), model.flat().end());  // the model changes last
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& entry = entries[i].first;
    read_values(std::span<T>(values), tensors[i], data + entry.begin, entry.dtype);
  }
  std::copy(values.begin(), values.end(), model.flat().begin());
}

}  // namespace detail

/// The names load_safetensors and save_safetensors use for Net's parameter tensors by
/// default, in the flat order (nn.Sequential numbering; see the file comment).
template <class Net>
std::vector<std::string> tensor_names() {
  std::vector<std::string> names;
  for (const auto& tensor : detail::torch_tensors<Net>()) names.push_back(tensor.name);
  return names;
}

/// The names PyTorch gives the tensors of one nn.GRU or nn.LSTM with num_layers = `layers`,
/// held as `module` ("rnn": rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0,
/// rnn.bias_hh_l0, rnn.weight_ih_l1, …). Such a module is `layers` GRU (or LSTM) layers one
/// after the other in a staticgrad network, whose tensors these name in the flat order: put
/// them in the list that load_safetensors and save_safetensors take, with the names of the
/// network's other tensors.
inline std::vector<std::string> recurrent_stack_names(const std::string& module, std::size_t layers) {
  std::vector<std::string> names;
  for (std::size_t layer = 0; layer < layers; ++layer)
    for (const char* tensor : {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"})
      names.push_back(module + "." + tensor + std::to_string(layer));
  return names;
}

/// Reads a PyTorch state_dict saved as safetensors into `model`. Every tensor the model
/// needs must be there with dtype F32 or F64 (converted to T) and PyTorch's shape, and the
/// file must hold no other tensors (like load_state_dict(strict=True)). Otherwise throws
/// std::runtime_error naming the file, the tensor and the sizes, and leaves the model
/// untouched.
/// @param names the tensors' names in the flat order (one per weight, bias or gain);
///              empty: tensor_names<Net>()
template <class Net, class T>
void load_safetensors(Model<Net, T>& model, const std::filesystem::path& path,
                      std::span<const std::string> names = {}) {
  const auto tensors = detail::named_tensors<Net>(names);  // the caller's mistakes before the file's
  detail::load_safetensors(model, detail::file_source(path), tensors);
}

/// Writes the model's parameters as safetensors (dtype F32 or F64 after T), in PyTorch's
/// layout, ready for torch's load_state_dict. Like staticgrad::save, it writes a temporary
/// file and renames it, so a failed save leaves any previous file intact.
/// @param names as for load_safetensors
template <class Net, class T>
void save_safetensors(const Model<Net, T>& model, const std::filesystem::path& path,
                      std::span<const std::string> names = {}) {
  const auto tensors = detail::named_tensors<Net>(names);
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}, {"staticgrad", detail::spec_name<Net>()}};
  std::vector<unsigned char> data;
  for (const auto& tensor : tensors) {
    const std::size_t begin = data.size();
    for (std::size_t k = 0; k < tensor.size(); ++k)
      detail::put(data, std::bit_cast<detail::scalar_bits<T>>(model.flat()[tensor.flat_index(k)]));
    header[tensor.name] = {{"dtype", sizeof(T) == 4 ? "F32" : "F64"},
                           {"shape", tensor.shape()},
                           {"data_offsets", {begin, data.size()}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::vector<unsigned char> bytes;
  detail::put<std::uint64_t>(bytes, text.size());
  bytes.insert(bytes.end(), text.begin(), text.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  detail::write_file_atomically(path, bytes);
}

}  // namespace staticgrad
