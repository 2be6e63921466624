#!/usr/bin/python3
"""Fits the rational function behind staticgrad's float tanh (core/simd.hpp):

    tanh(x) ≈ x · P(x²) / Q(x²),  P of degree 6, Q of degree 3, P(0) = Q(0) = 1, |x| ≤ 9.1,

minimising the largest relative error (Lawson's iteratively reweighted least squares on the
linearised problem P − tanh(x)/x · Q = 0), and prints the coefficients rounded to float as
C++ hex literals. P(0) = Q(0) = 1 makes tiny inputs come out exactly (tanh(x) = x in float
below 2⁻¹²); 9.1 is past the point where tanh rounds to 1 in float (9.011), so clamping
there loses nothing.

Run with Debian's numpy (python3-numpy):  /usr/bin/python3 tools/fit_tanh.py
The fit's own relative error is 7.8e-9 (0.13 ulp); the rest of the 4.84 ulp that
tools/float_ulps.cpp measures over every float is float rounding in the evaluation.
"""
import numpy as np

CLAMP = 9.1
P_DEGREE, Q_DEGREE = 6, 3
POINTS, ITERATIONS = 6000, 800


def fit():
    k = np.arange(POINTS)
    x = CLAMP * (1 - np.cos(np.pi * (k + 0.5) / POINTS)) / 2  # dense near both ends
    g = np.tanh(x) / x
    t = (x / CLAMP) ** 2  # x² scaled to [0, 1] keeps the least-squares system well conditioned
    powers_p = np.vstack([t**j for j in range(1, P_DEGREE + 1)]).T
    powers_q = np.vstack([t**j for j in range(1, Q_DEGREE + 1)]).T
    weights, q_previous, best = np.ones(POINTS), np.ones(POINTS), None
    for _ in range(ITERATIONS):
        scale = weights / (g * q_previous)  # relative error, Loeb's correction for Q
        system = np.hstack([powers_p, -g[:, None] * powers_q]) * scale[:, None]
        solution, *_ = np.linalg.lstsq(system, (g - 1) * scale, rcond=None)
        p = np.concatenate([[1], solution[:P_DEGREE]])
        q = np.concatenate([[1], solution[P_DEGREE:]])
        q_previous = np.polyval(q[::-1], t)
        error = (np.polyval(p[::-1], t) / q_previous - g) / g
        if best is None or np.abs(error).max() < best[0]:
            best = (np.abs(error).max(), p, q)
        weights = weights * np.sqrt(np.abs(error))
        weights /= weights.sum()
    worst, p, q = best
    unscale = lambda c: c / CLAMP ** (2 * np.arange(len(c)))  # back from t to x²
    return worst, unscale(p), unscale(q)


def main():
    worst, p, q = fit()
    print(f"// largest relative error of the fit: {worst:.2g}")
    for name, coefficients in (("p", p), ("q", q)):
        for degree, c in enumerate(coefficients[1:], start=1):
            mantissa, exponent = float(np.float32(c)).hex().split("p")
            print(f"{name}{degree} = {mantissa.rstrip('0')}p{exponent}f")


if __name__ == "__main__":
    main()
