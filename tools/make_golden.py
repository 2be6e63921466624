#!/usr/bin/python3
"""Writes the PyTorch reference values that the tests compare against:
- tests/data/golden.txt: outputs, losses and gradients for networks that tests/golden.cpp
  builds as staticgrad types;
- tests/data/optimizers.txt: every parameter after each of five steps of SGD, Adam and
  AdamW in several configurations (tests/optimizers.cpp);
- tests/data/batch_norm.txt: networks with BatchNorm trained for three SGD steps on a batch: the
  first step's outputs, loss and gradient, the parameters after each step (running
  statistics included), the evaluation-mode outputs after (tests/batch_norm.cpp);
- tests/data/sequences.txt: networks with GRU, LSTM and Conv1D layers run over a sequence, from
  a zero or a given state: every step's output, the mean loss, the gradient through time,
  and the end state (tests/recurrent.cpp, tests/convolution.cpp).

Run with Debian's PyTorch (package python3-torch):  /usr/bin/python3 tools/make_golden.py
Everything is double precision; numbers are written as exact hex floats. Parameters are
listed in staticgrad's flat order: layer by layer, depth first; a Dense layer's weight
input-major ([In][Out], the transpose of nn.Linear.weight), then its bias; LayerNorm gain
then bias; RMSNorm gain; PReLU its slopes; Conv1D its weight as [Kernel][In/Groups][Out],
then its bias; BatchNorm its running mean, running variance and num_batches_tracked, then
its weight and bias.
"""
import functools
import operator
import pathlib

import torch
from torch import nn

torch.set_default_dtype(torch.float64)

ACTIVATIONS = {
    "Identity": nn.Identity,
    "ReLU": nn.ReLU,
    "LeakyReLU": nn.LeakyReLU,  # slope 0.01
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "GELU": nn.GELU,  # exact erf form
    "GELUTanh": lambda: nn.GELU(approximate="tanh"),
    "SiLU": nn.SiLU,
    "Softplus": nn.Softplus,  # beta 1, threshold 20
    "ELU": nn.ELU,  # alpha 1
    "HardTanh": nn.Hardtanh,  # -1, 1
    "Mish": nn.Mish,
}
# Added later: their cases are drawn after all the others, which keep their values.
LATER_ACTIVATIONS = ("ELU", "HardTanh", "Mish")


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * gain (torch 1.13 has no nn.RMSNorm)."""

    def __init__(self, n, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class LoRALinear(nn.Module):
    """act(base(x) + (alpha / rank) * B(A(x))) with the base Linear frozen (Hu et al., 2021)."""

    def __init__(self, n_in, n_out, act, rank, alpha):
        super().__init__()
        self.base = nn.Linear(n_in, n_out).requires_grad_(False)
        self.lora_A = nn.Parameter(torch.zeros(rank, n_in))
        self.lora_B = nn.Parameter(torch.zeros(n_out, rank))
        self.scale = alpha / rank
        self.act = ACTIVATIONS[act]()

    def forward(self, x):
        return self.act(self.base(x) + self.scale * (x @ self.lora_A.t()) @ self.lora_B.t())


class Branches(nn.Module):
    """Each branch reads x; the outputs are concatenated, added or multiplied."""

    def __init__(self, branches, combine):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.combine = combine

    def forward(self, x):
        outputs = [branch(x) for branch in self.branches]
        if self.combine == "concat":
            return torch.cat(outputs, dim=-1)
        return functools.reduce(operator.mul if self.combine == "product" else operator.add, outputs)


class Slice(nn.Module):
    def __init__(self, begin, count):
        super().__init__()
        self.begin, self.count = begin, count

    def forward(self, x):
        return x[..., self.begin:self.begin + self.count]


class StatefulConv(nn.Module):
    """nn.Conv1d (then an activation) one step at a time: each step convolves the window of
    the (kernel - 1) * dilation past inputs and the current one. Its state as staticgrad's:
    the past inputs as a ring, where position p holds the oldest, then p."""

    def __init__(self, n_in, n_out, kernel, dilation, act, groups):
        super().__init__()
        self.conv = nn.Conv1d(n_in, n_out, kernel, dilation=dilation, groups=groups)
        self.act = ACTIVATIONS[act]()
        self.history = (kernel - 1) * dilation
        self.past = torch.zeros(self.history, n_in)  # oldest first
        self.steps = 0

    def forward(self, x):
        window = torch.cat([self.past, x.reshape(1, -1)])
        y = self.conv(window.t().unsqueeze(0)).reshape(-1)
        self.past = window[1:]
        self.steps += 1
        return self.act(y)

    def state(self):
        position = self.steps % self.history
        ring = torch.roll(self.past, shifts=position, dims=0)
        return torch.cat([ring.reshape(-1), torch.tensor([float(position)])])

    def set_state(self, flat):
        self.past = flat[:-1].reshape(self.history, -1)
        self.steps = 0


class StatefulGRU(nn.Module):
    """nn.GRU over one step at a time, its hidden state kept between calls (as staticgrad's
    State): set before a sequence, read after it."""

    def __init__(self, n_in, hidden):
        super().__init__()
        self.rnn = nn.GRU(n_in, hidden)
        self.h = torch.zeros(1, 1, hidden)

    def forward(self, x):
        out, self.h = self.rnn(x.reshape(1, 1, -1), self.h)
        return out.reshape(-1)

    def state(self):
        return self.h.reshape(-1)

    def set_state(self, flat):
        self.h = flat.reshape(1, 1, -1)


class StatefulLSTM(nn.Module):
    """nn.LSTM over one step at a time, its state kept between calls: h, then c, as in
    staticgrad's State."""

    def __init__(self, n_in, hidden):
        super().__init__()
        self.rnn = nn.LSTM(n_in, hidden)
        self.hc = (torch.zeros(1, 1, hidden), torch.zeros(1, 1, hidden))

    def forward(self, x):
        out, self.hc = self.rnn(x.reshape(1, 1, -1), self.hc)
        return out.reshape(-1)

    def state(self):
        return torch.cat([self.hc[0].reshape(-1), self.hc[1].reshape(-1)])

    def set_state(self, flat):
        hidden = self.rnn.hidden_size
        self.hc = (flat[:hidden].reshape(1, 1, -1), flat[hidden:].reshape(1, 1, -1))


