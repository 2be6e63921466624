/// @file Defines staticgrad::Concat<Bs...>, staticgrad::Sum<Bs...> and
/// staticgrad::Product<Bs...>: branches that read the same input, their outputs
/// concatenated, added or multiplied. A network becomes a static DAG.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/kernels.hpp>
#include <staticgrad/core/layer_name.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/core/steps.hpp>
#include <staticgrad/core/tensors.hpp>
#include <staticgrad/core/training.hpp>
#include <staticgrad/detail/checks.hpp>
#include <staticgrad/detail/layout.hpp>
#include <staticgrad/init.hpp>

namespace staticgrad {

namespace detail {

/// How branches' outputs become one: one after the other, or element by element.
enum class merge { concat, sum, product };

template <std::size_t N>
constexpr std::size_t first_differing(const std::array<std::size_t, N>& sizes) {
  for (std::size_t i = 1; i < N; ++i)
    if (sizes[i] != sizes[0]) return i;
  return N;
}

/// What is wrong with a set of branches, first problem only (each index is `count` when
/// there is none): a non-layer, an in_size that differs from the first branch's, and for
/// Sum and Product an out_size that differs.
template <merge Kind, class... Bs>
struct branches_report {
  static constexpr std::size_t count = sizeof...(Bs);
  static constexpr std::array<std::size_t, count> ins{in_size_of<Bs>()...};
  static constexpr std::array<std::size_t, count> outs{out_size_of<Bs>()...};
  static constexpr std::size_t bad_layer = first_false<count>({(Layer<Bs> || reported_invalid<Bs>())...});
  static constexpr bool members_valid = (layer_is_valid<Bs>() && ...);
  static constexpr std::size_t bad_input = first_differing(ins);
  static constexpr std::size_t bad_output = Kind != merge::concat ? first_differing(outs) : count;
  static constexpr bool valid = bad_layer == count && members_valid && bad_input == count && bad_output == count;
  static constexpr int problem = bad_layer < count ? 1
                                 : !members_valid  ? 0
                                 : bad_input < count ? 2
                                 : bad_output < count ? 3
                                                      : 0;
};

template <class Report, class List, int Problem = Report::problem>
struct branches_diagnostic {
  using check = no_problem;
};
template <class Report, class List>
struct branches_diagnostic<Report, List, 1> {
  using check = check_is_layer<Report::bad_layer, boost::mp11::mp_at_c<List, Report::bad_layer>>;
};
template <class Report, class List>
struct branches_diagnostic<Report, List, 2> {
  using check = check_branch_input<Report::bad_input, Report::ins[0], Report::ins[Report::bad_input]>;
};
template <class Report, class List>
struct branches_diagnostic<Report, List, 3> {
  using check = check_elementwise_output<Report::bad_output, Report::outs[0], Report::outs[Report::bad_output]>;
};

/// Branches Bs reading one input, their outputs merged as Kind says. Parameters: each
/// branch's, in order. Cache: each branch's, and for Sum and Product each branch's output
/// too (Concat's are slices of its own output). State (GRU, …): each branch's, in order.
template <merge Kind, class... Bs>
struct branch_set {
  static_assert(sizeof...(Bs) > 0, "staticgrad::Concat/Sum: needs at least one branch");
  using report = branches_report<Kind, Bs...>;
  /// Sum and Product: the outputs, all of one size, merged element by element.
  static constexpr bool elementwise = Kind != merge::concat;
  static constexpr bool valid = report::valid;
  // Instantiating the check reports the problem; see detail/checks.hpp.
  static_assert(sizeof(typename branches_diagnostic<report, boost::mp11::mp_list<Bs...>>::check) > 0);

  using branches = boost::mp11::mp_list<Bs...>;
  using children = branches;  // a composite (detail/traversal.hpp)
  static constexpr bool stochastic = (is_stochastic<Bs> || ...);
  static constexpr std::size_t count = sizeof...(Bs);

