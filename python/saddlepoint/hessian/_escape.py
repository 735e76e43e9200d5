"""The way out of a saddle (a line search along the escape direction) and the full diagnosis
at a point: gradient, Hessian, classification (Dauphin et al., NeurIPS 2014)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np

from .._checks import real_number
from ._classify import Classification, classify
from ._common import Array, _point
from ._differences import _finite_difference_hessian


@dataclass(frozen=True)
class EscapeResult:
    """The outcome of :func:`escape`.

    Attributes
    ----------
    x : ndarray
        The new point ``x0 + step * direction``.
    value, initial_value : float
        ``f`` there and at the start.
    loss_drop : float
        ``initial_value - value`` (> 0 when the escape worked).
    step : float
        Signed distance along the unit ``direction`` given.
    n_evaluations : int
        Calls of ``f``.
    """

    x: Array
    value: float
    initial_value: float
    loss_drop: float
    step: float
    n_evaluations: int


def escape(
    f: Callable[[Array], float],
    x: np.ndarray,
    direction: np.ndarray,
    *,
    initial_step: float | None = None,
    max_doublings: int = 60,
    xtol: float = 1e-10,
) -> EscapeResult:
    """Leave a saddle along ``direction`` (either sign) with a line search on ``f``.

    1. With ``d = direction / ||direction||`` and ``t0 = initial_step`` (default
       ``1e-2 * max(1, ||x||)``), take the sign ``s`` of whichever of ``f(x + t0 d)``,
       ``f(x - t0 d)`` is lower. Near a saddle both go down to second order
       (``f(x + t d) ~ f(x) + lambda t^2 / 2`` with ``lambda < 0``); a gradient term picks one.
       If neither is below ``f(x)`` the step is halved (up to 40 times).
    2. Double ``t`` while ``f`` keeps decreasing (at most ``max_doublings`` times): the
       minimum along the ray is then bracketed by the last three trial steps.
    3. Golden-section search in that bracket down to ``xtol * max(1, t)``.

    For ``L(w1, w2) = (1 - w1 w2)^2`` from the origin along ``(1, 1) / sqrt(2)`` this reaches
    ``t = sqrt(2)``, the point ``(1, 1)`` on the valley ``w1 w2 = 1`` where ``L = 0``.

    Returns
    -------
    EscapeResult
        ``loss_drop == 0`` and ``x`` unchanged when no descent was found along ``direction``.
    """
    x = _point(x)
    d = np.asarray(direction, dtype=np.float64).reshape(-1)
    if d.shape != x.shape:
        raise ValueError(f"direction: expected shape {x.shape} like x, got {d.shape}")
    norm = float(np.linalg.norm(d))
    if not (np.isfinite(norm) and norm > 0.0):
        raise ValueError("direction: expected a finite, non-zero vector")
    d = d / norm
    evaluations = [0]

    def along(t: float) -> float:
        evaluations[0] += 1
        return float(fn_value(f, (x + t * d).astype(x.dtype)))

    f0 = along(0.0)
    t = 1e-2 * max(1.0, float(np.linalg.norm(x))) if initial_step is None else initial_step
    t = real_number("initial_step", t)
    if t == 0.0:
        raise ValueError("initial_step: expected a finite value > 0, got 0.0")
    sign = 0.0
    for _ in range(40):
        fp, fm = along(t), along(-t)
        if min(fp, fm) < f0:
            sign = 1.0 if fp <= fm else -1.0
            break
        t *= 0.5
    if sign == 0.0:
        return EscapeResult(x.copy(), f0, f0, 0.0, 0.0, evaluations[0])

    # bracket: f(a) > f(b) < f(c) with a < b < c along the chosen sign
    a, b = 0.0, t
    fb = min(fp, fm)
    c = 2.0 * b
    fc = along(sign * c)
    for _ in range(max_doublings):
        if fc >= fb:
            break
        a, b, fb = b, c, fc
        c *= 2.0
        fc = along(sign * c)
    # golden-section search on [a, c] around b
    inv_phi = (np.sqrt(5.0) - 1.0) / 2.0
    lo, hi = a, c
    x1, x2 = hi - inv_phi * (hi - lo), lo + inv_phi * (hi - lo)
    f1, f2 = along(sign * x1), along(sign * x2)
    while hi - lo > xtol * max(1.0, hi):
        if f1 <= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - inv_phi * (hi - lo)
            f1 = along(sign * x1)
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + inv_phi * (hi - lo)
            f2 = along(sign * x2)
    best_t, best_f = min(((b, fb), (x1, f1), (x2, f2)), key=lambda p: p[1])
    new_x = (x + sign * best_t * d).astype(x.dtype)
    return EscapeResult(new_x, best_f, f0, f0 - best_f, sign * best_t, evaluations[0])


def fn_value(f: Callable[[Array], Any], x: Array) -> float:
    """``f(x)`` as a float, with a clear error when ``f`` does not return one number."""
    value = np.asarray(f(x))
    if value.size != 1:
        raise ValueError(f"f: expected a scalar value, got shape {value.shape}")
    return float(value.reshape(()))


@dataclass(frozen=True)
class CriticalPointReport:
    """The diagnosis of :func:`critical_point_report`.

    Attributes
    ----------
    x : ndarray
        The point.
    value : float
        ``f(x)``.
    gradient_norm : float
        ``||grad f(x)||``.
    gtol : float
        The criticality threshold used.
    is_critical : bool
        ``gradient_norm <= gtol``.
    classification : Classification
        From the Hessian (exact or finite differences).
    hessian_source : str
        ``"given"`` or ``"finite differences"``.
    escape : EscapeResult or None
        Set when the Hessian has a negative eigenvalue (saddles, and degenerate points with a
        negative eigenvalue: a way down exists in both cases).
    """

    x: Array
    value: float
    gradient_norm: float
    gtol: float
    is_critical: bool
    classification: Classification
    hessian_source: str
    escape: EscapeResult | None

    @property
    def kind(self) -> str:
        """``classification.kind``."""
        return self.classification.kind

    @property
    def minimum_ratio(self) -> float:
        """``classification.minimum_ratio``."""
        return self.classification.minimum_ratio


HessianArg = Union[None, np.ndarray, Callable[[Array], Array]]


def critical_point_report(
    f: Callable[[Array], float],
    grad_fn: Callable[[Array], Array],
    x: np.ndarray,
    hessian: HessianArg = None,
    *,
    gtol: float | None = None,
    rtol: float | None = None,
    atol: float = 0.0,
    escape_saddle: bool = True,
) -> CriticalPointReport:
    """Diagnose a point: is the gradient zero, and what does the Hessian say?

    Parameters
    ----------
    f, grad_fn : callable
        The loss and its gradient at a 1-D point.
    x : ndarray, shape (n,)
        The point.
    hessian : ndarray or callable, optional
        The exact Hessian at ``x`` (or a function of the point returning it). Without it the
        Hessian comes from :func:`hessian` (central differences of ``grad_fn``).
    gtol : float, optional
        ``x`` counts as critical when ``||grad|| <= gtol``; default
        ``sqrt(eps) * max(1, |f(x)|)`` (a heuristic: the gradient's rounding floor is far
        below this for well-scaled problems).
    rtol, atol : float, optional
        Zero thresholds for :func:`classify`. ``rtol`` defaults to classify's for an exact
        Hessian and to ``sqrt(eps)`` (1.5e-8 in float64) for a finite-difference one, well
        above its ``~eps^(2/3)`` relative error (see :func:`hessian`).
    escape_saddle : bool
        Run :func:`escape` along the escape direction when there is one.

    Examples
    --------
    The lecture's saddle, ``L(w1, w2) = (1 - w1 w2)^2`` at the origin:

    >>> L = lambda w: (1 - w[0] * w[1]) ** 2
    >>> dL = lambda w: -2 * (1 - w[0] * w[1]) * np.array([w[1], w[0]])
    >>> r = critical_point_report(L, dL, np.zeros(2))
    >>> r.kind, r.is_critical
    ('saddle', True)
    """
    x = _point(x)
    value = fn_value(f, x)
    g = np.asarray(grad_fn(x))
    if g.shape != x.shape:
        raise ValueError(f"grad_fn: expected a gradient of shape {x.shape}, got {g.shape}")
    gradient_norm = float(np.linalg.norm(g))
    eps = float(np.finfo(x.dtype).eps)
    gtol = np.sqrt(eps) * max(1.0, abs(value)) if gtol is None else real_number("gtol", gtol)

    if hessian is None:
        H, source = _finite_difference_hessian(grad_fn, x), "finite differences"
        if rtol is None:
            rtol = float(np.sqrt(eps))
    else:
        H = hessian(x) if callable(hessian) else hessian
        source = "given"
    classification = classify(H, rtol=rtol, atol=atol)
    result = None
    if escape_saddle and classification.escape_direction is not None:
        result = escape(f, x, classification.escape_direction)
    return CriticalPointReport(
        x=x,
        value=value,
        gradient_norm=gradient_norm,
        gtol=float(gtol),
        is_critical=bool(gradient_norm <= gtol),
        classification=classification,
        hessian_source=source,
        escape=result,
    )
