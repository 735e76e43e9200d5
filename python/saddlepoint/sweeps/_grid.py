"""Sweep grids: expansion into runs, validation of every key and value, optimizer defaults.

A grid is a dict of lists (the full product, the last key varying fastest) or a list of dicts
(one run each). In a dict grid that crosses optimizers, a key only some of them take (``momentum``
with ``["sgd", "adam"]``) is an axis for those optimizers alone: the others run once per
combination of their own keys, with None in that column, rather than once per value of a
setting they ignore. Keys are the optimizer's keyword arguments (``beta1`` / ``beta2`` for Adam's
pair), ``optimizer`` (to compare optimizers in one sweep), ``x0`` (start points), ``noise`` (the
standard deviation of Gaussian noise added to every gradient the optimizer sees, as
:func:`saddlepoint.train.minimize` does) and ``seed`` (of that noise, and of random start
points with ``x0="random"``). ``lr`` may be a number or a schedule (any callable
``step -> lr``, such as those of :mod:`saddlepoint.schedules`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
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


def expand(grid: Any) -> tuple[list[str], list[dict[str, Any]], list[tuple[int, ...]] | None]:
    """The grid's keys (in order), its runs (one dict each) and, for a dict grid, each run's
    position on every axis (None for a list of dicts, whose runs are exactly as given)."""
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("grid: expected a non-empty dict of lists, got an empty dict")
        keys = [str(k) for k in grid]
        axes = []
        for key, values in grid.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                values = [values]  # a single value is an axis of one
            if len(values) == 0:
                raise ValueError(
                    f"grid key {key!r}: expected at least one value, got an empty list"
                )
            axes.append(list(values))
        positions = list(itertools.product(*(range(len(axis)) for axis in axes)))
        runs = [{k: axes[j][i] for j, (k, i) in enumerate(zip(keys, pos))} for pos in positions]
        return keys, runs, positions
    elif isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        if len(grid) == 0:
            raise ValueError("grid: expected a non-empty list of dicts, got an empty list")
        keys = []
        runs = []
        for i, run in enumerate(grid):
            if not isinstance(run, Mapping):
                raise TypeError(
                    f"grid[{i}]: expected a dict of settings, got {type(run).__name__}"
                )
            for k in run:
                if k not in keys:
                    keys.append(str(k))
            runs.append(dict(run))
        return keys, runs, None
    else:
        raise TypeError(
            f"grid: expected a dict of lists or a list of dicts, got {type(grid).__name__}"
        )


def settle(
    keys: list[str],
    runs: list[dict[str, Any]],
    optimizer: str,
    positions: list[tuple[int, ...]] | None = None,
) -> list[dict[str, Any]]:
    """Every run's complete settings: its optimizer, defaults filled in, values checked.

    With `positions` (a dict grid), a run is kept only at the first value of every axis its
    optimizer does not take: the other values would repeat it exactly.
    """
    known = set(SPECIAL_KEYS).union(*OPTIMIZER_DEFAULTS.values())
    for key in keys:
        if key not in known:
            raise ValueError(
                f"grid key {key!r}: unknown; expected an optimizer hyper-parameter "
                f"({', '.join(sorted(known - set(SPECIAL_KEYS)))}) or one of {list(SPECIAL_KEYS)}"
            )
    default_opt = check_value("optimizer", optimizer)
    optimizers = {check_value("optimizer", r.get("optimizer", default_opt)) for r in runs}
    for key in keys:  # a key that no optimizer of the sweep takes is a mistake, not a no-op
        if key not in SPECIAL_KEYS and not any(key in OPTIMIZER_DEFAULTS[o] for o in optimizers):
            raise ValueError(
                f"grid key {key!r}: not a hyper-parameter of {' or '.join(sorted(optimizers))}"
            )
    takes = {name: set(SPECIAL_KEYS).union(d) for name, d in OPTIMIZER_DEFAULTS.items()}
    checked: dict[tuple[str, type, Any], Any] = {}  # grids repeat values: check each once

    def check(key: str, value: Any) -> Any:
        try:
            memo = (key, type(value), value)
            return checked[memo]
        except KeyError:
            checked[memo] = out = check_value(key, value)
            return out
        except TypeError:  # unhashable (a start point given as a list)
            return check_value(key, value)

    ignored = {  # per optimizer, the axes (by position) of keys it does not take
        name: [j for j, key in enumerate(keys) if key not in takes[name]] for name in takes
    }
    settled = []
    for i, run in enumerate(runs):
        name = check("optimizer", run.get("optimizer", default_opt))
        s: dict[str, Any] = {"optimizer": name, **OPTIMIZER_DEFAULTS[name]}
        for key, value in run.items():
            value = check(key, value)
            if key in takes[name]:
                s[key] = value
        if positions is not None and any(positions[i][j] for j in ignored[name]):
            continue
        if s.get("nesterov") and not (s["momentum"] > 0 and s["dampening"] == 0):
            raise ValueError(
                "grid key 'nesterov': requires momentum > 0 and dampening == 0, got a run with "
                f"momentum={s['momentum']!r}, dampening={s['dampening']!r}"
            )
        settled.append(s)
    return settled


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
