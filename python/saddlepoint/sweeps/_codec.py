"""The stored form of a result table, shared by the SQLite and Parquet stores: one column per
grid key and result field, each of a kind that says how it is stored and read back.

kinds: ``float`` (float64; NaN is SQL NULL in SQLite), ``int`` (seeds), ``bool``, ``str``
(optimizer names), ``json`` (start points and learning rates mixing numbers and schedules:
JSON text), ``kind`` (the final point's classification, text) and ``step`` (threshold_step,
NULL when never reached). A column is read back as (values, null mask) and turned into the
table's column with the dtype the table had when computed.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ._columns import Coded
from ._grid import _FLAGS
from ._run import KINDS
from ._runs import Runs, display

Stored = tuple[np.ndarray, "np.ndarray | None"]  # values, and where they are null (or None)


def schema(runs: Runs, dim: int) -> list[tuple[str, str]]:
    """(column, kind) for every column of the table, in order (``run`` excluded)."""
    cols = []
    for key in runs.keys:
        col = runs.cols.get(key)
        if key == "optimizer":
            kind = "str"
        elif key == "x0" or (isinstance(col, Coded) and any(callable(v) for v in col.values)):
            kind = "json"
        elif key in _FLAGS:
            kind = "bool"
        elif key == "seed":
            kind = "int"
        else:
            kind = "float"
        cols.append((key, kind))
    cols += [
        ("final_loss", "float"),
        ("best_loss", "float"),
        ("threshold_step", "step"),
        ("grad_norm", "float"),
        ("diverged", "bool"),
        ("kind", "kind"),
    ]
    return cols + [(f"x_final_{k}", "float") for k in range(dim)]


def _json(v: Any) -> Any:
    return None if v is None else json.dumps(list(v) if isinstance(v, tuple) else v)


def encode(
    chunk: dict[str, Any],
    runs: Runs,
    columns: list[tuple[str, str]],
    names: tuple[Any, Any],
) -> dict[str, Stored]:
    """A finished chunk's columns in stored form: its runs' grid values and its results."""
    schedule_name, show = names
    out: dict[str, Stored] = {}
    x_final = np.asarray(chunk["x_final"]).reshape(len(chunk["run"]), -1)
    for name, kind in columns:
        if name in chunk:
            v = chunk[name]
        elif name.startswith("x_final_"):
            v = x_final[:, int(name[len("x_final_") :])]
        else:
            v = display(runs, name, schedule_name, show)
        if kind == "kind":
            out[name] = (np.array(KINDS, dtype=object)[v], None)  # text, for SQL readers
        elif kind == "step":
            out[name] = (v, v < 0)
        elif kind == "json":
            out[name] = (np.array([_json(e) for e in v.tolist()], dtype=object), v == None)  # noqa: E711
        elif kind in ("int", "bool") and v.dtype.kind in "fO":  # runs without a value
            null = np.isnan(v) if v.dtype.kind == "f" else v == None  # noqa: E711
            filled = np.where(null, 0, v).astype(np.int64 if kind == "int" else bool)
            out[name] = (filled, null)
        else:
            out[name] = (np.asarray(v), None)
    return out


def decode(pd: Any, kind: str, values: np.ndarray, null: Any, index: Any) -> Any:
    """A stored column as the table's column (the dtypes of the computed table)."""
    has_null = null is not None and bool(null.any())
    if kind == "float":
        return np.asarray(values, dtype=np.float64)
    if kind == "step":
        v = np.where(null, 0, values).astype(np.int64) if has_null else values.astype(np.int64)
        return pd.arrays.IntegerArray(v, np.zeros(len(v), bool) if null is None else null)
    if kind in ("int", "bool"):
        if not has_null:
            return np.asarray(values).astype(np.int64 if kind == "int" else bool)
        if kind == "int":
            return np.where(null, np.nan, values).astype(np.float64)
        out = np.asarray(values).astype(bool).astype(object)
        out[null] = None
        return out
    if kind == "json":
        out = np.empty(len(values), dtype=object)  # start points as tuples, as computed
        for i, text in enumerate(values.tolist()):
            e = None if text is None else json.loads(text)
            out[i] = tuple(e) if isinstance(e, list) else e
        return out
    if kind == "kind":
        return pd.Series(np.asarray(values, dtype=object), index=index, dtype=object)
    return np.asarray(values, dtype=object)  # str: pandas infers its string dtype, as computed


def kind_codes(values: np.ndarray) -> np.ndarray:
    """Stored kind names back to codes into KINDS."""
    codes = np.zeros(len(values), dtype=np.int8)
    values = np.asarray(values, dtype=object)
    for code, name in enumerate(KINDS):
        codes[values == name] = code
    return codes
