/// @file What the file formats share: reading a file piece by piece, replacing a file
/// without ever leaving it half-written, little-endian numbers, and errors that name the file.
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace staticgrad::detail {

[[noreturn]] inline void file_error(const std::filesystem::path& path, const std::string& what) {
  throw std::runtime_error("staticgrad: " + path.string() + ": " + what);
}

/// "[4, 3]".
inline std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text += "]";
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

/// What a loader reads from: its size, and any range of its bytes. A loader checks a
/// header against the size before it reads what the header promises, so a huge or endless
/// input is refused without being read.
template <class Source>
concept ByteSource = requires(Source& source, std::size_t offset) {
  { std::as_const(source).size() } -> std::same_as<std::size_t>;
  { source.read(offset, offset) } -> std::same_as<std::span<const unsigned char>>;
  { source.path() } -> std::convertible_to<const std::filesystem::path&>;
};

/// Bytes already in memory (the fuzz targets'); `path` names them in errors.
class memory_source {
 public:
  memory_source(std::span<const unsigned char> bytes, std::filesystem::path path)
      : bytes_(bytes), path_(std::move(path)) {}
  std::size_t size() const { return bytes_.size(); }
  /// Bytes [offset, offset + count), which the caller has checked lie within size().
  std::span<const unsigned char> read(std::size_t offset, std::size_t count) { return bytes_.subspan(offset, count); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::span<const unsigned char> bytes_;
  std::filesystem::path path_;
};

/// A regular file opened for reading. A directory, a device (/dev/zero never ends) or a
/// missing file is refused when it is opened, with the file's name.
class file_source {
 public:
  explicit file_source(std::filesystem::path path) : path_(std::move(path)) {
    std::error_code error;
    const auto status = std::filesystem::status(path_, error);
    if (error || !std::filesystem::exists(status))
      file_error(path_, "cannot open it" + (error ? ": " + error.message() : std::string()));
    if (std::filesystem::is_directory(status)) file_error(path_, "is a directory, not a file");
    if (!std::filesystem::is_regular_file(status)) file_error(path_, "is not a regular file");
    in_.open(path_, std::ios::binary);
    if (!in_ || !in_.seekg(0, std::ios::end)) file_error(path_, "cannot open it");
    size_ = static_cast<std::size_t>(in_.tellg());  // of the file opened, whatever happens to the path
  }
  std::size_t size() const { return size_; }
  /// Bytes [offset, offset + count); valid until the next read.
  std::span<const unsigned char> read(std::size_t offset, std::size_t count) {
    buffer_.resize(count);
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(reinterpret_cast<char*>(buffer_.data()), static_cast<std::streamsize>(count));
    if (!in_) file_error(path_, "reading bytes " + std::to_string(offset) + " to " + std::to_string(offset + count) +
                                    " failed (is it being written?)");
    return buffer_;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  std::size_t size_ = 0;
  std::vector<unsigned char> buffer_;
};

/// The file that `path` names, through any symbolic links: a save replaces that file and
/// leaves the links as they are (as editors do).
inline std::filesystem::path resolve_links(std::filesystem::path path) {
  std::error_code error;
  for (int hops = 0; hops < 40 && std::filesystem::is_symlink(std::filesystem::symlink_status(path, error)); ++hops) {
    const std::filesystem::path link = std::filesystem::read_symlink(path, error);
    if (error) break;
    path = link.is_absolute() ? link : path.parent_path() / link;
  }
  return path;
}

/// A new file beside `target`, opened for writing, that no other save uses: its name ends
/// in a number drawn from a counter and the clock, and it is created exclusively ("x"), so
/// two saves to one path, in threads or processes, never write the same temporary file.
inline std::FILE* create_temporary(const std::filesystem::path& target, std::filesystem::path& temporary) {
  static std::atomic<std::uint64_t> saves{0};
  const int on_this_stack = 0;  // its address differs between threads and, with ASLR, processes
  int reason = 0;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const std::uint64_t tag =
        saves.fetch_add(1) * 0x9E3779B97F4A7C15ull ^ reinterpret_cast<std::uintptr_t>(&on_this_stack) ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    char suffix[24];
    std::snprintf(suffix, sizeof suffix, ".tmp-%016llx", static_cast<unsigned long long>(tag));
    temporary = target;
    temporary += suffix;
    if (std::FILE* file = std::fopen(temporary.string().c_str(), "wbx")) return file;
    reason = errno;
    if (reason != EEXIST) break;
  }
  file_error(target, "cannot write the temporary file " + temporary.string() + ": " +
                         std::generic_category().message(reason));
}

/// Writes `bytes` to a new temporary file beside `path`, then renames it over `path`: a
/// reader sees the old file or the new one, whole, and a failed write leaves the old one
/// intact. Through a symbolic link, the file it points to is replaced.
inline void write_file_atomically(const std::filesystem::path& path, std::span<const unsigned char> bytes) {
  const std::filesystem::path target = resolve_links(path);
  std::filesystem::path temporary;
  std::FILE* file = create_temporary(target, temporary);
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  const bool closed = std::fclose(file) == 0;
  std::error_code error;
  if (!written || !closed) {
    std::filesystem::remove(temporary, error);
    file_error(path, "writing " + temporary.string() + " failed");
  }
  std::filesystem::rename(temporary, target, error);
  if (error) {
    const std::string reason = error.message();
    std::filesystem::remove(temporary, error);
    file_error(path, "cannot replace it: " + reason);
  }
}

}  // namespace staticgrad::detail
