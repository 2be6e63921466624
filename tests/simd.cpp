// Vectorized activations (core/simd.hpp over xsimd): values and derivatives within a few
// ulp of the scalar libm formulas, over the range that matters, in float and double; and
// equal inputs give equal outputs wherever they sit in a span.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/mp11/algorithm.hpp>
#include <doctest/doctest.h>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/gemm.hpp>
#include <staticgrad/core/packed.hpp>

namespace sg = staticgrad;

namespace {

// |a − b| in units of the last place of max(|b|, floor). The activations are measured with
// floor 1: near their zeros, cancellation (1 + erf(z) for z ≪ 0) makes relative error
// meaningless in any formula.
template <class T>
double ulps(T a, T b, T floor = T{1}) {
  const T scale = std::max(std::abs(b), floor);
  const T step = std::nextafter(scale, std::numeric_limits<T>::infinity()) - scale;
  return static_cast<double>(std::abs(a - b) / step);
}

std::vector<double> inputs() {
  std::vector<double> z;
  for (double v = -12; v <= 12; v += 0.0013) z.push_back(v);
  return z;
}

// The worst distance between the vectorized path and the scalar libm formula, for φ and φ'.
template <class Act, class T>
std::array<double, 2> worst_ulps() {
  std::vector<T> z;
  for (double v : inputs()) z.push_back(static_cast<T>(v));
  std::vector<T> values(z.size()), ones(z.size(), T{1}), derivatives(z.size());
  sg::detail::activation_values<Act>(z.size(), z.data(), values.data());
  const std::vector<T>& u = Act::derivative_from_output ? values : z;
  sg::detail::activation_gradient<false, Act>(z.size(), u.data(), ones.data(), derivatives.data());
  std::array<double, 2> worst{};
  for (std::size_t i = 0; i < z.size(); ++i) {
    worst[0] = std::max(worst[0], ulps(values[i], Act::value(z[i])));
    worst[1] = std::max(worst[1], ulps(derivatives[i], Act::derivative(u[i])));
  }
  return worst;
}

template <class Act>
void check_activation(double bound) {
  const auto f = worst_ulps<Act, float>();
  const auto d = worst_ulps<Act, double>();
  INFO(Act::name << ": float " << f[0] << " / " << f[1] << " ulp, double " << d[0] << " / " << d[1] << " ulp");
  CHECK(f[0] <= bound);
  CHECK(f[1] <= bound);
  CHECK(d[0] <= bound);
  CHECK(d[1] <= bound);
}

// The worst distance between a vectorized function and libm's, in float.
template <class F, class G>
double worst_function_ulps(F vectorized, G libm) {
  std::vector<float> z;
  for (double v : inputs()) z.push_back(static_cast<float>(v));
  std::vector<float> out(z.size());
  sg::detail::simd::map([&](auto x) { return vectorized(x); }, z.size(), out.data(), z.data());
  double worst = 0;
  for (std::size_t i = 0; i < z.size(); ++i)
    worst = std::max(worst, ulps(out[i], libm(z[i]), std::numeric_limits<float>::min()));
  return worst;
}

// |result − exact| in float ulps of exact's binade (for a subnormal exact value, the
// smallest subnormal).
double float_ulps(float result, double exact) {
  int exponent;
  std::frexp(exact, &exponent);
  exponent = std::max(exponent, std::numeric_limits<float>::min_exponent);
  return std::abs(result - exact) / std::ldexp(1.0, exponent - std::numeric_limits<float>::digits);
}

// Every 4099th float whose bits run from `first` to `last`, each followed by its negative.
std::vector<float> every_4099th_float(std::uint32_t first, std::uint32_t last) {
  std::vector<float> z;
  for (std::uint32_t bits = first; bits <= last; bits += 4099) {
    float x;
    std::memcpy(&x, &bits, sizeof x);
    z.push_back(x);
    z.push_back(-x);
  }
  return z;
}

}  // namespace

TEST_CASE("simd: exp, tanh, erf and log1p within a few ulp of libm (float)") {
  namespace s = sg::detail::simd;
  CHECK(worst_function_ulps([](auto x) { return s::exp(x * s::constant<decltype(x)>(0.5)); },
                            [](float x) { return std::exp(x * 0.5f); }) <= 4);
  CHECK(worst_function_ulps([](auto x) { return s::tanh(x); }, [](float x) { return std::tanh(x); }) <= 4);
  CHECK(worst_function_ulps([](auto x) { return s::erf(x); }, [](float x) { return std::erf(x); }) <= 4);
  CHECK(worst_function_ulps([](auto x) { return s::log1p(s::abs(x)); }, [](float x) { return std::log1p(std::abs(x)); }) <= 4);
}