  static constexpr std::size_t in_size = valid ? report::ins[0] : 0;
  static constexpr std::size_t out_size = !valid ? 0 : elementwise ? report::outs[0] : (network_sizes<Bs>::out_size + ...);
  static constexpr std::array<std::size_t, count + 1> param_offset =
      prefix_sums<count>({network_sizes<Bs>::param_count...});
  static constexpr std::array<std::size_t, count + 1> cache_offset =
      prefix_sums<count>({(network_sizes<Bs>::cache_size + (elementwise ? network_sizes<Bs>::out_size : 0))...});
  static constexpr std::array<std::size_t, count + 1> out_offset = prefix_sums<count>({network_sizes<Bs>::out_size...});
  static constexpr std::size_t param_count = param_offset[count];
  static constexpr std::size_t cache_size = cache_offset[count];
  static constexpr auto child_param_offset = param_offset;
  static constexpr auto child_cache_offset = cache_offset;
  static constexpr std::array<std::size_t, count + 1> state_offset = prefix_sums<count>({state_size_of<Bs>()...});
  /// The scalars its branches carry from one time step to the next (core/steps.hpp).
  static constexpr std::size_t state_size = state_offset[count];
  static constexpr auto child_state_offset = state_offset;
  /// In PyTorch: an nn.ModuleList of nn.Sequential, so branch I's layers are "I.0", "I.1",
  /// … (a branch that is not a chain is the only member of its nn.Sequential).
  template <std::size_t I>
  static std::string torch_prefix() {
    return std::to_string(I) + (torch_sequential<at<I>>() ? "." : ".0.");
  }
  static constexpr std::size_t flops = [] {
    if constexpr (valid) return (Bs::flops + ...) + (elementwise ? (count - 1) * out_size : 0);
    else return std::size_t{0};
  }();

  template <std::size_t I>
  using at = boost::mp11::mp_at_c<branches, I>;

  template <std::size_t I, class U, std::size_t N>
  static constexpr auto params_of(std::span<U, N> params) {
    return slice<param_offset[I], at<I>::param_count>(params);
  }
  template <std::size_t I, class U, std::size_t N>
  static constexpr auto cache_of(std::span<U, N> cache) {
    return slice<cache_offset[I], at<I>::cache_size>(cache);
  }
  template <std::size_t I, class U, std::size_t N>
  static constexpr auto state_of(std::span<U, N> state) {
    return slice<state_offset[I], state_size_of<at<I>>()>(state);
  }
  // Branch I's output: kept in the cache for Sum and Product, a slice of the output for Concat.
  template <std::size_t I, class U, std::size_t N, class Y>
  static constexpr auto output_of(std::span<U, N> cache, Y y) {
    if constexpr (elementwise) return slice<cache_offset[I] + at<I>::cache_size, out_size>(cache);
    else return slice<out_offset[I], at<I>::out_size>(y);
  }

  // Over Steps time steps (core/steps.hpp): where branch I's workspace starts, followed by
  // its outputs.
  template <std::size_t Steps>
  static constexpr std::array<std::size_t, count + 1> steps_offset =
      prefix_sums<count>({(steps_workspace_of<Bs, Steps>() + Steps * network_sizes<Bs>::out_size)...});
  static constexpr std::size_t widest_output = std::max({network_sizes<Bs>::out_size...});
  template <std::size_t I, std::size_t Steps, class U, std::size_t N>
  static constexpr auto steps_work_of(std::span<U, N> work) {
    return slice<steps_offset<Steps>[I], steps_workspace_of<at<I>, Steps>()>(work);
  }
  template <std::size_t I, std::size_t Steps, class U, std::size_t N>
  static constexpr auto steps_output_of(std::span<U, N> work) {
    return slice<steps_offset<Steps>[I] + steps_workspace_of<at<I>, Steps>(), Steps * at<I>::out_size>(work);
  }

  template <class F>
  static constexpr void each_branch(F f) {
    boost::mp11::mp_for_each<boost::mp11::mp_iota_c<count>>(f);
  }

  template <class T>
  static constexpr void infer(std::span<const T, param_count> params, std::span<const T, in_size> x,
                              std::span<T, out_size> y) {
    run_infer<T>(params, {}, x, y);
  }
  /// One time step (core/steps.hpp): every branch with its state.
  template <class T>
  static constexpr void step(std::span<const T, param_count> params, std::span<T, state_size> state,
                             std::span<const T, in_size> x, std::span<T, out_size> y) {
    run_infer<T>(params, state, x, y);
  }

  template <class T>
  static constexpr void forward(std::span<const T, param_count> params, std::span<T, cache_size> cache,
                                std::span<const T, in_size> x, std::span<T, out_size> y) {
    run_forward<T>(params, {}, {}, cache, x, y);
  }
  template <class T>
  static constexpr void forward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                     std::span<T, state_size> next_state, std::span<T, cache_size> cache,
                                     std::span<const T, in_size> x, std::span<T, out_size> y) {
    run_forward<T>(params, state, next_state, cache, x, y);
  }

