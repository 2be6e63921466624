// The largest errors of staticgrad's float math of its own (core/simd.hpp), in ulps of the
// exact value (libm's double), against xsimd's functions in the same formula:
//   tanh (the Tanh activation's simd::fast_tanh) over every float from 0 to 12 (tanh is odd
//        and both are exactly odd), and whether any result passes 1;
//   σ (the Sigmoid activation's simd::sigmoid) over every finite float of either sign, the
//        subnormal results in units of the smallest subnormal (or counted, where given as 0).
// About 3 minutes; without -march=native it measures the SSE2 build (no FMA instruction),
// with -mavx2 -mfma the path for machines without AVX-512:
//   g++ -std=c++20 -O2 -march=native -Iinclude tools/float_ulps.cpp -o /tmp/float_ulps && /tmp/float_ulps
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include <staticgrad/core/simd.hpp>

namespace simd = staticgrad::detail::simd;
using Register = xsimd::batch<float>;

struct Worst {
  double ulps = 0;
  float at = 0;
  bool beyond_one = false;
  long flushed = 0;  // results given as 0 that round to a subnormal, not to 0
  void add(float x, float result, double exact) {
    constexpr double half_step = std::numeric_limits<float>::denorm_min() / 2.0;
    if (result == 0 && exact >= half_step && exact < std::numeric_limits<float>::min()) return void(++flushed);
    int exponent;
    std::frexp(exact, &exponent);
    exponent = std::max(exponent, std::numeric_limits<float>::min_exponent);  // subnormal: the smallest step
    const double error = std::abs(result - exact) / std::ldexp(1.0, exponent - 24);  // ulp of exact's binade
    if (error > ulps) ulps = error, at = x;
    beyond_one |= result > 1.0f;
  }
};

// Ours and theirs (each a function of a register) against exact (of a double) at every
// float whose bits run from `first` to `last`, with `sign` set.
template <class Ours, class Theirs, class Exact>
void measure(std::uint32_t first, std::uint32_t last, std::uint32_t sign, Ours ours, Theirs theirs, Exact exact,
             Worst& ours_worst, Worst& theirs_worst) {
  alignas(64) float x[Register::size], ours_out[Register::size], theirs_out[Register::size];
  for (std::uint64_t bits = first; bits <= last; bits += Register::size) {
    for (std::size_t lane = 0; lane < Register::size; ++lane) {
      const auto lane_bits = static_cast<std::uint32_t>(std::min<std::uint64_t>(bits + lane, last)) | sign;
      std::memcpy(&x[lane], &lane_bits, sizeof lane_bits);
    }
    const Register v = Register::load_aligned(x);
    ours(v).store_aligned(ours_out);
    theirs(v).store_aligned(theirs_out);
    for (std::size_t lane = 0; lane < Register::size; ++lane) {
      const double value = exact(static_cast<double>(x[lane]));
      ours_worst.add(x[lane], ours_out[lane], value);
      theirs_worst.add(x[lane], theirs_out[lane], value);
    }
  }
}

void print(const char* function, const char* range, const Worst& ours, const Worst& theirs) {
  std::printf("float %s over every float in %s:\n", function, range);
  for (const auto& [who, worst] : {std::pair{"staticgrad", &ours}, std::pair{"xsimd", &theirs}})
    std::printf("  %-11s at most %.3f ulp (at x = %.9g)%s; %ld subnormal results flushed to 0\n", who, worst->ulps,
                worst->at, worst->beyond_one ? ", some results above 1" : "", worst->flushed);
}

std::uint32_t bits_of(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

int main() {
  Worst ours, theirs;
  measure(1, bits_of(12.0f), 0, [](const Register& v) { return simd::fast_tanh(v); },
          [](const Register& v) { return xsimd::tanh(v); }, [](double x) { return std::tanh(x); }, ours, theirs);
  print("tanh", "(0, 12]", ours, theirs);

  Worst ours_sigmoid, theirs_sigmoid;
  for (const std::uint32_t sign : {0u, 0x80000000u})
    measure(0, bits_of(std::numeric_limits<float>::max()), sign, [](const Register& v) { return simd::sigmoid(v); },
            [](const Register& v) { return simd::sigmoid<Register>(v); },
            [](double x) { return 1 / (1 + std::exp(-x)); }, ours_sigmoid, theirs_sigmoid);
  print("sigmoid", "(-inf, inf)", ours_sigmoid, theirs_sigmoid);
}