// The largest error of the Tanh activation's float tanh over every float, measured by
// tools/float_ulps.cpp: ours 4.84 ulp where simd::fma is one instruction (AVX2, AVX-512),
// 5.70 where it is a multiply and an add (SSE2); xsimd's 1.35.
#ifdef STATICGRAD_ACCURATE_TANH
constexpr double tanh_bound = 1.5;
#else
constexpr double tanh_bound = 6;
#endif

TEST_CASE("simd: fast_tanh (float) near the exact value, odd, within [-1, 1], x for tiny x, 1 when saturated") {
  const std::vector<float> z = every_4099th_float(1, 0x41400000u);  // from 0 to 12
  std::vector<float> t(z.size());
  sg::detail::simd::map([](auto x) { return sg::detail::simd::fast_tanh(x); }, z.size(), t.data(), z.data());
  double worst = 0;
  for (std::size_t i = 0; i < z.size(); i += 2) {
    worst = std::max(worst, float_ulps(t[i], std::tanh(static_cast<double>(z[i]))));
    REQUIRE(t[i + 1] == -t[i]);
    REQUIRE(t[i] <= 1.0f);
    if (z[i] < 0x1p-12f) REQUIRE(t[i] == z[i]);
    if (z[i] >= 9.1f) REQUIRE(t[i] == 1.0f);
  }
  INFO("worst " << worst << " ulp");
  CHECK(worst <= tanh_bound);
  CHECK(worst > 0.5);  // not correctly rounded everywhere: the sample reaches the hard cases
}

// The Sigmoid activation's float σ, relative to the exact value: tools/float_ulps.cpp
// measures at most 3.67 ulp over every float with AVX-512 or AVX2 (an exp of our own,
// core/simd.hpp), subnormal results included; without FMA, through xsimd's exp, 2.59 and
// subnormal results flushed to 0.
#if XSIMD_WITH_AVX512F || XSIMD_WITH_FMA3_AVX2
constexpr bool sigmoid_keeps_subnormals = true;
#else
constexpr bool sigmoid_keeps_subnormals = false;
#endif
TEST_CASE("simd: float sigmoid near the exact value, relative even in the tail, within [0, 1]") {
  const std::vector<float> z = every_4099th_float(0, 0x7f7fffffu);  // every finite float
  std::vector<float> sigma(z.size());
  sg::detail::simd::map([](auto x) { return sg::detail::simd::sigmoid(x); }, z.size(), sigma.data(), z.data());
  double worst = 0;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double exact = 1 / (1 + std::exp(-static_cast<double>(z[i])));
    if (!sigmoid_keeps_subnormals && exact < std::numeric_limits<float>::min())
      REQUIRE(sigma[i] < std::numeric_limits<float>::min());
    else worst = std::max(worst, float_ulps(sigma[i], exact));
    REQUIRE(sigma[i] >= 0.0f);
    REQUIRE(sigma[i] <= 1.0f);
  }
  INFO("worst " << worst << " ulp");
  CHECK(worst <= 4);
  CHECK(worst > 0.5);
}

TEST_CASE_TEMPLATE("simd: exp, tanh, fast_tanh and sigmoid of NaN, infinities and huge inputs match libm", TestType, float, double) {
  namespace s = sg::detail::simd;
  using B = xsimd::batch<TestType>;
  constexpr TestType inf = std::numeric_limits<TestType>::infinity(), nan = std::numeric_limits<TestType>::quiet_NaN();
  const std::array<TestType, 8> edges{nan, inf, -inf, TestType(1e30), TestType(-1e30), TestType(700), TestType(-700), TestType(-0.0)};
  for (const TestType x : edges) {
    CAPTURE(x);
    const TestType e = s::exp(B(x)).get(0), t = s::tanh(B(x)).get(0), fast_t = s::fast_tanh(B(x)).get(0);
    const TestType sigma = s::sigmoid(B(x)).get(0);
    if (std::isnan(x)) {
      CHECK(std::isnan(e));
      CHECK(std::isnan(t));
      CHECK(std::isnan(fast_t));
      CHECK(std::isnan(sigma));
    } else {
      CHECK(sigma == s::sigmoid(x));  // 0, ½ or 1 at these inputs
      const TestType expected = std::exp(x);
      if (std::isinf(expected)) CHECK(e == expected);
      else CHECK(ulps(e, expected, std::numeric_limits<TestType>::min()) <= 4);
      CHECK(t == std::tanh(x));
      CHECK(fast_t == std::tanh(x));
    }
  }
}