  template <BackwardMode Mode, class T>
  static constexpr void backward(std::span<const T, param_count> params, std::span<const T, cache_size> cache,
                                 std::span<const T, in_size> x, std::span<const T, out_size> y,
                                 std::span<const T, out_size> dy, std::span<T, param_count> dparams,
                                 std::span<T, in_size> dx) {
    run_backward<Mode, T>(params, {}, cache, x, y, dy, {}, {}, dparams, dx);
  }
  template <BackwardMode Mode, class T>
  static constexpr void backward_step(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                      std::span<const T, cache_size> cache, std::span<const T, in_size> x,
                                      std::span<const T, out_size> y, std::span<const T, out_size> dy,
                                      std::span<const T, state_size> d_next_state, std::span<T, state_size> d_state,
                                      std::span<T, param_count> dparams, std::span<T, in_size> dx) {
    run_backward<Mode, T>(params, state, cache, x, y, dy, d_next_state, d_state, dparams, dx);
  }

  /// Steps time steps of one stream (core/steps.hpp): each branch over all of them (a
  /// Conv1D as one matrix product), then the outputs merged.
  template <std::size_t Steps, class T>
  static void infer_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                          std::span<const T, Steps * in_size> x, std::span<T, Steps * out_size> y) {
    if constexpr (valid) {
      std::array<T, Steps * widest_output> branch_y;
      each_branch([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        if constexpr (elementwise && i == 0) {
          detail::infer_steps<at<i>, Steps, T>(params_of<i>(params), state_of<i>(state), x, y);
        } else {
          const auto out = std::span<T, Steps * at<i>::out_size>(branch_y.data(), Steps * at<i>::out_size);
          detail::infer_steps<at<i>, Steps, T>(params_of<i>(params), state_of<i>(state), x, out);
          merge_steps<i, Steps, T>(out, y);
        }
      });
    }
  }

  /// Training through Steps time steps (core/steps.hpp): each branch's workspace and its
  /// outputs, then room for one branch's output gradient and one branch's input gradient.
  template <std::size_t Steps>
  static constexpr std::size_t steps_workspace = steps_offset<Steps>[count] + Steps * (widest_output + in_size);

  template <std::size_t Steps, class T>
  static void forward_steps(std::span<const T, param_count> params, std::span<T, state_size> state,
                            std::span<T, steps_workspace<Steps>> work, std::span<const T, Steps * in_size> x,
                            std::span<T, Steps * out_size> y) {
    if constexpr (valid) {
      each_branch([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        const auto out = steps_output_of<i, Steps>(work);
        detail::forward_steps<at<i>, Steps, T>(params_of<i>(params), state_of<i>(state), steps_work_of<i, Steps>(work),
                                               x, out);
        merge_steps<i, Steps, T>(out, y);
      });
    }
  }

  template <BackwardMode Mode, std::size_t Steps, class T>
  static void backward_steps(std::span<const T, param_count> params, std::span<T, steps_workspace<Steps>> work,
                             std::span<const T, Steps * in_size> x, std::span<const T, Steps * out_size>,
                             std::span<const T, Steps * out_size> dy, std::span<T, param_count> dparams,
                             std::span<T, Steps * in_size> dx) {
    if constexpr (valid) {
      const auto d_branch_out = slice<steps_offset<Steps>[count], Steps * widest_output>(work);
      const auto branch_dx = slice<steps_offset<Steps>[count] + Steps * widest_output, Steps * in_size>(work);
      each_branch([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        constexpr std::size_t Out = at<i>::out_size;
        const auto d_out = [&] {
          const auto d = std::span<T, Steps * Out>(d_branch_out.data(), Steps * Out);
          if constexpr (Kind == merge::sum) {
            return dy;
          } else if constexpr (Kind == merge::concat) {  // branch i's columns of dy
            for (std::size_t t = 0; t < Steps; ++t)
              std::copy_n(dy.data() + t * out_size + out_offset[i], Out, d.data() + t * Out);
            return std::span<const T, Steps * Out>(d);
          } else {  // ∂L/∂y_i = dy ⊙ the other branches' outputs
            std::copy(dy.begin(), dy.end(), d.begin());
            each_branch([&](auto other) {
              constexpr std::size_t j = decltype(other)::value;
              if constexpr (j != i)
                merge_into<T, Steps * Out>(d, std::span<const T, Steps * Out>(steps_output_of<j, Steps>(work)));
            });
            return std::span<const T, Steps * Out>(d);
          }
        }();
        const auto dx_i = i == 0 ? dx : branch_dx;
        detail::backward_steps<Mode, at<i>, Steps, T>(params_of<i>(params), steps_work_of<i, Steps>(work), x,
                                                      std::span<const T, Steps * Out>(steps_output_of<i, Steps>(work)),
                                                      d_out, params_of<i>(dparams), dx_i);
        if constexpr (i > 0 && Mode.input_grad)
          for (std::size_t k = 0; k < Steps * in_size; ++k) dx[k] += branch_dx[k];
      });
    }
  }