class NamLayer(nn.Module):
    """A layer of Neural Amp Modeler's WaveNet as NAM writes it, over [x, head, audio]: the
    dilated convolution of x plus the input mixer's 1×1 convolution of the audio, tanh, then
    x + 1×1(a), head + a, the audio passed on. (NAM's mixer has no bias; this one has, as
    staticgrad's Conv1D<1, C, 1> does: with NAM's weights it is zero.)"""

    def __init__(self, channels, kernel, dilation):
        super().__init__()
        self.channels = channels
        self.conv = StatefulConv(channels, channels, kernel, dilation, "Identity", 1)
        self.mixer = nn.Linear(1, channels)
        self.pointwise = nn.Linear(channels, channels)

    def forward(self, v):
        c = self.channels
        x, head, audio = v[:c], v[c:2 * c], v[2 * c:]
        a = torch.tanh(self.conv(x) + self.mixer(audio))
        return torch.cat([x + self.pointwise(a), head + a, audio])


class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


def build(spec):
    """A torch module for a spec tree, and its parameters in staticgrad's flat order."""
    kind = spec[0]
    if kind == "dense":
        _, n_in, n_out, act = spec
        linear = nn.Linear(n_in, n_out)
        return nn.Sequential(linear, ACTIVATIONS[act]()), [("T", linear.weight), ("", linear.bias)]
    if kind == "layernorm":
        norm = nn.LayerNorm(spec[1], eps=1e-5)
        return norm, [("", norm.weight), ("", norm.bias)]
    if kind == "rmsnorm":
        norm = RMSNorm(spec[1])
        return norm, [("", norm.weight)]
    if kind in ("gru", "lstm"):
        layer = (StatefulGRU if kind == "gru" else StatefulLSTM)(spec[1], spec[2])
        cell = layer.rnn
        return layer, [("T", cell.weight_ih_l0), ("T", cell.weight_hh_l0), ("", cell.bias_ih_l0), ("", cell.bias_hh_l0)]
    if kind == "conv":
        layer = StatefulConv(*spec[1:])
        return layer, [("conv", layer.conv.weight), ("", layer.conv.bias)]
    if kind == "nam":
        layer = NamLayer(*spec[1:])
        return layer, [("conv", layer.conv.conv.weight), ("", layer.conv.conv.bias), ("T", layer.mixer.weight),
                       ("", layer.mixer.bias), ("T", layer.pointwise.weight), ("", layer.pointwise.bias)]
    if kind == "slice":
        return Slice(spec[1], spec[2]), []
    if kind == "batchnorm":
        _, n, eps, momentum = spec
        norm = nn.BatchNorm1d(n, eps=eps, momentum=momentum)
        return norm, [("", norm.running_mean), ("", norm.running_var), ("", norm.num_batches_tracked),
                      ("", norm.weight), ("", norm.bias)]
    if kind == "prelu":
        prelu = nn.PReLU(spec[1])
        return prelu, [("", prelu.weight)]
    if kind == "act":
        return ACTIVATIONS[spec[1]](), []
    if kind == "softmax":
        return nn.Softmax(dim=-1), []
    if kind == "frozen":
        module, params = build(spec[1])
        for _, p in params:
            p.requires_grad_(False)
        return module, params
    if kind == "lora":
        _, n_in, n_out, act, rank, alpha = spec
        layer = LoRALinear(n_in, n_out, act, rank, alpha)
        return layer, [("T", layer.base.weight), ("", layer.base.bias), ("T", layer.lora_A), ("T", layer.lora_B)]
    if kind in ("concat", "sum", "product", "seq", "res"):
        modules, params = [], []
        for child in spec[1]:
            module, child_params = build(child)
            modules.append(module)
            params += child_params
        if kind in ("concat", "sum", "product"):
            return Branches(modules, kind), params
        body = nn.Sequential(*modules)
        return (body if kind == "seq" else Residual(body)), params
    raise ValueError(kind)


