// The network the fuzz targets load into: small, so that files are small and the fuzzer
// reaches deep into them, with every kind of parameter tensor.
#pragma once

#include <staticgrad/staticgrad.hpp>

namespace sgfuzz {
using Net = staticgrad::Sequential<staticgrad::Dense<2, 3, staticgrad::ReLU>, staticgrad::LayerNorm<3>,
                                   staticgrad::RMSNorm<3>, staticgrad::Dense<3, 1>>;
}
