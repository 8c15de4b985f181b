"""Reader for CTranslate2's ``model.bin`` (format version 6).

Layout: u32 version, str spec name, u32 revision, u32 count, then per variable
str name, u8 rank, u32 dims[rank], u8 dtype, u32 nbytes, raw bytes; then u32
alias count and (alias, target) string pairs. A str is u16 length (with the
trailing NUL) + bytes. Written against ctranslate2 4.x's serialisation.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(model: Path | str | bytes, name: str | None = None) -> dict:
    """Return {variable name: numpy array} with aliases resolved, from a ``model.bin`` file or its
    bytes (``name`` names them in errors)."""
    data = model if isinstance(model, bytes) else Path(model).read_bytes()
    path = name or (model if not isinstance(model, bytes) else "model.bin")
    pos = 0

    def need(n, what="the header"):
        if pos + n > len(data):
            raise ValueError(f"{path}: truncated: {what} needs {n} bytes from byte {pos}, the file holds "
                             f"{len(data)} (a model.bin shipped in parts needs every part, joined in order)")

    def take(fmt):
        nonlocal pos
        need(struct.calcsize("<" + fmt))
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    def string():
        nonlocal pos
        (n,) = take("H")
        need(n)
        s = data[pos:pos + n].rstrip(b"\0").decode()
        pos += n
        return s

    (version,) = take("I")
    if version != 6:
        raise ValueError(f"{path}: CTranslate2 model format {version} not supported (want 6)")
    string()  # spec name
    take("I")  # revision
    (count,) = take("I")
    out = {}
    for _ in range(count):
        name = string()
        (rank,) = take("B")
        dims = take("I" * rank) if rank else ()
        dtype, nbytes = take("B")[0], take("I")[0]
        if dtype not in _DTYPES:
            raise ValueError(f"{path}: variable {name} has unsupported dtype code {dtype}")
        need(nbytes, f"variable {name}")
        arr = np.frombuffer(data, dtype=_DTYPES[dtype], count=nbytes // np.dtype(_DTYPES[dtype]).itemsize,
                            offset=pos)
        pos += nbytes
        out[name] = arr.reshape(dims) if rank else arr.reshape(())
    if pos < len(data):
        (n_alias,) = take("I")
        for _ in range(n_alias):
            alias, target = string(), string()
            out[alias] = out[target]
    return out