def flat(params, attr="data"):
    parts = []
    for layout, p in params:
        t = getattr(p, attr)
        if t is None:  # a frozen parameter has no gradient: staticgrad's slice holds zeros
            t = torch.zeros_like(p)
        if layout == "T":
            t = t.t()
        elif layout == "conv":  # [Out, In/Groups, Kernel] as [Kernel][In/Groups][Out]
            t = t.permute(2, 1, 0)
        parts.append(t.reshape(-1).to(torch.float64))  # num_batches_tracked is an integer
    return torch.cat(parts)


def line(label, values):
    values = [float(v) for v in torch.as_tensor(values).reshape(-1)]
    return f"{label} {len(values)} " + " ".join(v.hex() for v in values)


LOSSES = {
    "MSE": lambda y, t: nn.MSELoss()(y, t),
    "HalfSquaredError": lambda y, t: 0.5 * ((y - t) ** 2).sum(dim=1).mean(),
    "SoftmaxCrossEntropy": lambda y, t: nn.CrossEntropyLoss()(y, t),
    "BCEWithLogits": lambda y, t: nn.BCEWithLogitsLoss()(y, t),
}


def draw_target(target_kind, batch, n_out, generator):
    """A batch's targets: class indices, probability rows or plain vectors."""
    if target_kind == "class":
        return torch.randint(0, n_out, (batch,), generator=generator)
    if target_kind == "probs":
        return torch.softmax(torch.randn(batch, n_out, generator=generator), dim=1)
    return torch.randn(batch, n_out, generator=generator)