TEST_CASE("simd: vectorized activations stay within a few ulp of the scalar formulas") {
  // Measured here (AVX-512): at most 3 ulp (of max(|φ|, 1)) for every activation and
  // derivative; the bound leaves room for other instruction sets.
  check_activation<sg::Sigmoid>(8);
  check_activation<sg::Tanh>(8);
  check_activation<sg::GELU>(8);
  check_activation<sg::GELUTanh>(8);
  check_activation<sg::SiLU>(8);
  check_activation<sg::Softplus>(8);
  check_activation<sg::ELU>(8);
  check_activation<sg::Mish>(8);
}

TEST_CASE("simd: equal inputs give equal outputs wherever they sit, tails included") {
  std::array<float, 37> values;
  values.fill(0.731f);
  sg::detail::apply_activation<sg::GELU>(std::span<float, 37>(values));
  CHECK(std::all_of(values.begin(), values.end(), [&](float v) { return v == values[0]; }));
}

// Fewer values than a register holds go through the narrowest register that holds them
// (simd::small_register), in place and not: exactly what whole registers give for the same
// values, so that a neuron's value does not depend on its layer's width.
template <class Act, class T, std::size_t N>
void check_few_values() {
  INFO(Act::name << ", " << N << " values");
  std::array<T, N> x, in_place, out_of_place;
  for (std::size_t i = 0; i < N; ++i) x[i] = static_cast<T>(-3.1 + 0.97 * static_cast<double>(i));
  std::vector<T> whole(64, T{0.5});
  std::copy(x.begin(), x.end(), whole.begin());
  sg::detail::activation_values<Act>(whole.size(), whole.data(), whole.data());
  in_place = x;
  sg::detail::apply_activation<Act>(std::span<T, N>(in_place));
  sg::detail::apply_activation<Act>(std::span<const T, N>(x), std::span<T, N>(out_of_place));
  for (std::size_t i = 0; i < N; ++i) {
    CHECK(in_place[i] == whole[i]);
    CHECK(out_of_place[i] == whole[i]);
  }
}

TEST_CASE_TEMPLATE("simd: activations of fewer values than a register give what whole registers give", T, float,
                   double) {
  using Activations =
      boost::mp11::mp_list<sg::Sigmoid, sg::Tanh, sg::GELU, sg::GELUTanh, sg::SiLU, sg::Softplus, sg::ELU, sg::Mish>;
  boost::mp11::mp_for_each<Activations>([]<class Act>(Act) {
    check_few_values<Act, T, 1>();
    check_few_values<Act, T, 2>();
    check_few_values<Act, T, 3>();
    check_few_values<Act, T, 4>();
    check_few_values<Act, T, 5>();
    check_few_values<Act, T, 8>();
    check_few_values<Act, T, 12>();
  });
}

// ReLU over a span of exactly one register's lanes (2, 4, 8, 16: through that register where
// the target has one) and of 5 (a plain loop): exactly the scalar formula, NaN stays NaN,
// −0 stays −0, the infinities pass.
template <class T, std::size_t N>
void check_relu_span() {
  INFO(N << " values");
  constexpr T inf = std::numeric_limits<T>::infinity();
  const std::array<T, 8> specials{std::numeric_limits<T>::quiet_NaN(), T{-0.0}, -inf, inf, T{-2.5}, T{0.75}, T{0}, -std::numeric_limits<T>::denorm_min()};
  std::array<T, N> z;
  for (std::size_t i = 0; i < N; ++i) z[i] = specials[i % specials.size()] * (i < specials.size() ? T{1} : T{3});
  std::array<T, N> relu = z;
  sg::detail::apply_activation<sg::ReLU>(std::span<T, N>(relu));
  for (std::size_t i = 0; i < N; ++i) {
    const T expected = z[i] < T{0} ? T{0} : z[i];
    if (std::isnan(z[i])) CHECK(std::isnan(relu[i]));
    else CHECK((relu[i] == expected && std::signbit(relu[i]) == std::signbit(expected)));
  }
}

TEST_CASE_TEMPLATE("simd: ReLU over spans of exactly a register's lanes and of others", T, float, double) {
  check_relu_span<T, 2>();
  check_relu_span<T, 4>();
  check_relu_span<T, 8>();
  check_relu_span<T, 16>();
  check_relu_span<T, 5>();
}

