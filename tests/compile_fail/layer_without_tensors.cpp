// A layer of one's own with parameters but no tensors to name them: saving it as
// safetensors cannot guess how PyTorch would hold them.
// EXPECT: check_layer_tensors<ScaleShift<3>
#include <array>
#include <span>

#include <staticgrad/io/safetensors.hpp>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

// y_i = g_i · x_i + s: a gain per input and one shared shift (N + 1 parameters).
template <std::size_t N>
struct ScaleShift {
  static constexpr std::size_t in_size = N, out_size = N, param_count = N + 1, cache_size = 0, flops = 2 * N;
  static constexpr auto name() { return sg::layer_name<"ScaleShift", N>(); }
#ifdef STATICGRAD_COMPILE_FAIL_OK
  static constexpr std::array tensors{sg::vector_tensor("weight", N, 0), sg::vector_tensor("shift", 1, N)};
#endif
  template <class T>
  static constexpr void infer(std::span<const T, param_count> p, std::span<const T, N> x, std::span<T, N> y) {
    for (std::size_t i = 0; i < N; ++i) y[i] = p[i] * x[i] + p[N];
  }
  template <class T>
  static constexpr void forward(std::span<const T, param_count> p, std::span<T, 0>, std::span<const T, N> x,
                                std::span<T, N> y) {
    infer<T>(p, x, y);
  }
  template <sg::BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count>, std::span<const T, 0>, std::span<const T, N>,
                                 std::span<const T, N>, std::span<const T, N>, std::span<T, param_count>,
                                 std::span<T, N>) {}
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> p, sg::init::Rng&, const Scheme&) {
    for (std::size_t i = 0; i < N; ++i) p[i] = T{1};
    p[N] = T{0};
  }
};

int main() {
  const sg::Model<sg::Sequential<sg::Dense<2, 3>, ScaleShift<3>>, float> model{1};
  sg::save_safetensors(model, "/dev/null/never");
}
