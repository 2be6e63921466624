// A layer of one's own that lacks a member of the Layer contract (here flops, which the
// batched training path needs): one error, naming the layer and the member.
// EXPECT: check_is_layer<1, Doubler<3>, staticgrad::detail::layer_member::flops>
#include <array>
#include <span>

#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

// y = 2x.
template <std::size_t N>
struct Doubler {
  static constexpr std::size_t in_size = N, out_size = N, param_count = 0, cache_size = 0;
#ifdef STATICGRAD_COMPILE_FAIL_OK
  static constexpr std::size_t flops = N;
#endif
  static constexpr auto name() { return sg::layer_name<"Doubler", N>(); }
  template <class T>
  static constexpr void infer(std::span<const T, 0>, std::span<const T, N> x, std::span<T, N> y) {
    for (std::size_t i = 0; i < N; ++i) y[i] = 2 * x[i];
  }
  template <class T>
  static constexpr void forward(std::span<const T, 0> p, std::span<T, 0>, std::span<const T, N> x, std::span<T, N> y) {
    infer<T>(p, x, y);
  }
  template <sg::BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, 0>, std::span<const T, 0>, std::span<const T, N>,
                                 std::span<const T, N>, std::span<const T, N> dy, std::span<T, 0>, std::span<T, N> dx) {
    if constexpr (Mode.input_grad)
      for (std::size_t i = 0; i < N; ++i) dx[i] = 2 * dy[i];
  }
  template <class T, class Scheme>
  static void initialize(std::span<T, 0>, sg::init::Rng&, const Scheme&) {}
};

int main() {
  const sg::Model<sg::Sequential<sg::Dense<2, 3>, Doubler<3>>, float> model{1};
  return model(std::array<float, 2>{})[0] > 0 ? 0 : 1;
}
