"""Types and the point check shared by the Hessian modules."""

from __future__ import annotations

from typing import Callable

import numpy as np

Array = np.ndarray


HVP = Callable[[Array], Array]


def _point(x: object, name: str = "x") -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8):
        raise TypeError(f"{name}: expected float32 or float64 values, got {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D point, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got {arr}")
    return arr
