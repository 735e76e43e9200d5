"""Computing one chunk of a sweep: runs grouped by optimizer variant, each group one call of
the compiled loop (built-in surfaces) or one vectorized NumPy + kernels loop (any surface);
then the final points classified from their Hessians. Everything here is a pure function of
the plan and the run ids, so chunks may run anywhere (threads, processes, Dask workers) and a
run's result never depends on which chunk it was in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import _core
from ._columns import OPTIMIZERS, Coded
from ._grid import _FLAGS, OPTIMIZER_DEFAULTS
from ._runs import Runs, variant_key

_NATIVE_OPTIMIZER = {
    "sgd": "sgd",
    "adagrad": "adagrad",
    "rmsprop": "rmsprop",
    "adam": "adam",
    "adamw": "adam",
}
_HYPER_FOR_NATIVE = {
    "adam": ("lr", "beta1", "beta2", "eps", "weight_decay"),
    "sgd": ("lr", "momentum", "dampening", "weight_decay"),
    "adagrad": ("lr", "lr_decay", "weight_decay", "eps"),
    "rmsprop": ("lr", "alpha", "eps", "weight_decay", "momentum"),
}
RESULT_COLUMNS = ("final_loss", "best_loss", "threshold_step", "grad_norm", "diverged", "kind")


@dataclass(frozen=True)
class _NativeSpec:
    name: str
    matrix: Any = None  # quadratic's A


@dataclass
class _Plan:
    surface: Any
    native: _NativeSpec | None
    runs: Runs
    starts: np.ndarray  # (distinct start points + the default, dim) float64
    random_start: np.ndarray  # (rows of starts,) bool: drawn from the run's seed instead
    bounds: np.ndarray | None  # (dim, 2), for random start points
    steps: int
    dtype: np.dtype
    threshold: float
    divergence: float
    grad_tol: float
    lr_tables: np.ndarray  # (schedules, steps)
    use_native: bool = True
    dim: int = field(init=False)

    def __post_init__(self) -> None:
        self.dim = int(self.starts.shape[1])

    def take(self, rows: Any) -> _Plan:
        """The plan of some of the runs only (what a Dask task needs, and no more)."""
        return replace(self, runs=self.runs.take(rows))

    def x0(self) -> np.ndarray:
        """The runs' start points (runs, dim) float64."""
        col = self.runs.cols.get("x0")
        if col is None and not self.random_start[-1]:  # one start point for every run
            return np.broadcast_to(self.starts[-1], (len(self.runs), self.dim))
        code = np.full(len(self.runs), len(self.starts) - 1, dtype=np.int64)
        if col is not None:
            assert isinstance(col, Coded)
            np.copyto(code, col.codes, where=col.codes >= 0)
        x = self.starts[code]
        drawn = self.random_start[code]
        if drawn.any():  # one generator per distinct seed, as for a single run
            assert self.bounds is not None
            seeds = self.runs.seed()
            for seed in np.unique(seeds[drawn]).tolist():
                rng = np.random.default_rng(seed)
                x[drawn & (seeds == seed)] = rng.uniform(self.bounds[:, 0], self.bounds[:, 1])
        return x


def _uniform_or_array(values: np.ndarray) -> Any:
    """A number when every run shares it (the kernels skip per-row work then), else the array."""
    return float(values[0]) if values.size and np.all(values == values[0]) else values


def _hyper_arrays(runs: Runs, copy: bool = True) -> dict[str, np.ndarray]:
    names = set().union(*(OPTIMIZER_DEFAULTS[OPTIMIZERS[o]] for o in np.unique(runs.opt)))
    out = {n: runs.setting(n, copy) for n in names if n not in _FLAGS}
    out["lr"] = runs.setting("lr", copy)  # 0 for scheduled runs: their lr comes from the table
    return out


def _run_native(plan: _Plan, key: tuple[Any, ...]) -> dict[str, np.ndarray]:
    opt, wd_on, mom_on, nesterov, amsgrad, centered, maximize, _ = key
    native = plan.native
    assert native is not None  # only called for surfaces with a native twin
    hyper = _hyper_arrays(plan.runs, copy=False)  # the native loop only reads them
    native_opt = _NATIVE_OPTIMIZER[opt]
    x = np.array(plan.x0(), dtype=plan.dtype, order="C")  # a copy: updated in place
    res = _core.native_sweep(
        native.name,
        x,
        plan.steps,
        native_opt,
        {k: hyper[k] for k in _HYPER_FOR_NATIVE[native_opt]},
        plan.runs.lr_index(),
        plan.lr_tables,
        matrix=native.matrix,
        threshold=plan.threshold,
        divergence=plan.divergence,
        flags={
            "nesterov": nesterov,
            "maximize": maximize,
            "amsgrad": amsgrad,
            "centered": centered,
            "decoupled": opt == "adamw",
            "weight_decay_on": wd_on,
            "momentum_on": mom_on,
        },
    )
    res["x"] = x
    return dict(res)


