"""Saving and resuming a Monitor: plain arrays and JSON in one ``.npz``, no pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ._curvature import CurvatureCheck
from ._events import Event
from ._monitor import COLUMNS

_VERSION = 1


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, float) and value != value:
        return {"__float__": "nan"}
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return {"__float__": "inf" if value > 0 else "-inf"}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if "__array__" in value:
            return np.asarray(value["__array__"], dtype=value["dtype"])
        if "__float__" in value:
            return float(value["__float__"])
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


def state_dict(mon: Any) -> dict[str, Any]:
    c = mon._curvature
    meta = {
        "version": _VERSION,
        "window": mon.window,
        "curvature_every": mon.curvature_every,
        "signature": None if mon._signature is None
        else [[list(s), str(d)] for s, d in mon._signature],
        "events": [[e.kind, e.step, e.message, e.details] for e in mon._events],
        "active": dict(mon._active),
        "first_effective_lr": mon._first_effective_lr,
        "max_grad_norm": mon._max_grad_norm,
        "batch_size": mon._batch_size,
        "diverged": mon._diverged,
        "have_last": mon._have_last if mon._signature is not None else False,
        "curvature_step": mon._curvature_step,
        # the windows after a jump (Monitor.jumped), check_point's stall, the observation mode
        "start": mon._start,
        "fresh": mon._fresh,
        "point_stall": mon._point_stall,
        "first_point_loss": mon._first_point_loss,
        "lowest_loss": mon._lowest_loss,
        "mode": mon._mode,
        "curvature": None if c is None else {
            "lambda_min": c.lambda_min, "lambda_max": c.lambda_max,
            "residual_min": c.residual_min, "residual_max": c.residual_max,
            "n_products": c.n_products, "method": c.method,
        },
    }  # fmt: skip
    arrays = {f"col:{k}": v.copy() for k, v in mon._cols.items()}
    arrays["ema"] = mon._col(mon._EMA).copy()
    arrays["gdu"] = mon._col(mon._GDU).copy()
    # (rows, 2): tr(Sigma), |G|^2 of each step's batch gradients, NaN where none were given
    arrays["noise"] = np.stack([mon._col(mon._NOISE_TRACE), mon._col(mon._NOISE_SIGNAL)], axis=1)
    arrays.update({f"buf:{k}": v.copy() for k, v in mon._buffers.items()})
    if c is not None:
        arrays["v_min"], arrays["v_max"] = c.v_min.copy(), c.v_max.copy()
    if mon._pre_vector is not None:
        arrays["pre_vector"] = mon._pre_vector.copy()
    return {"meta": json.dumps(_jsonable(meta)), **arrays}


def load_state_dict(mon: Any, state: dict[str, Any]) -> None:
    if not isinstance(state, dict) or "meta" not in state:
        raise TypeError("state: expected a dict from Monitor.state_dict()")
    meta = _restore(json.loads(str(state["meta"])))
    if meta.get("version") != _VERSION:
        raise ValueError(f"state: version {meta.get('version')!r} is not supported")
    sig = meta["signature"]
    if mon._signature is not None and sig is not None:
        mine = [[list(s), str(d)] for s, d in mon._signature]
        if mine != sig:
            raise ValueError(f"state: saved for parameters {sig}, this monitor watches {mine}")
    mon.window, mon.curvature_every = meta["window"], meta["curvature_every"]
    cols = {
        k[4:]: np.asarray(v, dtype=np.float64) for k, v in state.items() if k.startswith("col:")
    }
    if set(cols) != set(COLUMNS):
        raise ValueError(f"state: history columns {sorted(cols)} are not {sorted(COLUMNS)}")
    rows = cols["step"].size
    noise = np.asarray(state["noise"], dtype=np.float64).reshape(-1, 2)
    extra = [state["ema"], state["gdu"], noise[:, 0], noise[:, 1]]
    table = np.stack([cols[k] for k in COLUMNS] + [np.asarray(a, dtype=np.float64) for a in extra])
    if table.shape != (len(COLUMNS) + 4, rows):
        raise ValueError("state: history columns, ema, gdu and noise differ in length")
    mon._log.load(table)
    mon._log.window = mon.window
    mon._last_loss = float(cols["loss"][-1]) if rows else float("nan")
    mon._noise_given = bool(np.any(noise[:, 0] == noise[:, 0]))
    mon._signature = None if sig is None else [(tuple(s), np.dtype(d)) for s, d in sig]
    mon._buffers = {k[4:]: np.array(v) for k, v in state.items() if k.startswith("buf:")}
    mon._events = [Event(k, int(s), m, d) for k, s, m, d in meta["events"]]
    mon._active = {str(k): int(v) for k, v in meta["active"].items()}
    mon._first_effective_lr = float(meta["first_effective_lr"])
    mon._max_grad_norm = float(meta["max_grad_norm"])
    mon._batch_size = int(meta["batch_size"])
    mon._diverged = bool(meta["diverged"])
    mon._have_last = bool(meta["have_last"])
    mon._curvature_step = int(meta["curvature_step"])
    mon._start = int(meta.get("start", 0))
    mon._fresh = bool(meta.get("fresh", False))
    mon._point_stall = bool(meta.get("point_stall", False))
    mon._first_point_loss = float(meta.get("first_point_loss", float("nan")))
    mon._lowest_loss = float(meta.get("lowest_loss", float("inf")))
    mon._mode = meta.get("mode")
    if mon._mode == "in-step":
        # the resumed optimizer takes the instruments in its step again; its first step after
        # the resume has no previous direction (its engine starts a new sequence)
        if mon.optimizer is None or not mon._instrumented:
            raise ValueError(
                "state: saved from a monitor reading the instruments of an SGD/Adam step; "
                "load it with that optimizer (Monitor.load(path, optimizer=...))"
            )
        mon._observed_step = int(mon.optimizer.steps)
    elif mon._mode == "given" and mon._instrumented:
        from ._instep import disable

        disable(mon.optimizer)
        mon._instrumented = False
    c = meta["curvature"]
    mon._curvature = None if c is None else CurvatureCheck(
        c["lambda_min"], c["lambda_max"], np.asarray(state["v_min"]), np.asarray(state["v_max"]),
        c["residual_min"], c["residual_max"], c["n_products"], c["method"],
    )  # fmt: skip
    mon._pre_vector = np.asarray(state["pre_vector"]) if "pre_vector" in state else None


def save(mon: Any, path: Any) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **state_dict(mon))
    tmp.replace(path)  # a kill mid-write leaves the previous file whole


def load(cls: Any, path: Any, **kwargs: Any) -> Any:
    with np.load(Path(path), allow_pickle=False) as data:
        state = {k: data[k] for k in data.files}
    meta = json.loads(str(state["meta"]))
    kwargs.setdefault("window", meta["window"])
    kwargs.setdefault("curvature_every", meta["curvature_every"])
    mon = cls(**kwargs)  # its snapshot of the start is replaced by the file's buffers below
    load_state_dict(mon, state)
    return mon
