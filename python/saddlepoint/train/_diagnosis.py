"""Why a run stopped improving: the Hessian's verdict where the gradient vanished (minimum,
saddle, maximum, degenerate; the escape along the most negative eigenvector) and the plateau
watch (a flat loss with a large gradient: bouncing between valley walls or creeping along a
floor), with the advice that fits each.

The lead's :mod:`saddlepoint.monitor` is meant to take these rules over; they live apart
from the loops so that the loops can switch to it without touching anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._results import Event


def _hessian_at(surface: Any, x: np.ndarray) -> tuple[np.ndarray, str]:
    """The surface's analytic Hessian, else central differences of its gradient."""
    method = getattr(surface, "hessian", None)
    if callable(method):
        try:
            H = method(x)
        except NotImplementedError:
            # A user surface (any object with the methods) may define hessian() only to say
            # it has none, by Python's convention; fall back to differences of its gradient.
            H = None
        if H is not None:
            return np.asarray(H, dtype=np.float64), "analytic"
    from .. import hessian

    return np.asarray(hessian.hessian(surface.grad, x), dtype=np.float64), "finite-difference"


def _escape(surface: Any, x: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, float]:
    """Step out of a saddle along ``direction`` with :func:`saddlepoint.hessian.escape`."""
    from .. import hessian

    def f(p: np.ndarray) -> float:
        return float(surface.value(p))

    out = hessian.escape(f, x, direction)
    if isinstance(out, tuple):
        new_x = out[0]
        drop = out[1] if len(out) > 1 else None
    else:
        new_x = out.x
        drop = getattr(out, "loss_drop", None)
    new_x = np.array(new_x, dtype=np.float64).reshape(x.shape)
    if drop is None:
        drop = f(x) - f(new_x)
    return new_x, float(drop)


def _fmt(values: np.ndarray) -> str:
    return (
        "["
        + ", ".join(f"{v:.3g}" for v in np.asarray(values).ravel()[:8])
        + (", ...]" if np.asarray(values).size > 8 else "]")
    )


def _plateau_advice(optimizer: Any, mean_cosine: float) -> str:
    name = type(optimizer).__name__
    plain_gd = name == "SGD" and not float(np.max(getattr(optimizer, "momentum", 0.0)))
    if mean_cosine < -0.2:
        where = (
            "successive gradients point in opposite directions (mean cosine "
            f"{mean_cosine:.2f}): the optimizer is bouncing between the walls of a valley"
        )
        if plain_gd:
            fix = (
                "use a smaller learning rate (with a decay schedule), or an adaptive optimizer "
                "(Adagrad, RMSprop, Adam) that scales each direction by its own gradient size"
            )
        else:
            fix = "use a smaller learning rate or a decaying schedule"
    else:
        where = (
            f"the gradient keeps its direction (mean cosine {mean_cosine:.2f}): the optimizer "
            "is creeping along a flat valley floor"
        )
        fix = (
            "use a larger learning rate, momentum, or an adaptive optimizer (Adam, RMSprop)"
            if plain_gd
            else "use a larger learning rate or a warm-up followed by decay"
        )
    return f"{where}; {fix}."


class _PlateauWatch:
    """Flags a window of steps where the loss stopped improving but the gradient did not
    vanish; remembers the direction changes of the gradient to tell bouncing from creeping."""

    def __init__(self, window: int, rtol: float, grad_floor: float) -> None:
        self.window, self.rtol, self.grad_floor = window, rtol, grad_floor
        self.losses: list[float] = []
        self.grad_norms: list[float] = []
        self.cosines: list[float] = []
        self.prev_grad: np.ndarray | None = None
        self.start = 0
        self.active = False

    def restart(self) -> None:
        """Forget the past (after an escape the run starts afresh)."""
        self.start = len(self.losses)
        self.prev_grad = None
        self.active = False

    def update(self, loss: float, grad: np.ndarray, grad_norm: float) -> dict[str, float] | None:
        if self.prev_grad is not None:
            denom = float(np.linalg.norm(self.prev_grad)) * grad_norm
            self.cosines.append(float(self.prev_grad @ grad) / denom if denom > 0 else 0.0)
        else:
            self.cosines.append(0.0)
        self.prev_grad = grad
        self.losses.append(loss)
        self.grad_norms.append(grad_norm)
        w = self.window
        if len(self.losses) - self.start <= w:
            return None
        before = min(self.losses[self.start : -w])
        improvement = before - min(self.losses[-w:])
        if improvement > 10.0 * self.rtol * abs(before):
            self.active = False  # clearly improving again: a later plateau is a new one
        if self.active or improvement > self.rtol * abs(before):
            return None
        grads = self.grad_norms[-w:]
        smallest_grad = min(grads)
        # Converging to a critical point: the gradient shrinks steadily. A plateau keeps it.
        half = w // 2
        shrinking = np.median(grads[half:]) < 0.5 * np.median(grads[:half])
        if smallest_grad < self.grad_floor or shrinking:
            return None
        self.active = True
        return {
            "window": float(w),
            "relative_improvement": improvement / abs(before) if before else 0.0,
            "min_grad_norm": smallest_grad,
            "median_grad_norm": float(np.median(self.grad_norms[-w:])),
            "mean_cosine": float(np.mean(self.cosines[-w + 1 :])),
        }


@dataclass(frozen=True)
class _Stall:
    """The Hessian's verdict at a point where the gradient vanished."""

    kind: str
    eigenvalues: np.ndarray
    minimum_ratio: float
    escape_direction: np.ndarray | None
    summary: str
    hessian: str


def _diagnose(
    surface: Any, x: np.ndarray, loss: float, gnorm: float, grad_tol: float, rtol: float
) -> _Stall:
    from .. import hessian

    H, how = _hessian_at(surface, x)
    cls = hessian.classify(H, rtol=rtol)
    eig = np.asarray(cls.eigenvalues, dtype=np.float64)
    ratio = float(cls.minimum_ratio)
    summary = (
        f"gradient norm {gnorm:.3g} < grad_tol={grad_tol:g} at loss {loss:.6g}; {how} Hessian "
        f"eigenvalues {_fmt(eig)} ({int(cls.n_positive)} positive, {int(cls.n_negative)} "
        f"negative, {int(cls.n_zero)} zero), minimum ratio {ratio:.2f}"
    )
    direction = None
    if int(cls.n_negative) > 0 and cls.escape_direction is not None:
        direction = np.asarray(cls.escape_direction, dtype=np.float64).reshape(x.shape)
    return _Stall(str(cls.kind), eig, ratio, direction, summary, how)


def _stall_event(
    kind: str,
    message: str,
    *,
    step: int,
    x: np.ndarray,
    loss: float,
    grad_norm: float,
    stall: _Stall,
    info: dict[str, Any],
) -> Event:
    return Event(
        kind, step, message, x, loss, grad_norm, stall.eigenvalues, stall.minimum_ratio, info
    )


_STALL_LABELS = {
    "saddle": "saddle point",
    "maximum": "local maximum",
    "degenerate": "degenerate critical point with negative curvature",
}
