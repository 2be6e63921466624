"""Writes tests/data/rtneural/*.json: model files in the format RTNeural reads (what its
python/model_utils.py writes from a Keras model), made here from PyTorch modules whose
weights are put in Keras' layouts, with a test signal and PyTorch's output for it under
the extra key "staticgrad_test" (RTNeural's loader and ours ignore other keys).

Keras' layouts: a dense kernel [In][Out]; GRU kernels [In][3H] and [H][3H] with the gates
z, r, h (PyTorch: r, z, n) and a bias of two rows, input then recurrent (reset_after=True,
PyTorch's equations); LSTM kernels [In][4H] and [H][4H] with the gates i, f, c, o (PyTorch's
order) and one bias row, b_ih + b_hh; a Conv1D kernel [Kernel][In / Groups][Out], causal; a
batchnorm's γ, β, running mean and running variance (the last two alone without γ and β).
"""
import json
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "rtneural"


def rows(t):
    return t.detach().tolist()


def shape(n):
    return [None, None, n]


class Recurrent(nn.Module):
    """time-distributed dense (tanh), GRU, LSTM, dense (sigmoid)."""

    def __init__(self):
        super().__init__()
        self.dense_in = nn.Linear(1, 4)
        self.gru = nn.GRU(4, 6, batch_first=True)
        self.lstm = nn.LSTM(6, 5, batch_first=True)
        self.dense_out = nn.Linear(5, 2)

    def forward(self, x):
        x = torch.tanh(self.dense_in(x))
        x, _ = self.gru(x)
        x, _ = self.lstm(x)
        return torch.sigmoid(self.dense_out(x))

    def layers(self):
        h = self.gru.hidden_size
        def zrh(t):  # PyTorch's r, z, n blocks as Keras' z, r, h
            r, z, n = t.split(h)
            return torch.cat([z, r, n])
        return [
            {"type": "time-distributed-dense", "activation": "tanh", "shape": shape(4),
             "weights": [rows(self.dense_in.weight.T), rows(self.dense_in.bias)]},
            {"type": "gru", "activation": "tanh", "shape": shape(6),
             "weights": [rows(zrh(self.gru.weight_ih_l0).T), rows(zrh(self.gru.weight_hh_l0).T),
                         [rows(zrh(self.gru.bias_ih_l0)), rows(zrh(self.gru.bias_hh_l0))]]},
            {"type": "lstm", "activation": "tanh", "shape": shape(5),
             "weights": [rows(self.lstm.weight_ih_l0.T), rows(self.lstm.weight_hh_l0.T),
                         rows(self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0)]},
            {"type": "dense", "activation": "sigmoid", "shape": shape(2),
             "weights": [rows(self.dense_out.weight.T), rows(self.dense_out.bias)]},
        ]


class Convolutional(nn.Module):
    """conv1d (tanh, dilation 2), grouped conv1d, a shared PReLU, a per-channel PReLU,
    ELU, dense with softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(2, 4, 3, dilation=2)
        self.conv2 = nn.Conv1d(4, 6, 2, groups=2)
        self.prelu_shared = nn.PReLU(1, init=0.3)
        self.prelu = nn.PReLU(6)
        self.dense = nn.Linear(6, 3)
        with torch.no_grad():
            self.prelu.weight.uniform_(0.1, 0.5)

    @staticmethod
    def causal(conv, x):  # x: [time, channels]
        past = (conv.kernel_size[0] - 1) * conv.dilation[0]
        return conv(F.pad(x.T.unsqueeze(0), (past, 0))).squeeze(0).T

    def forward(self, x):
        x = torch.tanh(self.causal(self.conv1, x))
        x = self.causal(self.conv2, x)
        x = self.prelu(self.prelu_shared(x))
        x = F.elu(x)
        return torch.softmax(self.dense(x), dim=-1)

    def layers(self):
        def conv(c, act):
            return {"type": "conv1d", "activation": act, "shape": shape(c.out_channels),
                    "kernel_size": [c.kernel_size[0]], "dilation": [c.dilation[0]], "groups": c.groups,
                    "weights": [rows(c.weight.permute(2, 1, 0)), rows(c.bias)]}
        return [
            conv(self.conv1, "tanh"),
            conv(self.conv2, ""),
            {"type": "prelu", "activation": "", "shape": shape(6), "weights": [[rows(self.prelu_shared.weight)]]},
            {"type": "prelu", "activation": "", "shape": shape(6), "weights": [[rows(self.prelu.weight)]]},
            {"type": "activation", "activation": "elu", "shape": shape(6), "weights": []},
            {"type": "dense", "activation": "softmax", "shape": shape(3),
             "weights": [rows(self.dense.weight.T), rows(self.dense.bias)]},
        ]


class Normalized(nn.Module):
    """dense, batchnorm (ε 0.01) with γ and β, tanh, dense, batchnorm (ε 5, as in RTNeural's
    own tests) without them; evaluation mode, running statistics away from 0 and 1."""

    def __init__(self):
        super().__init__()
        self.dense1 = nn.Linear(3, 4)
        self.norm1 = nn.BatchNorm1d(4, eps=0.01)
        self.dense2 = nn.Linear(4, 2)
        self.norm2 = nn.BatchNorm1d(2, eps=5.0, affine=False)
        with torch.no_grad():
            for norm in (self.norm1, self.norm2):
                norm.running_mean.uniform_(-0.5, 0.5)
                norm.running_var.uniform_(0.5, 2.0)
            self.norm1.weight.uniform_(0.5, 1.5)
            self.norm1.bias.uniform_(-0.5, 0.5)
        self.eval()

    def forward(self, x):
        return self.norm2(self.dense2(torch.tanh(self.norm1(self.dense1(x)))))

    def layers(self):
        return [
            {"type": "dense", "activation": "", "shape": shape(4),
             "weights": [rows(self.dense1.weight.T), rows(self.dense1.bias)]},
            {"type": "batchnorm", "activation": "", "shape": shape(4), "epsilon": self.norm1.eps,
             "weights": [rows(self.norm1.weight), rows(self.norm1.bias), rows(self.norm1.running_mean),
                         rows(self.norm1.running_var)]},
            {"type": "activation", "activation": "tanh", "shape": shape(4), "weights": []},
            {"type": "dense", "activation": "", "shape": shape(2),
             "weights": [rows(self.dense2.weight.T), rows(self.dense2.bias)]},
            {"type": "batchnorm", "activation": "", "shape": shape(2), "epsilon": self.norm2.eps,
             "weights": [rows(self.norm2.running_mean), rows(self.norm2.running_var)]},
        ]


def write(name, model, inputs, length):
    x = torch.linspace(-2, 2, length * inputs).reshape(length, inputs).sin() * 1.5
    with torch.no_grad():
        y = model(x.unsqueeze(0)).squeeze(0) if isinstance(model, Recurrent) else model(x)
    content = {"in_shape": shape(inputs), "layers": model.layers(),
               "staticgrad_test": {"x": rows(x), "y": rows(y)}}
    (OUT / f"{name}.json").write_text(json.dumps(content, indent=1) + "\n")
    print(f"wrote {OUT / name}.json")


def main():
    torch.manual_seed(20261206)
    OUT.mkdir(parents=True, exist_ok=True)
    write("recurrent", Recurrent(), 1, 12)
    write("convolutional", Convolutional(), 2, 10)
    write("batch_norm", Normalized(), 3, 6)  # drawn last, so that the files above keep their values


if __name__ == "__main__":
    main()
