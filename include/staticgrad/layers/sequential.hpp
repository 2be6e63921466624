/// @file Defines staticgrad::Sequential<Ls...>, layers applied one after the other.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <staticgrad/core/blocks.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/kernels.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/batch_norm_pass.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/detail/parameter_layers.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// Layers applied in order: y = L_{n−1}(… L_1(L_0(x))). Nestable.
///
/// Shapes are checked when the type is used: each layer's in_size must equal the previous
/// layer's out_size, and the diagnostic names the layer index and both sizes
/// (`check_layer_link<index, previous out_size, this in_size>`).
/// Parameters, in the flat order: each layer's, depth first.
/// @tparam Ls the layer specs, input side first
template <class... Ls>
struct Sequential {
  static_assert(sizeof...(Ls) > 0, "staticgrad::Sequential: needs at least one layer");

  /// False when a shape check failed (the error names it); the members are then empty.
  static constexpr bool valid = detail::sequential_report<Ls...>::valid;

 private:
  // Instantiating the check reports the problem; see detail/checks.hpp.
  static_assert(sizeof(typename detail::sequential_diagnostic<detail::sequential_report<Ls...>,
                                                              boost::mp11::mp_list<Ls...>>::check) > 0);
  using layout = detail::sequential_layout<valid, Ls...>;
  using list = boost::mp11::mp_list<Ls...>;
  static constexpr std::size_t count = sizeof...(Ls);

  template <std::size_t I>
  using at = boost::mp11::mp_at_c<list, I>;

  // Whether a layer before layer I has parameters that train (not Frozen).
  template <std::size_t I>
  static constexpr bool trains_before =
      boost::mp11::mp_any_of<boost::mp11::mp_take_c<list, I>, detail::has_trainable_params>::value;

  template <std::size_t I, class U, std::size_t N>
  static constexpr auto params_of(std::span<U, N> params) {
    return detail::slice<layout::param_offset[I], at<I>::param_count>(params);
  }
  // Layer I's cache and output (I < count − 1) in a block of Samples samples' cache: each
  // part of one sample's cache, Samples times over.
  template <std::size_t I, std::size_t Samples = 1, class U, std::size_t N>
  static constexpr auto cache_of(std::span<U, N> cache) {
    return detail::slice<Samples * layout::cache_offset[I], Samples * at<I>::cache_size>(cache);
  }
  template <std::size_t I, std::size_t Samples = 1, class U, std::size_t N>
  static constexpr auto output_of(std::span<U, N> cache) {
    return detail::slice<Samples*(layout::cache_offset[I] + at<I>::cache_size), Samples * at<I>::out_size>(cache);
  }
  // Views of the two ping-pong buffers that carry values between layers.
  template <std::size_t Size, class Buffers>
  static constexpr auto buffer(Buffers& buffers, std::size_t parity) {
    return std::span<typename Buffers::value_type::value_type, Size>(buffers[parity].data(), Size);
  }

  // A layer past the first needs the input gradient when a trainable layer before it does.
  template <BackwardMode Mode, std::size_t I>
  static constexpr BackwardMode backward_mode =
      I == 0 ? Mode : BackwardMode{Mode.accumulate, Mode.input_grad || trains_before<I>, Mode.param_grad};

  // Over Steps time steps: where layer I's workspace starts in the Sequential's, followed
  // by its output (but the last layer's, which is the Sequential's).
  template <std::size_t Steps>
  static constexpr std::array<std::size_t, count + 1> steps_offset = detail::prefix_sums<count>([] {
    std::array<std::size_t, count> sizes{(detail::steps_workspace_of<Ls, Steps>() + Steps * Ls::out_size)...};
    sizes[count - 1] -= Steps * layout::out_size;
    return sizes;
  }());
  template <std::size_t I, std::size_t Steps, class U, std::size_t N>
  static constexpr auto steps_work_of(std::span<U, N> work) {
    return detail::slice<steps_offset<Steps>[I], detail::steps_workspace_of<at<I>, Steps>()>(work);
  }
  // Layer I's output over the steps: its slot after its workspace, or y for the last.
  template <std::size_t I, std::size_t Steps, class U, std::size_t N, class Y>
  static constexpr auto steps_output(std::span<U, N> work, Y y) {
    if constexpr (I + 1 == count) return y;
    else return detail::slice<steps_offset<Steps>[I] + detail::steps_workspace_of<at<I>, Steps>(), Steps * at<I>::out_size>(work);
  }
  // Layer I's input over the steps: x, or the output of the layer before.
  template <std::size_t I, std::size_t Steps, class U, std::size_t N, class X>
  static constexpr auto steps_input(std::span<U, N> work, X x) {
    if constexpr (I == 0) return x;
    else return std::span<const U, Steps * at<I>::in_size>(steps_output<I - 1, Steps>(work, x));
  }

