#!/usr/bin/python3
"""Plots what examples/depth, examples/vanishing and examples/amp write (Debian:
python3-matplotlib).

    /usr/bin/python3 examples/plot.py depth out/depth
    /usr/bin/python3 examples/plot.py vanishing out/vanishing
    /usr/bin/python3 examples/plot.py amp out/amp
"""
import csv
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, values = rows[0], [[float(v) for v in row] for row in rows[1:]]
    return header, [list(column) for column in zip(*values)]


def plot_depth(folder):
    header, columns = read(folder / "loss.csv")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, values in zip(header[1:], columns[1:]):
        ax.plot(columns[0], values, label=name)
    ax.set(xlabel="step", ylabel="loss (½·MSE)", yscale="log",
           title="Seed-003 regression, full-batch gradient descent, lr 0.001")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "loss.png", dpi=110)

    files = [folder / f"grad_rms_{name}.csv" for name in header[1:]]
    fig, axes = plt.subplots(1, len(files), figsize=(5 * len(files), 4.5), sharey=True)
    for ax, path in zip(axes, files):
        layers, columns = read(path)
        for name, values in zip(layers[1:], columns[1:]):
            ax.plot([s + 1 for s in columns[0]], values, label=name, linewidth=0.8)
        ax.set(xlabel="step + 1", xscale="log", yscale="log", title=path.stem.replace("grad_rms_", ""))
        ax.legend(fontsize=7)
    axes[0].set_ylabel("gradient RMS per parameter")
    fig.suptitle("Gradient size per layer during training (layer 1 = input side)")
    fig.tight_layout()
    fig.savefig(folder / "grad_rms.png", dpi=110)


def plot_vanishing(folder):
    header, columns = read(folder / "grad_norms.csv")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, values in zip(header[1:], columns[1:]):
        ax.plot(columns[0], values, marker="o", markersize=3, label=name)
    ax.set(xlabel="layer (1 = input side)", ylabel="gradient norm at initialization",
           yscale="log", title="20-layer networks: where the gradient goes")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "grad_norms.png", dpi=110)


def plot_amp(folder):
    header, columns = read(folder / "loss.csv")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, values in zip(header[1:], columns[1:]):
        ax.plot(columns[0], values, marker="o", markersize=2, label=name)
    ax.set(xlabel="epoch", yscale="log", title="GRU-16 learning a drive pedal (fit_windows, Adam)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "loss.png", dpi=110)


if __name__ == "__main__":
    kind, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    {"depth": plot_depth, "vanishing": plot_vanishing, "amp": plot_amp}[kind](folder)
    print(f"wrote the plots into {folder}")
