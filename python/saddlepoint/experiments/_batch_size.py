"""The batch-size study: time per update and per epoch, accuracy and sharpness against the
batch size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import is_int
from ..train import train
from ..train._train import _split_data
from ._common import _pandas
from ._sharpness import epsilon_sharpness, top_hessian_eigenvalue


def batch_size_study(
    model: Any,
    data: Any,
    batch_sizes: Sequence[int] = (1, 4, 16, 64, 256),
    *,
    optimizer: str = "sgd",
    lr: float = 0.05,
    epochs: int = 5,
    seed: int = 0,
    epsilon: float = 1e-3,
    sharpness: bool = True,
    progress: bool = False,
    blas_threads: int | None = None,
    **hyper: Any,
) -> Any:
    """Train the same model from the same start with each batch size; time and judge it.

    For every batch size :func:`saddlepoint.train.train` runs ``epochs`` epochs with the
    same initial parameters and shuffling seed, then measures, at the end point:

    Returns
    -------
    pandas.DataFrame
        One row per batch size with ``batch_size``, ``updates_per_epoch``,
        ``seconds_per_update`` and ``seconds_per_epoch`` (medians over the epochs; the
        gradient computation is included, evaluation is not), ``train_loss``,
        ``train_accuracy``, ``val_loss``, ``val_accuracy``, ``grad_norm`` (full training
        set), ``top_eigenvalue`` (largest eigenvalue of the exact training-loss Hessian,
        :func:`top_hessian_eigenvalue`) and ``sharpness`` (Keskar's epsilon-sharpness in
        percent, :func:`epsilon_sharpness`; NaN when ``sharpness=False``).

    Notes
    -----
    ``blas_threads`` limits NumPy's BLAS threads during the study (threadpoolctl). On a
    busy machine multi-threaded BLAS can make mid-sized batches several times slower than
    one thread would (measured here: 4x with two cores shared); the timings are honest
    either way, but a limit makes them comparable between batch sizes.

    On vectorized CPU code the time per update grows slowly with the batch size at first
    (the per-call overhead dominates), so the time per epoch falls, the lecture's GPU
    picture. With the same learning rate and epochs, small batches take many more (noisier)
    updates and tend to end in flatter regions: smaller top eigenvalue and sharpness
    (Keskar et al. 2017), but only where training got as far: compare ``sharpness`` at
    similar ``train_loss`` (a barely trained large-batch run sits in the flat region around
    the initialisation).

    Examples
    --------
    The setting used for the report, about 2-4 s on two shared cores (a timing study, so the
    doctests skip it):

    >>> from saddlepoint import data, experiments, models
    >>> df = experiments.batch_size_study(  # doctest: +SKIP
    ...     models.MLP([64, 32, 10]), data.digits(seed=0), (1, 4, 16, 64, 256, 1024),
    ...     epochs=3, blas_threads=1)
    """
    pd = _pandas()
    if not batch_sizes or not all(is_int(b) and b >= 1 for b in batch_sizes):
        raise ValueError(f"batch_sizes: expected ints >= 1, got {batch_sizes!r}")
    if blas_threads is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError as exc:
            raise ImportError(
                "blas_threads needs threadpoolctl (it comes with scikit-learn): pip install "
                '"saddlepoint[data]"'
            ) from exc
        with threadpool_limits(limits=int(blas_threads), user_api="blas"):
            return batch_size_study(
                model,
                data,
                batch_sizes,
                optimizer=optimizer,
                lr=lr,
                epochs=epochs,
                seed=seed,
                epsilon=epsilon,
                sharpness=sharpness,
                progress=progress,
                **hyper,
            )
    X, y, _, _ = _split_data(data)
    start = model.init(np.random.SeedSequence(seed).spawn(2)[0])
    rows = []
    for batch_size in batch_sizes:
        res = train(
            model,
            data,
            optimizer,
            batch_size=int(batch_size),
            epochs=epochs,
            seed=seed,
            lr=lr,
            params=start,
            progress=progress,
            **hyper,
        )
        hist = res.history
        timed = hist[hist["epoch"] > 0]
        last = hist.iloc[-1]
        theta = res.params
        finite = bool(np.all(np.isfinite(theta)))
        rows.append(
            {
                "batch_size": int(batch_size),
                "updates_per_epoch": -(-X.shape[0] // int(batch_size)),
                "seconds_per_update": float(timed["seconds_per_update"].median()),
                "seconds_per_epoch": float(timed["seconds_per_epoch"].median()),
                "train_loss": float(last["train_loss"]),
                "train_accuracy": float(last["train_accuracy"]),
                "val_loss": float(last["val_loss"]),
                "val_accuracy": float(last["val_accuracy"]),
                "grad_norm": float(np.linalg.norm(model.grad(theta, X, y)))
                if finite
                else float("nan"),
                "top_eigenvalue": top_hessian_eigenvalue(model, theta, X, y)
                if finite
                else float("nan"),
                "sharpness": epsilon_sharpness(model, theta, X, y, epsilon=epsilon, seed=seed)
                if sharpness and finite
                else float("nan"),
                "diverged": res.diverged,
            }
        )
    return pd.DataFrame(rows)


def _train_to_target(
    model: Any,
    data: Any,
    X: Any,
    y: Any,
    start: np.ndarray,
    batch_size: int,
    lr: float,
    target: float,
    max_updates: int,
    max_epochs: int,
    seed: int,
) -> dict[str, Any]:
    """Plain SGD (no state to carry) in chunks of epochs until the full training loss is
    below ``target``, checked every epoch or every ~20 updates, whichever is longer."""
    n = X.shape[0]
    per_epoch = -(-n // batch_size)
    chunk = max(1, 20 // per_epoch)
    params, epochs, updates, diverged = start.copy(), 0, 0, False
    loss = float(model.loss(params, X, y))
    while loss >= target and updates < max_updates and epochs < max_epochs:
        e = min(chunk, max_epochs - epochs)
        res = train(
            model,
            data,
            "sgd",
            batch_size=batch_size,
            epochs=e,
            seed=seed * 100_003 + epochs,
            lr=lr,
            params=params,
            progress=False,
        )
        epochs, updates = epochs + e, updates + e * per_epoch
        params = res.params
        if res.diverged or not np.all(np.isfinite(params)):
            diverged = True
            break
        loss = float(model.loss(params, X, y))
    return {
        "params": params,
        "epochs": epochs,
        "updates": updates,
        "reached": bool(loss < target) and not diverged,
        "diverged": diverged,
        "train_loss": loss,
    }


def batch_size_target_study(
    model: Any,
    data: Any,
    batch_sizes: Sequence[int] = (1, 16, 256),
    *,
    target_loss: float = 0.05,
    lr_grid: Sequence[float] = (0.03, 0.1, 0.3, 1.0, 3.0),
    seeds: Sequence[int] = (0, 1, 2),
    max_updates: int = 30_000,
    max_epochs: int = 400,
    epsilon: float = 1e-3,
    blas_threads: int | None = 1,
) -> Any:
    """Keskar et al.'s comparison like with like: every batch size trained to the same
    training loss, then judged at that point.

    For each batch size the learning rate is tuned on the first seed over ``lr_grid``
    (plain SGD, no momentum): the rate that reaches ``target_loss`` (full training set,
    checked between chunks of epochs) in the fewest updates. Then every seed trains from
    its own initialisation (``model.init(seed)``) with that rate until the training loss
    is below ``target_loss`` (or ``max_updates`` / ``max_epochs``), and the end point is
    measured: training and validation loss and accuracy, the top Hessian eigenvalue
    (:func:`top_hessian_eigenvalue`) and epsilon-sharpness (:func:`epsilon_sharpness`).

    Returns
    -------
    pandas.DataFrame
        One row per (batch size, seed): ``batch_size``, ``seed``, ``lr``, ``epochs``,
        ``updates``, ``reached``, ``diverged``, ``train_loss``, ``val_loss``,
        ``train_accuracy``, ``val_accuracy``, ``gap_accuracy`` (train minus validation),
        ``gap_loss`` (validation minus train), ``top_eigenvalue``, ``sharpness``.
        ``df.attrs["lr_tuning"]`` lists every (batch size, lr) tried with its updates to
        the target (None when not reached).
    """
    pd = _pandas()
    if not batch_sizes or not all(is_int(b) and b >= 1 for b in batch_sizes):
        raise ValueError(f"batch_sizes: expected ints >= 1, got {batch_sizes!r}")
    if blas_threads is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=int(blas_threads), user_api="blas"):
            return batch_size_target_study(
                model,
                data,
                batch_sizes,
                target_loss=target_loss,
                lr_grid=lr_grid,
                seeds=seeds,
                max_updates=max_updates,
                max_epochs=max_epochs,
                epsilon=epsilon,
                blas_threads=None,
            )
    X, y, Xv, yv = _split_data(data)
    tuning, rows = [], []
    for batch_size in batch_sizes:
        b = int(batch_size)
        first = model.init(int(seeds[0]))
        best_lr, best_updates = None, None
        for lr in lr_grid:
            r = _train_to_target(
                model, data, X, y, first, b, lr, target_loss, max_updates, max_epochs, 0
            )
            updates = r["updates"] if r["reached"] else None
            tuning.append({"batch_size": b, "lr": float(lr), "updates_to_target": updates})
            if updates is not None and (best_updates is None or updates < best_updates):
                best_lr, best_updates = float(lr), updates
        if best_lr is None:  # nothing reached the target: the rate with the lowest loss
            best_lr = float(lr_grid[0])
        for seed in seeds:
            start = model.init(int(seed))
            r = _train_to_target(
                model, data, X, y, start, b, best_lr, target_loss, max_updates, max_epochs,
                int(seed),
            )  # fmt: skip
            theta = r["params"]
            finite = bool(np.all(np.isfinite(theta)))
            train_acc = float(model.accuracy(theta, X, y))
            val_acc = float(model.accuracy(theta, Xv, yv)) if Xv is not None else float("nan")
            val_loss = float(model.loss(theta, Xv, yv)) if Xv is not None else float("nan")
            rows.append(
                {
                    "batch_size": b,
                    "seed": int(seed),
                    "lr": best_lr,
                    "epochs": r["epochs"],
                    "updates": r["updates"],
                    "reached": r["reached"],
                    "diverged": r["diverged"],
                    "train_loss": r["train_loss"],
                    "val_loss": val_loss,
                    "train_accuracy": train_acc,
                    "val_accuracy": val_acc,
                    "gap_accuracy": train_acc - val_acc,
                    "gap_loss": val_loss - r["train_loss"],
                    "top_eigenvalue": top_hessian_eigenvalue(model, theta, X, y)
                    if finite
                    else float("nan"),
                    "sharpness": epsilon_sharpness(
                        model, theta, X, y, epsilon=epsilon, seed=int(seed)
                    )
                    if finite
                    else float("nan"),
                }
            )
    df = pd.DataFrame(rows)
    df.attrs["lr_tuning"] = tuning
    df.attrs["target_loss"] = float(target_loss)
    return df
