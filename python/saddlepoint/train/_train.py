"""``train``: the mini-batch loop for the small models of :mod:`saddlepoint.models`, with
per-epoch history and timings, watched update by update by a :class:`saddlepoint.Monitor`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import finite_number, int_at_least
from ..monitor import Monitor, Thresholds
from ._optimizer import _current_lr, _make_optimizer
from ._results import TrainResult, _table

#: Examples in the fixed mini-batch the monitor's curvature checks use (at most).
CURVATURE_BATCH = 256


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
    curvature_every: int = 0,
    window: int = 50,
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
        Training stops (``diverged=True``) at the monitor's ``"diverged"`` verdict: a
        mini-batch loss or gradient that is not finite (no update is taken with it), or
        parameters that are not, or a mini-batch loss above ``(1 + divergence_factor)`` times
        the first one (``Thresholds.blowup``), as in :func:`minimize`.
    curvature_every : int
        Updates between the monitor's curvature checks (``Monitor(curvature_every=...)``).
        The default 0 checks the curvature only when the loss stalls (to tell a saddle from
        a minimum or a flat region): on the digits MLP a check costs about 20-50
        Hessian-vector products on the curvature batch, each several mini-batch gradients, so
        checks every 50 updates would cost several times the training itself (measured: 40x
        a bare loop); without them the monitor's per-update instruments and window verdicts
        add about 20% (SGD with momentum) to 45% (Adam) to ``train`` there (batch 32).
    window : int
        The monitor's window (updates over which trends are judged).

    The monitor (``result.monitor``) watches every update: the optimizer, and the model's
    exact ``hvp`` (when it has one) on a fixed curvature batch of at most
    :data:`CURVATURE_BATCH` = 256 training examples, drawn once from ``seed`` (a stream of
    its own: the initial parameters and the shuffling are the same with or without it).
    Its verdicts are ``result.events``, its per-update history ``result.step_history``.

    Returns
    -------
    TrainResult
        Parameters, per-epoch history with timings, per-batch losses, optimizer, the
        monitor and its events.
    """
    batch_size = int_at_least("batch_size", batch_size)
    epochs = int_at_least("epochs", epochs, 0)
    divergence_factor = finite_number("divergence_factor", divergence_factor, strict=True)
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
    curvature_every = int_at_least("curvature_every", curvature_every, 0)
    window = int_at_least("window", window, 2)
    # spawn(3)'s first two children are spawn(2)'s: the same runs as before the monitor
    init_seq, shuffle_seq, curvature_seq = np.random.SeedSequence(seed).spawn(3)
    opt = _optimizer_for(optimizer, params, model, lr, schedule, hyper, init_seq)
    theta = opt.params[0]
    rng = np.random.default_rng(shuffle_seq)
    hvp = None
    if callable(getattr(model, "hvp", None)):
        pick = np.random.default_rng(curvature_seq).permutation(n)[:CURVATURE_BATCH]
        pick.sort()
        X_c, y_c = X[pick], y[pick]

        def hvp(v: np.ndarray) -> np.ndarray:
            return model.hvp(theta, X_c, y_c, v)

    mon = Monitor(
        optimizer=opt,
        hvp=hvp,
        curvature_every=curvature_every,
        window=window,
        thresholds=Thresholds(blowup=1.0 + divergence_factor),
    )

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
    batch_losses: list[float] = []
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
                if not (math.isfinite(loss) and np.all(np.isfinite(grad))):
                    mon.check_point(loss, grad)  # the monitor's verdict; no step with it
                    diverged = True
                    break
                opt.step(grad)
                updates += 1
                # SGD and Adam take the instruments in their own step: no second pass
                found = mon.observe(loss) if mon.instrumented else mon.observe(loss, grad)
                if found and found[-1].kind == "diverged":
                    diverged = True
                    break
            seconds = time.perf_counter() - started
            if diverged:
                last = next((e for e in reversed(mon.events) if e.kind == "diverged"), None)
                if last is not None:
                    mon.annotate(
                        last, f"train: diverged in epoch {epoch} after {opt.steps} updates."
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
        events=mon.events,
        monitor=mon,
    )
