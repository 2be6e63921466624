/// @file How optimizers, clipping, fit and gradcheck check the numbers they are given.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

namespace staticgrad::detail {

/// Throws std::invalid_argument("<who>: <name> must be <rule>, not <value>") unless `holds`.
/// Callers write the condition as what must hold (`lr >= 0`), which NaN fails, as
/// PyTorch's `not 0.0 <= lr` refuses NaN.
inline void require_option(bool holds, const char* who, const char* name, double value, const char* rule) {
  if (!holds)
    throw std::invalid_argument(std::string(who) + ": " + name + " must be " + rule + ", not " +
                                (std::isnan(value) ? std::string("nan") : std::to_string(value)));
}

/// A finite value >= 0 (a learning rate, a weight decay, an epsilon, a momentum).
inline void require_nonnegative(const char* who, const char* name, double value) {
  require_option(std::isfinite(value) && value >= 0, who, name, value, "a finite number >= 0");
}

}  // namespace staticgrad::detail
