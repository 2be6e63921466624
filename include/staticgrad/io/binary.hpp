/// @file Defines staticgrad::save and staticgrad::load: a model's parameters in a checked
/// binary file.
///
/// Layout, every number little-endian:
///   "SGRD"                     magic
///   u32 format version         1
///   u32 scalar size            4 (float) or 8 (double)
///   u64 parameter count
///   u64 fingerprint            FNV-1a of the spec string
///   u32 spec length, spec      the network's canonical spelling,
///                              e.g. "Sequential<Dense<3,4,ReLU>,Dense<4,2,Identity>>"
///   parameters                 in the flat order, IEEE 754
///   u64 checksum               FNV-1a of every byte before it
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <staticgrad/detail/spec_name.hpp>
#include <staticgrad/io/files.hpp>
#include <staticgrad/model.hpp>

namespace staticgrad {

namespace detail {

inline constexpr std::string_view file_magic = "SGRD";
inline constexpr std::uint32_t file_version = 1;

// FNV-1a of the bytes, the checksum that closes a file.
inline std::uint64_t checksum(const unsigned char* bytes, std::size_t size) {
  return fnv1a(std::string_view(reinterpret_cast<const char*>(bytes), size));
}

}  // namespace detail

/// Writes the model's parameters to `path`: first to a temporary file beside it, then
/// renamed over `path`, so that a failed save leaves any previous file intact. Throws
/// std::runtime_error naming the file when it cannot be written.
template <class Net, class T>
void save(const Model<Net, T>& model, const std::filesystem::path& path) {
  const std::string spec = detail::spec_name<Net>();
  std::vector<unsigned char> bytes(detail::file_magic.begin(), detail::file_magic.end());
  detail::put<std::uint32_t>(bytes, detail::file_version);
  detail::put<std::uint32_t>(bytes, sizeof(T));
  detail::put<std::uint64_t>(bytes, param_count<Net>);
  detail::put<std::uint64_t>(bytes, structure_fingerprint<Net>);
  detail::put<std::uint32_t>(bytes, static_cast<std::uint32_t>(spec.size()));
  bytes.insert(bytes.end(), spec.begin(), spec.end());
  for (T value : model.flat()) detail::put(bytes, std::bit_cast<detail::scalar_bits<T>>(value));
  detail::put<std::uint64_t>(bytes, detail::checksum(bytes.data(), bytes.size()));

  detail::write_file_atomically(path, bytes);
}

namespace detail {

/// The body of staticgrad::load, for any ByteSource (a file, or bytes in memory). Reads the
/// header first and the rest only when the file's size is what the header announces and
/// what this network needs: a file of another network is named from its header alone.
template <class Net, class T, ByteSource Source>
void load_binary(Model<Net, T>& model, Source&& source) {
  const auto& path = source.path();
  const std::size_t size = source.size();
  constexpr std::size_t header = 4 + 4 + 4 + 8 + 8 + 4;
  if (size < header) file_error(path, "not a staticgrad parameter file (no SGRD header)");
  const auto head = source.read(0, header);
  if (std::memcmp(head.data(), file_magic.data(), 4) != 0)
    file_error(path, "not a staticgrad parameter file (no SGRD header)");
  const auto version = take<std::uint32_t>(&head[4]);
  if (version != file_version)
    file_error(path, "format version " + std::to_string(version) + ", this library reads " +
                     std::to_string(file_version));
  const auto scalar = take<std::uint32_t>(&head[8]);
  const auto count = take<std::uint64_t>(&head[12]);
  const auto spec_size = take<std::uint32_t>(&head[28]);
  if (count > size || spec_size > size || (scalar != 4 && scalar != 8))
    file_error(path, "corrupted header: " + std::to_string(count) + " parameters of " +
                     std::to_string(scalar) + " bytes in a file of " + std::to_string(size));
  const std::size_t expected = header + spec_size + count * scalar + 8;
  if (size != expected)
    file_error(path, (size < expected ? "truncated: " : "too long: ") + std::to_string(size) +
                     " bytes where its header announces " + std::to_string(expected));

  const std::string wanted = spec_name<Net>();
  const auto differs = [&](std::string_view spec) {
    if (spec != wanted || count != param_count<Net>)
      file_error(path, "holds " + std::string(spec) + " (" + std::to_string(count) +
                       " parameters), but the model is " + wanted + " (" +
                       std::to_string(param_count<Net>) + " parameters)");
    if (scalar != sizeof(T))
      file_error(path, "holds " + std::string(scalar == 4 ? "float" : "double") +
                       " parameters, but the model's are " +
                       std::string(sizeof(T) == 4 ? "float" : "double"));
  };
  if (size != header + wanted.size() + param_count<Net> * sizeof(T) + 8) {  // not ours: say whose
    const std::size_t shown = std::max<std::size_t>(4096, wanted.size());  // of its spec, which may be anything
    const auto spec = source.read(header, std::min<std::size_t>(spec_size, shown));
    differs(std::string(reinterpret_cast<const char*>(spec.data()), spec.size()) + (spec_size > shown ? "..." : ""));
  }
  const auto bytes = source.read(0, size);
  const std::uint64_t stored_checksum = take<std::uint64_t>(&bytes[size - 8]);
  if (stored_checksum != checksum(bytes.data(), size - 8))
    file_error(path, "corrupted: the checksum does not match its contents");
  differs(std::string_view(reinterpret_cast<const char*>(&bytes[header]), spec_size));
  const unsigned char* values = &bytes[header + spec_size];
  for (std::size_t i = 0; i < param_count<Net>; ++i)
    model.flat()[i] = std::bit_cast<T>(take<scalar_bits<T>>(values + i * sizeof(T)));
}

}  // namespace detail

/// Reads parameters saved by staticgrad::save into `model`. Throws std::runtime_error
/// naming the file and what differs (another network, another scalar type, a truncated or
/// corrupted file, a directory or a device); the model is untouched unless the whole file
/// checked out. Reads no more than the header before it knows the file is this network's.
template <class Net, class T>
void load(Model<Net, T>& model, const std::filesystem::path& path) {
  detail::load_binary(model, detail::file_source(path));
}

}  // namespace staticgrad