def batch_lines(name, params, x, target, target_kind):
    """A case's first lines: its name, parameters, inputs and targets."""
    lines = [f"case {name}", line("params", flat(params))]
    lines += [line("input", row) for row in x]
    if target_kind == "class":
        lines += [f"class {int(k)}" for k in target]
    else:
        lines += [line("target", row) for row in target]
    return lines


def make_case(name, spec, loss, n_in, n_out, batch, target_kind, generator):
    module, params = build(spec)
    with torch.no_grad():
        for _, p in params:
            p.copy_(0.7 * torch.randn(p.shape, generator=generator))
    x = torch.randn(batch, n_in, generator=generator)
    target = draw_target(target_kind, batch, n_out, generator)
    y = module(x)
    value = LOSSES[loss](y, target)
    value.backward()
    lines = batch_lines(name, params, x, target, target_kind)
    lines += [line("output", row) for row in y.detach()]
    lines += [line("loss", value.detach()), line("grads", flat(params, "grad")), "end"]
    return "\n".join(lines)


def stateful_layers(module):
    return [m for m in module.modules() if isinstance(m, (StatefulGRU, StatefulLSTM, StatefulConv))]


def sequence_case(name, spec, n_in, n_out, length, random_state, generator):
    """A network with GRU, LSTM or Conv1D layers over `length` steps, MSE against a target sequence
    (the mean over steps and outputs), from zero or random states."""
    module, params = build(spec)
    with torch.no_grad():
        for _, p in params:
            p.copy_(0.7 * torch.randn(p.shape, generator=generator))
    layers = stateful_layers(module)
    for layer in layers:
        size = layer.state().numel()
        layer.set_state(0.5 * torch.randn(size, generator=generator) if random_state else torch.zeros(size))
    state = torch.cat([layer.state() for layer in layers])
    x = torch.randn(length, n_in, generator=generator)
    target = torch.randn(length, n_out, generator=generator)
    y = torch.stack([module(x[t]) for t in range(length)])
    value = nn.MSELoss()(y, target)
    value.backward()
    lines = [f"case {name}", line("params", flat(params)), line("state", state)]
    lines += [line("input", row) for row in x]
    lines += [line("target", row) for row in target]
    lines += [line("output", row) for row in y.detach()]
    final = torch.cat([layer.state().detach() for layer in layers])
    lines += [line("loss", value.detach()), line("grads", flat(params, "grad")), line("final_state", final), "end"]
    return "\n".join(lines)


def batch_norm_case(name, spec, loss, n_in, n_out, batch, target_kind, generator):
    """A network with BatchNorm in training mode over one batch (outputs, loss, gradient),
    the flat parameters after each of three SGD steps (lr 0.1) on it, running statistics
    included, then the evaluation-mode outputs. Running statistics start away from 0 and 1."""
    module, params = build(spec)
    with torch.no_grad():
        for _, p in params:
            p.copy_(0.7 * torch.randn(p.shape, generator=generator))
        for norm in (m for m in module.modules() if isinstance(m, nn.BatchNorm1d)):
            norm.running_mean.copy_(0.5 * torch.randn(norm.running_mean.shape, generator=generator))
            norm.running_var.copy_(0.5 + torch.rand(norm.running_var.shape, generator=generator))
            norm.num_batches_tracked.fill_(3)
    x = 1.5 + 2 * torch.randn(batch, n_in, generator=generator)  # inputs whose mean is not 0
    target = draw_target(target_kind, batch, n_out, generator)
    module.train()
    lines = batch_lines(name, params, x, target, target_kind)
    optimizer = torch.optim.SGD([p for _, p in params if p.requires_grad], lr=0.1)
    for step in range(3):
        optimizer.zero_grad()
        y = module(x)
        value = LOSSES[loss](y, target)
        value.backward()
        if step == 0:
            lines += [line("output", row) for row in y.detach()]
            lines += [line("loss", value.detach()), line("grads", flat(params, "grad"))]
        optimizer.step()
        lines.append(line("step", flat(params)))
    module.eval()
    lines += [line("eval_output", row) for row in module(x).detach()]
    lines.append("end")
    return "\n".join(lines)


