"""Writes safetensors fixtures from PyTorch tensors with a hand-written writer (no safetensors package).

Run with /usr/bin/python3 from the repo root. Outputs, under test/fixtures/safetensors/:
  mixed.safetensors   tensors of many dtypes, laid out so that most data offsets are unaligned
                      (odd-sized tensors first, header not padded), plus metadata
  mixed.json          the expected values (as PyTorch converts them to float32/float64/int) and shapes
  padded.safetensors  three tensors written the way the reference Rust writer lays them out when
                      sorted by name (compact JSON, __metadata__ first, header padded with spaces to
                      a multiple of 8 bytes): the byte-for-byte expectation for qkv's serializer
  padded.json         the values and metadata that padded.safetensors holds
"""

import json
import math
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "safetensors")

DTYPE_NAMES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def raw_bytes(t):
    """Little-endian bytes of a contiguous tensor, straight from numpy (bf16 through an int16 view)."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write(path, tensors, metadata=None, pad=True, reverse_keys=False):
    """tensors: list of (name, tensor) in the order their data is laid out."""
    entries = {}
    chunks = []
    offset = 0
    for name, t in tensors:
        b = raw_bytes(t)
        entries[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    header = {}
    names = list(entries)
    for name in reversed(names) if reverse_keys else names:
        header[name] = entries[name]
    if metadata:
        header["__metadata__"] = metadata  # last here; qkv's writer puts it first (see padded)
    if metadata and not reverse_keys:
        header = {"__metadata__": metadata, **entries}
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in chunks:
            f.write(b)


def as_json_values(t):
    """Flat expected values: floats as PyTorch widens them to float64, ints and bools as ints."""
    flat = t.reshape(-1)
    if t.dtype in (torch.float16, torch.bfloat16, torch.float32):
        vals = flat.to(torch.float32).tolist()
    elif t.dtype == torch.float64:
        vals = flat.tolist()
    else:
        return [int(v) for v in flat.to(torch.int64).tolist()]
    return [v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")) for v in vals]


QKV_DTYPE = {
    torch.float32: "float32",
    torch.float64: "float64",
    torch.float16: "float32",
    torch.bfloat16: "float32",
}


def expected(tensors, metadata):
    return {
        "metadata": metadata or {},
        "tensors": {
            name: {
                "dtype": QKV_DTYPE.get(t.dtype, "int32"),
                "file_dtype": DTYPE_NAMES[t.dtype],
                "shape": list(t.shape),
                "values": as_json_values(t),
            }
            for name, t in tensors
        },
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    special16 = [0.0, -0.0, 1.0, -2.5, 65504.0, 6.1035e-05, 5.96e-08, 3.0e-06, float("inf"), float("-inf"), float("nan"), 0.1]
    special_bf = [0.0, -0.0, 1.0, -2.5, 3.0e38, 1.0e-38, 9.2e-41, float("inf"), float("-inf"), float("nan"), 0.1, 1234.5]
    # Odd byte counts first, so every later tensor starts at an unaligned offset.
    mixed = [
        ("a.bool", torch.tensor([True, False, True])),                                  # 3 bytes
        ("b.u8", torch.tensor([0, 7, 255], dtype=torch.uint8)),                          # 3 bytes
        ("c.i8", torch.tensor([-128, -1, 0, 127, 5], dtype=torch.int8)),                 # 5 bytes
        ("d.f16", torch.tensor(special16, dtype=torch.float16).reshape(3, 4)),
        ("e.bf16", torch.tensor(special_bf, dtype=torch.bfloat16).reshape(2, 2, 3)),
        ("f.i16", torch.tensor([-32768, -3, 0, 32767], dtype=torch.int16)),
        ("g.f32", torch.randn(3, 5, generator=g, dtype=torch.float32)),
        ("h.f64", torch.randn(2, 3, generator=g, dtype=torch.float64)),
        ("i.i32", torch.tensor([[-2147483648, -1], [0, 2147483647]], dtype=torch.int32)),
        ("j.i64", torch.tensor([-2147483648, -7, 0, 42, 2147483647], dtype=torch.int64)),
        ("k.scalar", torch.tensor(3.25, dtype=torch.float32)),
        ("l.empty", torch.zeros(0, 3, dtype=torch.float32)),
    ]
    meta = {"format": "pt", "note": "héllo ✓"}
    # Stored in the header in reverse name order, to check the reader does not rely on key order.
    write(os.path.join(OUT, "mixed.safetensors"), mixed, meta, pad=False, reverse_keys=True)
    with open(os.path.join(OUT, "mixed.json"), "w") as f:
        json.dump(expected(mixed, meta), f)

    # What qkv's serializer must produce byte for byte: names sorted, data contiguous in that order.
    padded = [
        ("bias", torch.randn(3, generator=g, dtype=torch.float32)),
        ("ids", torch.tensor([[1, -2, 3]], dtype=torch.int32)),
        ("weight", torch.randn(2, 3, generator=g, dtype=torch.float64)),
    ]
    pmeta = {"format": "pt"}
    write(os.path.join(OUT, "padded.safetensors"), padded, pmeta, pad=True)
    with open(os.path.join(OUT, "padded.json"), "w") as f:
        json.dump(expected(padded, pmeta), f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
