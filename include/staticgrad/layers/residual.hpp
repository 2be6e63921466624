/// @file Defines staticgrad::Residual<Ls...>, the skip connection y = x + f(x).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/kernels.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/init.hpp>
#include <staticgrad/layers/sequential.hpp>

namespace staticgrad {


/// y = x + f(x), where f is the layers Ls applied in sequence and maps N inputs to N outputs
/// (checked: the diagnostic names `check_residual_shape<body in_size, body out_size>`).
/// Parameters: f's, in the flat order. The forward pass keeps f's cache and f(x).
/// @tparam Ls the layers of the body f, input side first
template <class... Ls>
struct Residual {
  using body = Sequential<Ls...>;
  /// The body's layers (as Sequential's: model.layer<I>() reaches them the same way).
  using layers = typename body::layers;
  // A composite (detail/traversal.hpp) whose children are the body's layers: f's cache
  // comes first in its own.
  using children = layers;
  static constexpr auto child_param_offset = body::child_param_offset;
  static constexpr auto child_cache_offset = body::child_cache_offset;
  static constexpr auto child_state_offset = body::child_state_offset;
  /// The body's state (core/steps.hpp).
  static constexpr std::size_t state_size = body::state_size;
  template <class... Cs>
  using rebind = Residual<Cs...>;
  static constexpr auto name() { return detail::composite_name<"Residual", body::valid, Ls...>(); }
  static constexpr std::string_view summary_label = "Residual (x + f(x))";
  /// In PyTorch: a subclass of nn.Sequential, numbered as its body.
  static constexpr bool torch_sequential = true;
  template <std::size_t I>
  static std::string torch_prefix() {
    return body::template torch_prefix<I>();
  }
  static constexpr bool stochastic = body::stochastic;
  /// False when a shape check failed (the error names it); the members are then empty.
  static constexpr bool valid = body::valid && body::in_size == body::out_size;
  // Instantiating the check reports the problem; see detail/checks.hpp.
  static_assert(sizeof(detail::check_residual_shape<body::in_size, body::out_size>) > 0);

  static constexpr std::size_t in_size = valid ? body::in_size : 0;
  static constexpr std::size_t out_size = in_size;
  static constexpr std::size_t param_count = valid ? body::param_count : 0;
  static constexpr std::size_t cache_size = valid ? body::cache_size + out_size : 0;
  static constexpr std::size_t flops = valid ? body::flops + out_size : 0;

 private:
  static constexpr std::size_t N = in_size;

  // The body's cache and f(x) in a block of Samples samples' cache.
  template <std::size_t Samples, class U, std::size_t Size>
  static constexpr auto body_cache(std::span<U, Size> cache) {
    return detail::slice<0, Samples * body::cache_size>(cache);
  }
  template <std::size_t Samples, class U, std::size_t Size>
  static constexpr auto body_output(std::span<U, Size> cache) {
    return detail::slice<Samples * body::cache_size, Samples * N>(cache);
  }

  // The body's workspace and f(x) in the workspace of Steps time steps.
  template <std::size_t Steps, class U, std::size_t Size>
  static constexpr auto steps_body_work(std::span<U, Size> work) {
    return detail::slice<0, detail::steps_workspace_of<body, Steps>()>(work);
  }
  template <std::size_t Steps, class U, std::size_t Size>
  static constexpr auto steps_body_output(std::span<U, Size> work) {
    return detail::slice<detail::steps_workspace_of<body, Steps>(), Steps * N>(work);
  }

 public:
  template <class T>
  static constexpr void infer(std::span<const T, param_count> params, std::span<const T, N> x,
                              std::span<T, N> y) {
    infer_block<1, T>(params, x, y);
  }

  template <class T>
  static constexpr void forward(std::span<const T, param_count> params,
                                std::span<T, cache_size> cache, std::span<const T, N> x,
                                std::span<T, N> y) {
    forward_block<1, T>(params, cache, x, y);
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count> params,
                                 std::span<const T, cache_size> cache, std::span<const T, N> x,
                                 std::span<const T, N> y, std::span<const T, N> dy,
                                 std::span<T, param_count> dparams, std::span<T, N> dx) {
    backward_block<Mode, 1, T>(params, cache, x, y, dy, dparams, dx);
  }

  /// infer over a block of Samples samples (core/blocks.hpp).
  template <std::size_t Samples, class T>
  static constexpr void infer_block(std::span<const T, param_count> params, std::span<const T, Samples * N> x,
                                    std::span<T, Samples * N> y) {
    if constexpr (valid) {
      detail::infer_block<body, Samples, T>(params, x, y);
      for (std::size_t i = 0; i < Samples * N; ++i) y[i] += x[i];
    }
  }

  /// forward over a block of Samples samples (core/blocks.hpp).
  template <std::size_t Samples, class T>
  static constexpr void forward_block(std::span<const T, param_count> params,
                                      std::span<T, Samples * cache_size> cache,
                                      std::span<const T, Samples * N> x, std::span<T, Samples * N> y) {
    if constexpr (valid) {
      const auto fx = body_output<Samples>(cache);
      body::template forward_block<Samples, T>(params, body_cache<Samples>(cache), x, fx);
      for (std::size_t i = 0; i < Samples * N; ++i) y[i] = x[i] + fx[i];
    }
  }

