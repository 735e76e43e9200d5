"""Sweep grids: the keys, the validation of one value, optimizer defaults, schedules.

A grid is a dict of lists (the full product, the last key varying fastest), a list of dicts
(one run each) or a pandas DataFrame (one run per row, a column per key: the columnar form for
large grids; see _columns). In a dict grid that crosses optimizers, a key only some of them
take (``momentum`` with ``["sgd", "adam"]``) is an axis for those optimizers alone: the others
run once per combination of their own keys, with None in that column, rather than once per
value of a setting they ignore. Keys are the optimizer's keyword arguments (``beta1`` /
``beta2`` for Adam's pair), ``optimizer`` (to compare optimizers in one sweep), ``x0`` (start
points), ``noise`` (the standard deviation of Gaussian noise added to every gradient the
optimizer sees, as :func:`saddlepoint.train.minimize` does) and ``seed`` (of that noise, and
of random start points with ``x0="random"``). ``lr`` may be a number or a schedule (any
callable ``step -> lr``, such as those of :mod:`saddlepoint.schedules`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

# Each optimizer's hyper-parameters and torch.optim's defaults.
OPTIMIZER_DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {
        "lr": 1e-3,
        "momentum": 0.0,
        "dampening": 0.0,
        "weight_decay": 0.0,
        "nesterov": False,
        "maximize": False,
    },
    "adagrad": {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0, "eps": 1e-10, "maximize": False},
    "rmsprop": {
        "lr": 1e-2,
        "alpha": 0.99,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum": 0.0,
        "centered": False,
        "maximize": False,
    },
    "adam": {
        "lr": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
        "maximize": False,
    },
}
OPTIMIZER_DEFAULTS["adamw"] = {**OPTIMIZER_DEFAULTS["adam"], "weight_decay": 1e-2}

# name -> (lowest value, included?, highest value, included?)
_RANGES: dict[str, tuple[float, bool, float, bool]] = {
    "lr": (0.0, True, math.inf, False),
    "momentum": (0.0, True, math.inf, False),
    "dampening": (0.0, True, 1.0, True),
    "weight_decay": (0.0, True, math.inf, False),
    "lr_decay": (0.0, True, math.inf, False),
    "eps": (0.0, True, math.inf, False),
    "alpha": (0.0, True, 1.0, True),
    "beta1": (0.0, True, 1.0, False),
    "beta2": (0.0, True, 1.0, False),
    "noise": (0.0, True, math.inf, False),
}
_FLAGS = {"nesterov", "maximize", "amsgrad", "centered"}
SPECIAL_KEYS = ("optimizer", "x0", "seed", "noise")


def _range_text(lo: float, lo_in: bool, hi: float, hi_in: bool) -> str:
    if math.isinf(hi):
        return f"{'>=' if lo_in else '>'} {lo:g}"
    return f"in {'[' if lo_in else '('}{lo:g}, {hi:g}{']' if hi_in else ')'}"


def check_value(key: str, value: Any) -> Any:
    """The value of one grid key, validated (ValueError/TypeError naming the key)."""
    if type(value) is float and key in _RANGES:  # the common case, first and cheap
        lo, lo_in, hi, hi_in = _RANGES[key]
        if (value >= lo if lo_in else value > lo) and (value <= hi if hi_in else value < hi):
            return value  # (NaN fails both comparisons and falls through to the error)
    if key == "optimizer":
        if not isinstance(value, str) or value.lower() not in OPTIMIZER_DEFAULTS:
            raise ValueError(
                f"grid key 'optimizer': expected one of {sorted(OPTIMIZER_DEFAULTS)}, "
                f"got {value!r}"
            )
        return value.lower()
    if key == "seed":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"grid key 'seed': expected an int >= 0, got {value!r}")
        return value
    if key == "x0":
        return value  # checked against the surface's dimension by the caller
    if key in _FLAGS:
        if not isinstance(value, bool):
            raise ValueError(f"grid key {key!r}: expected True or False, got {value!r}")
        return value
    if key == "lr" and callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and np.issubdtype(type(value), np.number):
                value = value.item()
            else:
                raise TypeError
        except TypeError:
            what = "a number or a schedule (callable)" if key == "lr" else "a number"
            raise ValueError(f"grid key {key!r}: expected {what}, got {value!r}") from None
    lo, lo_in, hi, hi_in = _RANGES[key]
    v = float(value)
    ok = math.isfinite(v) and (v >= lo if lo_in else v > lo) and (v <= hi if hi_in else v < hi)
    if not ok:
        raise ValueError(
            f"grid key {key!r}: expected a finite value {_range_text(lo, lo_in, hi, hi_in)}, "
            f"got {value!r}"
        )
    return v


def lr_values(schedule: Callable[[Any], Any], steps: int) -> Any:
    """A schedule evaluated once for steps 0..steps-1 (float64), as the optimizers call it."""
    import numpy as np

    t = np.arange(steps)
    try:
        values = np.asarray(schedule(t), dtype=np.float64)
    except Exception:  # a scalar-only callable: evaluate step by step
        values = None
    if values is None or values.shape != (steps,):
        values = np.array([float(schedule(int(i))) for i in t], dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(
            f"grid key 'lr': schedule {schedule!r} gave a value that is not a finite number >= 0"
        )
    return values
