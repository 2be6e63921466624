#!/usr/bin/python3
"""PyTorch -> staticgrad -> PyTorch through safetensors (a ctest; skips without python3-torch).

    pytorch_roundtrip.py FROM_PYTORCH_PROGRAM WORK_DIR

Trains a fresh network in PyTorch (examples/from_pytorch.py), has the from_pytorch example
load it, compare outputs and save it back with save_safetensors, then loads that file into
PyTorch: every tensor must come back bit for bit, and the outputs must be PyTorch's.
"""
import pathlib
import subprocess
import sys

try:
    import torch
except ImportError:
    print("SKIPPED: python3-torch is not installed (apt-get install python3-torch)")
    sys.exit(77)

root = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(root / "examples"), str(root / "tools")]
import from_pytorch  # noqa: E402
import torch_safetensors  # noqa: E402

program, work = sys.argv[1], pathlib.Path(sys.argv[2])
from_pytorch.main(work, seed=2)
subprocess.run([program, work / "model.safetensors", work / "reference.txt", work / "back.safetensors"],
               check=True)

original = torch_safetensors.load(work / "model.safetensors")
back = torch_safetensors.load(work / "back.safetensors")
assert original.keys() == back.keys(), (original.keys(), back.keys())
for name, tensor in original.items():
    assert back[name].dtype == tensor.dtype and back[name].shape == tensor.shape, name
    assert torch.equal(back[name], tensor), f"{name} changed on the way through staticgrad"
header, _ = torch_safetensors.read_header(work / "back.safetensors")
assert header["__metadata__"]["staticgrad"].startswith("Sequential<Dense<4,16,Tanh>"), header["__metadata__"]
print(f"round trip: {len(original)} tensors came back from staticgrad bit for bit")