  /// backward over a block of Samples samples (core/blocks.hpp).
  template <BackwardMode Mode, std::size_t Samples, class T>
  static constexpr void backward_block(std::span<const T, param_count> params,
                                       std::span<const T, Samples * cache_size> cache,
                                       std::span<const T, Samples * N> x, std::span<const T, Samples * N>,
                                       std::span<const T, Samples * N> dy, std::span<T, param_count> dparams,
                                       std::span<T, Samples * N> dx) {
    if constexpr (valid) {
      body::template backward_block<Mode, Samples, T>(params, body_cache<Samples>(cache), x,
                                                      body_output<Samples>(cache), dy, dparams, dx);
      if constexpr (Mode.input_grad) {
        for (std::size_t i = 0; i < Samples * N; ++i) dx[i] += dy[i];  // the skip path
      }
    }
  }

  /// One time step (core/steps.hpp): x + f(x), f with its state.
  template <class T>
  static constexpr void step(std::span<const T, param_count> params, std::span<T, state_size> state,
                             std::span<const T, N> x, std::span<T, N> y) {
    body::template step<T>(params, state, x, y);
    for (std::size_t i = 0; i < N; ++i) y[i] += x[i];
  }

  /// Steps time steps of one stream (core/steps.hpp): the body over all of them (layer by
  /// layer), then the skip.
  template <std::size_t Steps, class T>
  static void infer_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                          std::span<const T, Steps * N> x, std::span<T, Steps * N> y) {
    if constexpr (valid) {
      detail::infer_steps<body, Steps, T>(params, state, x, y);
      for (std::size_t i = 0; i < Steps * N; ++i) y[i] += x[i];
    }
  }

  /// Training through Steps time steps (core/steps.hpp): the body's workspace, then f(x).
  template <std::size_t Steps>
  static constexpr std::size_t steps_workspace = detail::steps_workspace_of<body, Steps>() + Steps * N;

  template <std::size_t Steps, class T>
  static void forward_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                            std::span<T, steps_workspace<Steps>> work, std::span<const T, Steps * N> x,
                            std::span<T, Steps * N> y) {
    if constexpr (valid) {
      const auto fx = steps_body_output<Steps>(work);
      detail::forward_steps<body, Steps, T>(params, state, steps_body_work<Steps>(work), x, fx);
      for (std::size_t i = 0; i < Steps * N; ++i) y[i] = x[i] + fx[i];
    }
  }

  template <BackwardMode Mode, std::size_t Steps, class T>
  static void backward_steps(std::span<const T, param_count> params, std::span<T, steps_workspace<Steps>> work,
                             std::span<const T, Steps * N> x, std::span<const T, Steps * N>,
                             std::span<const T, Steps * N> dy, std::span<T, param_count> dparams,
                             std::span<T, Steps * N> dx) {
    if constexpr (valid) {
      detail::backward_steps<Mode, body, Steps, T>(params, steps_body_work<Steps>(work), x,
                                                   std::span<const T, Steps * N>(steps_body_output<Steps>(work)), dy,
                                                   dparams, dx);
      if constexpr (Mode.input_grad) {
        for (std::size_t i = 0; i < Steps * N; ++i) dx[i] += dy[i];  // the skip path
      }
    }
  }

  template <class T>
  static constexpr void forward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                     std::span<T, state_size> next_state, std::span<T, cache_size> cache,
                                     std::span<const T, N> x, std::span<T, N> y) {
    const auto fx = body_output<1>(cache);
    body::template forward_step<T>(params, state, next_state, body_cache<1>(cache), x, fx);
    for (std::size_t i = 0; i < N; ++i) y[i] = x[i] + fx[i];
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                      std::span<const T, cache_size> cache, std::span<const T, N> x,
                                      std::span<const T, N>, std::span<const T, N> dy,
                                      std::span<const T, state_size> d_next_state, std::span<T, state_size> d_state,
                                      std::span<T, param_count> dparams, std::span<T, N> dx) {
    body::template backward_step<Mode, T>(params, state, body_cache<1>(cache), x, body_output<1>(cache), dy,
                                          d_next_state, d_state, dparams, dx);
    if constexpr (Mode.input_grad) {
      for (std::size_t i = 0; i < N; ++i) dx[i] += dy[i];  // the skip path
    }
  }

  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng& rng, const Scheme& scheme) {
    body::template initialize<T>(params, rng, scheme);
  }

  /// x + f(x), on whatever records it (see Sequential::record): the body's layers are its
  /// own children.
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    return x + body::record(r, x);
  }
};

/// The body's layers: `layer<I>()` is a view of layer I of f.
template <class... Ls, class T>
class LayerView<Residual<Ls...>, T> : public LayerView<Sequential<Ls...>, T> {
 public:
  using LayerView<Sequential<Ls...>, T>::LayerView;
};

}  // namespace staticgrad