// activation_forward (training) against apply_activation and activation_backward with
// dy = 1: the same values and derivatives to rounding (the compiler may fuse a multiply and
// an add differently where value and derivative share a subexpression: 1 ulp seen in
// double GELU), tail included. φ' from the output keeps nothing.
template <class Act, class T>
void check_activation_forward() {
  INFO(Act::name);
  constexpr std::size_t n = 37;
  std::array<T, n> z, expected_values, ones, expected_derivatives;
  for (std::size_t i = 0; i < n; ++i) z[i] = static_cast<T>(-4.0 + 0.23 * static_cast<double>(i));
  expected_values = z;
  sg::detail::apply_activation<Act>(std::span<T, n>(expected_values));
  ones.fill(T{1});
  const T* u = Act::derivative_from_output ? expected_values.data() : z.data();
  sg::detail::activation_backward<Act, T, n>(u, ones.data(), expected_derivatives.data());
  std::array<T, n> values = z, kept;
  kept.fill(T{-99});
  sg::detail::activation_forward<Act>(std::span<T, n>(values), kept.data());
  std::array<T, n> derivatives;
  sg::detail::activation_backward_kept<Act, T, n>(values.data(), kept.data(), ones.data(), derivatives.data());
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(ulps(values[i], expected_values[i]) <= 1);
    CHECK(ulps(derivatives[i], expected_derivatives[i]) <= 1);
    if constexpr (Act::derivative_from_output) CHECK(kept[i] == T{-99});
  }
}

TEST_CASE_TEMPLATE("activation_forward keeps φ'(z) as the backward pass would compute it", T, float, double) {
  check_activation_forward<sg::GELU, T>();
  check_activation_forward<sg::SiLU, T>();
  check_activation_forward<sg::Softplus, T>();
  check_activation_forward<sg::Mish, T>();
  check_activation_forward<sg::ELU, T>();
  check_activation_forward<sg::Tanh, T>();
  check_activation_forward<sg::ReLU, T>();
}

// For every register width the target has (SSE's, AVX's, AVX-512's).
template <class T, class F>
void for_each_register_width(F f) {
  [&]<std::size_t... Powers>(std::index_sequence<Powers...>) {
    ([&] {
      if constexpr (!std::is_void_v<sg::detail::simd::exact_register<T, (std::size_t{2} << Powers)>>)
        f.template operator()<sg::detail::simd::exact_register<T, (std::size_t{2} << Powers)>>();
    }(), ...);
  }(std::make_index_sequence<4>{});
}

TEST_CASE_TEMPLATE("simd: sums_of_lanes puts the sum of register k's lanes in lane k", T, float, double) {
  for_each_register_width<T>([]<class B>() {
    CAPTURE(B::size);
    std::array<B, B::size> rows;
    std::array<T, B::size> expected{};
    for (std::size_t k = 0; k < B::size; ++k) {
      std::array<T, B::size> lanes;
      for (std::size_t l = 0; l < B::size; ++l) {
        lanes[l] = static_cast<T>(k * 100 + l * l);  // small integers: every sum is exact
        expected[k] += lanes[l];
      }
      rows[k] = B::load_unaligned(lanes.data());
    }
    std::array<T, B::size> sums;
    sg::detail::simd::sums_of_lanes(rows.data()).store_unaligned(sums.data());
    for (std::size_t k = 0; k < B::size; ++k) CHECK(sums[k] == expected[k]);
  });
}

// Blocks of rows, a partial block and a tail of columns, for `cols` columns.
template <class T, std::size_t cols, std::size_t lanes>
void check_dot_rows_in() {
  CAPTURE(cols);
  constexpr std::size_t rows = 2 * lanes + 3;
  std::array<T, rows * cols> m;
  std::array<T, cols> v;
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<T>(i % 7) - 3;  // small integers: exact sums
  for (std::size_t o = 0; o < cols; ++o) v[o] = static_cast<T>(o % 5) - 2;
  std::array<T, rows> out;
  sg::detail::simd::dot_rows<T, rows, cols>(m.data(), v.data(), out.data());
  for (std::size_t i = 0; i < rows; ++i) {
    T expected = 0;
    for (std::size_t o = 0; o < cols; ++o) expected += m[i * cols + o] * v[o];
    CHECK(out[i] == expected);
  }
}

