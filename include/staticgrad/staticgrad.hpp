/// @file The umbrella header: includes every public header of staticgrad.
#pragma once

#include <staticgrad/activations.hpp>
#include <staticgrad/core/concepts.hpp>
#include <staticgrad/core/layer_view.hpp>
#include <staticgrad/custom_activation.hpp>
#include <staticgrad/diagnostics.hpp>
#include <staticgrad/dual.hpp>
#include <staticgrad/init.hpp>
#include <staticgrad/io/binary.hpp>
#include <staticgrad/io/header.hpp>
#include <staticgrad/layers/activation.hpp>
#include <staticgrad/layers/branches.hpp>
#include <staticgrad/layers/dense.hpp>
#include <staticgrad/layers/frozen.hpp>
#include <staticgrad/layers/norm.hpp>
#include <staticgrad/layers/residual.hpp>
#include <staticgrad/layers/sequential.hpp>
#include <staticgrad/losses.hpp>
#include <staticgrad/model.hpp>
#include <staticgrad/optim/adam.hpp>
#include <staticgrad/optim/clip.hpp>
#include <staticgrad/optim/sgd.hpp>
#include <staticgrad/summary.hpp>
#include <staticgrad/tape.hpp>
#include <staticgrad/train.hpp>
