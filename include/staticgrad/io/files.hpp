/// @file What the file formats share: reading a whole file, replacing a file without ever
/// leaving it half-written, little-endian numbers, and errors that name the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace staticgrad::detail {

[[noreturn]] inline void file_error(const std::filesystem::path& path, const std::string& what) {
  throw std::runtime_error("staticgrad: " + path.string() + ": " + what);
}

template <class U>
void put(std::vector<unsigned char>& out, U value) {  // little-endian on every host
  for (std::size_t i = 0; i < sizeof(U); ++i) out.push_back(static_cast<unsigned char>(value >> (8 * i)));
}

template <class U>
U take(const unsigned char* bytes) {
  U value = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) value |= static_cast<U>(static_cast<U>(bytes[i]) << (8 * i));
  return value;
}

/// The unsigned integer as wide as floating-point type T, for std::bit_cast.
template <class T>
using scalar_bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

inline std::vector<unsigned char> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) file_error(path, "cannot open it");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a failed
/// write leaves any previous file intact.
inline void write_file_atomically(const std::filesystem::path& path, std::span<const unsigned char> bytes) {
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  const auto remove_temporary = [&] {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
  };
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) file_error(path, "cannot write the temporary file " + temporary.string());
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      remove_temporary();
      file_error(path, "writing " + temporary.string() + " failed");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    remove_temporary();
    file_error(path, "cannot replace it: " + error.message());
  }
}

}  // namespace staticgrad::detail
