"""``minimize``: any optimizer on an analytic surface, watched step by step; when it stops
improving it says why (see :mod:`saddlepoint.train`)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .._checks import finite_number, int_at_least
from ._diagnosis import (
    _STALL_LABELS,
    _diagnose,
    _escape,
    _fmt,
    _plateau_advice,
    _PlateauWatch,
    _stall_event,
)
from ._optimizer import _current_lr, _make_optimizer
from ._results import Event, MinimizeResult, _table


def _resolve_surface(surface: Any) -> Any:
    if isinstance(surface, str):
        from .. import surfaces

        return surfaces.get(surface)
    for method in ("value", "grad"):
        if not callable(getattr(surface, method, None)):
            raise TypeError(
                f"surface: expected a surface name or an object with value(x) and grad(x) "
                f"(saddlepoint.surfaces), got {type(surface).__name__} without {method}()"
            )
    return surface


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
    *,
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
    steps = int_at_least("steps", steps, 0)
    grad_tol = finite_number("grad_tol", grad_tol)
    limits = _Limits(
        steps=steps,
        record_every=int_at_least("record_every", record_every),
        max_escapes=int_at_least("max_escapes", max_escapes, 0),
        grad_tol=grad_tol,
        noise=finite_number("noise", noise),
        plateau_rtol=finite_number("plateau_rtol", plateau_rtol),
        divergence_factor=finite_number("divergence_factor", divergence_factor, strict=True),
        hessian_rtol=max(10.0 * grad_tol, 1e-6)
        if hessian_rtol is None
        else finite_number("hessian_rtol", hessian_rtol),
        window=max(10, min(100, steps // 10))
        if plateau_window is None
        else int_at_least("plateau_window", plateau_window, 2),
    )
    if callback is not None and not callable(callback):
        raise TypeError(f"callback: expected a callable, got {type(callback).__name__}")
    return limits


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
    >>> [e.kind for e in res.events]
    ['saddle', 'degenerate']
    """
    surface = _resolve_surface(surface)
    lim = _check_minimize_args(
        steps=steps,
        record_every=record_every,
        max_escapes=max_escapes,
        grad_tol=grad_tol,
        noise=noise,
        plateau_rtol=plateau_rtol,
        divergence_factor=divergence_factor,
        hessian_rtol=hessian_rtol,
        plateau_window=plateau_window,
        callback=callback,
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