def _run_vectorized(plan: _Plan, key: tuple[Any, ...]) -> dict[str, np.ndarray]:
    """All runs of one variant as the rows of one array: one surface call and one kernel
    call per step."""
    from .. import kernels

    opt, _wd_on, mom_on, nesterov, amsgrad, centered, maximize, noisy = key
    dtype = plan.dtype
    surface = plan.surface
    hyper = _hyper_arrays(plan.runs)
    h = {k: _uniform_or_array(v) for k, v in hyper.items()}
    x = np.array(plan.x0(), dtype=dtype, order="C")  # a copy: updated in place
    n = len(plan.runs)
    zeros = lambda: np.zeros_like(x)  # noqa: E731
    lr_index = plan.runs.lr_index()
    scheduled = lr_index >= 0
    lr_rows = plan.lr_tables[np.maximum(lr_index, 0)] if scheduled.any() else None
    lr = hyper["lr"] if scheduled.any() else h["lr"]
    best = np.full(n, np.inf)
    hit = np.full(n, -1, dtype=np.int64)
    bounded = np.ones(n, dtype=bool)  # |f| <= divergence at every step so far
    # Scratch for the per-step tracking: no temporaries allocated per step.
    mask, abs_f = np.empty(n, dtype=bool), np.empty(n)

    # A surface may compute both at once (shared sub-expressions): value_and_grad(X) -> (f, g).
    value_and_grad = getattr(surface, "value_and_grad", None)

    def evaluate(t: int) -> tuple[np.ndarray, np.ndarray]:
        # the loss in the run's dtype, then widened, as the native loop tracks it
        if value_and_grad is not None:
            f, g = value_and_grad(x)
        else:
            f, g = surface.value(x), surface.grad(x)
        f = np.asarray(np.asarray(f, dtype=dtype), dtype=np.float64)
        g = np.ascontiguousarray(g, dtype=dtype)
        np.less(f, best, out=mask)
        np.copyto(best, f, where=mask)
        np.less_equal(f, plan.threshold, out=mask)
        if mask.any():  # rarely true (never with the default threshold, -inf)
            np.copyto(hit, t, where=mask & (hit < 0))
        np.abs(f, out=abs_f)
        np.less_equal(abs_f, plan.divergence, out=mask)  # False for NaN, as for |f| > limit
        np.logical_and(bounded, mask, out=bounded)
        return f, g

    if opt in ("adam", "adamw"):
        m, v = zeros(), zeros()
        vmax = zeros() if amsgrad else None

        def step(g: np.ndarray, t: int) -> None:
            kernels.adam_step(
                x,
                g,
                m,
                v,
                vmax,
                step=t + 1,
                lr=lr,
                betas=(h["beta1"], h["beta2"]),
                eps=h["eps"],
                weight_decay=h["weight_decay"],
                amsgrad=amsgrad,
                maximize=maximize,
                decoupled_weight_decay=opt == "adamw",
            )
    elif opt == "sgd":
        buf = zeros() if mom_on else None

        def step(g: np.ndarray, t: int) -> None:
            kernels.sgd_step(
                x,
                g,
                buf,
                lr=lr,
                momentum=h["momentum"],
                dampening=h["dampening"],
                nesterov=nesterov,
                weight_decay=h["weight_decay"],
                maximize=maximize,
                step=t + 1,
            )
    elif opt == "adagrad":
        s = zeros()

        def step(g: np.ndarray, t: int) -> None:
            kernels.adagrad_step(
                x,
                g,
                s,
                step=t + 1,
                lr=lr,
                lr_decay=h["lr_decay"],
                weight_decay=h["weight_decay"],
                eps=h["eps"],
                maximize=maximize,
            )
    else:
        sq, avg = zeros(), zeros() if centered else None
        mbuf = zeros() if mom_on else None

        def step(g: np.ndarray, t: int) -> None:
            kernels.rmsprop_step(
                x,
                g,
                sq,
                avg,
                mbuf,
                lr=lr,
                alpha=h["alpha"],
                eps=h["eps"],
                weight_decay=h["weight_decay"],
                momentum=h["momentum"],
                centered=centered,
                maximize=maximize,
            )

    noise = _noise(plan) if noisy else None
    with np.errstate(all="ignore"):  # diverging runs are data, not warnings
        for t in range(plan.steps):
            _, g = evaluate(t)
            if noise is not None:
                g = np.ascontiguousarray(g + noise(t), dtype=dtype)
            if lr_rows is not None:
                np.copyto(lr, lr_rows[:, t], where=scheduled)
            step(g, t)
        f, g = evaluate(plan.steps)
        g2 = np.zeros(n)
        for k in range(plan.dim):  # the native loop's order of summation
            gk = g[:, k].astype(np.float64)
            g2 = g2 + gk * gk
    return {
        "final_loss": f,
        "best_loss": best,
        "grad_norm": np.sqrt(g2),
        "threshold_step": hit,
        "diverged": ~bounded,
        "x": x,
    }


