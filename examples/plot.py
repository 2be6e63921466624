#!/usr/bin/python3
"""Plots what examples/depth, vanishing, amp, wavenet_amp and mixed_precision write (Debian:
python3-matplotlib).

    /usr/bin/python3 examples/plot.py depth out/depth
    /usr/bin/python3 examples/plot.py vanishing out/vanishing
    /usr/bin/python3 examples/plot.py amp out/amp
    /usr/bin/python3 examples/plot.py wavenet_amp out/wavenet_amp
    /usr/bin/python3 examples/plot.py mixed_precision out/mixed_precision
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


def plot_wavenet_amp(folder):
    header, columns = read(folder / "loss.csv")
    fig, (loss_ax, esr_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
    loss_ax.plot(columns[0], columns[1], marker="o", markersize=2)
    loss_ax.set(xlabel="epoch", ylabel=header[1], yscale="log", title="Training loss")
    for name, values in zip(header[2:], columns[2:]):
        esr_ax.plot(columns[0], values, marker="o", markersize=2, label=name.replace("held-out ESR at ", ""))
    esr_ax.set(xlabel="epoch", ylabel="error-to-signal ratio", yscale="log", title="Held-out ESR per knob setting")
    esr_ax.legend(fontsize=8)
    fig.suptitle("Gated WaveNet learning a drive pedal and its gain knob (fit_windows, Adam, cosine schedule)")
    fig.tight_layout()
    fig.savefig(folder / "loss.png", dpi=110)

    _, columns = read(folder / "waveforms.csv")
    knobs = sorted(set(columns[0]))
    fig, axes = plt.subplots(len(knobs), 1, figsize=(9, 2 * len(knobs)), sharex=True)
    for ax, knob in zip(axes, knobs):
        rows = [i for i, k in enumerate(columns[0]) if k == knob]
        time = [columns[1][i] for i in rows]
        ax.plot(time, [columns[2][i] for i in rows], color="0.75", linewidth=0.8, label="input")
        ax.plot(time, [columns[3][i] for i in rows], linewidth=1.2, label="target")
        ax.plot(time, [columns[4][i] for i in rows], linestyle="--", linewidth=1.0, label="model")
        ax.set_ylabel(f"knob {knob:g}")
    axes[0].legend(loc="upper right", fontsize=8, ncol=3)
    axes[-1].set_xlabel("time (ms)")
    fig.suptitle("Held-out audio: the first 20 ms at each knob setting")
    fig.tight_layout()
    fig.savefig(folder / "waveforms.png", dpi=110)


def plot_mixed_precision(folder):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    jobs = [("classifier_loss.csv", "epoch", "Two spirals, 2-64-64-2 ReLU, Adam"),
            ("depth_loss.csv", "step", "Seed-003 regression, 1-10x5-1 tanh, gradient descent")]
    for ax, (name, unit, title) in zip(axes, jobs):
        header, columns = read(folder / name)
        for label, values in zip(header[1:], columns[1:]):
            ax.plot(columns[0], values, label=label, linewidth=1)
        ax.set(xlabel=unit, ylabel="training loss", yscale="log", title=title)
        ax.legend()
    fig.suptitle("float against bfloat16 passes with float master weights")
    fig.tight_layout()
    fig.savefig(folder / "loss.png", dpi=110)


if __name__ == "__main__":
    kind, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    {"depth": plot_depth, "vanishing": plot_vanishing, "amp": plot_amp, "wavenet_amp": plot_wavenet_amp,
     "mixed_precision": plot_mixed_precision}[kind](folder)
    print(f"wrote the plots into {folder}")
