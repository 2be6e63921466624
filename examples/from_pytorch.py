#!/usr/bin/python3
"""The PyTorch half of the from_pytorch example: trains a small network in PyTorch, saves its
state_dict as safetensors (tools/torch_safetensors.py: json + struct, no extra package) and
writes inputs with PyTorch's outputs for them, which examples/from_pytorch.cpp compares
against the same network loaded into staticgrad.

    /usr/bin/python3 examples/from_pytorch.py DIR   writes DIR/model.safetensors, DIR/reference.txt

The same network in staticgrad (nn.Sequential numbering: 0 Linear, 1 Tanh, 2 LayerNorm,
3 Linear, 4 GELU, 5 Linear):
    Sequential<Dense<4,16,Tanh>, LayerNorm<16>, Dense<16,16,GELU>, Dense<16,3>>
"""
import pathlib
import sys

import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tools"))
import torch_safetensors  # noqa: E402


def target(x):
    return torch.stack([torch.sin(x[:, 0]) + x[:, 1] * x[:, 2], torch.cos(x[:, 3]), x[:, 0] * x[:, 3]], dim=1)


def main(folder, seed=1):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.LayerNorm(16), nn.Linear(16, 16), nn.GELU(),
                          nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(300):
        x = torch.rand(64, 4) * 2 - 1
        loss = nn.functional.mse_loss(model(x), target(x))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch_safetensors.save(model.state_dict(), folder / "model.safetensors")
    x = torch.rand(8, 4) * 2 - 1
    with torch.no_grad():
        y = model(x)
    with open(folder / "reference.txt", "w") as out:
        out.write("# inputs (4), then PyTorch's outputs (3), as hex floats\n")
        for xs, ys in zip(x.tolist(), y.tolist()):
            out.write(" ".join(v.hex() for v in xs + ys) + "\n")
    print(f"from_pytorch.py: trained (mse {loss.item():.4f}), wrote {folder}/model.safetensors "
          f"and {folder}/reference.txt")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
