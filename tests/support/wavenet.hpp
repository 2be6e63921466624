// A WaveNet as Neural Amp Modeler defines it, from staticgrad's composites: the network
// carries [x (C channels), the sum of the skips (S)] from layer to layer. Each layer's gated
// activation a = tanh(conv(x)) ⊙ σ(conv′(x)) is computed once, and feeds both its 1×1
// residual projection (x + R a) and its 1×1 skip projection (skip + K a); a head reads the
// skips' sum.
#pragma once

#include <cstddef>

#include <staticgrad/staticgrad.hpp>

namespace sgtest {

namespace sg = staticgrad;

template <std::size_t C, std::size_t S, std::size_t Kernel, std::size_t Dilation>
using WaveNetLayer =
    sg::Residual<sg::Slice<0, C, C + S>,
                 sg::Product<sg::Conv1D<C, C, Kernel, Dilation, sg::Tanh>, sg::Conv1D<C, C, Kernel, Dilation, sg::Sigmoid>>,
                 sg::Concat<sg::Conv1D<C, C, 1>, sg::Conv1D<C, S, 1>>>;

// One input channel in, one out: a 1×1 convolution into C channels (and a 1×1 into the
// skips, where NAM starts from zeros: zero its weights for NAM's network), layers of
// dilations 1, 2, 4, the head a 1×1 convolution of the skips.
template <std::size_t C, std::size_t S>
using WaveNet = sg::Sequential<sg::Concat<sg::Conv1D<1, C, 1>, sg::Conv1D<1, S, 1>>, WaveNetLayer<C, S, 3, 1>,
                               WaveNetLayer<C, S, 3, 2>, WaveNetLayer<C, S, 3, 4>,
                               sg::Slice<C, S, C + S>, sg::Conv1D<S, 1, 1>>;

}  // namespace sgtest
