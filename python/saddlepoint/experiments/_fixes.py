"""Which fix works? The lecture's remedies run as one sweep and ranked against plain GD.

:func:`compare_fixes` tunes each remedy over a small learning-rate grid, ranks the remedies
by the steps they need to reach a target loss (then by their best loss) and puts the
:class:`saddlepoint.Monitor`'s verdict on the baseline (plain gradient descent) next to the
ranking. Surfaces run through one :func:`saddlepoint.sweep` call (the compiled loop for the
built-in ones); models and user functions through a loop over
:func:`saddlepoint.train.train` / :func:`saddlepoint.train.minimize`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .. import schedules
from ._common import _pandas

#: The optimizers of the lecture: label -> (optimizer name, hyper-parameters).
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "GD": ("sgd", {}),
    "momentum": ("sgd", {"momentum": 0.9}),
    "Nesterov": ("sgd", {"momentum": 0.9, "nesterov": True}),
    "Adagrad": ("adagrad", {}),
    "RMSprop": ("rmsprop", {}),
    "Adam": ("adam", {}),
}
#: The schedules each optimizer runs with: "constant", cosine "decay" to 0 over the run and
#: a linear "warm-up" over the first tenth of the run.
SCHEDULES = ("constant", "decay", "warm-up")
BASELINE = "GD"

_COLUMNS = [
    "fix",
    "optimizer",
    "schedule",
    "variant",
    "best_lr",
    "best_loss",
    "steps_to_target",
    "reached",
    "speedup",
    "rank",
]


@dataclass
class _Fix:
    label: str
    optimizer: str
    hyper: dict[str, Any]
    schedule: str = "constant"
    variant: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _fixes() -> list[_Fix]:
    out = []
    for name, (opt, hyper) in OPTIMIZERS.items():
        for sched in SCHEDULES:
            label = name if sched == "constant" else f"{name} + {sched}"
            out.append(_Fix(label, opt, dict(hyper), sched))
    return out


def _lr(base: float, schedule: str, steps: int) -> Any:
    if schedule == "decay":
        return schedules.cosine(base, T_max=steps)
    if schedule == "warm-up":
        return schedules.linear_warmup(base, warmup_steps=max(1, steps // 10))
    return base


def _check_int(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int >= {low}, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name}: expected an int >= {low}, got {value}")
    return int(value)


def _lr_grid(lrs: Any, budget: int | None, n_fixes: int) -> list[float]:
    grid = [float(v) for v in np.atleast_1d(np.asarray(lrs, dtype=float))]
    if not grid or not all(math.isfinite(v) and v > 0 for v in grid):
        raise ValueError(f"lrs: expected positive finite learning rates, got {lrs!r}")
    if budget is not None:
        budget = _check_int("budget", budget)
        per_fix = budget // n_fixes
        if per_fix < 1:
            raise ValueError(
                f"budget: {budget} runs cannot try {n_fixes} fixes once each; "
                f"give at least {n_fixes}"
            )
        if per_fix < len(grid):  # keep the grid's span: evenly spaced picks
            idx = np.unique(np.round(np.linspace(0, len(grid) - 1, per_fix)).astype(int))
            grid = [grid[i] for i in idx]
    return grid


# --- the problems --------------------------------------------------------------------------


class _Function:
    """A user ``fun(x) -> (loss, grad)`` as the surface object minimize() takes."""

    def __init__(self, fun: Callable[[np.ndarray], Any], x0: np.ndarray) -> None:
        self.fun, self.start, self.dim = fun, x0, x0.size
        self._x: np.ndarray | None = None
        self._out: tuple[float, np.ndarray] = (math.nan, x0)

    def _eval(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        if self._x is None or not np.array_equal(self._x, x):
            loss, grad = self.fun(np.array(x, dtype=float))
            self._x, self._out = np.array(x, dtype=float), (float(loss), np.asarray(grad, float))
        return self._out

    def value(self, x: np.ndarray) -> float:
        return self._eval(x)[0]

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self._eval(x)[1]


def _resolve(problem: Any, x0: Any) -> tuple[str, Any, Any]:
    """("surface", surface, x0) / ("model", (model, data), None) / ("function", obj, x0)."""
    from .. import surfaces
    from ..models import MLP

    if isinstance(problem, str):
        if problem not in surfaces.available():
            raise ValueError(
                f"problem: unknown surface {problem!r}; available: {sorted(surfaces.available())}"
            )
        problem = surfaces.get(problem)
    if isinstance(problem, tuple) and len(problem) == 2:
        first, second = problem
        if isinstance(first, MLP):
            if not hasattr(second, "X_train"):
                raise TypeError(
                    f"problem: a model needs a saddlepoint.data.Dataset, got "
                    f"{type(second).__name__}"
                )
            return "model", (first, second), None
        if callable(first):
            start = np.asarray(second, dtype=float).ravel()
            if start.size == 0 or not np.all(np.isfinite(start)):
                raise ValueError("problem: the start point must be a finite, non-empty vector")
            return "function", _Function(first, start), start
    if all(hasattr(problem, a) for a in ("value", "grad", "dim")):
        given = getattr(problem, "start", None) if x0 is None else x0
        if given is None:
            raise ValueError("x0: the surface has no start point; give x0")
        start = np.asarray(given, dtype=float).ravel()
        if start.shape != (problem.dim,):
            raise ValueError(f"x0: expected {problem.dim} coordinates, got {start.size}")
        return "surface", problem, start
    raise TypeError(
        "problem: expected a surface (object or registered name), (MLP, Dataset) or "
        f"(fun, x0) with fun(x) -> (loss, grad), got {type(problem).__name__}"
    )


# --- running --------------------------------------------------------------------------------


class _Runs(NamedTuple):
    """What every run of one comparison shares."""

    fixes: list[_Fix]
    lrs: list[float]
    steps: int
    seed: int
    target: float | None
    fraction: float


def _surface_runs(
    surface: Any, x0: np.ndarray, runs: _Runs
) -> tuple[list[dict[str, Any]], float, float]:
    """One sweep over fix x lr; rows (fix index, lr, best loss, steps to target)."""
    fixes, lrs, steps, _, target, fraction = runs
    from ..sweeps import sweep

    f0 = float(surface.value(x0))
    floor: float | None = None
    if target is None:
        lows = [c.value for c in getattr(surface, "critical_points", ()) if c.kind != "saddle"]
        lows = [v for v in lows if v < f0]
        floor = min(lows) if lows else None
    grid, keys = [], []
    for i, fix in enumerate(fixes):
        for lr in lrs:
            grid.append(
                {"optimizer": fix.optimizer, "lr": _lr(lr, fix.schedule, steps), **fix.hyper}
            )
            keys.append((i, lr))

    def run(threshold: float | None) -> Any:
        return sweep(surface, grid, steps=steps, x0=x0, progress=False, threshold=threshold)

    if target is None and floor is None:  # the target needs the best loss reached: two passes
        first = run(None)
        floor = float(np.nanmin(first["best_loss"].where(~first["diverged"])))
    if target is None:
        assert floor is not None
        target = f0 - fraction * (f0 - floor)
    df = run(target)
    rows = []
    for run_id, (i, lr) in enumerate(keys):
        r = df.loc[run_id]
        diverged = bool(r["diverged"])
        hit = r["threshold_step"]
        stays = not diverged and not _isna(hit) and float(r["final_loss"]) <= target
        rows.append(
            {
                "fix": i,
                "lr": lr,
                "best_loss": math.inf if diverged else float(r["best_loss"]),
                "steps": int(hit) if stays else math.nan,
            }
        )
    return rows, f0, target


def _isna(value: Any) -> bool:
    pd = _pandas()
    return bool(pd.isna(value))


def _first_at_or_below(losses: np.ndarray, steps: np.ndarray, target: float) -> float:
    """The first step whose loss is at or below the target (NaN: none)."""
    hit = np.flatnonzero(losses <= target)
    return float(steps[hit[0]]) if hit.size else math.nan


def _loop_runs(
    kind: str, problem: Any, x0: Any, runs: _Runs, batch_size: int
) -> tuple[list[dict[str, Any]], float, float]:
    """Every fix x lr run by train()/minimize(); the target from the curves afterwards."""
    fixes, lrs, steps, seed, target, fraction = runs
    curves = []
    for i, fix in enumerate(fixes):
        for lr in lrs:
            at, loss = _run_one(kind, problem, x0, fix, lr, steps, seed, batch_size)[1:]
            curves.append((i, lr, at, loss))
    f0 = float(curves[0][3][0])
    bests = [float(np.nanmin(c[3])) if np.isfinite(c[3]).any() else math.inf for c in curves]
    if target is None:
        floor = min(bests)
        target = f0 - fraction * (f0 - floor) if math.isfinite(floor) else -math.inf
    rows = [
        {
            "fix": i,
            "lr": lr,
            "best_loss": best,
            "steps": _first_at_or_below(np.nan_to_num(loss, nan=math.inf), at, target)
            if math.isfinite(best) and loss[-1] <= target
            else math.nan,
        }
        for (i, lr, at, loss), best in zip(curves, bests)
    ]
    return rows, f0, target


def _run_one(
    kind: str,
    problem: Any,
    x0: Any,
    fix: _Fix,
    lr: float,
    steps: int,
    seed: int,
    batch_size: int,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """(result, steps, losses) of one run; for models steps count updates, one point per
    epoch, and the loss is the model's own (the loss variant is scored by the original)."""
    from ..train import minimize, train

    if kind != "model":
        res = minimize(
            problem,
            fix.optimizer,
            lr=None if fix.schedule != "constant" else lr,
            schedule=None if fix.schedule == "constant" else _lr(lr, fix.schedule, steps),
            x0=x0,
            steps=steps,
            seed=seed,
            **fix.hyper,
        )
        hist = res.history
        return res, np.asarray(hist["step"], float), np.asarray(hist["loss"], float)
    from ..models import MLP

    model, data = problem
    bs = int(fix.extra.get("batch_size", batch_size))
    loss_name = fix.extra.get("loss", model.loss_name)
    run_model = (
        model
        if loss_name == model.loss_name
        else MLP(model.sizes, model.activation, loss_name, l2=model.l2)
    )
    per_epoch = max(1, math.ceil(len(data.X_train) / bs))
    epochs = max(1, math.ceil(steps / per_epoch))
    sched = _lr(lr, fix.schedule, epochs * per_epoch)
    tres = train(
        run_model,
        data,
        fix.optimizer,
        batch_size=bs,
        epochs=epochs,
        seed=seed,
        lr=None if fix.schedule != "constant" else lr,
        schedule=None if fix.schedule == "constant" else sched,
        progress=False,
        params=model.init(seed),
        **fix.hyper,
    )
    hist = tres.history
    at = np.asarray(hist["updates"], float)
    if run_model is model:
        loss = np.asarray(hist["train_loss"], float)
    else:  # only the end point can be scored by the original loss
        loss = np.full(at.shape, math.nan)
        loss[0] = model.loss(model.init(seed), data.X_train, data.y_train)
        loss[-1] = model.loss(tres.params, data.X_train, data.y_train)
    return tres, at, loss


