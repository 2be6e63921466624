/// @file Defines staticgrad::Conv1D<InCh, OutCh, Kernel, Dilation, Act, Groups>: a causal,
/// dilated, optionally grouped one-dimensional convolution over time, one step at a time,
/// its past inputs in the stream's State.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <type_traits>

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/gemm.hpp>
#include <staticgrad/core/kernels.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/state_view.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/custom_activation.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

/// A causal convolution over time: at each step, y = φ(b + Σ_k W_k x_{t − (Kernel−1−k)·Dilation}),
/// the current input and the `(Kernel − 1) · Dilation` before it (zeros before the stream's
/// start). Over a sequence it equals nn.Conv1d(InCh, OutCh, Kernel, dilation=Dilation,
/// groups=Groups) with `(Kernel − 1) · Dilation` zeros padded on the left.
///
/// Parameters, in the flat order: the weight as [Kernel][InCh / Groups][OutCh], tap 0 the
/// oldest input (flat[(k · InCh/Groups + i) · OutCh + o] = nn.Conv1d.weight[o][i][k]), then
/// the bias [OutCh]. With Groups > 1, output o sees only the inputs of its group (o's group
/// is o / (OutCh / Groups)), i indexing the input within it. Initialized like Dense with
/// fan_in = InCh/Groups · Kernel and fan_out = OutCh/Groups · Kernel, biases 0.
///
/// State: the past inputs as a ring of (Kernel − 1) · Dilation steps, then the ring's
/// position (where the oldest input is, an exact small integer in T: the State is one flat
/// array of T, which training through time copies whole), so that a step does one step's
/// work and moves nothing. With Kernel 1 (a 1×1 convolution) it has no state and is a
/// plain layer.
/// @tparam InCh     input channels per step
/// @tparam OutCh    output channels per step
/// @tparam Kernel   taps
/// @tparam Dilation steps between taps
/// @tparam Act      the activation φ, as for Dense
/// @tparam Groups   as nn.Conv1d's groups: must divide InCh and OutCh
template <std::size_t InCh, std::size_t OutCh, std::size_t Kernel, std::size_t Dilation = 1, class Act = Identity,
          std::size_t Groups = 1>
struct Conv1D {
  // Instantiating the checks reports a bad activation or grouping; see detail/checks.hpp.
  static_assert(sizeof(detail::check_activation<Act>) > 0);
  static_assert(sizeof(detail::check_conv_groups<InCh, OutCh, Groups>) > 0);
  static_assert(InCh > 0 && OutCh > 0 && Kernel > 0 && Dilation > 0,
                "staticgrad::Conv1D: InCh, OutCh, Kernel and Dilation must be positive");
  /// False when Act is not an activation or Groups does not divide the channels (the error
  /// names it).
  static constexpr bool valid = ActivationLike<Act> && Groups > 0 && InCh % Groups == 0 && OutCh % Groups == 0;

  using activation = detail::activation_t<Act>;
  static constexpr std::size_t in_size = InCh;
  static constexpr std::size_t out_size = OutCh;
  static constexpr std::size_t group_in = valid ? InCh / Groups : 1, group_out = valid ? OutCh / Groups : 1;
  /// The inputs one output sees: Kernel taps of its group's channels.
  static constexpr std::size_t window = Kernel * group_in;
  /// A step's inputs at every tap, every channel: what the ring gives each step.
  static constexpr std::size_t step_taps = Kernel * InCh;
  static constexpr std::size_t weight_count = window * OutCh;
  static constexpr std::size_t param_count = weight_count + OutCh;
  static constexpr std::size_t cache_size = activation::derivative_from_output ? 0 : OutCh;  // φ'(z)
  static constexpr std::size_t flops = 2 * window * OutCh + (std::is_same_v<Act, Identity> ? 0 : OutCh);