def batch_norm_cases():
    generator = torch.Generator().manual_seed(20261207)
    return [
        batch_norm_case("mlp", ("seq", [dense(3, 5, "Tanh"), ("batchnorm", 5, 1e-5, 0.1), dense(5, 4, "ReLU"),
                                        ("batchnorm", 4, 1e-2, 0.2), dense(4, 2)]),
                        "MSE", 3, 2, 6, "vector", generator),
        batch_norm_case("residual_classifier", ("seq", [dense(4, 4), ("res", [("batchnorm", 4, 1e-5, 0.1),
                                                                             dense(4, 4, "Tanh")]), dense(4, 3)]),
                        "SoftmaxCrossEntropy", 4, 3, 5, "class", generator),
        batch_norm_case("first_layer", ("seq", [("batchnorm", 3, 1e-5, 0.1), dense(3, 2, "Sigmoid")]),
                        "MSE", 3, 2, 4, "vector", generator),
    ]


def dense(n_in, n_out, act="Identity"):
    return ("dense", n_in, n_out, act)


OPTIMIZER_CASES = {
    # name: (torch optimizer class, options as torch spells them)
    "sgd": (torch.optim.SGD, dict(lr=0.1)),
    "sgd_momentum_dampening": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1)),
    "sgd_nesterov_weight_decay": (torch.optim.SGD,
                                  dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "adam": (torch.optim.Adam, dict(lr=0.01)),
    "adam_weight_decay_amsgrad": (torch.optim.Adam, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    "adamw": (torch.optim.AdamW, dict(lr=0.01)),
    "adamw_amsgrad_betas": (torch.optim.AdamW, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6,
                                                    weight_decay=0.05, amsgrad=True)),
}


def optimizer_case(name, generator):
    """Five steps on Dense(3,4,Tanh) → Dense(4,2), MSE over a batch of four."""
    optimizer_class, options = OPTIMIZER_CASES[name]
    module, params = build(("seq", [dense(3, 4, "Tanh"), dense(4, 2)]))
    with torch.no_grad():
        for _, p in params:
            p.copy_(0.7 * torch.randn(p.shape, generator=generator))
    x = torch.randn(4, 3, generator=generator)
    target = torch.randn(4, 2, generator=generator)
    lines = [f"case {name}", line("params", flat(params))]
    lines += [line("input", row) for row in x]
    lines += [line("target", row) for row in target]
    optimizer = optimizer_class([p for _, p in params], **options)
    for _ in range(5):
        optimizer.zero_grad()
        nn.MSELoss()(module(x), target).backward()
        optimizer.step()
        lines.append(line("step", flat(params)))
    lines.append("end")
    return "\n".join(lines)


def schedule_case(name, make_optimizer, make_scheduler, steps):
    """The learning rate (and with OneCycleLR the momentum: SGD's, or Adam's betas[0]) at
    epoch 0 and after each of `steps` scheduler steps, from a base lr of 0.1."""
    optimizer = make_optimizer([torch.zeros(1, requires_grad=True)])
    scheduler = make_scheduler(optimizer)
    lines = [f"case {name}"]
    for epoch in range(steps + 1):
        if epoch > 0:
            optimizer.step()
            scheduler.step()
        group = optimizer.param_groups[0]
        values = [group["lr"]]
        if isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR):
            values.append(group["betas"][0] if "betas" in group else group["momentum"])
        lines.append(line("step", values))
    lines.append("end")
    return "\n".join(lines)


