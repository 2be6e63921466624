// save and load: a round trip is exact; every bad file is refused with a message that names
// the file and what differs, and leaves the model untouched; a failed save keeps the old file.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "support/files.hpp"

namespace sg = staticgrad;
namespace fs = std::filesystem;

namespace {

using Net = sg::Sequential<sg::LayerNorm<3>, sg::Dense<3, 4, sg::ReLU>, sg::Residual<sg::Dense<4, 4, sg::Tanh>>,
                           sg::Dense<4, 2>>;

// sg::load as a callable, for sgtest::check_refused.
template <class Model>
void check_refused(Model& model, const fs::path& file, const std::string& fragment) {
  sgtest::check_refused(model, file, [](auto& m, const fs::path& f) { sg::load(m, f); }, {fragment});
}

}  // namespace

TEST_CASE("io: save then load gives the same bits, float and double") {
  sgtest::Folder folder("round_trip");
  const sg::Model<Net, float> saved{42};
  sg::save(saved, folder.path / "model.bin");
  sg::Model<Net, float> loaded{};
  sg::load(loaded, folder.path / "model.bin");
  CHECK(sgtest::fingerprint(loaded) == sgtest::fingerprint(saved));
  CHECK_FALSE(fs::exists(folder.path / "model.bin.tmp"));

  const sg::Model<Net, double> saved_double{7};
  sg::save(saved_double, folder.path / "double.bin");
  sg::Model<Net, double> loaded_double{};
  sg::load(loaded_double, folder.path / "double.bin");
  CHECK(sgtest::fingerprint(loaded_double) == sgtest::fingerprint(saved_double));
}

TEST_CASE("io: a bad file is refused, says why, and loses nothing") {
  sgtest::Folder folder("bad_files");
  const fs::path good = folder.path / "model.bin";
  sg::save(sg::Model<Net, float>{42}, good);
  sg::Model<Net, float> model{1};
  const auto bytes = sgtest::read_bytes(good);

  SUBCASE("another network") {
    sg::Model<sg::Sequential<sg::Dense<3, 2>>, float> other{1};
    check_refused(other, good,
                  "holds Sequential<LayerNorm<3>,Dense<3,4,ReLU>,Residual<Dense<4,4,Tanh>>,Dense<4,2,Identity>> "
                  "(52 parameters), but the model is Sequential<Dense<3,2,Identity>> (8 parameters)");
  }
  SUBCASE("another scalar type") {
    sg::Model<Net, double> wrong{1};
    check_refused(wrong, good, "holds float parameters, but the model's are double");
  }
  SUBCASE("truncated") {
    sgtest::write_bytes(folder.path / "cut.bin", {bytes.begin(), bytes.end() - 10});
    check_refused(model, folder.path / "cut.bin", "truncated");
  }
  SUBCASE("one corrupted byte among the parameters") {
    auto changed = bytes;
    changed[changed.size() - 20] ^= 0x40;
    sgtest::write_bytes(folder.path / "flipped.bin", changed);
    check_refused(model, folder.path / "flipped.bin", "corrupted: the checksum does not match");
  }
  SUBCASE("not a parameter file") {
    sgtest::write_bytes(folder.path / "text.bin", {'h', 'e', 'l', 'l', 'o'});
    check_refused(model, folder.path / "text.bin", "not a staticgrad parameter file");
  }
  SUBCASE("missing") { check_refused(model, folder.path / "missing.bin", "cannot open it"); }
  SUBCASE("a directory") { check_refused(model, folder.path, "is a directory, not a file"); }
  SUBCASE("a device that never ends") { check_refused(model, "/dev/zero", "is not a regular file"); }
}

TEST_CASE("io: a file of another network is named from its header, without reading the rest") {
  sgtest::Folder folder("huge_file");
  const fs::path file = folder.path / "huge.bin";
  sg::save(sg::Model<sg::Sequential<sg::Dense<3, 2>>, float>{1}, file);
  // Its header made to announce 2^26 parameters, and the file as long as that (sparse).
  auto bytes = sgtest::read_bytes(file);
  constexpr std::uint64_t count = std::uint64_t{1} << 26;
  for (std::size_t i = 0; i < 8; ++i) bytes[12 + i] = static_cast<char>((count >> (8 * i)) & 0xff);
  sgtest::write_bytes(file, bytes);
  const std::string spec = "Sequential<Dense<3,2,Identity>>";
  fs::resize_file(file, 32 + spec.size() + count * 4 + 8);

  sg::Model<Net, float> model{1};
  sgtest::counting_source<sg::detail::file_source> counted{sg::detail::file_source(file)};
  const std::string expected = "holds " + spec + " (67108864 parameters), but the model is";
  CHECK_THROWS_WITH_AS(sg::detail::load_binary(model, counted), doctest::Contains(expected.c_str()),
                       std::runtime_error);
  CHECK(counted.bytes_read == 32 + spec.size());
}

TEST_CASE("io: a save that fails leaves the previous file intact") {
  sgtest::Folder folder("failed_save");
  sgtest::check_failed_save_keeps_old_file(folder.path, [](int seed, const fs::path& path) {
    sg::save(sg::Model<Net, float>{static_cast<std::uint64_t>(seed)}, path);
  });
  CHECK_THROWS_WITH_AS(sg::save(sg::Model<Net, float>{43}, folder.path / "no" / "such" / "dir.bin"),
                       doctest::Contains("dir.bin"), std::runtime_error);
}

TEST_CASE("io: two threads saving to one path and one loading from it see whole files") {
  sgtest::Folder folder("concurrent_saves");
  sgtest::check_concurrent_saves(
      folder.path, [](int seed, const fs::path& path) { sg::save(sg::Model<Net, float>{static_cast<std::uint64_t>(seed)}, path); },
      [](const fs::path& path) {
        sg::Model<Net, float> model{};
        sg::load(model, path);
        return sgtest::fingerprint(model);
      });
}

TEST_CASE("io: a save through a symbolic link replaces the file it points to, and keeps the link") {
  sgtest::Folder folder("symlink");
  const fs::path file = folder.path / "model_v1.bin", link = folder.path / "model.bin";
  sg::save(sg::Model<Net, float>{1}, file);
  fs::create_symlink("model_v1.bin", link);  // relative, as links usually are
  const sg::Model<Net, float> saved{2};
  sg::save(saved, link);
  CHECK(fs::is_symlink(link));
  sg::Model<Net, float> loaded{};
  sg::load(loaded, file);
  CHECK(sgtest::fingerprint(loaded) == sgtest::fingerprint(saved));
}

TEST_CASE("emit_header: a name that cannot name a namespace is refused before anything is written") {
  const sg::Model<Net, float> model{1};
  for (const char* name : {"", "3d", "my-net", "class", "and", "std"}) {
    CAPTURE(name);
    std::ostringstream out;
    CHECK_THROWS_WITH_AS(sg::emit_header(model, name, out), doctest::Contains("cannot name a namespace"),
                         std::invalid_argument);
    CHECK(out.str().empty());
  }
  std::ostringstream out;
  sg::emit_header(model, "classifier_v2", out);
  CHECK(out.str().find("namespace classifier_v2 {") != std::string::npos);
}
