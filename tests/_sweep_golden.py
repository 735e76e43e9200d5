"""Sweep tables as the row-per-run implementation (commit d61befe) computed them, kept in
tests/data/sweep_golden.json so the columnar implementation is held to the same tables: the
same columns, dtypes, values and bits (floats are stored as their IEEE bit patterns).

``python tests/_sweep_golden.py`` rewrites the file from the installed saddlepoint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _sweep_surfaces import Bowl, Rosen, TinyNet

PATH = Path(__file__).parent / "data" / "sweep_golden.json"


def warm(t):
    return 0.05 * np.minimum(1.0, (np.asarray(t) + 1) / 20)


def halve(t):
    return 0.02 * 0.5 ** (np.asarray(t) // 50)


# name -> (surface, grid, keyword arguments of sweep)
CASES = {
    "adam-betas": (
        Rosen(),
        {"lr": [1e-3, 3e-2, 0.3], "beta1": [0.8, 0.9], "beta2": [0.99, 0.999]},
        {},
    ),
    "adam-amsgrad-wd": (
        Rosen(),
        {"lr": [1e-2], "weight_decay": [0.0, 0.1], "amsgrad": [False, True]},
        {},
    ),
    "adamw": (Rosen(), {"lr": [1e-2, 0.1], "weight_decay": [0.0, 0.05]}, {"optimizer": "adamw"}),
    "sgd-momentum": (
        Rosen(),
        {"lr": [1e-4, 5e-4], "momentum": [0.0, 0.9], "weight_decay": [0.0, 0.01]},
        {"optimizer": "sgd", "dtype": "float32"},
    ),
    "nesterov": (
        Rosen(),
        {"lr": [2e-4], "momentum": [0.5, 0.9], "nesterov": [True], "dampening": [0.0]},
        {"optimizer": "sgd"},
    ),
    "rmsprop": (
        Rosen(),
        {"lr": [1e-3, 1e-2], "momentum": [0.0, 0.5], "centered": [False, True]},
        {"optimizer": "rmsprop"},
    ),
    "adagrad": (
        Rosen(),
        {"lr": [0.05, 0.5], "lr_decay": [0.0, 0.01], "weight_decay": [0.0, 0.1]},
        {"optimizer": "adagrad", "threshold": 4.0},
    ),
    "crossing": (
        Rosen(),
        {"optimizer": ["sgd", "adam"], "momentum": [0.0, 0.9], "lr": [1e-4, 1e-3]},
        {},
    ),
    "list-of-dicts": (
        Rosen(),
        [
            {"optimizer": "sgd", "lr": 1e-4, "momentum": 0.9},
            {"optimizer": "adam", "lr": 0.01},
            {"optimizer": "rmsprop", "lr": 1e-3, "centered": True},
            {"optimizer": "adam", "lr": 1, "amsgrad": True},
        ],
        {},
    ),
    "schedules": (Rosen(), {"lr": [warm, halve, 0.01], "beta1": [0.9]}, {}),
    "noise-seeds": (
        Rosen(),
        {"lr": [1e-3, 1e-2], "noise": [0.0, 0.5]},
        {"seeds": [3, 4], "chunk_size": 3},
    ),
    "x0-grid": (
        Rosen(),
        {"x0": [(0.0, 0.0), (1.0, 1.0)], "lr": [0.0, 1e-3]},
        {"optimizer": "sgd"},
    ),
    "random-x0": (
        Rosen(),
        {"lr": [0.0, 1e-3]},
        {"seeds": [1, 2, 1], "x0": "random", "optimizer": "sgd"},
    ),
    "diverging": (
        Bowl(),
        {"lr": [0.1, 0.6, 10.0]},
        {"optimizer": "sgd", "threshold": 1e-4, "divergence": 1e6},
    ),
    "kinds": (TinyNet(), {"lr": [0.0, 0.05]}, {"optimizer": "sgd", "x0": (0.5, 0.5)}),
    "native-rosenbrock": (
        "rosenbrock",
        {"lr": np.logspace(-4, 0, 7).tolist(), "beta1": [0.8, 0.9]},
        {"x0": (-1.5, 2.0)},
    ),
    "native-mixed": (
        "himmelblau",
        {"optimizer": ["sgd", "adam", "adagrad", "rmsprop"], "lr": [1e-3, 1e-2]},
        {"dtype": "float32"},
    ),
}
STEPS = 200


def run(name):
    from saddlepoint import sweep

    surface, grid, kw = CASES[name]
    return sweep(surface, grid, steps=STEPS, progress=False, **kw)


def _encode_value(v):
    if isinstance(v, tuple):
        return {"tuple": [_encode_value(e) for e in v]}
    if isinstance(v, float):
        return {"float": np.float64(v).view(np.uint64).item()}
    if isinstance(v, (bool, int, str)) or v is None:
        return v
    raise TypeError(f"cannot encode {v!r}")


def _decode_value(v):
    if isinstance(v, dict) and "tuple" in v:
        return tuple(_decode_value(e) for e in v["tuple"])
    if isinstance(v, dict) and "float" in v:
        return float(np.uint64(v["float"]).view(np.float64))
    return v


def encode(df):
    cols = []
    for name in df.columns:
        s = df[name]
        dtype = str(s.dtype)
        if dtype == "float64":
            values = s.to_numpy().view(np.uint64).tolist()
        elif dtype == "Int64":
            values = [
                None if v is None else int(v) for v in s.astype(object).where(s.notna(), None)
            ]
        elif dtype in ("object", "str"):
            values = [_encode_value(None if v is np.nan else v) for v in s.tolist()]
        else:
            values = s.tolist()
        cols.append({"name": name, "dtype": dtype, "values": values})
    return {"index": df.index.tolist(), "index_name": df.index.name, "columns": cols}


def decode(doc):
    import pandas as pd

    data = {}
    for col in doc["columns"]:
        dtype, values = col["dtype"], col["values"]
        if dtype == "float64":
            data[col["name"]] = np.array(values, dtype=np.uint64).view(np.float64)
        elif dtype == "Int64":
            data[col["name"]] = pd.array(values, dtype="Int64")
        elif dtype in ("object", "str"):
            arr = np.empty(len(values), dtype=object)
            arr[:] = [_decode_value(v) for v in values]
            data[col["name"]] = pd.Series(arr, dtype=dtype, index=doc["index"])
        else:
            data[col["name"]] = np.array(values, dtype=dtype)
    return pd.DataFrame(data, index=pd.Index(doc["index"], name=doc["index_name"]))


if __name__ == "__main__":
    PATH.parent.mkdir(exist_ok=True)
    doc = {name: encode(run(name)) for name in CASES}
    PATH.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {PATH} ({len(doc)} tables)")