def schedule_cases():
    sched = torch.optim.lr_scheduler
    sgd = lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9)
    adam = lambda params: torch.optim.Adam(params, lr=0.1)
    return [
        schedule_case("StepLR", sgd, lambda o: sched.StepLR(o, step_size=3, gamma=0.5), 12),
        schedule_case("MultiStepLR", sgd, lambda o: sched.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3), 12),
        schedule_case("ExponentialLR", sgd, lambda o: sched.ExponentialLR(o, gamma=0.9), 12),
        schedule_case("CosineAnnealingLR", sgd, lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 25),
        schedule_case("LinearLR", sgd, lambda o: sched.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 8),
        schedule_case("OneCycleLR", sgd, lambda o: sched.OneCycleLR(o, max_lr=0.5, total_steps=20), 19),
        schedule_case("OneCycleLR_three_phase_linear_adam", adam,
                      lambda o: sched.OneCycleLR(o, max_lr=0.5, total_steps=17, pct_start=0.25,
                                                 anneal_strategy="linear", three_phase=True), 16),
        schedule_case("SequentialLR", sgd,
                      lambda o: sched.SequentialLR(o, [sched.LinearLR(o, start_factor=0.1, total_iters=5),
                                                       sched.CosineAnnealingLR(o, T_max=10)], milestones=[5]), 20),
    ]


def write(name, cases):
    out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / name
    header = f"# Written by tools/make_golden.py with torch {torch.__version__}; do not edit.\n"
    out.write_text(header + "\n".join(cases) + "\n")
    print(f"wrote {len(cases)} cases to {out}")


