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
