#!/usr/bin/python3
"""Saves and loads PyTorch state_dicts as safetensors with the standard library only
(json + struct): the safetensors package is not needed. Float32 and float64 tensors.

As a module:   import torch_safetensors
               torch_safetensors.save(model.state_dict(), "model.safetensors")
               model.load_state_dict(torch_safetensors.load("model.safetensors"))
As a script:   /usr/bin/python3 tools/torch_safetensors.py show FILE
               (lists the tensors: name, dtype, shape)

The format (https://huggingface.co/docs/safetensors): a little-endian u64 header size N,
N bytes of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
{...}}, then the tensors' bytes, offsets counted from the end of the header.
"""
import json
import struct
import sys

import torch

FORMATS = {torch.float32: ("F32", "f", 4), torch.float64: ("F64", "d", 8)}
DTYPES = {"F32": (torch.float32, "f", 4), "F64": (torch.float64, "d", 8)}


def save(state_dict, path, metadata=None):
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    data = bytearray()
    for name, tensor in state_dict.items():
        if tensor.dtype not in FORMATS:
            raise ValueError(f"{name}: dtype {tensor.dtype}; this script writes float32 and float64")
        dtype, code, size = FORMATS[tensor.dtype]
        values = tensor.detach().cpu().contiguous().reshape(-1).tolist()
        begin = len(data)
        data += struct.pack(f"<{len(values)}{code}", *values)
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [begin, len(data)]}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + data)


def read_header(path):
    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + size]), raw[8 + size:]


def load(path):
    header, data = read_header(path)
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, code, size = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        values = struct.unpack(f"<{(end - begin) // size}{code}", data[begin:end])
        tensors[name] = torch.tensor(values, dtype=dtype).reshape(entry["shape"])
    return tensors


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "show":
        sys.exit(__doc__)
    header, _ = read_header(sys.argv[2])
    for name, entry in header.items():
        print(name, entry if name == "__metadata__" else f'{entry["dtype"]} {entry["shape"]}')