def _model_fixes(model: Any, batch_size: int) -> list[_Fix]:
    """Plain GD with a batch 4x smaller and 4x larger, and with the other loss."""
    base_opt, base_hyper = OPTIMIZERS[BASELINE]
    variants: list[tuple[str, str, Any]] = [
        ("batch", "batch_size", b) for b in (max(1, batch_size // 4), batch_size * 4)
    ]
    other = {"cross_entropy": "mse", "mse": "cross_entropy"}.get(model.loss_name)
    if other:
        variants.append(("loss", "loss", other))
    return [
        _Fix(
            f"{BASELINE}, batch {value}" if what == "batch" else f"{BASELINE}, {value} loss",
            base_opt,
            dict(base_hyper),
            variant=f"{key}={value}",
            extra={key: value},
        )
        for what, key, value in variants
    ]


# --- the verdict ----------------------------------------------------------------------------


def _verdict(result: Any, kind: str) -> tuple[str, str, int | None]:
    """(event kind, sentence, step) of the Monitor on the baseline run: its first event
    that says why GD is slow (a saddle, plateau, oscillation...), else how the run ended."""
    events = list(result.events)
    if events:
        e = events[0]
        return e.kind, e.message or e.kind, int(e.step)
    if kind != "model":
        return result.reason, result.message, None
    return "none", "no event", None


_PHRASES = {
    "saddle": "stalls at a saddle",
    "plateau": "creeps along a plateau",
    "oscillation": "oscillates",
    "vanishing_gradient": "stalls on a vanishing gradient",
    "degenerate": "ends in a flat (degenerate) valley",
    "minimum": "reaches a minimum",
    "diverged": "diverges",
    "adagrad_stall": "stalls (Adagrad)",
    "max_steps": "runs out of steps without a Monitor event",
    "none": "shows no Monitor event",
}


def _summary(table: Any, verdict: str, step: int | None, target: float) -> str:
    base = table[table["fix"] == BASELINE].iloc[0]
    phrase = _PHRASES.get(verdict, f"shows {verdict}")
    head = f"plain GD {phrase}" + (f" at step {step}" if step is not None else "")
    best = table.iloc[0]
    if best["fix"] == BASELINE:
        return f"{head}; no fix beats plain GD to the target loss {target:.4g}"
    if bool(best["reached"]) and bool(base["reached"]):
        ratio = float(base["steps_to_target"]) / max(float(best["steps_to_target"]), 1.0)
        tail = f"{best['fix']} reaches the target loss {target:.4g} {ratio:.3g}x sooner"
    elif bool(best["reached"]):
        tail = (
            f"{best['fix']} reaches the target loss {target:.4g} at step "
            f"{int(best['steps_to_target'])}, which plain GD never does"
        )
    else:
        tail = f"{best['fix']} gets lowest (best loss {best['best_loss']:.4g})"
    return f"{head}; {tail}"


# --- the table ------------------------------------------------------------------------------


def _rank_key(row: dict[str, Any]) -> tuple[float, float]:
    steps = row["steps"]
    return (math.inf if math.isnan(steps) else steps, row["best_loss"])


def compare_fixes(
    problem: Any,
    *,
    steps: int = 200,
    budget: int | None = None,
    seed: int = 0,
    lrs: Sequence[float] | None = None,
    x0: Any = None,
    target: float | None = None,
    target_fraction: float = 0.9,
    batch_size: int = 32,
) -> Any:
    """Run the lecture's remedies on one problem and rank them against plain GD.

    The fixes are plain gradient descent (``"GD"``), momentum (0.9), Nesterov momentum
    (0.9), Adagrad, RMSprop and Adam, each with a constant learning rate, a cosine
    ``"decay"`` to zero over the run and a linear ``"warm-up"`` over its first tenth; for a
    model also plain GD with a batch four times smaller and four times larger and with the
    other loss (cross-entropy vs MSE). Each is tuned over the learning rates ``lrs``
    (default 5 log-spaced values, ``numpy.logspace(-3, 0, 5)``: 0.001 ... 1).

    The **target** loss is ``target`` if given, else the point ``target_fraction`` (0.9) of
    the way from the start loss to the best loss: for a surface the lowest known
    non-saddle critical value below the start (the best any fix reached when none is known),
    for models and functions the best loss any fix reached. A fix's **best lr** is the one
    that reaches the target in the fewest steps (then: the lowest best loss); the **rank**
    orders the fixes the same way, fixes that never reach the target after all those that
    do. Diverged runs count as best loss ``inf``.

    Parameters
    ----------
    problem : str, surface, (MLP, Dataset) or (fun, x0)
        A registered surface name or surface object (started at ``x0``, default its
        ``start``), a :class:`saddlepoint.models.MLP` with a :class:`saddlepoint.data.Dataset`,
        or a function ``fun(x) -> (loss, grad)`` with its start point.
    steps : int
        Optimizer steps per run (models: at least this many updates, whole epochs).
    budget : int, optional
        Largest number of runs; a grid of ``fixes x lrs`` above it keeps evenly spaced
        learning rates (``budget // fixes`` of them).
    seed : int
        Seed of every run (model initialisation and shuffling); the same seed gives the same
        table.
    batch_size : int
        Models only: the batch of every fix but the batch-size variants.

    Returns
    -------
    pandas.DataFrame
        One row per fix, in rank order: ``fix``, ``optimizer``, ``schedule``, ``variant``,
        ``best_lr``, ``best_loss``, ``steps_to_target`` (NaN: never), ``reached``,
        ``speedup`` (GD's steps to target over the fix's) and ``rank`` (1 best). ``attrs``:
        ``"verdict"`` (the Monitor's event kind on the baseline run, plain GD at its best lr),
        ``"verdict_message"``, ``"verdict_step"``, ``"summary"`` (one sentence),
        ``"target"``, ``"start_loss"``, ``"lrs"``, ``"kind"`` and ``"steps"``.

    Examples
    --------
    >>> import saddlepoint as sp
    >>> df = sp.compare_fixes("tiny_network", x0=[0.011, -0.01], steps=100)
    >>> df.attrs["verdict"]
    'plateau'
    >>> fig = sp.experiments.plot_fixes(df)  # needs matplotlib
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    pd = _pandas()
    steps = _check_int("steps", steps)
    seed = _check_int("seed", seed, 0)
    batch_size = _check_int("batch_size", batch_size)
    if not (0 < float(target_fraction) <= 1):
        raise ValueError(f"target_fraction: expected a number in (0, 1], got {target_fraction}")
    if target is not None and not math.isfinite(float(target)):
        raise ValueError(f"target: expected a finite loss, got {target}")
    kind, obj, start = _resolve(problem, x0)
    fixes = _fixes()
    if kind == "model":
        fixes += _model_fixes(obj[0], batch_size)
    grid = _lr_grid(np.logspace(-3, 0, 5) if lrs is None else lrs, budget, len(fixes))
    runs = _Runs(fixes, grid, steps, seed, target, float(target_fraction))
    if kind == "surface":
        rows, f0, tgt = _surface_runs(obj, start, runs)
    else:
        rows, f0, tgt = _loop_runs(kind, obj, start, runs, batch_size)
    best: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["fix"] not in best or _rank_key(row) < _rank_key(best[row["fix"]]):
            best[row["fix"]] = row
    order = sorted(best, key=lambda i: (_rank_key(best[i]), i))
    base_row = best[0]
    table = pd.DataFrame(
        [
            {
                "fix": fixes[i].label,
                "optimizer": fixes[i].optimizer,
                "schedule": fixes[i].schedule,
                "variant": fixes[i].variant,
                "best_lr": best[i]["lr"],
                "best_loss": best[i]["best_loss"],
                "steps_to_target": best[i]["steps"],
                "reached": not math.isnan(best[i]["steps"]),
                "speedup": base_row["steps"] / max(best[i]["steps"], 1.0),
                "rank": r + 1,
            }
            for r, i in enumerate(order)
        ],
        columns=_COLUMNS,
    )
    baseline = _run_one(kind, obj, start, fixes[0], base_row["lr"], steps, seed, batch_size)[0]
    verdict, message, vstep = _verdict(baseline, kind)
    table.attrs.update(
        verdict=verdict,
        verdict_message=message,
        verdict_step=vstep,
        summary=_summary(table, verdict, vstep, tgt),
        target=tgt,
        start_loss=f0,
        lrs=grid,
        kind=kind,
        steps=steps,
    )
    return table


def format_fixes(df: Any) -> str:
    """The ranking as text: the table, then the baseline verdict and the summary."""
    cols = ["rank", "fix", "best_lr", "best_loss", "steps_to_target", "speedup"]
    text = df[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}")
    return (
        f"{text}\n\ntarget loss {df.attrs['target']:.4g} (start {df.attrs['start_loss']:.4g}); "
        f"lr grid {', '.join(f'{v:g}' for v in df.attrs['lrs'])}\n"
        f"baseline (plain GD) verdict: {df.attrs['verdict']}\n{df.attrs['summary']}"
    )


def plot_fixes(df: Any, *, axes: Any = None) -> Any:
    """Two panels of a :func:`compare_fixes` table: steps to the target per fix (bars, the
    baseline in grey; fixes that never reach it left blank) and the best loss per fix (log
    scale when every loss is positive). Returns the figure."""
    from ._plots import _axes

    fig, (ax_steps, ax_loss) = _axes(axes, 2, width=5.0)
    labels = list(df["fix"])
    y = np.arange(len(labels))
    colors = ["0.6" if f == BASELINE else "C0" for f in labels]
    ax_steps.barh(y, np.nan_to_num(df["steps_to_target"].to_numpy(float)), color=colors)
    ax_steps.set(
        yticks=y,
        yticklabels=labels,
        xlabel="steps to target",
        title=f"target loss {df.attrs.get('target', math.nan):.3g}",
    )
    ax_steps.invert_yaxis()
    loss = df["best_loss"].to_numpy(float)
    ax_loss.barh(y, np.where(np.isfinite(loss), loss, np.nan), color=colors)
    if np.all(loss[np.isfinite(loss)] > 0):
        ax_loss.set_xscale("log")
    ax_loss.set(yticks=y, yticklabels=[], xlabel="best loss", title="best loss")
    ax_loss.invert_yaxis()
    fig.suptitle(df.attrs.get("summary", ""), fontsize="small")
    return fig