  // Branch I's outputs over Steps steps merged into y's: placed in its columns (Concat),
  // or copied (the first branch), added or multiplied in.
  template <std::size_t I, std::size_t Steps, class T>
  static void merge_steps(std::span<const T, Steps * at<I>::out_size> out, std::span<T, Steps * out_size> y) {
    if constexpr (Kind == merge::concat) {
      for (std::size_t t = 0; t < Steps; ++t)
        std::copy_n(out.data() + t * at<I>::out_size, at<I>::out_size, y.data() + t * out_size + out_offset[I]);
    } else if constexpr (I == 0) {
      std::copy(out.begin(), out.end(), y.begin());
    } else {
      merge_into<T, Steps * out_size>(y, out);
    }
  }

  // y ← y + v or y ⊙ v (one step's outputs, or many steps' side by side).
  template <class T, std::size_t N>
  static constexpr void merge_into(std::span<T, N> y, std::span<const T, N> v) {
    for (std::size_t k = 0; k < N; ++k) {
      if constexpr (Kind == merge::sum) y[k] += v[k];
      else y[k] *= v[k];
    }
  }

  // One sample through every branch, each with its state (empty spans for branches
  // without: core/steps.hpp).
  template <class T>
  static constexpr void run_infer(std::span<const T, param_count> params, std::span<T, state_size> state,
                                  std::span<const T, in_size> x, std::span<T, out_size> y) {
    if constexpr (valid) {
      std::array<T, elementwise ? out_size : 0> branch_y;
      each_branch([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        const auto run = [&](auto out) { detail::infer_block<at<i>, 1, T>(params_of<i>(params), state_of<i>(state), x, out); };
        if constexpr (!elementwise) {
          run(slice<out_offset[i], at<i>::out_size>(y));
        } else if constexpr (i == 0) {
          run(y);
        } else {
          run(std::span<T, out_size>(branch_y));
          merge_into<T, out_size>(y, branch_y);
        }
      });
    }
  }

  template <class T>
  static constexpr void run_forward(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                    std::span<T, state_size> next_state, std::span<T, cache_size> cache,
                                    std::span<const T, in_size> x, std::span<T, out_size> y) {
    if constexpr (valid) {
      each_branch([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        detail::forward_block<at<i>, 1, T>(params_of<i>(params), state_of<i>(state), state_of<i>(next_state),
                                           cache_of<i>(cache), x, output_of<i>(cache, y));
      });
      if constexpr (elementwise) {
        const auto first = output_of<0>(cache, y);
        std::copy(first.begin(), first.end(), y.begin());
        each_branch([&](auto index) {
          if constexpr (decltype(index)::value > 0) merge_into<T, out_size>(y, output_of<decltype(index)::value>(cache, y));
        });
      }
    }
  }

  template <BackwardMode Mode, class T>
  static constexpr void run_backward(std::span<const T, param_count> params, std::span<const T, state_size> state,
                                     std::span<const T, cache_size> cache, std::span<const T, in_size> x,
                                     std::span<const T, out_size> y, std::span<const T, out_size> dy,
                                     std::span<const T, state_size> d_next_state, std::span<T, state_size> d_state,
                                     std::span<T, param_count> dparams, std::span<T, in_size> dx) {
    if constexpr (valid) {
      std::array<T, in_size> branch_dx;  // the first branch writes dx, the others add theirs
      std::array<T, Kind == merge::product ? out_size : 0> product_dy;
      each_branch([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        const auto d_out = [&] {
          if constexpr (Kind == merge::concat) {
            return slice<out_offset[i], at<i>::out_size>(dy);
          } else if constexpr (Kind == merge::sum) {
            return dy;
          } else {  // ∂L/∂y_i = dy ⊙ the other branches' outputs
            std::copy(dy.begin(), dy.end(), product_dy.begin());
            each_branch([&](auto other) {
              if constexpr (decltype(other)::value != i)
                merge_into<T, out_size>(std::span<T, out_size>(product_dy), output_of<decltype(other)::value>(cache, y));
            });
            return std::span<const T, out_size>(product_dy);
          }
        }();
        const auto dx_i = i == 0 ? dx : std::span<T, in_size>(branch_dx);
        detail::backward_block<Mode, at<i>, 1, T>(params_of<i>(params), state_of<i>(state), cache_of<i>(cache), x,
                                                  output_of<i>(cache, y), d_out, state_of<i>(d_next_state),
                                                  state_of<i>(d_state), params_of<i>(dparams), dx_i);
        if constexpr (i > 0 && Mode.input_grad)
          for (std::size_t k = 0; k < in_size; ++k) dx[k] += branch_dx[k];
      });
    }
  }