// The same when dot_rows takes rows of `cols`.
template <class T, std::size_t cols>
void check_dot_rows() {
  using B = sg::detail::simd::dot_register<T, cols>;
  if constexpr (!std::is_void_v<B>) check_dot_rows_in<T, cols, B::size>();
}

TEST_CASE_TEMPLATE("simd: dot_rows, in the widest register that fits a row (down to eight lanes)", T, float, double) {
  constexpr std::size_t lanes = xsimd::batch<T>::size;
  check_dot_rows<T, lanes + 3>();
  check_dot_rows<T, lanes>();
  check_dot_rows<T, 10>();  // a 128-10 layer: AVX's eight lanes under AVX-512
  check_dot_rows<T, 5>();
  check_dot_rows<T, 2>();
  static_assert(std::is_same_v<sg::detail::simd::dot_register<T, lanes>, xsimd::batch<T>>);
  static_assert(std::is_void_v<sg::detail::simd::dot_register<T, lanes - 1>> == (lanes <= 8));
  static_assert(std::is_void_v<sg::detail::simd::dot_register<T, 1>>);
}

// outer_product into rows of `cols` after a row of sentinels, and back to the sentinels:
// every product, x[i]·v[o] or old + x[i]·v[o] with Accumulate, and nothing outside.
template <class T, std::size_t cols, bool Accumulate>
void check_outer_product() {
  CAPTURE(cols);
  CAPTURE(Accumulate);
  constexpr std::size_t rows = 5;
  std::array<T, rows> x;
  std::array<T, cols> v;
  for (std::size_t i = 0; i < rows; ++i) x[i] = static_cast<T>(i % 4) - 1.5f;  // exact products
  for (std::size_t o = 0; o < cols; ++o) v[o] = static_cast<T>(o % 7) - 3;
  constexpr T sentinel = 99;
  std::array<T, (rows + 2) * cols> out;
  out.fill(sentinel);
  for (std::size_t k = cols; k < (rows + 1) * cols; ++k) out[k] = static_cast<T>(k % 3);
  const auto old = out;
  sg::detail::simd::outer_product<Accumulate, T, rows, cols>(x.data(), v.data(), out.data() + cols);
  for (std::size_t k = 0; k < cols; ++k) CHECK(out[k] == sentinel);
  for (std::size_t k = (rows + 1) * cols; k < out.size(); ++k) CHECK(out[k] == sentinel);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t o = 0; o < cols; ++o) {
      const std::size_t k = (i + 1) * cols + o;
      CHECK(out[k] == (Accumulate ? old[k] : T{0}) + x[i] * v[o]);
    }
}

template <class T, std::size_t cols>
void check_outer_products() {
  if constexpr (!std::is_void_v<sg::detail::simd::row_register<T, cols>>) {
    check_outer_product<T, cols, false>();
    check_outer_product<T, cols, true>();
  }
}

TEST_CASE_TEMPLATE("simd: outer_product, in the widest register whose lanes divide a row (down to eight)", T, float, double) {
  constexpr std::size_t lanes = xsimd::batch<T>::size;
  check_outer_products<T, 2 * lanes>();
  check_outer_products<T, lanes>();
  check_outer_products<T, 40>();  // AVX's eight lanes under AVX-512
  using sg::detail::simd::row_register;
  static_assert(std::is_same_v<row_register<T, 2 * lanes>, xsimd::batch<T>> == (lanes >= 8));
  static_assert(std::is_void_v<row_register<T, 10>>);  // no register of eight or more divides it
  if constexpr (lanes >= 8) static_assert(row_register<T, 40>::size == 8);
}

TEST_CASE_TEMPLATE("simd: load_lanes and store_lanes touch only their lanes", T, float, double) {
  using B = xsimd::batch<T>;
  constexpr std::size_t count = B::size - 1;
  std::array<T, B::size> values;
  for (std::size_t l = 0; l < B::size; ++l) values[l] = static_cast<T>(l + 1);
  std::array<T, B::size> loaded;
  sg::detail::simd::load_lanes<B>(values.data(), count).store_unaligned(loaded.data());
  for (std::size_t l = 0; l < count; ++l) CHECK(loaded[l] == values[l]);
  CHECK(loaded[count] == T{0});
  std::array<T, B::size> stored;
  stored.fill(T{-1});
  sg::detail::simd::store_lanes(B(T{7}), stored.data(), count);
  for (std::size_t l = 0; l < count; ++l) CHECK(stored[l] == T{7});
  CHECK(stored[count] == T{-1});
}

