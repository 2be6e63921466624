// Files for the save/load tests: a scratch folder, raw bytes, and the check that a bad file
// is refused with a message naming the file and the problem, the model left untouched.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "support/testing.hpp"

namespace sgtest {

/// A fresh folder per test case, removed afterwards.
struct Folder {
  std::filesystem::path path;
  explicit Folder(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("staticgrad_test_" + name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~Folder() { std::filesystem::remove_all(path); }
};

inline std::vector<char> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A loader's ByteSource that counts the bytes read from it.
template <class Source>
struct counting_source {
  Source source;
  std::size_t bytes_read = 0;
  std::size_t size() const { return source.size(); }
  std::span<const unsigned char> read(std::size_t offset, std::size_t count) {
    bytes_read += count;
    return source.read(offset, count);
  }
  const std::filesystem::path& path() const { return source.path(); }
};

/// load(model, file) must throw std::runtime_error naming the file and containing each of
/// `fragments`, and leave the model as it was.
template <class Model, class Load>
void check_refused(Model& model, const std::filesystem::path& file, Load load,
                   const std::vector<std::string>& fragments) {
  const auto before = fingerprint(model);
  try {
    load(model, file);
    FAIL("loading " << file << " did not throw");
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(message.find(file.string()) != std::string::npos);
    for (const auto& fragment : fragments) CHECK(message.find(fragment) != std::string::npos);
  }
  CHECK(fingerprint(model) == before);
}

/// save(seed, path) writes a model made from `seed`. When a save cannot create its
/// temporary file, it must throw and leave the previous file as it was. The temporary
/// file's name is the target's plus a suffix: a target whose name is at the file system's
/// limit (255 bytes) leaves no room for it.
template <class Save>
void check_failed_save_keeps_old_file(const std::filesystem::path& folder, Save save) {
  const auto target = folder / std::string(255, 'm');
  save(1, folder / "first");
  std::filesystem::copy_file(folder / "first", target);
  const auto before = read_bytes(target);
  CHECK_THROWS_WITH_AS(save(2, target), doctest::Contains("cannot write the temporary file"), std::runtime_error);
  CHECK(read_bytes(target) == before);
  CHECK(std::distance(std::filesystem::directory_iterator(folder), std::filesystem::directory_iterator()) == 2);
}

/// Two threads save two models to one path, over and over, while a third loads it: every
/// save succeeds, every load sees one whole model or the other, and no temporary file is
/// left behind. save(seed, path) and load(path) (returning the parameters' fingerprint)
/// are the format's.
template <class Save, class Load>
void check_concurrent_saves(const std::filesystem::path& folder, Save save, Load load) {
  const auto target = folder / "shared";
  save(1, target);
  const auto first = load(target);
  save(2, target);
  const auto second = load(target);
  std::atomic<int> failures{0}, mixed{0};
  const auto saver = [&](int seed) {
    for (int i = 0; i < 100; ++i) {
      try {
        save(seed, target);
      } catch (const std::exception&) {
        ++failures;
      }
    }
  };
  std::thread a(saver, 1), b(saver, 2);
  for (int i = 0; i < 100; ++i) {
    try {
      const auto seen = load(target);
      if (seen != first && seen != second) ++mixed;
    } catch (const std::exception&) {
      ++failures;
    }
  }
  a.join();
  b.join();
  CHECK(failures == 0);
  CHECK(mixed == 0);
  CHECK(std::distance(std::filesystem::directory_iterator(folder), std::filesystem::directory_iterator()) == 1);
}

}  // namespace sgtest
