// Files for the save/load tests: a scratch folder, raw bytes, and the check that a bad file
// is refused with a message naming the file and the problem, the model left untouched.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
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

/// save(seed, path) writes a model made from `seed`. When a save to `target` cannot write
/// its temporary file, it must throw and leave the previous file as it was.
template <class Save>
void check_failed_save_keeps_old_file(const std::filesystem::path& target, Save save) {
  save(1, target);
  const auto before = read_bytes(target);
  std::filesystem::path temporary = target;
  temporary += ".tmp";
  std::filesystem::create_directory(temporary);  // the temporary file cannot be written
  CHECK_THROWS_WITH_AS(save(2, target), doctest::Contains("cannot write the temporary file"), std::runtime_error);
  CHECK(read_bytes(target) == before);
  std::filesystem::remove(temporary);
}

}  // namespace sgtest
