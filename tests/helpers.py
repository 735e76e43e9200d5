"""Helpers shared by the test modules: byte-for-byte snapshots for "refused, and nothing
changed" checks (STYLE.md: boundary tests assert every array is unchanged afterwards)."""

from __future__ import annotations

from typing import Any

import numpy as np


def snapshot(*objs: Any) -> list[bytes]:
    """Bytes of every array among ``objs``, dict values and list/tuple items included (object
    arrays by the repr of their items); anything else is ignored. Take one before a call and
    compare it with one after: equal lists mean no array was written, not even a NaN's bits."""
    out: list[bytes] = []
    for obj in objs:
        if isinstance(obj, dict):
            out += snapshot(*obj.values())
        elif isinstance(obj, (list, tuple)):
            out += snapshot(*obj)
        elif isinstance(obj, np.ndarray):
            if obj.dtype.kind == "O":
                out.append(repr(obj.tolist()).encode())
            else:
                out.append(np.ascontiguousarray(obj).tobytes())
    return out


def optimizer_snapshot(opt: Any) -> tuple:
    """A saddlepoint optimizer's parameters, state buffers, step count and settings (repr)."""
    buffers = {name: snapshot(a) for name, a in opt._buffers().items()}
    return (snapshot(opt.params), buffers, opt.steps, repr(opt))
