"""The Monitor's argument checks: small pure functions that the per-step path and the rules
share."""

from __future__ import annotations

from typing import Any

import numpy as np


def int_arg(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return int(value)


def as_arrays(value: Any, name: str) -> list[np.ndarray]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ValueError(f"{name}: expected an array or a non-empty list of arrays")
    out = []
    for i, a in enumerate(items):
        label = f"{name}[{i}]" if isinstance(value, (list, tuple)) else name
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{label}: expected a NumPy array, got {type(a).__name__}")
        if a.dtype not in (np.float32, np.float64):
            raise TypeError(f"{label}: expected a float32 or float64 array, got {a.dtype}")
        out.append(a)
    return out


def scalar_loss(loss: Any) -> float:
    if isinstance(loss, bool):
        raise TypeError("loss: expected a real number, got bool")
    arr = np.asarray(loss)
    if arr.ndim != 0 and arr.size != 1:
        raise ValueError(f"loss: expected a scalar (the batch's mean loss), got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"loss: expected a real number, got {arr.dtype}")
    return float(arr.reshape(()))
