"""The monitor at one point: a point judged before its step (:meth:`Monitor.check_point`), a
jump of the parameters outside the optimizer (:meth:`Monitor.jumped`), a note added to an
event (:meth:`Monitor.annotate`), and the numbers every event carries."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from . import _verdicts
from ._events import Event
from ._stability import StepRule

_NAN = math.nan
STALL_KINDS = ("saddle", "minimum", "maximum", "degenerate", "vanishing_gradient")


def span(mon: Any) -> int:
    """Rows the windows judge: the last ``window``, none from before the last jump."""
    return max(1, min(mon.window, mon._rows - mon._start))


def flat_params(mon: Any) -> np.ndarray | None:
    if mon._params is None:
        return None
    return np.concatenate([p.ravel() for p in mon._params]).astype(np.float64)


def jumped(mon: Any) -> None:
    b = mon._buffers
    if mon._params is not None and "last_param" in b:
        b["last_param"][:] = np.concatenate([p.ravel() for p in mon._params])
        mon._have_last = True
    if "direction" in b:
        b["direction"][:] = 0  # the next update's cosine with the one before the jump: none
    mon._start = mon._rows
    mon._fresh = True  # the next row starts the smoothed loss afresh, with no step quality
    mon._active.clear()
    mon._point_stall = False


def annotate(mon: Any, event: Event, note: str, details: dict[str, Any]) -> Event:
    for i, e in enumerate(mon._events):
        if e is event:
            message = f"{event.message} {note}" if note else event.message
            mon._events[i] = Event(event.kind, event.step, message, {**event.details, **details})
            return mon._events[i]
    raise ValueError("event: not one of this monitor's events")


def complete(mon: Any, kind: str, details: dict[str, Any]) -> dict[str, Any]:
    """The numbers every event carries (loss, gradient norm, the point), and for a
    critical-point verdict whose curvature check was dense the whole spectrum."""
    n = mon._rows
    if "loss" not in details and n:
        details["loss"] = float(mon._log.table[mon._C["loss"], n - 1])
    if "grad_norm" not in details and n:
        details["grad_norm"] = float(mon._log.table[mon._C["grad_norm"], n - 1])
    if "x" not in details and mon._params is not None:
        details["x"] = flat_params(mon)
    check = mon._curvature
    if kind in STALL_KINDS and check is not None and check.method == "dense" and mon.hvp:
        from ..hessian import classify

        if check.spectrum is not None and mon._curvature_step == n:
            # the dense check at this very row already decomposed the Hessian: reuse it
            H = np.diag(check.spectrum)
        else:
            dim = mon.dim
            dtype = mon._signature[0][1] if mon._signature else np.float64
            basis = np.eye(dim, dtype=dtype)
            columns = [np.asarray(mon.hvp(e), dtype=np.float64).reshape(dim) for e in basis]
            H = np.stack(columns, axis=1)
        cls = classify(0.5 * (H + H.T), rtol=mon.thresholds.curvature_rtol)
        details.update(eigenvalues=np.asarray(cls.eigenvalues, dtype=np.float64),
                       minimum_ratio=float(cls.minimum_ratio))  # fmt: skip
    return details


def _point_window(mon: Any, rule: StepRule, value: float, gn: float) -> _verdicts.Window:
    """The window as it stands, with this point's loss and gradient norm as its last row."""
    c, n = mon._cols, mon._rows
    lo = max(mon._start, n - mon.window + 1)
    x = flat_params(mon)
    scale = float(np.linalg.norm(x)) if x is not None else (float(c["distance"][-1]) if n else 0.0)
    # the monitor's own window, with what this point changes in it (no trend from one point)
    _, _, cosine, drop, *_ = mon._log.window_stats(lo, n)
    return dataclasses.replace(
        mon._window(rule),
        loss=np.asarray([*c["loss"][lo:], value]),
        grad_norm=np.asarray([*c["grad_norm"][lo:], gn]),
        cos_update=np.asarray(c["cos_update"][lo:]),
        grad_dot_update=mon._col(mon._GDU)[lo:],
        improvement=_NAN,
        improvement_upper=_NAN,
        first_loss=float(c["loss"][0]) if n else mon._first_point_loss,
        max_grad_norm=max(mon._max_grad_norm, gn) if math.isfinite(gn) else mon._max_grad_norm,
        noise_scale=_NAN,
        noise_trace=_NAN,
        effective_lr=_NAN,
        param_scale=scale,
        mean_cosine=cosine,
        promised_drop=drop,
    )


def _nonfinite(arrays: list[np.ndarray]) -> tuple[int, int | None]:
    counts = [int(a.size - np.count_nonzero(np.isfinite(a))) for a in arrays]
    first = next((i for i, k in enumerate(counts) if k), None)
    return sum(counts), first


def check_point(mon: Any, value: float, grads: list[np.ndarray], rule: StepRule) -> list[Event]:
    new: list[Event] = []
    if mon._diverged:
        return new
    t = mon.thresholds
    n = mon._rows
    if not n and math.isnan(mon._first_point_loss):
        mon._first_point_loss = value
    with np.errstate(all="ignore"):
        gn = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
        params = mon._params or []
        finite = math.isfinite(value) and math.isfinite(gn)
        finite = finite and all(bool(np.isfinite(p).all()) for p in params)
        first = float(mon._log.table[mon._C["loss"], 0]) if n else mon._first_point_loss
        if not finite or abs(value) > t.blowup * max(abs(first), t.loss_atol):
            bad_p, at = _nonfinite(params)
            bad_g, at_g = _nonfinite(grads)
            w = _point_window(mon, rule, value, gn)
            verdict = _verdicts.diverged(w, at if at is not None else at_g, bad_p + bad_g)
            if verdict is not None:
                mon._active["diverged"] = n
                mon._emit("diverged", verdict, new)
                mon._diverged = True
            return new
    if not gn < t.grad_atol:
        if mon._point_stall:  # the gradient grew again: a later stall is a new one
            mon._active.pop("stall", None)
            mon._point_stall = False
        return new
    if "stall" in mon._active:
        mon._active["stall"] = n
        return new
    mon._rule_now = rule
    if mon.hvp is not None:
        mon.check_curvature()
    w = _point_window(mon, rule, value, gn)
    kind = _verdicts.stall_kind(w, immediate=True)
    assert kind is not None
    mon._active["stall"] = n
    mon._point_stall = True
    escape = 0.1 * max(w.param_scale, 1.0)
    mon._emit(kind, _verdicts.stall(w, kind, escape, flat_params(mon), immediate=True), new)
    return new
