"""Sweeps over a model: many :func:`saddlepoint.train.train` runs of one MLP at once.

Runs sharing an optimizer, loss, batch size and flags are the rows of one ``(N, n_params)``
array (:class:`saddlepoint.models_batched.BatchedMLP`): every update is one batched
forward/backward pass (each run on its own mini-batch) and one optimizer call with per-row
hyper-parameters.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._checks import finite_number, int_at_least

__all__ = ["sweep_model"]

FLOAT_KEYS = ("lr", "momentum", "dampening", "weight_decay", "eps", "alpha", "lr_decay")
FLAG_KEYS = ("nesterov", "centered", "amsgrad", "maximize")
GRID_KEYS = (*FLOAT_KEYS, *FLAG_KEYS, "beta1", "beta2", "optimizer", "batch_size", "seed", "loss")
RESULTS = (
    "final_loss",
    "best_loss",
    "threshold_step",
    "grad_norm",
    "diverged",
    "kind",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "updates",
)


def _expand(grid: Any) -> list[dict[str, Any]]:
    if isinstance(grid, dict):
        for key, values in grid.items():
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
                raise ValueError(f"grid[{key!r}]: expected a list of values, got {values!r}")
            if len(values) == 0:
                raise ValueError(f"grid[{key!r}]: expected a non-empty list")
        keys = list(grid)
        return [dict(zip(keys, combo)) for combo in itertools.product(*grid.values())]
    if isinstance(grid, (list, tuple)) and grid and all(isinstance(g, dict) for g in grid):
        return [dict(g) for g in grid]
    raise ValueError("grid: expected a dict of lists or a non-empty list of dicts")


def _group_key(run: dict[str, Any]) -> tuple[Any, ...]:
    fixed = tuple(sorted((k, run[k]) for k in run if k in FLAG_KEYS or k in ("optimizer",)))
    present = tuple(sorted(k for k in run if k in FLOAT_KEYS or k in ("beta1", "beta2")))
    return (run["batch_size"], run["loss"], fixed, present)


def _model_for(model: Any, loss: str) -> Any:
    from ..models import MLP

    if loss == model.loss_name:
        return model
    return MLP(model.sizes, model.activation, loss, l2=model.l2)


def _hyper(runs: list[dict[str, Any]], optimizer: str) -> tuple[str, dict[str, Any]]:
    first = runs[0]
    name = first.get("optimizer", optimizer)
    hyper: dict[str, Any] = {k: first[k] for k in FLAG_KEYS if k in first}
    for k in FLOAT_KEYS:
        if k in first:
            hyper[k] = np.array([float(r[k]) for r in runs])
    if "beta1" in first or "beta2" in first:
        b1 = np.array([float(r.get("beta1", 0.9)) for r in runs])
        b2 = np.array([float(r.get("beta2", 0.999)) for r in runs])
        hyper["betas"] = (b1, b2)
    return name, hyper


def _run_group(
    model: Any,
    runs: list[dict[str, Any]],
    X: np.ndarray,
    y: np.ndarray,
    X_val: Any,
    y_val: Any,
    *,
    epochs: int,
    optimizer: str,
    batch_size: int,
    threshold: float | None,
    blowup: float,
    grad_tol: float,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    from .. import optim
    from ..models_batched import BatchedMLP
    from ..monitor import Thresholds

    n_runs, n = len(runs), X.shape[0]
    batched = BatchedMLP(model, n_runs)
    seqs = [np.random.SeedSequence(r["seed"]).spawn(3) for r in runs]  # as train() spawns
    P = batched.init([s[0] for s in seqs])
    name, hyper = _hyper(runs, optimizer)
    try:
        opt = optim.create(name, P, **hyper)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"grid: {exc}") from None
    # one shuffling stream per distinct seed, as train() draws it
    streams: dict[Any, np.random.Generator] = {}
    row_stream = []
    for r, s in zip(runs, seqs):
        if r["seed"] not in streams:
            streams[r["seed"]] = np.random.default_rng(s[1])
        row_stream.append(r["seed"])
    seeds = list(streams)
    which = np.array([seeds.index(k) for k in row_stream])
    loss_atol = Thresholds().loss_atol

    active = np.ones(n_runs, dtype=bool)
    final = P.copy()  # each run's parameters when it ended (diverged runs: at divergence)
    updates = np.zeros(n_runs, dtype=np.int64)
    best = np.full(n_runs, np.inf)
    hit = np.full(n_runs, -1, dtype=np.int64)
    first_loss = np.full(n_runs, np.nan)

    def record(rows: np.ndarray, params: np.ndarray) -> None:
        with np.errstate(all="ignore"):
            tl = BatchedMLP(model, len(rows)).loss(params, X, y)
        tl_ok = np.where(np.isnan(tl), np.inf, tl)
        best[rows] = np.minimum(best[rows], tl_ok)
        if threshold is not None:
            new = (hit[rows] < 0) & (tl <= threshold)
            hit[rows[new]] = updates[rows[new]]

    everyone = np.arange(n_runs)
    record(everyone, P)
    steps_done = 0
    for _epoch in range(epochs):
        if not active.any():
            break
        orders = np.stack([streams[k].permutation(n) for k in seeds])[which]
        for start in range(0, n, batch_size):
            idx = orders[:, start : start + batch_size]
            with np.errstate(all="ignore"):
                loss, grad = batched.loss_and_grad(P, X, y, idx)
            if steps_done == 0:
                first_loss[:] = loss
            bad = active & ~(np.isfinite(loss) & np.isfinite(grad).all(axis=1))
            if bad.any():  # train() takes no step with a non-finite loss or gradient
                final[bad] = P[bad]
                active &= ~bad
                record(np.flatnonzero(bad), final[bad])
            with np.errstate(all="ignore"):
                opt.step(grad)
            steps_done += 1
            updates[active] += 1
            limit = blowup * np.maximum(np.abs(first_loss), loss_atol)
            with np.errstate(all="ignore"):
                blown = active & ((np.abs(loss) > limit) | ~np.isfinite(P).all(axis=1))
            if blown.any():  # the monitor's "diverged" verdict, after the step
                final[blown] = P[blown]
                active &= ~blown
                record(np.flatnonzero(blown), final[blown])
            if not active.any():
                break
        rows = np.flatnonzero(active)
        if len(rows):
            final[rows] = P[rows]
            record(rows, P[rows])
    diverged = ~active if epochs else np.zeros(n_runs, dtype=bool)
    if epochs:
        final[active] = P[active]
    every = BatchedMLP(model, n_runs)
    with np.errstate(all="ignore"):
        final_loss, full_grad = every.loss_and_grad(final, X, y)
        grad_norm = np.sqrt(np.einsum("rp,rp->r", full_grad, full_grad))
        train_acc = every.accuracy(final, X, y) if np.issubdtype(y.dtype, np.integer) else None
        if X_val is not None:
            val_loss = every.loss(final, X_val, y_val)
            val_acc = (
                every.accuracy(final, X_val, y_val)
                if np.issubdtype(np.asarray(y_val).dtype, np.integer)
                else np.full(n_runs, np.nan)
            )
        else:
            val_loss = val_acc = np.full(n_runs, np.nan)
    best = np.where(np.isinf(best) & ~np.isfinite(final_loss), np.nan, best)
    cols = {
        "final_loss": final_loss,
        "best_loss": best,
        "threshold_step": hit,
        "grad_norm": grad_norm,
        "diverged": diverged,
        "kind": np.where(grad_norm > grad_tol, "not critical", "unknown").astype(object),
        "train_accuracy": train_acc if train_acc is not None else np.full(n_runs, np.nan),
        "val_loss": val_loss,
        "val_accuracy": val_acc,
        "updates": updates,
    }
    return cols, final


def sweep_model(
    model: Any,
    data: Any,
    grid: Any,
    *,
    epochs: int,
    optimizer: str = "sgd",
    batch_size: int | None = None,
    seeds: Any = None,
    threshold: float | None = None,
    divergence_factor: float = 1e6,
    grad_tol: float = 1e-6,
    blas_threads: int | None = 1,
    kernel_threads: int | None = 1,
) -> Any:
    r"""Every setting of `grid` as one :func:`saddlepoint.train.train` run of `model`, batched.

    Row ``r`` is the run ``train(model_r, data, optimizer, batch_size=..., epochs=epochs,
    seed=..., **hyper)`` with the row's settings (``model_r`` is `model` with the row's
    ``loss``): the same initial parameters and mini-batch order (from
    ``SeedSequence(seed).spawn(3)`` as ``train`` draws them), the same updates and the same
    stop at divergence (a non-finite mini-batch loss or gradient, non-finite parameters, or a
    mini-batch loss above ``(1 + divergence_factor)`` times the first). Runs sharing a batch
    size, loss, optimizer and flags are stepped together: one batched forward/backward pass
    and one optimizer call per update, with per-row hyper-parameters.

    Agreement with ``train``: the batched passes do the single model's arithmetic on each row
    (same products, same reductions), so on every run measured (digits MLP; SGD with and
    without momentum/Nesterov, Adam, RMSprop, Adagrad; both losses; diverging runs) the rows'
    parameters, losses and accuracies equal the single runs' bit for bit;
    tests/test_sweep_models.py holds them to rtol 1e-12 (BLAS may order a product's sums
    differently for a stack than for one matrix on other builds).

    Parameters
    ----------
    model : saddlepoint.models.MLP
    data : saddlepoint.data.Dataset or tuple
        As for ``train``: ``(X_train, y_train[, X_val, y_val])``.
    grid : dict of lists or list of dicts
        Keys: the optimizer's float hyper-parameters (``lr``, ``momentum``, ``dampening``,
        ``weight_decay``, ``eps``, ``alpha``, ``lr_decay``; ``beta1``/``beta2`` for Adam's
        ``betas``; numbers only, no schedules), its flags (``nesterov``, ``centered``,
        ``amsgrad``, ``maximize``), ``optimizer``, ``batch_size``, ``seed`` (default 0) and
        ``loss`` (``"cross_entropy"`` or ``"mse"``; default the model's). Unknown keys raise
        ValueError naming them.
    epochs : int
        Passes over the training data per run.
    optimizer : str
        The optimizer of runs whose grid entry names none (default ``"sgd"``, as ``train``).
    batch_size : int, optional
        The batch size of runs whose grid entry gives none; at most the number of training
        samples.
    seeds : int or list of ints, optional
        Adds a ``seed`` axis: ``range(seeds)`` for an int.
    threshold : float, optional
        ``threshold_step``: the updates taken when the full training loss (evaluated at every
        epoch end, as ``train``'s history) first reached `threshold`; <NA> if never.
    divergence_factor : float
        As for ``train``.
    blas_threads : int or None
        NumPy's BLAS threads while the sweep runs (threadpoolctl, when installed; None: leave
        them). The default 1 matters: the mini-batch products are small, and BLAS threads
        spinning against the optimizer kernel's OpenMP threads made every update about 70x
        slower on 2 cores (measured: 8.4 ms against 0.12 ms for 32 runs at batch 16).
    kernel_threads : int or None
        saddlepoint's own OpenMP threads (:func:`saddlepoint.set_num_threads`) while the sweep
        runs, restored after it (None: leave them). The default 1: each update steps a
        ``(runs, n_params)`` array of a few hundred thousand entries, where waking a second
        thread costs about what it saves, and spinning workers compete with NumPy's own work
        between steps (bench/model_sweep.py, 256 runs of the digits MLP: 11.4x a loop of
        ``train`` at one kernel thread, 4.6x at two on a loaded host). The results do not
        depend on it: the steps are elementwise, the same bits at any thread count.
    grad_tol : float
        ``kind`` is ``"not critical"`` where the full-batch gradient norm exceeds it, else
        ``"unknown"`` (models are not classified by their Hessian here).

    Returns
    -------
    pandas.DataFrame
        One row per run (index ``run``): a column per grid key, then ``final_loss``
        (full training loss at the end; at divergence for diverged runs), ``best_loss`` (the
        least of the per-epoch training losses), ``threshold_step``, ``grad_norm``
        (full-batch), ``diverged``, ``kind``, as :func:`saddlepoint.sweep`, then
        ``train_accuracy``, ``val_loss``, ``val_accuracy`` and ``updates``. The final
        parameters are ``df.attrs["params"]``, shape ``(runs, n_params)`` (instead of
        ``x_final_*`` columns).
    """

    from ..models import MLP
    from ..train._train import _split_data

    if not isinstance(model, MLP):
        raise TypeError(f"model: expected a saddlepoint.models.MLP, got {type(model).__name__}")
    epochs = int_at_least("epochs", epochs, 0)
    blowup = 1.0 + finite_number("divergence_factor", divergence_factor, strict=True)
    X, y, X_val, y_val = _split_data(data)
    n = X.shape[0] if X.ndim == 2 else 0
    if n == 0 or y.shape[:1] != (n,):
        raise ValueError(f"data: expected (n, d) features with n >= 1 and n labels, got {X.shape}")
    runs = _expand(grid)
    if seeds is not None:
        seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
        if "seed" in runs[0]:
            raise ValueError("seeds: the grid already has a seed key")
        runs = [{**r, "seed": s} for r in runs for s in seed_list]
    keys = list(dict.fromkeys(k for r in runs for k in r))
    unknown = [k for k in keys if k not in GRID_KEYS]
    if unknown:
        raise ValueError(f"grid: unknown keys {unknown}; expected some of {list(GRID_KEYS)}")
    filled = []
    for r in runs:
        b = r.get("batch_size", batch_size)
        if b is None:
            raise ValueError("batch_size: expected a batch size (argument or grid key)")
        b = int_at_least("batch_size", b)
        if b > n:
            raise ValueError(f"batch_size: {b} exceeds the {n} training samples")
        loss = r.get("loss", model.loss_name)
        if loss not in ("cross_entropy", "mse"):
            raise ValueError(f"grid['loss']: expected 'cross_entropy' or 'mse', got {loss!r}")
        filled.append({**r, "batch_size": b, "loss": loss, "seed": r.get("seed", 0)})
    with _blas_limit(blas_threads), _kernel_limit(kernel_threads):
        return _sweep_groups(model, filled, keys, X, y, X_val, y_val, epochs=epochs,
                             optimizer=optimizer, threshold=threshold, blowup=blowup,
                             grad_tol=grad_tol)  # fmt: skip


@contextlib.contextmanager
def _kernel_limit(threads: int | None) -> Iterator[None]:
    """saddlepoint's OpenMP threads set to `threads` for the block, restored after it."""
    if threads is None:
        yield
        return
    from .._core import get_num_threads, set_num_threads

    threads = int_at_least("kernel_threads", threads)
    before = get_num_threads()
    set_num_threads(threads)
    try:
        yield
    finally:
        set_num_threads(before)


def _blas_limit(threads: int | None) -> Any:
    if threads is None:
        return contextlib.nullcontext()
    threads = int_at_least("blas_threads", threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def _sweep_groups(
    model: Any,
    filled: list[dict[str, Any]],
    keys: list[str],
    X: np.ndarray,
    y: np.ndarray,
    X_val: Any,
    y_val: Any,
    **options: Any,
) -> Any:
    import pandas as pd

    groups: dict[Any, list[int]] = {}
    for i, r in enumerate(filled):
        groups.setdefault(_group_key(r), []).append(i)
    total = len(filled)
    out: dict[str, np.ndarray] = {}
    params = np.empty((total, model.n_params))
    for members in groups.values():
        rows = [filled[i] for i in members]
        cols, final = _run_group(
            _model_for(model, rows[0]["loss"]),
            rows,
            X,
            y,
            X_val,
            y_val,
            batch_size=rows[0]["batch_size"],
            **options,
        )
        for c in RESULTS:
            if c not in out:
                out[c] = np.empty(total, dtype=cols[c].dtype)
            out[c][members] = cols[c]
        params[members] = final
    index = pd.RangeIndex(total, name="run")
    table: dict[str, Any] = {k: [r.get(k) for r in filled] for k in keys}
    for c in RESULTS:
        table[c] = out[c]
    step = out["threshold_step"]
    table["threshold_step"] = pd.arrays.IntegerArray(np.maximum(step, 0), step < 0)
    df = pd.DataFrame(table, index=index)
    df.attrs["params"] = params
    return df
