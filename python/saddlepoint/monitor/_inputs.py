"""The Monitor's argument checks and its least-squares loss trend: small pure functions that
the per-step path and the rules share."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

_NAN = math.nan


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


def loss_trend(loss: np.ndarray, atol: float) -> tuple[float, float]:
    """Relative drop of the loss over the window by a least-squares line, and that plus two
    standard errors of the slope (nan for fewer than 3 finite losses)."""
    n = loss.size
    if n < 3:
        return _NAN, _NAN
    total = float(loss.sum())
    if not math.isfinite(total):  # (a NaN or an Inf among them makes the sum one too)
        return _NAN, _NAN
    t, tt = _centred_steps(n)
    mean = total / n
    d = loss - mean
    slope = float(t @ d) / tt
    # residuals of the line, from sums: |d|^2 - slope^2 |t|^2 (t is centred, so t . 1 = 0)
    rss = max(float(d @ d) - slope * slope * tt, 0.0)
    se = math.sqrt(rss / (n - 2) / tt)
    scale = (n - 1) / (abs(mean) + atol)
    return -slope * scale, (-slope + 2.0 * se) * scale


@functools.lru_cache(maxsize=8)
def _centred_steps(n: int) -> tuple[np.ndarray, float]:
    """Step numbers 0..n-1 centred on their mean, and their squared norm: the window's
    regressor, the same at every check."""
    t = np.arange(n, dtype=np.float64) - 0.5 * (n - 1)
    t.setflags(write=False)
    return t, float(t @ t)