  // Layer I's state in a block of Samples samples' states.
  template <std::size_t I, std::size_t Samples, class U, std::size_t N>
  static constexpr auto state_of(std::span<U, N> state) {
    return detail::slice<Samples * layout::state_offset[I], Samples * detail::state_size_of<at<I>>()>(state);
  }

 public:
  using layers = list;
  // A composite (detail/traversal.hpp): its children, and where their parameters and cache
  // start in its own.
  using children = list;
  static constexpr auto child_param_offset = layout::param_offset;
  static constexpr auto child_cache_offset = layout::cache_offset;
  template <class... Cs>
  using rebind = Sequential<Cs...>;
  static constexpr auto name() { return detail::composite_name<"Sequential", valid, Ls...>(); }
  static constexpr std::string_view summary_label = "Sequential";
  /// In PyTorch: an nn.Sequential, its layers numbered by their modules.
  static constexpr bool torch_sequential = true;
  template <std::size_t I>
  static std::string torch_prefix() {
    return detail::sequential_torch_prefix<list, I>();
  }
  /// Whether a layer draws random numbers in training (Dropout).
  static constexpr bool stochastic = (detail::is_stochastic<Ls> || ...);
  static constexpr std::size_t in_size = layout::in_size;
  static constexpr std::size_t out_size = layout::out_size;
  static constexpr std::size_t param_count = layout::param_count;
  static constexpr std::size_t cache_size = layout::cache_size;
  static constexpr std::size_t flops = layout::flops;

  /// The scalars its layers carry from one time step to the next (core/steps.hpp).
  static constexpr std::size_t state_size = layout::state_size;
  static constexpr auto child_state_offset = layout::state_offset;

  template <class T>
  static constexpr void infer(std::span<const T, param_count> params,
                              std::span<const T, in_size> x, std::span<T, out_size> y) {
    infer_block<1, T>(params, x, y);
  }

  /// infer over a block of Samples samples (core/blocks.hpp).
  template <std::size_t Samples, class T>
  static constexpr void infer_block(std::span<const T, param_count> params,
                                    std::span<const T, Samples * in_size> x,
                                    std::span<T, Samples * out_size> y) {
    run_infer<Samples, T>(params, {}, x, y);
  }

  /// One time step (core/steps.hpp): the layers in order, each with its state.
  template <class T>
  static constexpr void step(std::span<const T, param_count> params, std::span<T, state_size> state,
                             std::span<const T, in_size> x, std::span<T, out_size> y) {
    run_infer<1, T>(params, state, x, y);
  }

