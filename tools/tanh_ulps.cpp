// The largest error of the float tanh of staticgrad's Tanh activation (simd::fast_tanh in
// core/simd.hpp) and of xsimd's, in ulps of the exact value (libm's double tanh), over every
// float from 0 to 12 (tanh is odd and both are exactly odd); and whether any result passes 1.
// About 30 s; without -march=native it measures the SSE2 build (no FMA instruction):
//   g++ -std=c++20 -O2 -march=native -Iinclude tools/tanh_ulps.cpp -o /tmp/tanh_ulps && /tmp/tanh_ulps
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <staticgrad/core/simd.hpp>

using Register = xsimd::batch<float>;

struct Worst {
  double ulps = 0;
  float at = 0;
  bool beyond_one = false;
  void add(float x, float result, double exact) {
    int exponent;
    std::frexp(exact, &exponent);
    const double error = std::abs(result - exact) / std::ldexp(1.0, exponent - 24);  // ulp of exact's binade
    if (error > ulps) ulps = error, at = x;
    beyond_one |= result > 1.0f;
  }
};

int main() {
  const float last = 12.0f;
  std::uint32_t last_bits;
  std::memcpy(&last_bits, &last, sizeof last);
  Worst ours, theirs;
  alignas(64) float x[Register::size], ours_out[Register::size], theirs_out[Register::size];
  for (std::uint64_t bits = 1; bits <= last_bits; bits += Register::size) {
    for (std::size_t lane = 0; lane < Register::size; ++lane) {
      const auto lane_bits = static_cast<std::uint32_t>(std::min<std::uint64_t>(bits + lane, last_bits));
      std::memcpy(&x[lane], &lane_bits, sizeof lane_bits);
    }
    const Register v = Register::load_aligned(x);
    staticgrad::detail::simd::fast_tanh(v).store_aligned(ours_out);
    xsimd::tanh(v).store_aligned(theirs_out);
    for (std::size_t lane = 0; lane < Register::size; ++lane) {
      const double exact = std::tanh(static_cast<double>(x[lane]));
      ours.add(x[lane], ours_out[lane], exact);
      theirs.add(x[lane], theirs_out[lane], exact);
    }
  }
  std::printf("float tanh over every float in (0, 12]:\n"
              "  staticgrad: at most %.3f ulp (at x = %.9g)%s\n"
              "  xsimd:      at most %.3f ulp (at x = %.9g)%s\n",
              ours.ulps, ours.at, ours.beyond_one ? ", some results above 1" : "", theirs.ulps, theirs.at,
              theirs.beyond_one ? ", some results above 1" : "");
}