def main():
    generator = torch.Generator().manual_seed(20261123)
    cases = []
    for act in (act for act in ACTIVATIONS if act not in LATER_ACTIVATIONS):
        cases.append(make_case(f"activation_{act}", ("seq", [dense(4, 5, act), dense(5, 3)]),
                               "MSE", 4, 3, 2, "vector", generator))
    residual_classifier = ("seq", [dense(4, 6, "GELU"),
                                   ("res", [dense(6, 6, "Tanh"), dense(6, 6)]), dense(6, 3)])
    nested = ("seq", [("seq", [dense(2, 3, "Tanh"), dense(3, 3, "LeakyReLU")]),
                      ("res", [("layernorm", 3), dense(3, 3, "GELUTanh")]), dense(3, 1)])
    issue_example = ("seq", [("layernorm", 8), dense(8, 32, "GELU"),
                             ("res", [dense(32, 32, "Tanh")]), dense(32, 3)])
    cases += [
        make_case("layernorm", ("seq", [("layernorm", 4), dense(4, 3, "Tanh")]),
                  "HalfSquaredError", 4, 3, 2, "vector", generator),
        make_case("rmsnorm", ("seq", [dense(4, 6), ("rmsnorm", 6), dense(6, 2, "Sigmoid")]),
                  "MSE", 4, 2, 2, "vector", generator),
        make_case("residual_class_index", residual_classifier, "SoftmaxCrossEntropy", 4, 3, 3,
                  "class", generator),
        make_case("residual_probabilities", residual_classifier, "SoftmaxCrossEntropy", 4, 3, 2,
                  "probs", generator),
        make_case("activation_layers_bce",
                  ("seq", [dense(4, 5), ("act", "SiLU", 5), ("act", "Softplus", 5), dense(5, 3)]),
                  "BCEWithLogits", 4, 3, 2, "probs", generator),
        make_case("nested", nested, "MSE", 2, 1, 4, "vector", generator),
        make_case("issue_example", issue_example, "MSE", 8, 3, 4, "vector", generator),
    ]
    optimizer_cases = [optimizer_case(name, generator) for name in OPTIMIZER_CASES]
    # Added later, drawn after the cases above so that those keep their values.
    cases += [
        make_case("frozen", ("seq", [dense(3, 4, "Tanh"), ("frozen", ("seq", [dense(4, 4, "SiLU"), ("layernorm", 4)])),
                                     dense(4, 2)]),
                  "MSE", 3, 2, 3, "vector", generator),
        make_case("lora", ("seq", [("lora", 3, 5, "Tanh", 2, 4), ("res", [("lora", 5, 5, "GELU", 3, 3)]),
                                   ("lora", 5, 2, "Identity", 1, 2)]),
                  "MSE", 3, 2, 3, "vector", generator),
        make_case("concat_sum", ("seq", [dense(3, 4, "Tanh"),
                                         ("concat", [dense(4, 2, "SiLU"), ("seq", [dense(4, 3, "ReLU"), dense(3, 3)])]),
                                         ("sum", [dense(5, 3, "Sigmoid"), dense(5, 3)]), dense(3, 2)]),
                  "SoftmaxCrossEntropy", 3, 2, 3, "class", generator),
    ]
    cases += [
        make_case("prelu", ("seq", [dense(3, 6), ("prelu", 6), dense(6, 2, "Tanh"), ("prelu", 2)]),
                  "MSE", 3, 2, 4, "vector", generator),
    ]
    sequences = [
        sequence_case("gru_zero_state", ("seq", [("gru", 2, 5), dense(5, 1)]), 2, 1, 7, False, generator),
        sequence_case("gru_given_state", ("seq", [("gru", 2, 5), dense(5, 1)]), 2, 1, 7, True, generator),
        sequence_case("gru_stack",
                      ("seq", [("gru", 3, 4), ("res", [dense(4, 4, "Tanh")]), ("gru", 4, 3), dense(3, 2)]),
                      3, 2, 6, True, generator),
    ]
    sequences += [  # added later, drawn after the cases above so that those keep their values
        sequence_case("lstm_given_state", ("seq", [("lstm", 2, 5), dense(5, 1)]), 2, 1, 7, True, generator),
        sequence_case("lstm_gru_stack", ("seq", [("lstm", 3, 4), ("gru", 4, 3), dense(3, 2, "Tanh")]),
                      3, 2, 6, True, generator),
    ]
    # Drawn after everything above, so that it keeps its values.
    sequences += [
        sequence_case("conv_zero_state", ("seq", [("conv", 2, 4, 3, 2, "Tanh", 1), dense(4, 1)]), 2, 1, 9, False,
                      generator),
        sequence_case("conv_grouped_gru", ("seq", [("conv", 2, 4, 2, 1, "Identity", 2), ("gru", 4, 3), dense(3, 2)]),
                      2, 2, 7, True, generator),
        sequence_case("gated_conv", ("seq", [("conv", 1, 4, 2, 1, "Identity", 1),
                                             ("product", [("conv", 4, 3, 3, 2, "Tanh", 1),
                                                          ("conv", 4, 3, 3, 2, "Sigmoid", 1)]),
                                             dense(3, 1)]),
                      1, 1, 8, True, generator),
    ]
    film = ("sum", [("product", [("slice", 0, 2), ("seq", [("slice", 2, 1), dense(1, 2, "Tanh")])]),
                    ("seq", [("slice", 2, 1), dense(1, 2)])])
    cases += [
        make_case("film", ("seq", [film, dense(2, 2)]), "MSE", 3, 2, 3, "vector", generator),
    ]
    for act in LATER_ACTIVATIONS:
        cases.append(make_case(f"activation_{act}", ("seq", [dense(4, 5, act), dense(5, 3)]),
                               "MSE", 4, 3, 2, "vector", generator))
    cases.append(make_case("softmax", ("seq", [dense(4, 5, "Tanh"), dense(5, 3), ("softmax", 3)]),
                           "MSE", 4, 3, 3, "vector", generator))
    # Drawn after everything above, so that it keeps its values: two layers of NAM's WaveNet
    # carrying [x, head, audio] (a 1×1 convolution of the audio into x, one into the head,
    # which NAM starts at zero, and the audio), a 1×1 head on the head's sum.
    sequences += [
        sequence_case("nam_wavenet", ("seq", [("concat", [dense(1, 3), dense(1, 3), ("act", "Identity")]),
                                              ("nam", 3, 3, 1), ("nam", 3, 3, 2), ("slice", 3, 3), dense(3, 1)]),
                      1, 1, 12, True, generator),
    ]
    write("golden.txt", cases)
    write("sequences.txt", sequences)
    write("optimizers.txt", optimizer_cases)
    write("lr_schedules.txt", schedule_cases())
    write("batch_norm.txt", batch_norm_cases())


if __name__ == "__main__":
    main()