  /// How many steps back it sees: (Kernel − 1) · Dilation.
  static constexpr std::size_t history = (Kernel - 1) * Dilation;
  /// The steps one output depends on, the current one included.
  static constexpr std::size_t receptive_field = history + 1;
  /// The ring of past inputs, then its position.
  static constexpr std::size_t state_size = history == 0 ? 0 : history * InCh + 1;

  static constexpr auto name() {
    return layer_name<"Conv1D", InCh, OutCh, Kernel, Dilation, detail::hana_string<activation::name>(), Groups>();
  }
  /// In PyTorch: nn.Conv1d, then the activation's module unless it is Identity.
  static constexpr std::size_t torch_modules = std::is_same_v<Act, Identity> ? 1 : 2;
  /// nn.Conv1d's weight [OutCh, InCh / Groups, Kernel] and bias.
  static constexpr std::array tensors{
      TensorLayout{.name = "weight",
                   .rank = 3,
                   .shape = {OutCh, group_in, Kernel},
                   .strides = {1, OutCh, group_in * OutCh},
                   .offset = 0},
      vector_tensor("bias", OutCh, weight_count)};

  // A 1×1 convolution (no past): a plain layer.

  template <class T>
    requires(history == 0)
  static void infer(std::span<const T, param_count> params, std::span<const T, InCh> x, std::span<T, OutCh> y) {
    convolve<T>(params, x.data(), y.data());
    detail::apply_activation<activation>(y);
  }
  template <class T>
    requires(history == 0)
  static void forward(std::span<const T, param_count> params, std::span<T, cache_size> cache,
                      std::span<const T, InCh> x, std::span<T, OutCh> y) {
    output<T>(params, cache, x.data(), y);
  }
  template <BackwardMode Mode, class T>
    requires(history == 0)
  static void backward(std::span<const T, param_count> params, std::span<const T, cache_size> cache,
                       std::span<const T, InCh> x, std::span<const T, OutCh> y, std::span<const T, OutCh> dy,
                       std::span<T, param_count> dparams, std::span<T, InCh> dx) {
    if constexpr (Mode.param_grad || Mode.input_grad)
      output_backward<Mode, T>(params, cache, x.data(), y, dy, dparams, dx.data());
  }

  // With a past: one step at a time (core/steps.hpp).