// A one-sample affine kernel (affine_one, affine_quad) against the plain loops, on small
// integers (every sum exact, whatever the order), with a guard value after the output that
// must stay.
template <class T, std::size_t In, std::size_t Out>
void check_affine(void (*kernel)(const T*, const T*, const T*, T*)) {
  CAPTURE(In);
  CAPTURE(Out);
  std::array<T, In * Out + Out> params;  // W, then b: a kernel may read past W's last row
  for (std::size_t i = 0; i < params.size(); ++i) params[i] = static_cast<T>(i % 7) - 3;
  std::array<T, In> x;
  for (std::size_t i = 0; i < In; ++i) x[i] = static_cast<T>(i % 5) - 2;
  std::array<T, Out + 1> z;
  z[Out] = T{-99};
  kernel(params.data(), params.data() + In * Out, x.data(), z.data());
  for (std::size_t o = 0; o < Out; ++o) {
    T expected = params[In * Out + o];
    for (std::size_t i = 0; i < In; ++i) expected += x[i] * params[i * Out + o];
    CHECK(z[o] == expected);
  }
  CHECK(z[Out] == T{-99});
}

template <class T, std::size_t In, std::size_t Out>
void check_affine_one() {
  check_affine<T, In, Out>(sg::detail::gemm::affine_one<T, In, Out>);
}

TEST_CASE_TEMPLATE("gemm: affine_one, with its column tiles, partial sums and rests", T, float, double) {
  constexpr std::size_t lanes = xsimd::batch<T>::size;
  check_affine_one<T, 1, lanes>();           // one input: a single partial sum
  check_affine_one<T, 3, 2 * lanes>();       // fewer inputs than partial sums
  check_affine_one<T, 13, lanes + 3>();      // a partial last register; 13 inputs: a rest
  check_affine_one<T, 6, 9 * lanes + 2>();   // two column tiles, the second of two registers
  check_affine_one<T, 11, 5>();              // fewer outputs than a register
}

// Parts side-by-side blocks of N columns of an In × Parts·N input-major matrix (a recurrent
// layer's gates) times x, added to the parts' starting values, against the plain loops on
// small integers; the matrix is followed by Stride more values, as the kernel requires.
template <class T, std::size_t In, std::size_t N, std::size_t Parts>
void check_packed_parts() {
  CAPTURE(In);
  CAPTURE(N);
  CAPTURE(Parts);
  using Sums = sg::detail::simd::PackedParts<T, N, Parts>;
  constexpr std::size_t stride = Parts * N;
  std::array<T, (In + 1) * stride> w;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<T>(i % 7) - 3;
  std::array<T, In> x;
  for (std::size_t i = 0; i < In; ++i) x[i] = static_cast<T>(i % 5) - 2;
  std::array<T, stride> start;
  for (std::size_t i = 0; i < stride; ++i) start[i] = static_cast<T>(i % 3);
  auto sums = Sums::template load<stride>(start.data());
  sums.template multiply_add<In, stride>(w.data(), x.data());
  const auto check_part = [&](std::size_t p, const auto& part) {
    CAPTURE(p);
    std::array<T, N + 1> out;
    out[N] = T{-99};
    part.store(out.data());
    CHECK(out[N] == T{-99});  // a partial register stores its lanes only
    for (std::size_t o = 0; o < N; ++o) {
      T expected = start[p * N + o];
      for (std::size_t i = 0; i < In; ++i) expected += x[i] * w[i * stride + p * N + o];
      CHECK(out[o] == expected);
    }
  };
  boost::mp11::mp_for_each<boost::mp11::mp_iota_c<Parts>>([&](auto p) { check_part(p, sums.template part<p>()); });
}

TEST_CASE_TEMPLATE("simd: PackedParts, side by side or a part per register, a group of registers at a time, with "
                   "partial sums and partial registers", T, float, double) {
  constexpr std::size_t lanes = xsimd::batch<T>::size;
  check_packed_parts<T, 1, lanes, 3>();          // one input: one partial sum
  check_packed_parts<T, 8, lanes, 3>();          // partial sums over the inputs, and a rest
  check_packed_parts<T, 7, lanes + 3, 4>();      // parts that end (and, side by side, start) inside a register
  check_packed_parts<T, 5, 5 * lanes, 3>();      // a group smaller than all the registers
  check_packed_parts<T, 3, 2, 3>();              // parts narrower than a register
  check_packed_parts<T, 40, 40, 4>();            // LSTM-40's gates
  // side by side where every part starts a register or the target shifts lanes (AVX-512)
  CHECK(sg::detail::simd::PackedParts<T, lanes, 3>::side_by_side);
  CHECK(sg::detail::simd::PackedParts<T, lanes + 3, 3>::side_by_side == sg::detail::simd::lane_shifts<xsimd::batch<T>>);
}

