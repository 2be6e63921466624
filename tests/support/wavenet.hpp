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

// A layer of Neural Amp Modeler's WaveNet as NAM writes it, which carries the input audio
// from layer to layer too, [x (C channels), the head's sum (C), the audio (1)]: a =
// tanh(conv(x) + mixer(audio)), its "input mixer" a 1×1 convolution of the audio; then
// x + 1×1(a), head + a, the audio passed on. a is computed once: the Sum's second branch
// computes it and writes both of its projections, the first adds x and the head, the
// Concat's last branch passes the audio on. (NAM's mixer has no bias: zero it for NAM's
// weights.)
template <std::size_t C, std::size_t Kernel, std::size_t Dilation>
using NamLayer = sg::Concat<
    sg::Sum<sg::Slice<0, 2 * C, 2 * C + 1>,
            sg::Sequential<sg::Sum<sg::Sequential<sg::Slice<0, C, 2 * C + 1>, sg::Conv1D<C, C, Kernel, Dilation>>,
                                   sg::Sequential<sg::Slice<2 * C, 1, 2 * C + 1>, sg::Conv1D<1, C, 1>>>,
                           sg::Activation<sg::Tanh, C>, sg::Concat<sg::Conv1D<C, C, 1>, sg::Activation<sg::Identity, C>>>>,
    sg::Slice<2 * C, 1, 2 * C + 1>>;

// The audio into [x, head, audio] (a 1×1 convolution into x, one into the head, where NAM
// starts from zeros: zero its weights for NAM's network), NAM's layers of dilations 1 and
// 2, a 1×1 convolution of the head's sum: tests/data/sequences.txt's "nam_wavenet".
template <std::size_t C>
using NamWaveNet = sg::Sequential<sg::Concat<sg::Conv1D<1, C, 1>, sg::Conv1D<1, C, 1>, sg::Activation<sg::Identity, 1>>,
                                  NamLayer<C, 3, 1>, NamLayer<C, 3, 2>, sg::Slice<C, C, 2 * C + 1>, sg::Conv1D<C, 1, 1>>;

}  // namespace sgtest
