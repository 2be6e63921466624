/// @file The dynamic tape engine: staticgrad::tape::Tape, Var, its operations and
/// staticgrad::tape::value_and_grad.
#pragma once

#include <staticgrad/tape/network.hpp>
#include <staticgrad/tape/ops.hpp>
#include <staticgrad/tape/tape.hpp>