  /// Steps time steps of one stream (core/steps.hpp): each layer over all of them, then the
  /// next.
  template <std::size_t Steps, class T>
  static void infer_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                          std::span<const T, Steps * in_size> x, std::span<T, Steps * out_size> y) {
    chain<Steps, T>(x, y, [&]<std::size_t I>(auto in, auto out) {
      detail::infer_steps<at<I>, Steps, T>(params_of<I>(params), state_of<I, 1>(state), in, out);
    });
  }

  /// Training through Steps time steps of one stream (core/steps.hpp), layer by layer: the
  /// workspace holds each layer's, each layer's output but the last, then the gradients
  /// between layers (two buffers).
  template <std::size_t Steps>
  static constexpr std::size_t steps_workspace = steps_offset<Steps>[count] + 2 * Steps * layout::buffer_width;

  template <std::size_t Steps, class T>
  static void forward_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                            std::span<T, steps_workspace<Steps>> work, std::span<const T, Steps * in_size> x,
                            std::span<T, Steps * out_size> y) {
    if constexpr (valid) {
      boost::mp11::mp_for_each<boost::mp11::mp_iota_c<count>>([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        detail::forward_steps<at<i>, Steps, T>(params_of<i>(params), state_of<i, 1>(state), steps_work_of<i, Steps>(work),
                                               steps_input<i, Steps>(work, x), steps_output<i, Steps>(work, y));
      });
    }
  }

  template <BackwardMode Mode, std::size_t Steps, class T>
  static void backward_steps(std::span<const T, param_count> params, std::span<T, steps_workspace<Steps>> work,
                             std::span<const T, Steps * in_size> x, std::span<const T, Steps * out_size> y,
                             std::span<const T, Steps * out_size> dy, std::span<T, param_count> dparams,
                             std::span<T, Steps * in_size> dx) {
    if constexpr (valid) {
      // The gradient with respect to layer i's output lives in buffer i % 2.
      const auto grads = [&]<std::size_t Size>(std::size_t parity) {
        return std::span<T, Size>(work.data() + steps_offset<Steps>[count] + parity * Steps * layout::buffer_width, Size);
      };
      using reversed = boost::mp11::mp_reverse<boost::mp11::mp_iota_c<count>>;
      boost::mp11::mp_for_each<reversed>([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        using L = at<i>;
        const auto d_out = [&] {
          if constexpr (i + 1 == count) return dy;
          else return std::span<const T, Steps * L::out_size>(grads.template operator()<Steps * L::out_size>(i % 2));
        }();
        const auto d_in = [&] {
          if constexpr (i == 0) return dx;
          else return grads.template operator()<Steps * L::in_size>((i - 1) % 2);
        }();
        const auto out = [&] {
          if constexpr (i + 1 == count) return y;
          else return std::span<const T, Steps * L::out_size>(steps_output<i, Steps>(work, y));
        }();
        detail::backward_steps<backward_mode<Mode, i>, L, Steps, T>(params_of<i>(params), steps_work_of<i, Steps>(work),
                                                                    steps_input<i, Steps>(work, x), out, d_out,
                                                                    params_of<i>(dparams), d_in);
      });
    }
  }

  template <class T>
  static constexpr void forward(std::span<const T, param_count> params,
                                std::span<T, cache_size> cache, std::span<const T, in_size> x,
                                std::span<T, out_size> y) {
    forward_block<1, T>(params, cache, x, y);
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count> params,
                                 std::span<const T, cache_size> cache,
                                 std::span<const T, in_size> x, std::span<const T, out_size> y,
                                 std::span<const T, out_size> dy,
                                 std::span<T, param_count> dparams, std::span<T, in_size> dx) {
    backward_block<Mode, 1, T>(params, cache, x, y, dy, dparams, dx);
  }

  /// forward over a block of Samples samples (core/blocks.hpp).
  template <std::size_t Samples, class T>
  static constexpr void forward_block(std::span<const T, param_count> params,
                                      std::span<T, Samples * cache_size> cache,
                                      std::span<const T, Samples * in_size> x,
                                      std::span<T, Samples * out_size> y) {
    run_forward<Samples, T>(params, {}, {}, cache, x, y);
  }

  /// One time step of training (core/steps.hpp).
  template <class T>
  static constexpr void forward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                     std::span<T, state_size> next_state, std::span<T, cache_size> cache,
                                     std::span<const T, in_size> x, std::span<T, out_size> y) {
    run_forward<1, T>(params, state, next_state, cache, x, y);
  }

  /// backward over a block of Samples samples (core/blocks.hpp). After each layer, calls
  /// `layer_done(offset, size)` with the range of the flat parameters whose gradient is
  /// then final (train_step steps them while they are still in cache).
  template <BackwardMode Mode, std::size_t Samples, class T, class LayerDone = detail::no_layer_hook>
  static constexpr void backward_block(std::span<const T, param_count> params,
                                       std::span<const T, Samples * cache_size> cache,
                                       std::span<const T, Samples * in_size> x,
                                       std::span<const T, Samples * out_size> y,
                                       std::span<const T, Samples * out_size> dy,
                                       std::span<T, param_count> dparams,
                                       std::span<T, Samples * in_size> dx, const LayerDone& layer_done = {}) {
    run_backward<Mode, Samples, T>(params, {}, cache, x, y, dy, {}, {}, dparams, dx, layer_done);
  }

  /// The backward pass of one time step (core/steps.hpp).
  template <BackwardMode Mode, class T>
  static constexpr void backward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                      std::span<const T, cache_size> cache, std::span<const T, in_size> x,
                                      std::span<const T, out_size> y, std::span<const T, out_size> dy,
                                      std::span<const T, state_size> d_next_state, std::span<T, state_size> d_state,
                                      std::span<T, param_count> dparams, std::span<T, in_size> dx) {
    run_backward<Mode, 1, T>(params, state, cache, x, y, dy, d_next_state, d_state, dparams, dx,
                             detail::no_layer_hook{});
  }

  /// The layers in order, on whatever records them (tape/network.hpp: the dynamic tape;
  /// diagnostics.hpp: the search for a NaN).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    boost::mp11::mp_for_each<boost::mp11::mp_iota_c<count>>(
        [&](auto index) { x = r.template child<decltype(index)::value>(x); });
    return x;
  }

  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng& rng, const Scheme& scheme) {
    if constexpr (valid) {
      boost::mp11::mp_for_each<boost::mp11::mp_iota_c<count>>([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        at<i>::template initialize<T>(params_of<i>(params), rng, scheme);
      });
    }
  }

 private:
  // The passes over a block of Samples samples, each layer with its state (empty spans for
  // a chain without state; one sample when there is state: core/steps.hpp).
  template <std::size_t Samples, class T>
  static constexpr void run_infer(std::span<const T, param_count> params, std::span<T, Samples * layout::state_size> state,
                                  std::span<const T, Samples * in_size> x, std::span<T, Samples * out_size> y) {
    chain<Samples, T>(x, y, [&]<std::size_t I>(auto in, auto out) {
      detail::infer_block<at<I>, Samples, T>(params_of<I>(params), state_of<I, Samples>(state), in, out);
    });
  }

  // Runs the layers from x to y over Rows rows, each layer's output the next one's input
  // through two buffers: run.template operator()<I>(in, out) for each layer I.
  template <std::size_t Rows, class T, class Run>
  static constexpr void chain(std::span<const T, Rows * in_size> x, std::span<T, Rows * out_size> y, Run run) {
    if constexpr (valid) {
      std::array<std::array<T, Rows * layout::buffer_width>, 2> buffers;
      boost::mp11::mp_for_each<boost::mp11::mp_iota_c<count>>([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        using L = at<i>;
        const auto in = [&] {
          if constexpr (i == 0) return x;
          else return std::span<const T, Rows * L::in_size>(buffer<Rows * L::in_size>(buffers, (i - 1) % 2));
        }();
        const auto out = [&] {
          if constexpr (i + 1 == count) return y;
          else return buffer<Rows * L::out_size>(buffers, i % 2);
        }();
        run.template operator()<i>(in, out);
      });
    }
  }

  template <std::size_t Samples, class T>
  static constexpr void run_forward(std::span<const T, param_count> params,
                                    std::span<const T, Samples * layout::state_size> state,
                                    std::span<T, Samples * layout::state_size> next_state,
                                    std::span<T, Samples * layout::cache_size> cache,
                                    std::span<const T, Samples * in_size> x, std::span<T, Samples * out_size> y) {
    if constexpr (valid) {
      bool stopped = false;  // by a BatchNorm's pass that needs no more (detail/batch_norm_pass.hpp)
      boost::mp11::mp_for_each<boost::mp11::mp_iota_c<count>>([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        using L = at<i>;
        if constexpr (detail::contains_batch_norm<Sequential>()) {
          if (stopped || (stopped = detail::batch_norm_pass<T>::forward_stopped())) return;
        }
        const auto in = [&] {
          if constexpr (i == 0) return x;
          else return std::span<const T, Samples * L::in_size>(output_of<i - 1, Samples>(cache));
        }();
        const auto out = [&] {
          if constexpr (i + 1 == count) return y;
          else return output_of<i, Samples>(cache);
        }();
        detail::forward_block<L, Samples, T>(params_of<i>(params), state_of<i, Samples>(state),
                                             state_of<i, Samples>(next_state), cache_of<i, Samples>(cache), in, out);
      });
      if constexpr (detail::contains_batch_norm<Sequential>()) {
        if (stopped) std::ranges::fill(y, T{0});
      }
    }
  }

  template <BackwardMode Mode, std::size_t Samples, class T, class LayerDone>
  static constexpr void run_backward(std::span<const T, param_count> params,
                                     std::span<const T, Samples * layout::state_size> state,
                                     std::span<const T, Samples * layout::cache_size> cache,
                                     std::span<const T, Samples * in_size> x, std::span<const T, Samples * out_size> y,
                                     std::span<const T, Samples * out_size> dy,
                                     std::span<const T, Samples * layout::state_size> d_next_state,
                                     std::span<T, Samples * layout::state_size> d_state,
                                     std::span<T, param_count> dparams, std::span<T, Samples * in_size> dx,
                                     const LayerDone& layer_done) {
    if constexpr (valid) {
      // The gradient with respect to layer i's output lives in buffer i % 2.
      std::array<std::array<T, Samples * layout::buffer_width>, 2> grads;
      bool stopped = false;  // by a BatchNorm's pass that needs no more (detail/batch_norm_pass.hpp)
      using reversed = boost::mp11::mp_reverse<boost::mp11::mp_iota_c<count>>;
      boost::mp11::mp_for_each<reversed>([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        using L = at<i>;
        if constexpr (detail::contains_batch_norm<Sequential>()) {
          if (stopped || (stopped = detail::batch_norm_pass<T>::backward_stopped())) return;
        }
        const auto in = [&] {
          if constexpr (i == 0) return x;
          else return output_of<i - 1, Samples>(cache);
        }();
        const auto out = [&] {
          if constexpr (i + 1 == count) return y;
          else return output_of<i, Samples>(cache);
        }();
        const auto d_out = [&] {
          if constexpr (i + 1 == count) return dy;
          else return std::span<const T, Samples * L::out_size>(buffer<Samples * L::out_size>(grads, i % 2));
        }();
        const auto d_in = [&] {
          if constexpr (i == 0) return dx;
          else return buffer<Samples * L::in_size>(grads, (i - 1) % 2);
        }();
        detail::backward_block<backward_mode<Mode, i>, L, Samples, T>(params_of<i>(params), state_of<i, Samples>(state),
                                                    cache_of<i, Samples>(cache), in, out, d_out,
                                                    state_of<i, Samples>(d_next_state), state_of<i, Samples>(d_state),
                                                    params_of<i>(dparams), d_in);
        layer_done(layout::param_offset[i], L::param_count);
      });
      if constexpr (detail::contains_batch_norm<Sequential>() && Mode.input_grad) {
        if (stopped) std::ranges::fill(dx, T{0});
      }
    }
  }

  template <class Spec, class T>
  friend class LayerView;
};

/// The layers of a Sequential: `layer<I>()` is a view of layer I.
template <class... Ls, class T>
class LayerView<Sequential<Ls...>, T> : public detail::view_base<Sequential<Ls...>, T> {
  using spec = Sequential<Ls...>;

 public:
  using detail::view_base<spec, T>::view_base;

  /// A view of layer I's parameters.
  template <std::size_t I>
  constexpr auto layer() const {
    static_assert(I < sizeof...(Ls), "staticgrad: layer<I>(): I is past the last layer");
    constexpr std::size_t index = I < sizeof...(Ls) ? I : 0;  // no follow-up errors
    using L = typename spec::template at<index>;
    return LayerView<L, T>(spec::template params_of<index>(this->params_));
  }
};

}  // namespace staticgrad