template <class T, std::size_t Rows, std::size_t Cols, std::size_t SrcStride, std::size_t DstStride>
void check_transpose() {
  CAPTURE(Rows);
  CAPTURE(Cols);
  std::array<T, Rows * SrcStride> src;
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<T>(i);
  std::array<T, Cols * DstStride> dst;
  dst.fill(T{-1});
  sg::detail::gemm::transpose<T, Rows, Cols, SrcStride, DstStride>(src.data(), dst.data());
  for (std::size_t c = 0; c < Cols; ++c) {
    for (std::size_t r = 0; r < Rows; ++r) CHECK(dst[c * DstStride + r] == src[r * SrcStride + c]);
    for (std::size_t r = Rows; r < DstStride; ++r) CHECK(dst[c * DstStride + r] == T{-1});  // padding left alone
  }
}

TEST_CASE_TEMPLATE("gemm: affine_quad, four outputs in one register", T, float, double) {
  namespace gemm = sg::detail::gemm;
  // Where four lanes exist (double needs AVX) and affine_one does not take the layer.
  if constexpr (gemm::quad_fits<T, 3, 4>) check_affine<T, 3, 4>(gemm::affine_quad<T, 3, 4>);
  if constexpr (gemm::quad_fits<T, 1, 4>) check_affine<T, 1, 4>(gemm::affine_quad<T, 1, 4>);
  static_assert(!gemm::quad_fits<T, 4, 2>);  // partial registers stay on the plain loops
}

TEST_CASE_TEMPLATE("gemm: transpose between padded rows", T, float, double) {
  check_transpose<T, 11, 5, 7, 12>();
  // Blocks of 16 × 16 in registers (float, AVX-512), with rows below and columns right of them.
  check_transpose<T, 35, 37, 40, 36>();
  check_transpose<T, 16, 128, 128, 16>();
}

TEST_CASE_TEMPLATE("simd: dot sums a register's lanes and a tail of products", T, float, double) {
  const auto check = [&]<std::size_t cols>() {
    CAPTURE(cols);
    std::array<T, cols> a, b;
    T expected = 0;
    for (std::size_t o = 0; o < cols; ++o) {
      a[o] = static_cast<T>(o % 7) - 3;  // small integers: exact sums in any order
      b[o] = static_cast<T>(o % 5) - 2;
      expected += a[o] * b[o];
    }
    CHECK(sg::detail::simd::dot<T, cols>(a.data(), b.data()) == expected);
  };
  constexpr std::size_t lanes = xsimd::batch<T>::size;
  check.template operator()<lanes>();
  check.template operator()<3 * lanes + 5>();
  check.template operator()<12>();
}

// gemm::affine over the runs of a causal convolution's windows (Kernel taps Dilation steps
// apart in a signal of Channels channels: row s's run k at signal + (s + k · Dilation) ·
// Channels) against the plain sums, with small integers (exact in any order); nothing
// written past the block. Layers of at most half a register take the interleaved kernel
// where the target has it.
template <class T, std::size_t Samples, std::size_t Channels, std::size_t Kernel, std::size_t Dilation, std::size_t Out>
void check_affine_runs() {
  namespace gemm = sg::detail::gemm;
  constexpr std::size_t in = Kernel * Channels, lanes = xsimd::batch<T>::size;
  if constexpr (Out <= lanes / 2 && lanes % Out == 0 && Channels % (lanes / Out) == 0 &&
                Samples % (lanes / Out) == 0 && sg::detail::simd::interleaves<gemm::reg<T>, lanes / Out>)
    static_assert(std::is_same_v<gemm::interleaved_register<T, Samples, Out, Channels>, gemm::reg<T>>);
  if constexpr (gemm::runs_fit<T, Samples, in, Out, Channels>) {  // else one sample at a time
    CAPTURE(Samples);
    CAPTURE(Channels);
    CAPTURE(Out);
    std::array<T, in * Out + Out> params;  // W [In][Out], then b
    std::array<T, (Samples + (Kernel - 1) * Dilation) * Channels> signal;
    for (std::size_t k = 0; k < params.size(); ++k) params[k] = static_cast<T>(k % 7) - 3;
    for (std::size_t k = 0; k < signal.size(); ++k) signal[k] = static_cast<T>(k % 5) - 2;
    gemm::row_runs<T, Channels, Kernel, Channels> rows;
    for (std::size_t k = 0; k < Kernel; ++k) rows.starts[k] = signal.data() + k * Dilation * Channels;
    constexpr T sentinel = 99;
    std::array<T, Samples * Out + 1> z;
    z.fill(sentinel);
    gemm::affine<T, Samples, in, Out>(params.data(), params.data() + in * Out, rows, z.data());
    for (std::size_t s = 0; s < Samples; ++s)
      for (std::size_t o = 0; o < Out; ++o) {
        T expected = params[in * Out + o];
        for (std::size_t k = 0; k < Kernel; ++k)
          for (std::size_t c = 0; c < Channels; ++c)
            expected += signal[(s + k * Dilation) * Channels + c] * params[(k * Channels + c) * Out + o];
        CHECK(z[s * Out + o] == expected);
      }
    CHECK(z.back() == sentinel);
  }
}