  template <class T>
    requires(history > 0)
  static void step(std::span<const T, param_count> params, std::span<T, state_size> state,
                   std::span<const T, InCh> x, std::span<T, OutCh> y) {
    std::array<T, step_taps> taps;
    gather_windows<1, T>(state.data(), x.data(), taps.data());
    convolve<T>(params, taps.data(), y.data());
    detail::apply_activation<activation>(y);
    remember<1, T>(state.data(), x.data());
  }
  template <class T>
    requires(history > 0)
  static void forward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                           std::span<T, state_size> next, std::span<T, cache_size> cache,
                           std::span<const T, InCh> x, std::span<T, OutCh> y) {
    std::array<T, step_taps> taps;
    gather_windows<1, T>(state.data(), x.data(), taps.data());
    output<T>(params, cache, taps.data(), y);
    std::copy(state.begin(), state.end(), next.begin());
    remember<1, T>(next.data(), x.data());
  }
  /// Steps time steps of one stream at once (core/steps.hpp): every step's window of inputs
  /// times the weights as one matrix product (grouped: step by step, each from its window);
  /// then the ring takes the last inputs, as Steps calls of `step` leave it. The product
  /// reads each tap's inputs over the steps where they are, in the ring or in x, when they
  /// lie there in order.
  template <std::size_t Steps, class T>
  static void infer_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                          std::span<const T, Steps * InCh> x, std::span<T, Steps * OutCh> y) {
    if constexpr (reads_in_place<Steps, T>) {
      std::array<T, Steps * step_taps> copies;
      const T* w = params.data();
      detail::gemm::affine<T, Steps, window, OutCh>(w, w + weight_count,
                                                    tap_runs<Steps, T>(state.data(), x.data(), copies.data()), y.data());
    } else {
      std::array<T, Steps * step_taps> windows;
      gather_windows<Steps, T>(state.data(), x.data(), windows.data());
      convolve_steps<Steps, T>(params, windows.data(), y.data());
    }
    detail::apply_activation<activation>(y);
    remember<Steps, T>(state.data(), x.data());
  }

  /// Training over Steps steps (core/steps.hpp): as infer_steps, keeping the windows, φ'
  /// where it is kept, and room for ∂L/∂z.
  template <std::size_t Steps>
  static constexpr std::size_t steps_workspace = Steps * (step_taps + cache_size + OutCh);

  template <std::size_t Steps, class T>
  static void forward_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                            std::span<T, steps_workspace<Steps>> work, std::span<const T, Steps * InCh> x,
                            std::span<T, Steps * OutCh> y) {
    gather_windows<Steps, T>(state.data(), x.data(), work.data());
    convolve_steps<Steps, T>(params, work.data(), y.data());
    detail::activation_forward<activation>(y, work.data() + Steps * step_taps);
    remember<Steps, T>(state.data(), x.data());
  }

  /// The windows' gradient as one matrix product (grouped: step by step), then each
  /// window's part added to the step it came from (those from before the first step belong
  /// to the state: dropped).
  template <BackwardMode Mode, std::size_t Steps, class T>
  static void backward_steps(std::span<const T, param_count> params, std::span<T, steps_workspace<Steps>> work,
                             std::span<const T, Steps * InCh>, std::span<const T, Steps * OutCh> y,
                             std::span<const T, Steps * OutCh> dy, std::span<T, param_count> dparams,
                             std::span<T, Steps * InCh> dx) {
    if constexpr (Mode.param_grad || Mode.input_grad) {
      T* windows = work.data();
      const T* dz = dy.data();
      if constexpr (!std::is_same_v<Act, Identity>) {
        T* kept = work.data() + Steps * (step_taps + cache_size);
        detail::activation_backward_kept<activation, T, Steps * OutCh>(y.data(), work.data() + Steps * step_taps,
                                                                       dy.data(), kept);
        dz = kept;
      }
      const T* w = params.data();
      T* dw = dparams.data();
      if constexpr (Mode.param_grad) {
        if constexpr (as_matrices<T>) {
          detail::gemm::param_grad<Mode.accumulate, T, Steps, window, OutCh>(windows, dz, dw, dw + weight_count);
        } else {
          for (std::size_t t = 0; t < Steps; ++t) {
            const auto add = [&]<bool Accumulate>() {
              taps_backward<BackwardMode{.accumulate = Accumulate, .input_grad = false}, T>(
                  params, windows + t * step_taps, dz + t * OutCh, dparams, nullptr);
            };
            if (t == 0 && !Mode.accumulate) add.template operator()<false>();
            else add.template operator()<true>();
          }
        }
      }
      if constexpr (Mode.input_grad) {
        T* d_windows = windows;  // the windows are no longer needed
        if constexpr (as_matrices<T>) {
          detail::gemm::input_grad<T, Steps, window, OutCh>(w, dz, d_windows);
        } else {
          for (std::size_t t = 0; t < Steps; ++t)
            taps_backward<BackwardMode{.input_grad = true, .param_grad = false}, T>(params, nullptr, dz + t * OutCh,
                                                                                   dparams, d_windows + t * step_taps);
        }
        std::fill(dx.begin(), dx.end(), T{0});
        for (std::size_t t = 0; t < Steps; ++t)
          for (std::size_t k = 0; k < Kernel; ++k) {
            const std::size_t r = t + k * Dilation;  // the stream's input r, as gather_windows counts
            if (r < history) continue;
            const T* part = d_windows + (t * Kernel + k) * InCh;
            T* into = dx.data() + (r - history) * InCh;
            for (std::size_t i = 0; i < InCh; ++i) into[i] += part[i];
          }
      }
    }
  }

  /// ∂L/∂(the state before) is ∂L/∂(the state after) moved back one step (the slot that now
  /// holds x held the oldest input, which only tap 0 read), plus each tap's share.
  template <BackwardMode Mode, class T>
    requires(history > 0)
  static void backward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                            std::span<const T, cache_size> cache, std::span<const T, InCh> x,
                            std::span<const T, OutCh> y, std::span<const T, OutCh> dy,
                            std::span<const T, state_size> d_next, std::span<T, state_size> d_state,
                            std::span<T, param_count> dparams, std::span<T, InCh> dx) {
    std::array<T, step_taps> taps, d_taps;
    gather_windows<1, T>(state.data(), x.data(), taps.data());
    output_backward<BackwardMode{.accumulate = Mode.accumulate, .input_grad = true, .param_grad = Mode.param_grad}, T>(
        params, cache, taps.data(), y, dy, dparams, d_taps.data());
    const std::size_t oldest = oldest_slot(state.data());
    std::copy(d_next.begin(), d_next.end(), d_state.begin());
    std::fill_n(d_state.begin() + static_cast<std::ptrdiff_t>(oldest * InCh), InCh, T{0});
    d_state[history * InCh] = T{0};  // the position is no value to differentiate
    for (std::size_t k = 0; k + 1 < Kernel; ++k) {
      T* past = d_state.data() + slot(oldest, steps_back(k)) * InCh;
      for (std::size_t i = 0; i < InCh; ++i) past[i] += d_taps[k * InCh + i];
    }
    if constexpr (Mode.input_grad) {
      const T* newest = d_taps.data() + (Kernel - 1) * InCh;
      for (std::size_t i = 0; i < InCh; ++i) dx[i] = newest[i] + d_next[oldest * InCh + i];
    }
  }

  /// On the dynamic tape (tape/network.hpp): the taps gathered from the state, then each
  /// group's affine map (the whole weight matrix times the group's window, of which the
  /// group's outputs are kept: the weights of other groups get a zero gradient).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    using value = typename Recording::value;
    using T = typename Recording::scalar;
    const auto weight = r.parameter(0, window, OutCh), bias = r.parameter(weight_count, OutCh);
    const auto group_part = [&](value v, std::size_t g) { return Groups == 1 ? v : r.slice(v, g * group_in, group_in); };
    const auto group_output = [&](const auto& tap, std::size_t g) {
      value inputs = group_part(tap(0), g);
      for (std::size_t k = 1; k < Kernel; ++k) inputs = r.concat(inputs, group_part(tap(k), g));
      const value z = r.affine(weight, bias, inputs);
      return Groups == 1 ? z : r.slice(z, g * group_out, group_out);
    };
    const auto outputs = [&](const auto& tap) {
      value z = group_output(tap, 0);
      for (std::size_t g = 1; g < Groups; ++g) z = r.concat(z, group_output(tap, g));
      if constexpr (std::is_same_v<Act, Identity>) return z;
      else return r.template activation<activation>(z);
    };
    if constexpr (history == 0) {
      return outputs([&](std::size_t) { return x; });
    } else {
      const value state = r.state();
      const std::size_t oldest = oldest_slot(state.value().data());
      const value y = outputs([&](std::size_t k) {
        return k + 1 == Kernel ? x : r.slice(state, slot(oldest, steps_back(k)) * InCh, InCh);
      });
      // The next state: x in the oldest input's slot, the position one further.
      value next = x;
      if (oldest > 0) next = r.concat(r.slice(state, 0, oldest * InCh), next);
      if (oldest + 1 < history) next = r.concat(next, r.slice(state, (oldest + 1) * InCh, (history - oldest - 1) * InCh));
      const T position = static_cast<T>((oldest + 1) % history);
      r.next_state(r.concat(next, r.input(std::span<const T>(&position, 1))));
      return y;
    }
  }

  /// Weights drawn from `scheme` (fan_in = InCh/Groups · Kernel, fan_out = OutCh/Groups ·
  /// Kernel; init::Default means the activation's default), biases 0.
  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng& rng, const Scheme& scheme) {
    if constexpr (std::is_same_v<Scheme, init::Default>) {
      initialize<T>(params, rng, typename activation::default_init{});
    } else {
      for (std::size_t k = 0; k < weight_count; ++k)
        params[k] = static_cast<T>(scheme.sample(rng, window, group_out * Kernel));
      std::fill(params.begin() + weight_count, params.end(), T{0});
    }
  }

  /// Where the oldest input of the ring starts (in steps), as the state records it.
  template <class U>
  static constexpr std::size_t oldest_slot(const U* state) {
    return static_cast<std::size_t>(state[history * InCh]);
  }
  /// The ring slot of the input `back` steps before the current one (1 ≤ back ≤ history).
  static constexpr std::size_t slot(std::size_t oldest, std::size_t back) {
    const std::size_t at = oldest + history - back;  // below 2 · history: one wrap at most
    return at < history ? at : at - history;
  }

 private:
  // How many steps before the current one tap k reads.
  static constexpr std::size_t steps_back(std::size_t k) { return (Kernel - 1 - k) * Dilation; }

  // Each of Steps steps' window, [Steps][Kernel][InCh]. The stream's inputs are counted from
  // the ring's oldest, r = 0, to x's first step, r = history, and on.
  template <std::size_t Steps, class T>
  static void gather_windows(const T* state, const T* x, T* windows) {
    const std::size_t oldest = history == 0 ? 0 : oldest_slot(state);
    const auto input = [&](std::size_t r) {
      return r < history ? state + slot(oldest, history - r) * InCh : x + (r - history) * InCh;
    };
    for (std::size_t t = 0; t < Steps; ++t)
      for (std::size_t k = 0; k < Kernel; ++k) std::copy_n(input(t + k * Dilation), InCh, windows + (t * Kernel + k) * InCh);
  }

  // Whether the backward pass over Steps steps takes the windows' gradients as matrix
  // products: one group (each window is then one row of a matrix), wide enough for the
  // batched kernels.
  template <class T>
  static constexpr bool as_matrices = Groups == 1 && detail::gemm::fits<T, window, OutCh>;
  // Whether infer_steps's product reads the taps' runs of inputs where they are: one group,
  // a layer the tiles or the interleaved kernel take (core/gemm.hpp).
  template <std::size_t Steps, class T>
  static constexpr bool reads_in_place = Groups == 1 && detail::gemm::runs_fit<T, Steps, window, OutCh, InCh>;
  // Each tap's inputs over Steps steps, [Steps][InCh], as runs of the windows' rows: where
  // they lie in order (in the ring, or in x), else copied into `copies` (a run from the
  // ring into x, or round the ring's end).
  template <std::size_t Steps, class T>
  static detail::gemm::row_runs<T, InCh, Kernel, InCh> tap_runs(const T* state, const T* x, T* copies) {
    const std::size_t oldest = history == 0 ? 0 : oldest_slot(state);
    detail::gemm::row_runs<T, InCh, Kernel, InCh> runs;
    for (std::size_t k = 0; k < Kernel; ++k) {
      const std::size_t first = k * Dilation;  // the stream's input of step 0, as gather_windows counts
      if (first >= history) {
        runs.starts[k] = x + (first - history) * InCh;
      } else if constexpr (history > 0) {
        const std::size_t at = slot(oldest, history - first), from_ring = std::min(Steps, history - first);
        if (from_ring == Steps && at + Steps <= history) {
          runs.starts[k] = state + at * InCh;
        } else {
          const std::size_t before_end = std::min(from_ring, history - at);
          T* copy = copies + k * Steps * InCh;
          T* next = std::copy_n(state + at * InCh, before_end * InCh, copy);
          next = std::copy_n(state, (from_ring - before_end) * InCh, next);
          std::copy_n(x, (Steps - from_ring) * InCh, next);
          runs.starts[k] = copy;
        }
      }
    }
    return runs;
  }

  // The windows times the weights, plus the biases: as one matrix product where a layer
  // fits it (narrow ones too, their windows' inputs interleaved), else as dot products of a
  // register of windows, else window by window.
  template <std::size_t Steps, class T>
  static void convolve_steps(std::span<const T, param_count> params, const T* windows, T* z) {
    const T* w = params.data();
    if constexpr (Groups == 1 && detail::gemm::runs_fit<T, Steps, window, OutCh, window>) {
      detail::gemm::affine<T, Steps, window, OutCh>(w, w + weight_count, detail::gemm::matrix_rows<window>(windows), z);
    } else if constexpr (Groups == 1 && detail::gemm::reduced_fits<T, Steps, window, OutCh>) {
      detail::gemm::affine_reduced<T, Steps, window, OutCh>(w, w + weight_count, windows, z);
    } else {
      for (std::size_t t = 0; t < Steps; ++t) convolve<T>(params, windows + t * step_taps, z + t * OutCh);
    }
  }

  // The ring after Steps steps of x: step t's input in the slot oldest + t (each, in turn,
  // the oldest input's), the position Steps further.
  template <std::size_t Steps, class T>
  static void remember(T* state, const T* x) {
    if constexpr (history > 0) {
      const std::size_t oldest = oldest_slot(state);
      for (std::size_t t = Steps > history ? Steps - history : 0; t < Steps; ++t)
        std::copy_n(x + t * InCh, InCh, state + wrapped(oldest + t) * InCh);
      state[history * InCh] = static_cast<T>(wrapped(oldest + Steps));
    }
  }

  // A slot of the ring counted from slot 0 on, wrapped round: one comparison for one step
  // (the position is on every streaming step's chain), a division for more.
  static constexpr std::size_t wrapped(std::size_t at) {
    if (at < history) return at;
    return at - history < history ? at - history : at % history;
  }

  // z = b + Σ over the window of the weights times the taps.
  template <class T>
  static void convolve(std::span<const T, param_count> params, const T* taps, T* z) {
    const T* w = params.data();
    const T* b = w + weight_count;
    if constexpr (Groups == 1) {
      detail::affine<T, window, OutCh>(w, b, taps, z);
    } else {
      std::copy_n(b, OutCh, z);
      for (std::size_t g = 0; g < Groups; ++g)
        for (std::size_t k = 0; k < Kernel; ++k)
          for (std::size_t i = 0; i < group_in; ++i) {
            const T input = taps[k * InCh + g * group_in + i];
            const T* row = w + (k * group_in + i) * OutCh + g * group_out;
            for (std::size_t o = 0; o < group_out; ++o) z[g * group_out + o] += row[o] * input;
          }
    }
  }

  // The output of training: z in a local array, y written once (as Dense::forward).
  template <class T>
  static void output(std::span<const T, param_count> params, std::span<T, cache_size> cache, const T* taps,
                     std::span<T, OutCh> y) {
    std::array<T, OutCh> z;
    convolve<T>(params, taps, z.data());
    detail::activation_forward<activation>(std::span<T, OutCh>(z), cache.data());
    std::copy(z.begin(), z.end(), y.begin());
  }

  // Back through output: ∂L/∂params (Mode.param_grad) and ∂L/∂taps (Mode.input_grad).
  template <BackwardMode Mode, class T>
  static void output_backward(std::span<const T, param_count> params, std::span<const T, cache_size> cache,
                              const T* taps, std::span<const T, OutCh> y, std::span<const T, OutCh> dy,
                              std::span<T, param_count> dparams, T* d_taps) {
    std::array<T, OutCh> dz_kept;
    const T* dz = dy.data();
    if constexpr (!std::is_same_v<Act, Identity>) {
      detail::activation_backward_kept<activation, T, OutCh>(y.data(), cache.data(), dy.data(), dz_kept.data());
      dz = dz_kept.data();
    }
    taps_backward<Mode, T>(params, taps, dz, dparams, d_taps);
  }

  // Back through z = b + W taps, given dz: ∂L/∂params (Mode.param_grad: written, or added
  // with Mode.accumulate; reads the taps) and ∂L/∂taps (Mode.input_grad).
  template <BackwardMode Mode, class T>
  static void taps_backward(std::span<const T, param_count> params, const T* taps, const T* dz,
                            std::span<T, param_count> dparams, T* d_taps) {
    T* dw = dparams.data();
    T* db = dw + weight_count;
    if constexpr (Groups == 1) {
      if constexpr (Mode.input_grad) detail::affine_input_grad<T, window, OutCh>(params.data(), dz, d_taps);
      if constexpr (Mode.param_grad) detail::affine_param_grad<Mode.accumulate, T, window, OutCh>(taps, dz, dw, db);
    } else {
      if constexpr (Mode.param_grad && !Mode.accumulate) std::fill(dparams.begin(), dparams.end(), T{0});
      if constexpr (Mode.param_grad)
        for (std::size_t o = 0; o < OutCh; ++o) db[o] += dz[o];
      for (std::size_t g = 0; g < Groups; ++g)
        for (std::size_t k = 0; k < Kernel; ++k)
          for (std::size_t i = 0; i < group_in; ++i) {
            const std::size_t tap = k * InCh + g * group_in, row = (k * group_in + i) * OutCh + g * group_out;
            const T* dz_group = dz + g * group_out;
            if constexpr (Mode.param_grad)
              for (std::size_t o = 0; o < group_out; ++o) dw[row + o] += dz_group[o] * taps[tap + i];
            if constexpr (Mode.input_grad) {
              T sum{0};
              for (std::size_t o = 0; o < group_out; ++o) sum += params[row + o] * dz_group[o];
              d_taps[tap + i] = sum;
            }
          }
    }
  }
};

