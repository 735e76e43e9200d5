"""A grid as columns: every key's values checked once per distinct value, runs as arrays.

A grid key becomes either a *coded* column (its distinct values, checked, and one integer code
per run; -1: the run does not give the key) or a *dense* float64 column (a numeric column of a
DataFrame, checked with array operations). Nothing here holds a Python object per run, except
while reading a list of dicts (which is one object per run by construction).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ._grid import _RANGES, OPTIMIZER_DEFAULTS, SPECIAL_KEYS, _range_text, check_value

OPTIMIZERS = tuple(OPTIMIZER_DEFAULTS)  # the order of the optimizer codes


@dataclass(frozen=True)
class Coded:
    """Distinct values (checked) and, per run, the index of its value (-1: not given)."""

    values: list[Any]
    codes: np.ndarray  # (runs,) int64

    def take(self, rows: Any) -> Coded:
        return Coded(self.values, self.codes[rows])


# np.ndarray: dense, given by every run (float64 hyper-parameters; int64 seeds)
Column = Union[Coded, np.ndarray]


def _axis(key: str, values: Any) -> list[Any]:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        return [values]  # a single value is an axis of one
    if len(values) == 0:
        raise ValueError(f"grid key {key!r}: expected at least one value, got an empty list")
    return list(values)


def _factorize(values: Sequence[Any], missing: Any) -> Coded:
    """Distinct values in order of appearance; 1, 1.0 and True stay apart (a flag given as 1
    must be refused, not merged with True)."""
    index: dict[Any, int] = {}
    uniques: list[Any] = []
    codes = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        if v is missing:
            codes[i] = -1
            continue
        try:
            memo: Any = (type(v), v)
            hash(memo)
        except TypeError:  # unhashable (a start point given as a list)
            memo = (type(v), repr(v))
        k = index.get(memo)
        if k is None:
            k = index[memo] = len(uniques)
            uniques.append(v)
        codes[i] = k
    return Coded(uniques, codes)


def _dense_checked(key: str, values: np.ndarray) -> np.ndarray:
    """A numeric column checked with array operations (ValueError naming the first bad one)."""
    if key == "seed":
        if values.dtype.kind not in "iu" or (values.size and values.min() < 0):
            bad = values[0] if values.dtype.kind not in "iu" else values[np.argmin(values)]
            raise ValueError(f"grid key 'seed': expected an int >= 0, got {bad.item()!r}")
        return values.astype(np.int64)
    if key not in _RANGES:  # a flag given as numbers
        raise ValueError(f"grid key {key!r}: expected True or False, got {values[0].item()!r}")
    v = np.asarray(values, dtype=np.float64)
    lo, lo_in, hi, hi_in = _RANGES[key]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(v) & (v >= lo if lo_in else v > lo) & (v <= hi if hi_in else v < hi)
    if not ok.all():
        bad = values[int(np.argmin(ok))]
        bad = bad.item() if isinstance(bad, np.generic) else bad
        raise ValueError(
            f"grid key {key!r}: expected a finite value {_range_text(lo, lo_in, hi, hi_in)}, "
            f"got {bad!r}"
        )
    return v


def read_grid(grid: Any) -> tuple[list[str], dict[str, Column], int, list[int] | None]:
    """The grid's keys (in order), a raw (unchecked) column per key, the number of runs and,
    for a dict grid, each axis's length (its runs are the product, the last key fastest)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(grid, pd.DataFrame):
        if len(grid) == 0 or len(grid.columns) == 0:
            raise ValueError("grid: expected a DataFrame with at least one row and one column")
        keys = [str(k) for k in grid.columns]
        cols: dict[str, Column] = {}
        for key, name in zip(keys, grid.columns):
            s = grid[name]
            if s.dtype.kind in "fiu" and key not in ("optimizer", "x0"):
                cols[key] = s.to_numpy()  # checked by array operations
            elif s.dtype.kind == "b":
                cols[key] = Coded([False, True], s.to_numpy().astype(np.int64))
            elif pd.api.types.is_string_dtype(s) and s.notna().all():
                codes, uniques = pd.factorize(s)
                cols[key] = Coded([str(u) for u in uniques], codes.astype(np.int64))
            else:
                cols[key] = _factorize(s.to_numpy(dtype=object).tolist(), missing=None)
        return keys, cols, len(grid), None
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("grid: expected a non-empty dict of lists, got an empty dict")
        keys = [str(k) for k in grid]
        axes = [_axis(k, v) for k, v in grid.items()]
        n = math.prod(len(a) for a in axes)
        cols = {}
        stride = n
        for key, axis in zip(keys, axes):
            stride //= len(axis)
            codes = (np.arange(n, dtype=np.int64) // stride) % len(axis)
            cols[key] = Coded(axis, codes)
        return keys, cols, n, [len(a) for a in axes]
    if isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        if len(grid) == 0:
            raise ValueError("grid: expected a non-empty list of dicts, got an empty list")
        keys = []
        seen: set[str] = set()
        for i, run in enumerate(grid):
            if not isinstance(run, Mapping):
                raise TypeError(
                    f"grid[{i}]: expected a dict of settings, got {type(run).__name__}"
                )
            for k in run:
                if k not in seen:
                    seen.add(k)
                    keys.append(str(k))
        missing = object()
        cols = {k: _factorize([run.get(k, missing) for run in grid], missing) for k in keys}
        return keys, cols, len(grid), None
    raise TypeError(
        "grid: expected a dict of lists, a list of dicts or a pandas DataFrame (a run per row), "
        f"got {type(grid).__name__}"
    )


def check_keys(keys: list[str]) -> None:
    known = set(SPECIAL_KEYS).union(*OPTIMIZER_DEFAULTS.values())
    for key in keys:
        if key not in known:
            raise ValueError(
                f"grid key {key!r}: unknown; expected an optimizer hyper-parameter "
                f"({', '.join(sorted(known - set(SPECIAL_KEYS)))}) or one of {list(SPECIAL_KEYS)}"
            )


def checked(key: str, col: Column) -> Column:
    """The column with every distinct value checked (and normalized: lr 1 -> 1.0)."""
    if isinstance(col, np.ndarray):
        return _dense_checked(key, col)
    memo: dict[Any, Any] = {}
    values = []
    for v in col.values:
        try:
            m: Any = (type(v), v)
            values.append(memo[m])
        except KeyError:
            memo[m] = out = check_value(key, v)
            values.append(out)
        except TypeError:  # unhashable
            values.append(check_value(key, v))
    return Coded(values, col.codes)


def takes_table(keys: list[str]) -> np.ndarray:
    """(optimizers, keys) bool: does optimizer o take key k (special keys: every one)."""
    return np.array(
        [[k in SPECIAL_KEYS or k in OPTIMIZER_DEFAULTS[o] for k in keys] for o in OPTIMIZERS]
    )