def _noise(plan: _Plan) -> Callable[[int], np.ndarray]:
    """Gradient noise of step t for the runs `ids`: noise * xi with xi drawn from
    ``numpy.random.default_rng(seed)`` of each run, the same numbers in the same order as
    :func:`saddlepoint.train.minimize` draws them (``rng.standard_normal(dim)`` per step).
    Drawn a block of steps at a time: a Generator's stream does not depend on how it is cut."""
    block = 128
    std = plan.runs.setting("noise")[:, None]
    rngs = [np.random.default_rng(seed) for seed in plan.runs.seed().tolist()]
    drawn = np.empty((len(rngs), block, plan.dim))

    def at(t: int) -> np.ndarray:
        if t % block == 0:
            for j, rng in enumerate(rngs):
                drawn[j] = rng.standard_normal((block, plan.dim))
        return std * drawn[:, t % block, :]

    return at


KINDS = ("not critical", "minimum", "maximum", "saddle", "degenerate", "unknown")


def _classify(plan: _Plan, x: np.ndarray, grad_norm: np.ndarray) -> np.ndarray:
    """The final points' kinds (codes into KINDS) from the surface's analytic Hessians."""
    kinds = np.zeros(len(x), dtype=np.int8)
    critical = np.flatnonzero(np.isfinite(grad_norm) & (grad_norm <= plan.grad_tol))
    if critical.size == 0:
        return kinds
    hess = getattr(plan.surface, "hessian", None)
    if hess is None:
        kinds[critical] = KINDS.index("unknown")
        return kinds
    with np.errstate(all="ignore"):
        H = np.asarray(hess(x[critical].astype(np.float64)), dtype=np.float64)
    H = H.reshape(len(critical), plan.dim, plan.dim)
    finite = np.all(np.isfinite(H), axis=(1, 2))  # a non-finite Hessian: "not critical"
    if finite.any():
        from ..hessian import classify

        names = np.asarray(classify(H[finite], symmetrize=True).kind).reshape(-1)
        where = critical[finite]
        for code, kind in enumerate(KINDS):
            kinds[where[names == kind]] = code
    return kinds


def _compute_chunk(plan: _Plan, rows: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """The results of the plan's runs at `rows` as columns (``run``: their numbers in the
    sweep, ascending; ``kind`` as codes into KINDS): runs grouped by optimizer variant, each
    group one native call or one vectorized loop."""
    chunk = plan.take(np.asarray(rows, dtype=np.int64))
    variants = chunk.runs.variant()
    one = chunk.runs.uniform_variant()
    parts = []
    for code in [one] if one is not None else np.unique(variants).tolist():
        key = variant_key(code)
        members = np.flatnonzero(variants == code) if one is None else None
        native = chunk.native is not None and chunk.use_native and not key[-1]
        if not native:
            if members is None:
                members = np.arange(len(chunk.runs))
            # Rows sharing betas next to each other: the kernels look each distinct beta up
            # once per block of rows. A run's result does not depend on its row.
            group = chunk.runs.take(members)
            members = members[np.lexsort((group.setting("beta2"), group.setting("beta1")))]
        group_plan = chunk if members is None else chunk.take(members)
        res = (_run_native if native else _run_vectorized)(group_plan, key)
        res["kind"] = _classify(group_plan, res["x"], res["grad_norm"])
        res["run"] = group_plan.runs.ids
        parts.append(res)
    cols = {c: np.concatenate([p[c] for p in parts]) for c in ("run", *RESULT_COLUMNS)}
    cols["x_final"] = np.concatenate([np.asarray(p["x"], dtype=np.float64) for p in parts])
    if len(parts) > 1 or not np.all(cols["run"][1:] > cols["run"][:-1]):
        order = np.argsort(cols["run"], kind="stable")
        cols = {c: v[order] for c, v in cols.items()}
    cols["threshold_step"] = cols["threshold_step"].astype(np.int64, copy=False)
    cols["diverged"] = cols["diverged"].astype(bool, copy=False)
    for c in ("final_loss", "best_loss", "grad_norm"):
        cols[c] = cols[c].astype(np.float64, copy=False)
    return cols