/// Conv1D parameters by name, as nn.Conv1d indexes them: `weight(o, i, k)` is
/// nn.Conv1d.weight[o][i][k] (i within o's group, tap 0 the oldest), `bias(o)`.
template <std::size_t InCh, std::size_t OutCh, std::size_t Kernel, std::size_t Dilation, class Act, std::size_t Groups,
          class T>
class LayerView<Conv1D<InCh, OutCh, Kernel, Dilation, Act, Groups>, T>
    : public detail::view_base<Conv1D<InCh, OutCh, Kernel, Dilation, Act, Groups>, T> {
  using spec = Conv1D<InCh, OutCh, Kernel, Dilation, Act, Groups>;

 public:
  using detail::view_base<spec, T>::view_base;
  constexpr T& weight(std::size_t o, std::size_t i, std::size_t k) const {
    return this->params_[(k * spec::group_in + i) * OutCh + o];
  }
  constexpr T& bias(std::size_t o) const { return this->params_[spec::weight_count + o]; }
};

/// A Conv1D's state: `input(t)`, the input t = 1 … (Kernel − 1) · Dilation steps back
/// (zeros before the stream's start), to read or set.
template <std::size_t InCh, std::size_t OutCh, std::size_t Kernel, std::size_t Dilation, class Act, std::size_t Groups,
          class T>
  requires(Conv1D<InCh, OutCh, Kernel, Dilation, Act, Groups>::history > 0)
class StateView<Conv1D<InCh, OutCh, Kernel, Dilation, Act, Groups>, T> {
  using spec = Conv1D<InCh, OutCh, Kernel, Dilation, Act, Groups>;

 public:
  constexpr explicit StateView(std::span<T, spec::state_size> state) : state_(state) {}
  constexpr std::span<T, spec::state_size> flat() const { return state_; }
  constexpr std::span<T, InCh> input(std::size_t back) const {
    return std::span<T, InCh>(state_.data() + spec::slot(spec::oldest_slot(state_.data()), back) * InCh, InCh);
  }

 private:
  std::span<T, spec::state_size> state_;
};

}  // namespace staticgrad
