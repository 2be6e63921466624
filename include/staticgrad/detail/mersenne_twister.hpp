/// @file MT19937-64, the engine of init::Rng: the same sequence as std::mt19937_64 (whose
/// parameters the standard fixes, [rand.predef]) without `<random>`, a noticeable part of
/// what the compiler does for a small program (bench/README.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace staticgrad::detail {

class MersenneTwister64 {
 public:
  explicit MersenneTwister64(std::uint64_t seed) {
    state_[0] = seed;
    for (std::size_t i = 1; i < n; ++i)
      state_[i] = 6364136223846793005ull * (state_[i - 1] ^ (state_[i - 1] >> 62)) + i;
  }

  static constexpr std::uint64_t max() { return ~std::uint64_t{0}; }

  std::uint64_t operator()() {
    if (next_ == n) twist();
    std::uint64_t z = state_[next_++];
    z ^= (z >> 29) & 0x5555555555555555ull;
    z ^= (z << 17) & 0x71d67fffeda60000ull;
    z ^= (z << 37) & 0xfff7eee000000000ull;
    return z ^ (z >> 43);
  }

 private:
  static constexpr std::size_t n = 312, m = 156;

  // Refills the whole state at once, as the reference implementation does.
  void twist() {
    constexpr std::uint64_t upper = ~std::uint64_t{0} << 31, lower = ~upper;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t y = (state_[i] & upper) | (state_[(i + 1) % n] & lower);
      state_[i] = state_[(i + m) % n] ^ (y >> 1) ^ ((y & 1) ? 0xb5026f5aa96619e9ull : 0);
    }
    next_ = 0;
  }

  std::array<std::uint64_t, n> state_;
  std::size_t next_ = n;
};

}  // namespace staticgrad::detail
