// The network the fuzz targets load into: small, so that files are small and the fuzzer
// reaches deep into them, with every kind of parameter tensor.
#pragma once

#include <ratio>

#include <staticgrad/staticgrad.hpp>

namespace sgfuzz {
using Net = staticgrad::Sequential<staticgrad::Dense<2, 3, staticgrad::ReLU>, staticgrad::LayerNorm<3>,
                                   staticgrad::RMSNorm<3>, staticgrad::Dense<3, 1>>;

/// For the RTNeural loader: every layer kind its files hold, recurrent, convolutional, then
/// normalized (the layers of tests/data/rtneural's three models, one after the other).
using RTNeuralNet =
    staticgrad::Sequential<staticgrad::Dense<1, 4, staticgrad::Tanh>, staticgrad::GRU<4, 6>, staticgrad::LSTM<6, 5>,
                           staticgrad::Dense<5, 2, staticgrad::Sigmoid>, staticgrad::Conv1D<2, 4, 3, 2, staticgrad::Tanh>,
                           staticgrad::Conv1D<4, 6, 2, 1, staticgrad::Identity, 2>, staticgrad::PReLU<6>,
                           staticgrad::PReLU<6>, staticgrad::Activation<staticgrad::ELU, 6>, staticgrad::Dense<6, 3>,
                           staticgrad::Softmax<3>, staticgrad::Dense<3, 4>, staticgrad::BatchNorm<4, std::ratio<1, 100>>,
                           staticgrad::Activation<staticgrad::Tanh, 4>, staticgrad::Dense<4, 2>,
                           staticgrad::BatchNorm<2, std::ratio<5>>>;
}
