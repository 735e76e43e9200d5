"""Training that explains itself: :func:`minimize` on surfaces, :func:`train` on models.

:func:`minimize` runs any optimizer of :mod:`saddlepoint.optim` on an analytic surface and
watches the run. When it stops improving it says why, in the terms of the lecture on why
optimization fails:

- the gradient vanished (a *critical point*): the Hessian decides whether it is a local
  minimum (the run ends), a saddle point (reported with its eigenvalues and minimum ratio,
  and with ``escape_saddles=True`` left along the eigenvector of the most negative
  eigenvalue) or degenerate (the Hessian cannot decide);
- the loss stopped decreasing although the gradient is *not* small (a *plateau*): the usual
  case in practice, an optimizer bouncing between the walls of a valley or creeping along
  its floor, with advice that fits;
- the run diverged: loss or parameters not finite, or the loss grown by a large factor.

:func:`train` is the mini-batch loop for the small models of :mod:`saddlepoint.models`, with
per-epoch history and timings.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Event", "MinimizeResult", "TrainResult", "minimize", "train"]

# The event kinds minimize() reports.
EVENT_KINDS = ("minimum", "saddle", "maximum", "degenerate", "plateau", "diverged")


@dataclass(frozen=True, repr=False)
class Event:
    """Something :func:`minimize` or :func:`train` noticed, with a human-readable message.

    Attributes
    ----------
    kind : str
        ``"minimum"``, ``"saddle"``, ``"maximum"``, ``"degenerate"`` (a stall: the gradient
        norm fell below ``grad_tol``, classified by the Hessian), ``"plateau"`` (the loss
        stopped decreasing while the gradient stayed large) or ``"diverged"``.
    step : int
        Optimizer steps taken when it happened.
    message : str
        What happened and what to do about it.
    x : ndarray
        The point (a copy).
    loss, grad_norm : float
        Loss and gradient norm there.
    eigenvalues : ndarray or None
        Hessian eigenvalues (ascending) for stall events.
    minimum_ratio : float or None
        Share of positive Hessian eigenvalues for stall events.
    details : dict
        Anything else worth keeping (escape loss drop, new point, window statistics, ...).
    """

    kind: str
    step: int
    message: str
    x: np.ndarray
    loss: float
    grad_norm: float
    eigenvalues: np.ndarray | None = None
    minimum_ratio: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Event({self.kind!r}, step={self.step}: {self.message})"


@dataclass(repr=False)
class MinimizeResult:
    """What :func:`minimize` returns.

    Attributes
    ----------
    x : ndarray
        The final point.
    loss, grad_norm : float
        Loss and (noise-free) gradient norm at ``x``.
    steps : int
        Optimizer steps taken.
    reason : str
        Why the run ended: ``"minimum"``, ``"saddle"``, ``"maximum"``, ``"degenerate"``,
        ``"plateau"`` (only with ``stop_on_plateau=True``), ``"diverged"``, ``"callback"`` or
        ``"max_steps"``.
    message : str
        The same, in words.
    events : list of Event
        Everything noticed on the way, in order.
    history : pandas.DataFrame or dict of ndarray
        Columns ``step``, ``loss``, ``grad_norm``, ``lr`` (the learning rate of the next
        step), one row every ``record_every`` steps, plus the final point and the points
        before and after every escape. A DataFrame when pandas is installed.
    trajectory : ndarray, shape (rows, dim)
        The points of the history rows.
    optimizer : saddlepoint.optim.Optimizer
        The optimizer, with its state at the end.
    """

    x: np.ndarray
    loss: float
    grad_norm: float
    steps: int
    reason: str
    message: str
    events: list[Event]
    history: Any
    trajectory: np.ndarray
    optimizer: Any

    def __repr__(self) -> str:
        return (
            f"MinimizeResult(reason={self.reason!r}, steps={self.steps}, loss={self.loss:.6g}, "
            f"grad_norm={self.grad_norm:.3g}, events={[e.kind for e in self.events]})"
        )

    def explain(self) -> str:
        """Every event message and the reason the run ended, one per line."""
        lines = [f"step {e.step}: {e.message}" for e in self.events]
        lines.append(f"end after {self.steps} steps: {self.message}")
        return "\n".join(lines)


def _table(columns: dict[str, Any]) -> Any:
    """A pandas DataFrame when pandas is installed, else the dict of NumPy arrays."""
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    try:
        import pandas as pd
    except ImportError:
        return arrays
    return pd.DataFrame(arrays)


def _finite_number(name: str, value: Any, *, minimum: float = 0.0, strict: bool = False) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and math.isfinite(value)
        and (value > minimum if strict else value >= minimum)
    )
    if not ok:
        relation = ">" if strict else ">="
        raise ValueError(f"{name}: expected a finite value {relation} {minimum:g}, got {value!r}")
    return float(value)


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------- minimize
def _resolve_surface(surface: Any) -> Any:
    if isinstance(surface, str):
        from . import surfaces

        return surfaces.get(surface)
    for method in ("value", "grad"):
        if not callable(getattr(surface, method, None)):
            raise TypeError(
                f"surface: expected a surface name or an object with value(x) and grad(x) "
                f"(saddlepoint.surfaces), got {type(surface).__name__} without {method}()"
            )
    return surface


def _make_optimizer(
    optimizer: Any, x: np.ndarray, lr: Any, schedule: Any, hyper: dict[str, Any]
) -> Any:
    from . import optim

    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule: expected a callable step -> lr, got {type(schedule).__name__}")
    if schedule is not None and lr is not None:
        raise ValueError("lr, schedule: pass a learning rate or a schedule, not both")
    if isinstance(optimizer, str):
        if schedule is not None:
            hyper = {**hyper, "lr": schedule}
        elif lr is not None:
            hyper = {**hyper, "lr": lr}
        return optim.create(optimizer, x, **hyper)
    if not callable(getattr(optimizer, "step", None)) or not hasattr(optimizer, "params"):
        raise TypeError(
            f"optimizer: expected a name from {optim.available()} or a saddlepoint.optim "
            f"optimizer, got {type(optimizer).__name__}"
        )
    if lr is not None or hyper:
        raise ValueError(
            "lr, hyper-parameters: set them on the optimizer instance, not in this call "
            f"(got {sorted(['lr'] * (lr is not None) + list(hyper))})"
        )
    params = optimizer.params
    if len(params) != 1 or params[0].shape != x.shape:
        raise ValueError(
            f"optimizer: expected an optimizer of one parameter array of shape {x.shape}, "
            f"got shapes {[p.shape for p in params]}"
        )
    if schedule is not None:
        optimizer.lr = schedule
    return optimizer


def _current_lr(opt: Any) -> float:
    lr = opt.lr
    try:
        return float(lr)
    except (TypeError, ValueError):
        return float("nan")


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
    from . import hessian

    return np.asarray(hessian.hessian(surface.grad, x), dtype=np.float64), "finite-difference"


def _escape(surface: Any, x: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, float]:
    """Step out of a saddle along ``direction`` with :func:`saddlepoint.hessian.escape`."""
    from . import hessian

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


@dataclass
class _Recorder:
    """History rows and trajectory points of a run."""

    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    points: list[np.ndarray] = field(default_factory=list)

    def add(self, step: int, loss: float, grad_norm: float, lr: float, x: np.ndarray) -> None:
        self.steps.append(step)
        self.losses.append(loss)
        self.grad_norms.append(grad_norm)
        self.lrs.append(lr)
        self.points.append(np.array(x, dtype=np.float64))


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
    from . import hessian

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


class _Limits(NamedTuple):
    """minimize's checked numeric settings (defaults resolved)."""

    steps: int
    record_every: int
    max_escapes: int
    grad_tol: float
    noise: float
    plateau_rtol: float
    divergence_factor: float
    hessian_rtol: float
    window: int  # steps a plateau is judged over