// Where SSE2's registers interleave two floats, a layer of two outputs whose runs are two
// inputs long takes them, whatever the widest register.
static_assert(!sg::detail::simd::interleaves<sg::detail::simd::exact_register<float, 4>, 2> ||
              std::is_same_v<sg::detail::gemm::interleaved_register<float, 64, 2, 2>,
                             sg::detail::simd::exact_register<float, 4>>);

TEST_CASE_TEMPLATE("gemm: affine over runs, rows of half a register and less interleaved", T, float, double) {
  constexpr std::size_t lanes = xsimd::batch<T>::size;
  if constexpr (lanes >= 4) {
    check_affine_runs<T, 64, 8, 3, 5, lanes / 2>();      // two inputs a group
    check_affine_runs<T, 38, 4, 2, 1, lanes / 2>();      // a tile of rows and a rest
    check_affine_runs<T, 32, 64, 2, 3, lanes / 2>();     // many inputs
    check_affine_runs<T, 64, 4, 3, 2, lanes / 4>();      // four inputs a group (float)
    check_affine_runs<T, 36, 8, 1, 1, lanes / 4>();
    check_affine_runs<T, 64, 2, 3, 4, 2>();              // two outputs, two inputs: in a narrower register
    check_affine_runs<T, 64, 3, 3, 2, lanes / 2>();      // inputs not in whole groups: the tiles
    check_affine_runs<T, 64, 16, 2, 7, lanes>();         // whole registers: the tiles
  }
}

// gemm::affine_reduced against the plain sums, with small integers (exact in any order):
// whole registers of samples and a rest, inputs a register and less and more, each output
// in its own place, nothing written past the block.
template <class T, std::size_t Samples, std::size_t In, std::size_t Out>
void check_affine_reduced() {
  namespace gemm = sg::detail::gemm;
  if constexpr (gemm::reduced_fits<T, Samples, In, Out>) {
    CAPTURE(Samples);
    CAPTURE(In);
    CAPTURE(Out);
    std::array<T, In * Out + Out> params;  // W [In][Out], then b
    std::array<T, Samples * In> x;
    for (std::size_t k = 0; k < params.size(); ++k) params[k] = static_cast<T>(k % 7) - 3;
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = static_cast<T>(k % 5) - 2;
    constexpr T sentinel = 99;
    std::array<T, Samples * Out + 1> z;
    z.fill(sentinel);
    gemm::affine_reduced<T, Samples, In, Out>(params.data(), params.data() + In * Out, x.data(), z.data());
    for (std::size_t s = 0; s < Samples; ++s)
      for (std::size_t o = 0; o < Out; ++o) {
        T expected = params[In * Out + o];
        for (std::size_t i = 0; i < In; ++i) expected += x[s * In + i] * params[i * Out + o];
        CHECK(z[s * Out + o] == expected);
      }
    CHECK(z.back() == sentinel);
  }
}

TEST_CASE_TEMPLATE("gemm: affine_reduced, a register of samples' dot products at a time", T, float, double) {
  constexpr std::size_t lanes = xsimd::batch<T>::size;
  check_affine_reduced<T, 64, 12, 1>();
  check_affine_reduced<T, 2 * lanes + 5, 2 * lanes + 3, 3>();
  check_affine_reduced<T, lanes, lanes, 1>();
  check_affine_reduced<T, 37, 40, 2>();
  static_assert(!sg::detail::gemm::reduced_fits<T, lanes - 1, 40, 1>, "a block of fewer samples goes one at a time");
}
