"""``minimize``: any optimizer on an analytic surface, watched step by step by a
:class:`saddlepoint.Monitor`; when it stops improving the monitor says why and ``minimize``
acts on it (stop at a minimum, escape a saddle, stop on divergence)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .._checks import finite_number, int_at_least
from ..monitor import Monitor, Thresholds
from ._optimizer import _current_lr, _make_optimizer
from ._results import MinimizeResult, _join_monitor, _table

# what stop_on_plateau stops at: progress stalled while the gradient stayed large
_PLATEAU_KINDS = ("plateau", "oscillation", "noise_floor", "adagrad_stall")
_STOP_KINDS = ("minimum", "degenerate", "vanishing_gradient")


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
    observed: list[bool] = field(default_factory=list)  # a step was taken from the point

    def add(self, step: int, loss: float, grad_norm: float, lr: float, x: np.ndarray) -> None:
        self.observed.append(True)
        self.steps.append(step)
        self.losses.append(loss)
        self.grad_norms.append(grad_norm)
        self.lrs.append(lr)
        self.points.append(np.array(x, dtype=np.float64))

    def monitor_rows(self) -> list[int]:
        """The monitor's row of each history row (the step taken from its point: row ``t``
        of the monitor observed the loss and gradient at step ``t``), -1 for none."""
        return [t if seen else -1 for t, seen in zip(self.steps, self.observed)]


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
    if not np.all(np.isfinite(x)):
        # a bad start is the caller's input, not a run that diverged (no learning rate helps)
        raise ValueError(f"x0: expected finite values, got {x}")
    return x


class _SurfaceHVP:
    """``v -> H(x) v`` at the run's current point ``x`` (the live array): the surface's
    analytic ``hessian(x)`` when it has one, else :func:`saddlepoint.hessian.hvp_from_gradient`
    (central differences of its gradient). The Hessian or the difference operator is rebuilt
    only when ``x`` changed."""

    def __init__(self, surface: Any, x: np.ndarray) -> None:
        self.surface, self.x = surface, x
        self.key: bytes | None = None
        self.matrix: np.ndarray | None = None
        self.fd: Callable[[np.ndarray], Any] | None = None
        has = callable(getattr(surface, "hessian", None))
        self.source = "analytic" if has else "finite-difference"

    def _refresh(self) -> None:
        key = self.x.tobytes()
        if key == self.key:
            return
        self.key, self.matrix, self.fd = key, None, None
        if self.source != "finite-difference":
            try:
                H = self.surface.hessian(self.x.copy())
            except NotImplementedError:
                # A user surface may define hessian() only to say it has none (Python's
                # convention): differences of its gradient instead.
                H = None
            if H is not None:
                self.matrix, self.source = np.asarray(H, dtype=np.float64), "analytic"
                return
        from ..hessian import hvp_from_gradient

        self.source = "finite-difference"
        self.fd = hvp_from_gradient(self.surface.grad, self.x.copy())

    def __call__(self, v: np.ndarray) -> np.ndarray:
        self._refresh()
        if self.matrix is not None:
            return self.matrix @ v
        assert self.fd is not None
        return np.asarray(self.fd(v), dtype=np.float64)


def _escape(surface: Any, x: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, float]:
    """Step out of a saddle along ``direction`` with :func:`saddlepoint.hessian.escape`."""
    from ..hessian import escape

    out = escape(lambda p: float(surface.value(p)), x, direction)
    return np.array(out.x, dtype=np.float64).reshape(x.shape), float(out.loss_drop)


def _vector(values: np.ndarray) -> str:
    v = np.asarray(values).ravel()
    return "[" + ", ".join(f"{a:.3g}" for a in v[:8]) + (", ...]" if v.size > 8 else "]")


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
    checks the point, then steps the optimizer with :math:`g + \text{noise}\cdot\xi`,
    :math:`\xi\sim\mathcal N(0, I)` drawn from ``numpy.random.default_rng(seed)`` (a stand-in
    for mini-batch noise; the same seed gives the same run), and shows the step to a
    :class:`saddlepoint.Monitor` (``result.monitor``), the one diagnosis engine of the
    package: every verdict below is one of its :data:`~saddlepoint.monitor.EVENT_KINDS`, by
    its documented rules (:class:`~saddlepoint.monitor.Thresholds`). ``minimize`` gives the
    monitor the optimizer, the Hessian-vector product at the current point (the surface's
    analytic ``hessian(x)``, else :func:`saddlepoint.hessian.hvp_from_gradient`),
    ``window = plateau_window``, a curvature check every ``plateau_window`` steps, and the
    thresholds ``grad_atol = grad_tol`` (with ``grad_rtol = 0``: a gradient is small only by
    ``grad_tol``), ``flat = plateau_rtol``, ``blowup = 1 + divergence_factor`` and
    ``curvature_rtol = hessian_rtol``. What ``minimize`` does with the verdicts:

    1. **Before each step** (:meth:`Monitor.check_point`): ``"diverged"`` when the loss,
       gradient or point is not finite or ``|loss| > (1 + divergence_factor) *
       max(|loss0|, 1e-12)``: the run stops there, nothing raises. When
       :math:`\|g\| <` ``grad_tol`` the point is a critical point, judged at once by the
       Hessian there (formed exactly for ``dim <= 32``: the event then carries every
       eigenvalue and the minimum ratio), an eigenvalue counting as zero when
       :math:`|\lambda| \le` ``hessian_rtol`` :math:`\cdot\max|\lambda|`. The default
       ``hessian_rtol = max(10 * grad_tol, 1e-6)`` reflects that a point located only to
       ``grad_tol`` pins its small eigenvalues down only to about that relative accuracy (in
       the valley of ``tiny_network`` a tighter tolerance would call the flat direction a
       saddle or a minimum depending on which side of the valley the run stopped).

       - ``"minimum"``, ``"degenerate"`` (no negative curvature, but zero eigenvalues: a
         flat valley of minima, or a higher-order saddle the Hessian cannot see) or
         ``"vanishing_gradient"`` (almost no curvature at this learning rate): the run ends;
       - ``"saddle"`` or ``"maximum"``: with ``escape_saddles=True`` the point moves along
         ``escape_direction`` (the eigenvector of the most negative eigenvalue) by
         :func:`saddlepoint.hessian.escape`, a line search that takes the sign which lowers
         the loss; the monitor is told (:meth:`Monitor.jumped`: the jump is not an update and
         its windows restart) and the run goes on (at most ``max_escapes`` times). Without it
         the run ends there, unless ``noise > 0``: then it goes on, as noise may carry it out.
    2. **After each step** (:meth:`Monitor.observe`): the monitor's window verdicts, e.g.
       ``"oscillation"`` (successive updates opposed at the edge of stability, lr near
       ``2 / lambda_max``), ``"plateau"`` (the loss flat while the gradient stays large:
       creeping along a valley floor), ``"adagrad_stall"``, ``"unstable_start"``, each
       reported once with the fix that fits. The run goes on, unless ``stop_on_plateau``: then
       it ends at the first ``plateau``, ``oscillation``, ``noise_floor`` or ``adagrad_stall``
       (``reason`` is that kind). A ``"diverged"`` verdict here ends the run too.

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
        Final point, loss, history, trajectory, the monitor and its events;
        ``result.explain()`` puts them in words.

    Raises
    ------
    ValueError
        For a non-finite ``x0`` (a bad start is not a run that diverged), and bad arguments.

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

    hvp = _SurfaceHVP(surface, x)
    mon = Monitor(
        optimizer=opt,
        hvp=hvp,
        curvature_every=lim.window,
        window=lim.window,
        thresholds=Thresholds(
            flat=lim.plateau_rtol,
            grad_rtol=0.0,
            grad_atol=lim.grad_tol,
            curvature_rtol=lim.hessian_rtol,
            blowup=1.0 + lim.divergence_factor,
        ),
    )
    rng = np.random.default_rng(seed)
    rec = _Recorder()
    reason, message = "max_steps", f"reached steps={lim.steps} without stopping"
    escapes = 0
    t = 0
    loss, g, gnorm = evaluate(x)
    while True:
        if t % lim.record_every == 0:
            rec.add(t, loss, gnorm, _current_lr(opt), x)

        # 1. the point, before its step: divergence, or a critical point told by the Hessian
        found = mon.check_point(loss, g)
        if found and found[0].kind == "diverged":
            reason, message = "diverged", found[0].message
            break
        if found:
            event = mon.annotate(found[0], f"(Hessian: {hvp.source}.)", hessian=hvp.source)
            kind = event.kind
            direction = event.details.get("escape_direction")
            if kind in _STOP_KINDS or direction is None:
                reason, message = kind, event.message
                break
            if escape_saddles and escapes < lim.max_escapes:
                new_x, drop = _escape(surface, x, direction)
                if not (drop > 0 and np.all(np.isfinite(new_x))):
                    note = (
                        "Stepping along the eigenvector of the most negative eigenvalue found "
                        "no lower loss: the negative curvature is too weak to matter at this "
                        "scale."
                    )
                    reason, message = kind, mon.annotate(event, note).message
                    break
                escapes += 1
                mon.annotate(
                    event,
                    f"Escaped along the eigenvector {_vector(direction)} of the most negative "
                    f"eigenvalue {event.details['lambda_min']:.3g}: loss {loss:.6g} -> "
                    f"{loss - drop:.6g}.",
                    loss_drop=drop,
                    escaped_to=new_x.copy(),
                )
                if t % lim.record_every != 0:
                    rec.add(t, loss, gnorm, _current_lr(opt), x)
                rec.observed[-1] = False  # the point before the jump takes no step
                x[...] = new_x
                mon.jumped()
                loss, g, gnorm = evaluate(x)
                rec.add(t, loss, gnorm, _current_lr(opt), x)
                continue
            if lim.noise > 0 and not escape_saddles:
                note = f"Going on: the gradient noise (noise={lim.noise:g}) may carry the run out."
                mon.annotate(event, note)
            else:
                why = (
                    f"the escape limit max_escapes={lim.max_escapes} was reached"
                    if escape_saddles
                    else "pass escape_saddles=True to step along the escape direction "
                    f"{_vector(direction)}, or add gradient noise"
                )
                reason, message = kind, f"{event.message} Stopped here; {why}."
                break
        if callback is not None and callback(t, x.copy(), loss, gnorm) is True:
            reason, message = "callback", f"stopped by the callback at step {t}"
            break
        if t >= lim.steps:
            break

        # 2. the step, then the monitor's window verdicts on it
        opt.step(g + lim.noise * rng.standard_normal(g.shape) if lim.noise > 0 else g)
        step_loss, step_grad = loss, g
        t += 1
        loss, g, gnorm = evaluate(x)
        stop = None
        with np.errstate(all="ignore"):
            for event in mon.observe(step_loss, step_grad):
                if event.kind == "diverged" or (stop_on_plateau and event.kind in _PLATEAU_KINDS):
                    stop = event
        if stop is not None:
            reason, message = stop.kind, stop.message
            if t % lim.record_every != 0:
                rec.add(t, loss, gnorm, _current_lr(opt), x)
            break

    holding = [e for e in mon.events if e.kind in _PLATEAU_KINDS and e.kind in mon.active]
    if reason == "max_steps" and holding:
        message += (
            f", still on the {holding[-1].kind} reported at step {holding[-1].step} (see that "
            "event for what to change)"
        )
    if rec.steps[-1] != t or not np.array_equal(rec.points[-1], x):
        rec.add(t, loss, gnorm, _current_lr(opt), x)
    columns: dict[str, list[Any]] = {
        "step": rec.steps, "loss": rec.losses, "grad_norm": rec.grad_norms, "lr": rec.lrs
    }  # fmt: skip
    return MinimizeResult(
        x=np.array(x, dtype=np.float64),
        loss=loss,
        grad_norm=gnorm,
        steps=t,
        reason=reason,
        message=message,
        events=mon.events,
        history=_table(_join_monitor(columns, rec.monitor_rows(), mon.columns())),
        trajectory=np.array(rec.points),
        optimizer=opt,
        monitor=mon,
    )