def _check_minimize_args(
    steps: Any,
    record_every: Any,
    max_escapes: Any,
    grad_tol: Any,
    noise: Any,
    plateau_rtol: Any,
    divergence_factor: Any,
    hessian_rtol: Any,
    plateau_window: Any,
    callback: Any,
) -> _Limits:
    steps = _positive_int("steps", steps, 0)
    record_every = _positive_int("record_every", record_every)
    max_escapes = _positive_int("max_escapes", max_escapes, 0)
    grad_tol = _finite_number("grad_tol", grad_tol)
    noise = _finite_number("noise", noise)
    plateau_rtol = _finite_number("plateau_rtol", plateau_rtol)
    divergence_factor = _finite_number("divergence_factor", divergence_factor, strict=True)
    hessian_rtol = (
        max(10.0 * grad_tol, 1e-6)
        if hessian_rtol is None
        else _finite_number("hessian_rtol", hessian_rtol)
    )
    window = (
        max(10, min(100, steps // 10))
        if plateau_window is None
        else _positive_int("plateau_window", plateau_window, 2)
    )
    if callback is not None and not callable(callback):
        raise TypeError(f"callback: expected a callable, got {type(callback).__name__}")
    return _Limits(
        steps,
        record_every,
        max_escapes,
        grad_tol,
        noise,
        plateau_rtol,
        divergence_factor,
        hessian_rtol,
        window,
    )


def _start_point(surface: Any, x0: Any) -> np.ndarray:
    if x0 is None:
        x0 = getattr(surface, "start", None)
        if x0 is None:
            raise ValueError("x0: the surface has no default start; pass x0")
    x = np.array(x0, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x0: expected a 1-D point of shape (dim,), got shape {x.shape}")
    dim = getattr(surface, "dim", x.size)
    if x.size != dim:
        raise ValueError(f"x0: expected shape ({dim},) for this surface, got {x.shape}")
    return x


def minimize(
    surface: Any,
    optimizer: Any = "adam",
    *,
    lr: Any = None,
    schedule: Callable[[int], float] | None = None,
    x0: Any = None,
    steps: int = 1000,
    grad_tol: float = 1e-6,
    escape_saddles: bool = False,
    noise: float = 0.0,
    seed: int | None = None,
    record_every: int = 1,
    callback: Callable[[int, np.ndarray, float, float], Any] | None = None,
    hessian_rtol: float | None = None,
    plateau_window: int | None = None,
    plateau_rtol: float = 1e-3,
    stop_on_plateau: bool = False,
    divergence_factor: float = 1e6,
    max_escapes: int = 20,
    **hyper: Any,
) -> MinimizeResult:
    r"""Run an optimizer on a surface and explain why it stopped improving.

    Every iteration evaluates the loss and the exact gradient :math:`g` at :math:`x`,
    checks the run, then steps the optimizer with :math:`g + \text{noise}\cdot\xi`,
    :math:`\xi\sim\mathcal N(0, I)` drawn from ``numpy.random.default_rng(seed)`` (a stand-in
    for mini-batch noise; the same seed gives the same run). The checks, in order:

    1. **Divergence**: loss, gradient or point not finite, or
       ``loss > loss0 + divergence_factor * max(|loss0|, 1)``. The run stops with a
       ``"diverged"`` event naming the step; nothing raises.
    2. **Stall** (:math:`\|g\| <` ``grad_tol``): the Hessian (the surface's analytic
       ``hessian(x)``, else central differences of its gradient by
       :func:`saddlepoint.hessian.hessian`) is classified by
       :func:`saddlepoint.hessian.classify`, where an eigenvalue counts as zero when
       :math:`|\lambda| \le` ``hessian_rtol`` :math:`\cdot\max|\lambda|`. The default
       ``hessian_rtol = max(10 * grad_tol, 1e-6)`` reflects that a point located only to
       ``grad_tol`` pins its small eigenvalues down only to about that relative accuracy (in
       the valley of ``tiny_network`` a tighter tolerance would call the flat direction a
       saddle or a minimum depending on which side of the valley the run stopped).

       - local minimum: the run ends (``reason="minimum"``);
       - saddle, maximum, or degenerate with a negative eigenvalue: reported with the
         eigenvalues and the minimum ratio. With ``escape_saddles=True`` the point moves
         along ``escape_direction`` (the eigenvector of the most negative eigenvalue) by
         :func:`saddlepoint.hessian.escape`, a line search that takes the sign which lowers
         the loss, and the run goes on (at most ``max_escapes`` times). Without it the run
         ends there, unless ``noise > 0``: then it goes on, as noise may carry it out;
       - degenerate without negative eigenvalues (a flat valley of minima, or a
         higher-order saddle the Hessian cannot see): reported, and the run ends.
    3. **Plateau**: over the last ``plateau_window`` iterations the best loss improved by
       no more than ``plateau_rtol`` (relative to the best loss before them) while the
       gradient norm stayed at or above ``100 * grad_tol`` throughout: a stall that is not a
       critical point. The event says whether the optimizer bounces between the walls of a
       valley (successive gradients opposed) or creeps along a flat floor, with the advice
       that fits. Reported once per plateau; the run goes on unless ``stop_on_plateau``.

    Parameters
    ----------
    surface : str or surface
        A name for :func:`saddlepoint.surfaces.get`, or an object with ``value(x)``,
        ``grad(x)`` and optionally ``hessian(x)`` and ``start``, for ``x`` of shape
        ``(dim,)``.
    optimizer : str or saddlepoint.optim.Optimizer
        A name for :func:`saddlepoint.optim.create` (``**hyper`` are its keyword arguments,
        e.g. ``betas=(0.9, 0.99)`` or ``momentum=0.9``), or an optimizer built over one
        float64 array of shape ``(dim,)``: that array is the point, updated in place.
    lr : float, optional
        Learning rate (default: the optimizer's own default).
    schedule : callable, optional
        ``step -> lr`` (e.g. from :mod:`saddlepoint.schedules`), used instead of ``lr``.
    x0 : array_like, optional
        Start (default: ``surface.start``, or the current values of an optimizer
        instance's array).
    steps : int
        Maximum number of optimizer steps.
    grad_tol : float
        Gradient norm below which the point counts as critical.
    escape_saddles : bool
        Step out of saddles along the negative-curvature direction.
    noise : float
        Standard deviation of the Gaussian noise added to each gradient the optimizer sees
        (the checks use the exact gradient).
    seed : int, optional
        Seed of the noise.
    record_every : int
        History and trajectory keep every ``record_every``-th step (and the last point,
        and the points before and after every escape).
    callback : callable, optional
        ``callback(step, x, loss, grad_norm)`` after the checks of every iteration;
        returning ``True`` ends the run (``reason="callback"``). ``x`` is a copy.
    hessian_rtol, plateau_window, plateau_rtol, stop_on_plateau, divergence_factor, max_escapes
        Tuning of the checks above (``plateau_window`` defaults to
        ``clip(steps // 10, 10, 100)``).
    **hyper
        Keyword arguments of the optimizer (only with a name).

    Returns
    -------
    MinimizeResult
        Final point, loss, history, trajectory and events; ``result.explain()`` puts them
        in words.

    Examples
    --------
    The lecture's "worst network ever", :math:`L = (1 - w_1 w_2)^2`, started at its saddle:

    >>> res = minimize("tiny_network", "adam", lr=0.05, x0=[0.0, 0.0], escape_saddles=True)
    >>> [e.kind for e in res.events]  # doctest: +SKIP
    ['saddle', 'degenerate']
    """
    surface = _resolve_surface(surface)
    lim = _check_minimize_args(
        steps,
        record_every,
        max_escapes,
        grad_tol,
        noise,
        plateau_rtol,
        divergence_factor,
        hessian_rtol,
        plateau_window,
        callback,
    )
    if isinstance(optimizer, str):
        x = _start_point(surface, x0)
        opt = _make_optimizer(optimizer, x, lr, schedule, hyper)
    else:
        params = getattr(optimizer, "params", None)
        current = params[0] if isinstance(params, list) and params else None
        x_start = _start_point(surface, current if x0 is None and current is not None else x0)
        opt = _make_optimizer(optimizer, x_start, lr, schedule, hyper)
        x = opt.params[0]
        if x.dtype != np.float64:
            raise TypeError(f"optimizer: expected float64 parameters, got {x.dtype}")
        np.copyto(x, x_start)

    def evaluate(point: np.ndarray) -> tuple[float, np.ndarray, float]:
        with np.errstate(all="ignore"):
            v = float(surface.value(point))
            g = np.asarray(surface.grad(point), dtype=np.float64).reshape(point.shape)
            return v, g, float(np.linalg.norm(g))

    rng = np.random.default_rng(seed)
    rec = _Recorder()
    watch = _PlateauWatch(lim.window, lim.plateau_rtol, 100.0 * lim.grad_tol)
    events: list[Event] = []
    reason, message = "max_steps", f"reached steps={lim.steps} without stopping"
    escapes = 0
    in_stall = False
    loss0: float | None = None
    t = 0
    while True:
        loss, g, gnorm = evaluate(x)
        loss0 = loss if loss0 is None else loss0
        if t % lim.record_every == 0:
            rec.add(t, loss, gnorm, _current_lr(opt), x)

        # 1. divergence
        finite = math.isfinite(loss) and math.isfinite(gnorm) and bool(np.all(np.isfinite(x)))
        if not finite or loss > loss0 + lim.divergence_factor * max(abs(loss0), 1.0):
            if not math.isfinite(loss):
                what = f"the loss is {loss}"
            elif not np.all(np.isfinite(x)):
                what = "the point is not finite"
            elif not math.isfinite(gnorm):
                what = "the gradient is not finite"
            else:
                what = f"the loss grew from {loss0:.4g} to {loss:.4g}"
            reason = "diverged"
            message = (
                f"diverged at step {t}: {what} (learning rate {_current_lr(opt):.3g}); use a "
                "smaller learning rate, a warm-up schedule or an adaptive optimizer"
            )
            events.append(Event("diverged", t, message, x.copy(), loss, gnorm))
            break

        # 2. stall: a critical point, told apart by the Hessian
        if gnorm < lim.grad_tol and not in_stall:
            in_stall = True
            st = _diagnose(surface, x, loss, gnorm, lim.grad_tol, lim.hessian_rtol)
            info: dict[str, Any] = {"hessian": st.hessian, "classified_as": st.kind}

            stall_event = functools.partial(
                _stall_event, step=t, x=x.copy(), loss=loss, grad_norm=gnorm, stall=st, info=info
            )

            if st.kind == "minimum":
                reason, message = "minimum", f"local minimum: {st.summary}. No way down."
                events.append(stall_event("minimum", message))
                break
            if st.escape_direction is None:
                reason = "degenerate"
                message = (
                    f"degenerate critical point: {st.summary}. No negative curvature, but "
                    "zero eigenvalues: a flat valley of minima, or a higher-order saddle "
                    "the Hessian cannot see."
                )
                events.append(stall_event("degenerate", message))
                break
            kind = st.kind if st.kind in ("saddle", "maximum") else "degenerate"
            label = _STALL_LABELS[kind]
            if escape_saddles and escapes < lim.max_escapes:
                new_x, drop = _escape(surface, x, st.escape_direction)
                if drop > 0 and np.all(np.isfinite(new_x)):
                    escapes += 1
                    info.update(loss_drop=drop, escaped_to=new_x.copy())
                    events.append(
                        stall_event(
                            kind,
                            f"{label}: {st.summary}. Escaped along the eigenvector "
                            f"{_fmt(st.escape_direction)} of the most negative eigenvalue "
                            f"{st.eigenvalues[0]:.3g}: loss {loss:.6g} -> {loss - drop:.6g}.",
                        )
                    )
                    x[...] = new_x
                    in_stall = False
                    watch.restart()
                    if t % lim.record_every != 0:
                        rec.add(t, loss, gnorm, _current_lr(opt), events[-1].x)
                    loss, g, gnorm = evaluate(x)
                    rec.add(t, loss, gnorm, _current_lr(opt), x)
                    continue
                reason = kind
                message = (
                    f"{label}: {st.summary}. Stepping along the eigenvector of the most "
                    "negative eigenvalue found no lower loss: the negative curvature is too "
                    "weak to matter at this scale."
                )
                events.append(stall_event(kind, message))
                break
            if lim.noise > 0 and not escape_saddles:
                events.append(
                    stall_event(
                        kind,
                        f"{label}: {st.summary}. Going on: the gradient noise "
                        f"(noise={lim.noise:g}) may carry the run out.",
                    )
                )
            else:
                why = (
                    f"the escape limit max_escapes={lim.max_escapes} was reached"
                    if escape_saddles
                    else "pass escape_saddles=True to step along the escape direction "
                    f"{_fmt(st.escape_direction)}, or add gradient noise"
                )
                reason, message = kind, f"{label}: {st.summary}. Stopped here; {why}."
                events.append(stall_event(kind, message))
                break
        elif gnorm >= lim.grad_tol:
            in_stall = False

        # 3. plateau: the loss is flat but the gradient is not small
        plateau = watch.update(loss, g, gnorm)
        if plateau is not None:
            change = plateau["relative_improvement"]
            moved = (
                f"improved by only {100 * change:.3g}%"
                if change >= 0
                else f"rose by {-100 * change:.3g}%"
            )
            text = (
                f"plateau, not a critical point: over the last {lim.window} steps the best loss "
                f"{moved} (now {loss:.6g}) while the gradient norm stayed >= "
                f"{plateau['min_grad_norm']:.3g} (median {plateau['median_grad_norm']:.3g}, "
                f"grad_tol={lim.grad_tol:g}); " + _plateau_advice(opt, plateau["mean_cosine"])
            )
            if lim.noise > 0:
                text += (
                    f" With gradient noise (noise={lim.noise:g}) this may also be the noise "
                    "floor: a decaying learning rate lets the run settle."
                )
            events.append(Event("plateau", t, text, x.copy(), loss, gnorm, details=plateau))
            if stop_on_plateau:
                reason, message = "plateau", text
                break

        if callback is not None and callback(t, x.copy(), loss, gnorm) is True:
            reason, message = "callback", f"stopped by the callback at step {t}"
            break
        if t >= lim.steps:
            break
        opt.step(g + lim.noise * rng.standard_normal(g.shape) if lim.noise > 0 else g)
        t += 1

    if reason == "max_steps" and watch.active and events and events[-1].kind == "plateau":
        message += (
            f", still on the plateau reported at step {events[-1].step} (see that event "
            "for what to change)"
        )
    if rec.steps[-1] != t or not np.array_equal(rec.points[-1], x):
        rec.add(t, loss, gnorm, _current_lr(opt), x)
    history = _table(
        {"step": rec.steps, "loss": rec.losses, "grad_norm": rec.grad_norms, "lr": rec.lrs}
    )
    return MinimizeResult(
        x=np.array(x, dtype=np.float64),
        loss=loss,
        grad_norm=gnorm,
        steps=t,
        reason=reason,
        message=message,
        events=events,
        history=history,
        trajectory=np.array(rec.points),
        optimizer=opt,
    )


# ------------------------------------------------------------------------------- train
@dataclass(repr=False)
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    params : ndarray
        The trained flat parameter vector (the optimizer's array, updated in place).
    history : pandas.DataFrame or dict of ndarray
        One row per epoch, epoch 0 being the start: ``epoch``, ``updates`` (optimizer
        steps so far), ``lr`` (of the next update), ``train_loss``, ``train_accuracy``,
        ``val_loss``, ``val_accuracy`` (NaN without validation data or for regression
        targets), ``seconds_per_update`` and ``seconds_per_epoch`` (wall time of the
        epoch's mini-batch updates, gradient included, evaluation excluded; NaN at epoch 0).
    batch_losses : ndarray
        The loss of every mini-batch at the moment it was used, in order (the noisy curve).
    optimizer : saddlepoint.optim.Optimizer
        The optimizer with its final state.
    diverged : bool
        Whether training stopped on a non-finite loss or parameters.
    events : list of Event
        ``"diverged"`` events, if any.
    """

    params: np.ndarray
    history: Any
    batch_losses: np.ndarray
    optimizer: Any
    diverged: bool
    events: list[Event]

    def __repr__(self) -> str:
        last = {k: np.asarray(v)[-1] for k, v in _columns(self.history).items()}
        return (
            f"TrainResult(epochs={int(last['epoch'])}, train_loss={last['train_loss']:.4g}, "
            f"val_accuracy={last['val_accuracy']:.3f}, diverged={self.diverged})"
        )


def _columns(table: Any) -> dict[str, Any]:
    if isinstance(table, dict):
        return table
    return {c: table[c].to_numpy() for c in table.columns}


def _split_data(data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    if hasattr(data, "X_train") and hasattr(data, "y_train"):
        X_val = getattr(data, "X_val", None)
        y_val = getattr(data, "y_val", None)
        if X_val is not None and len(X_val) == 0:
            X_val = y_val = None
        return np.asarray(data.X_train), np.asarray(data.y_train), X_val, y_val
    if isinstance(data, (tuple, list)) and len(data) in (2, 4):
        parts = [np.asarray(d) for d in data]
        if len(parts) == 2:
            return parts[0], parts[1], None, None
        return parts[0], parts[1], parts[2], parts[3]
    raise TypeError(
        "data: expected a saddlepoint.data.Dataset or a tuple (X_train, y_train[, X_val, "
        f"y_val]), got {type(data).__name__}"
    )


def _evaluate(model: Any, params: np.ndarray, X: Any, y: Any) -> tuple[float, float]:
    if X is None:
        return float("nan"), float("nan")
    with np.errstate(all="ignore"):
        loss = float(model.loss(params, X, y))
        labels = np.asarray(y)
        accuracy = (
            float(model.accuracy(params, X, y))
            if labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer)
            else float("nan")
        )
    return loss, accuracy


def _progress_bar(progress: bool | None, epochs: int) -> Any:
    if progress is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        if progress is None:
            return None
        raise ImportError('progress=True needs tqdm: pip install "saddlepoint[sweep]"') from exc
    if progress is None:
        import sys

        if not sys.stderr.isatty():
            return None
    return tqdm(total=epochs, desc="train", unit="epoch", leave=False)


def _optimizer_for(
    optimizer: Any,
    params: np.ndarray | None,
    model: Any,
    lr: Any,
    schedule: Any,
    hyper: dict[str, Any],
    init_seed: Any,
) -> Any:
    if isinstance(optimizer, str):
        if params is None:
            params = model.init(init_seed)
        p = np.array(
            params, dtype=np.float64 if np.asarray(params).dtype != np.float32 else np.float32
        )
        if p.shape != (model.n_params,):
            raise ValueError(f"params: expected shape ({model.n_params},), got {p.shape}")
        return _make_optimizer(optimizer, p, lr, schedule, hyper)
    opt = _make_optimizer(optimizer, np.empty(model.n_params), lr, schedule, hyper)
    if params is not None:
        p = np.asarray(params)
        if p.shape != (model.n_params,):
            raise ValueError(f"params: expected shape ({model.n_params},), got {p.shape}")
        np.copyto(opt.params[0], p)
    return opt


def train(
    model: Any,
    data: Any,
    optimizer: Any = "sgd",
    *,
    batch_size: int,
    epochs: int,
    shuffle: bool = True,
    seed: int | None = 0,
    schedule: Callable[[int], float] | None = None,
    lr: Any = None,
    params: np.ndarray | None = None,
    progress: bool | None = None,
    divergence_factor: float = 1e6,
    **hyper: Any,
) -> TrainResult:
    r"""Mini-batch training of a model on a data set.

    Each epoch visits the training samples once in mini-batches of ``batch_size`` (the last
    one smaller when ``batch_size`` does not divide the number of samples, as PyTorch's
    ``DataLoader`` with ``drop_last=False``), reshuffled every epoch when ``shuffle``.
    Every mini-batch gives one update :math:`\theta \leftarrow \text{step}(\theta,
    \nabla L_B(\theta))` with the exact gradient of the batch loss
    (``model.loss_and_grad``). ``batch_size >= n_train`` is full-batch gradient descent.

    Parameters
    ----------
    model : saddlepoint.models.MLP
        Or any object with ``n_params``, ``init(seed)``, ``loss``, ``loss_and_grad`` and
        ``accuracy`` on a flat parameter vector.
    data : saddlepoint.data.Dataset or tuple
        ``Dataset``, or ``(X_train, y_train)`` / ``(X_train, y_train, X_val, y_val)``.
    optimizer : str or saddlepoint.optim.Optimizer
        A name for :func:`saddlepoint.optim.create` with ``lr`` / ``schedule`` and
        ``**hyper`` (e.g. ``momentum=0.9``), or an optimizer over one flat array of
        ``model.n_params`` elements (the parameters, trained in place).
    batch_size, epochs : int
        Mini-batch size (>= 1) and number of passes over the training data (>= 0).
    shuffle : bool
        Draw a new random order of the training samples every epoch.
    seed : int, optional
        Seeds both the initial parameters (``model.init``, when ``params`` is None) and the
        shuffling, through independent streams of ``numpy.random.SeedSequence(seed)``: the
        same seed gives the same run, bit for bit.
    schedule : callable, optional
        ``update -> lr``, called with the number of updates taken (not epochs).
    lr : float, optional
        Constant learning rate instead of a schedule (default: the optimizer's default).
    params : ndarray, optional
        Initial parameters (copied); default ``model.init(...)``.
    progress : bool, optional
        A tqdm progress bar over the epochs; ``None`` shows it only on a terminal.
    divergence_factor : float
        Training stops (``diverged=True``, a ``"diverged"`` event) when a mini-batch loss or
        the parameters are not finite, or a mini-batch loss exceeds
        ``loss0 + divergence_factor * max(|loss0|, 1)`` (``loss0``: the initial training
        loss), as in :func:`minimize`.

    Returns
    -------
    TrainResult
        Parameters, per-epoch history with timings, per-batch losses, optimizer.
    """
    batch_size = _positive_int("batch_size", batch_size)
    epochs = _positive_int("epochs", epochs, 0)
    divergence_factor = _finite_number("divergence_factor", divergence_factor, strict=True)
    for method in ("loss", "loss_and_grad", "init"):
        if not callable(getattr(model, method, None)):
            raise TypeError(f"model: expected a model with {method}(), got {type(model).__name__}")
    X, y, X_val, y_val = _split_data(data)
    n = X.shape[0] if X.ndim else 0
    if n == 0 or y.shape[:1] != (n,):
        raise ValueError(
            f"data: expected training features (n, d) with n >= 1 and n labels, got "
            f"{X.shape} and {y.shape}"
        )
    init_seq, shuffle_seq = np.random.SeedSequence(seed).spawn(2)
    opt = _optimizer_for(optimizer, params, model, lr, schedule, hyper, init_seq)
    theta = opt.params[0]
    rng = np.random.default_rng(shuffle_seq)

    columns: dict[str, list[float]] = {
        name: []
        for name in (
            "epoch",
            "updates",
            "lr",
            "train_loss",
            "train_accuracy",
            "val_loss",
            "val_accuracy",
            "seconds_per_update",
            "seconds_per_epoch",
        )
    }

    def record(epoch: int, seconds: float, updates: int) -> None:
        tr = _evaluate(model, theta, X, y)
        va = _evaluate(model, theta, X_val, y_val)
        row = (
            epoch,
            opt.steps,
            _current_lr(opt),
            *tr,
            *va,
            seconds / updates if updates else float("nan"),
            seconds if updates else float("nan"),
        )
        for name, value in zip(columns, row):
            columns[name].append(value)

    record(0, 0.0, 0)
    loss0 = columns["train_loss"][0]
    limit = loss0 + divergence_factor * max(abs(loss0), 1.0) if math.isfinite(loss0) else math.inf
    batch_losses: list[float] = []
    events: list[Event] = []
    bar = _progress_bar(progress, epochs)
    diverged = False
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n) if shuffle else np.arange(n)
            updates = 0
            started = time.perf_counter()
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                with np.errstate(all="ignore"):
                    loss, grad = model.loss_and_grad(theta, X[idx], y[idx])
                batch_losses.append(loss)
                if not (math.isfinite(loss) and np.all(np.isfinite(grad))) or loss > limit:
                    diverged = True
                    break
                opt.step(grad)
                updates += 1
            seconds = time.perf_counter() - started
            if diverged or not np.all(np.isfinite(theta)):
                diverged = True
                last = batch_losses[-1]
                what = (
                    f"a mini-batch loss of {last:.4g} (started at {loss0:.4g})"
                    if math.isfinite(last)
                    else "a mini-batch loss or the parameters not finite"
                )
                message = (
                    f"diverged in epoch {epoch} after {opt.steps} updates: {what} "
                    f"(learning rate {_current_lr(opt):.3g}); use a smaller learning rate "
                    "or a warm-up schedule"
                )
                events.append(
                    Event(
                        "diverged",
                        int(opt.steps),
                        message,
                        theta.copy(),
                        batch_losses[-1],
                        float("nan"),
                    )
                )
                record(epoch, seconds, updates)
                break
            record(epoch, seconds, updates)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(
                    loss=f"{columns['train_loss'][-1]:.4g}",
                    val_acc=f"{columns['val_accuracy'][-1]:.3f}",
                )
    finally:
        if bar is not None:
            bar.close()
    return TrainResult(
        params=theta,
        history=_table(columns),
        batch_losses=np.array(batch_losses),
        optimizer=opt,
        diverged=diverged,
        events=events,
    )