  /// Every branch on x, the outputs joined, added or multiplied, on whatever records them
  /// (see Sequential::record).
  template <class Recording>
  static auto record(Recording& r, typename Recording::value x) {
    auto y = r.template child<0>(x);
    boost::mp11::mp_for_each<boost::mp11::mp_iota_c<count - 1>>([&](auto index) {
      const auto branch = r.template child<decltype(index)::value + 1>(x);
      if constexpr (Kind == merge::sum) y = y + branch;
      else if constexpr (Kind == merge::product) y = y * branch;
      else y = r.concat(y, branch);
    });
    return y;
  }

  template <class T, class Scheme>
  static void initialize(std::span<T, param_count> params, init::Rng& rng, const Scheme& scheme) {
    if constexpr (valid) {
      each_branch([&](auto index) {
        constexpr std::size_t i = decltype(index)::value;
        at<i>::template initialize<T>(params_of<i>(params), rng, scheme);
      });
    }
  }
};

/// Branches that read one input (Concat, Sum, Product): a branch_set.
template <class L>
concept BranchSet = requires { typename L::branches; };

/// `layer<I>()` is a view of branch I.
template <class Spec, class T>
class branches_view : public view_base<Spec, T> {
 public:
  using view_base<Spec, T>::view_base;

  /// A view of branch I's parameters.
  template <std::size_t I>
  constexpr auto layer() const {
    static_assert(I < Spec::count, "staticgrad: layer<I>(): I is past the last branch");
    constexpr std::size_t index = I < Spec::count ? I : 0;  // no follow-up errors
    using B = typename Spec::template at<index>;
    return LayerView<B, T>(Spec::template params_of<index>(this->params_));
  }
};

}  // namespace detail

/// Branches that all read the input x; the output is their outputs one after the other:
/// y = [B_0(x), B_1(x), …]. Each branch is a layer or a Sequential; all must take the same
/// in_size (checked: the diagnostic names `check_branch_input<branch, first in, this in>`).
/// Parameters, in the flat order: each branch's.
/// @tparam Bs the branches
template <class... Bs>
struct Concat : detail::branch_set<detail::merge::concat, Bs...> {
  template <class... Cs>
  using rebind = Concat<Cs...>;
  static constexpr auto name() { return detail::composite_name<"Concat", Concat::valid, Bs...>(); }
  static constexpr std::string_view summary_label = "Concat (branches)";
};

/// Branches that all read the input x; the output is the sum of their outputs:
/// y = B_0(x) + B_1(x) + …. All must take the same in_size and give the same out_size
/// (checked: `check_branch_input<…>`, `check_elementwise_output<branch, first out, this
/// out>`).
/// Parameters, in the flat order: each branch's.
/// @tparam Bs the branches
template <class... Bs>
struct Sum : detail::branch_set<detail::merge::sum, Bs...> {
  template <class... Cs>
  using rebind = Sum<Cs...>;
  static constexpr auto name() { return detail::composite_name<"Sum", Sum::valid, Bs...>(); }
  static constexpr std::string_view summary_label = "Sum (branches)";
};

/// Branches that all read the input x; the output is the element-wise product of their
/// outputs: y = B_0(x) ⊙ B_1(x) ⊙ …, a gate such as WaveNet's tanh(a) ⊙ σ(b). Checked as
/// Sum's branches are.
/// Parameters, in the flat order: each branch's.
/// @tparam Bs the branches
template <class... Bs>
struct Product : detail::branch_set<detail::merge::product, Bs...> {
  template <class... Cs>
  using rebind = Product<Cs...>;
  static constexpr auto name() { return detail::composite_name<"Product", Product::valid, Bs...>(); }
  static constexpr std::string_view summary_label = "Product (branches)";
};

/// Concat, Sum and Product: `layer<I>()` is a view of branch I.
template <class Spec, class T>
  requires detail::BranchSet<Spec>
class LayerView<Spec, T> : public detail::branches_view<Spec, T> {
 public:
  using detail::branches_view<Spec, T>::branches_view;
};

}  // namespace staticgrad
