"""The experiments of the lecture on why optimization fails, as functions returning tables.

- :func:`batch_size_study`: time per update and per epoch, accuracy and sharpness of the
  end point against the batch size (small batches: more updates per epoch, noisier,
  flatter minima; large batches: faster epochs on parallel hardware).
- :func:`minimum_ratio_study`: many small networks driven to points of (nearly) zero
  gradient; training loss against the minimum ratio of the exact Hessian (true local
  minima are rare; most points have some negative curvature left).
- :func:`optimizer_comparison`: several optimizers and schedules from the same start on
  one surface; loss curves and paths.

Every function returns a :class:`pandas.DataFrame` (``pip install "saddlepoint[sweep]"``)
and is deterministic for its ``seed``; each has a plot helper (``plot_batch_size_study``,
``plot_minimum_ratio_study``, ``plot_optimizer_comparison``; matplotlib). The defaults are
small settings that run in seconds on two cores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .train import minimize, train
from .train._train import _split_data

__all__ = [
    "LectureRMS",
    "batch_size_study",
    "epsilon_sharpness",
    "lecture_comparisons",
    "minimum_ratio_study",
    "optimizer_comparison",
    "plot_batch_size_study",
    "plot_minimum_ratio_study",
    "plot_optimizer_comparison",
    "top_hessian_eigenvalue",
]


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            'saddlepoint.experiments returns DataFrames: pip install "saddlepoint[sweep]"'
        ) from exc
    return pd


def _scipy_optimize() -> Any:
    try:
        from scipy import optimize
    except ImportError as exc:
        raise ImportError(
            'this experiment uses SciPy\'s L-BFGS-B: pip install "saddlepoint[scipy]"'
        ) from exc
    return optimize


# ------------------------------------------------------------------------- sharpness
def top_hessian_eigenvalue(
    model: Any, params: np.ndarray, X: Any, y: Any, *, full_max_params: int = 400
) -> float:
    """Largest Hessian eigenvalue of the loss on ``(X, y)`` at ``params``.

    Up to ``full_max_params`` parameters from the exact full Hessian
    (:meth:`MLP.hessian`, classified by :func:`saddlepoint.hessian.classify`); above that
    matrix-free, from exact Hessian-vector products (:meth:`MLP.hvp`) by
    :func:`saddlepoint.hessian.highest_eigenpairs`.
    """
    from . import hessian

    if model.n_params <= full_max_params:
        H = model.hessian(params, X, y)
        return float(np.asarray(hessian.classify(H).eigenvalues)[-1])

    def hvp(v: np.ndarray) -> np.ndarray:
        return model.hvp(params, X, y, np.asarray(v, dtype=np.float64))

    result = hessian.highest_eigenpairs(hvp, model.n_params, k=1)
    values = result[0] if isinstance(result, tuple) else result.eigenvalues
    return float(np.max(np.asarray(values)))


def epsilon_sharpness(
    model: Any,
    params: np.ndarray,
    X: Any,
    y: Any,
    *,
    epsilon: float = 1e-3,
    max_iterations: int = 10,
    seed: int | None = 0,
) -> float:
    r"""Keskar et al.'s sharpness: the largest relative loss increase in an epsilon-box.

    .. math::
        \phi(\theta, \epsilon) = 100\cdot
        \frac{\max_{\delta\in C_\epsilon} L(\theta + \delta) - L(\theta)}{1 + L(\theta)},
        \qquad C_\epsilon = \{\delta : |\delta_i| \le \epsilon(|\theta_i| + 1)\}

    (Keskar, Mudigere, Nocedal, Smelyanskiy, Tang, "On Large-Batch Training for Deep
    Learning: Generalization Gap and Sharp Minima", ICLR 2017, Metric 2.1 with
    :math:`A = I`). The maximum is approximated, as in the paper, by L-BFGS-B with at most
    ``max_iterations`` iterations on the box, from two starts: the corner the gradient
    points to and a seeded random point of the box; the better one counts. In percent.
    """
    if (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, (int, float, np.floating))
        or not np.isfinite(epsilon)
        or epsilon <= 0
    ):
        raise ValueError(f"epsilon: expected a finite value > 0, got {epsilon!r}")
    optimize = _scipy_optimize()
    params = np.asarray(params, dtype=np.float64)
    base = float(model.loss(params, X, y))
    half_width = epsilon * (np.abs(params) + 1.0)
    bounds = list(zip(-half_width, half_width))

    def negative_loss(delta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = model.loss_and_grad(params + delta, X, y)
        return -value, -grad

    g = model.grad(params, X, y)
    rng = np.random.default_rng(seed)
    starts = [np.sign(g) * half_width, rng.uniform(-half_width, half_width)]
    best = base
    for start in starts:
        res = optimize.minimize(
            negative_loss,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": int(max_iterations)},
        )
        best = max(best, -float(res.fun), float(model.loss(params + start, X, y)))
    return 100.0 * (best - base) / (1.0 + base)


# ------------------------------------------------------------------ batch-size study
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
    The setting used for the report, about 2-4 s on two shared cores:

    >>> from saddlepoint import data, experiments, models
    >>> df = experiments.batch_size_study(  # doctest: +SKIP
    ...     models.MLP([64, 32, 10]), data.digits(seed=0), (1, 4, 16, 64, 256, 1024),
    ...     epochs=3, blas_threads=1)
    """
    pd = _pandas()
    if not batch_sizes or not all(
        isinstance(b, (int, np.integer)) and not isinstance(b, bool) and b >= 1
        for b in batch_sizes
    ):
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


# -------------------------------------------------------------- minimum-ratio study
def _minimize_gradient_norm(
    model: Any, params: np.ndarray, X: Any, y: Any, iterations: int, tol: float = 1e-10
) -> np.ndarray:
    r"""Drive the gradient norm down by Levenberg-Marquardt on the residual :math:`g(\theta)
    = \nabla L(\theta)`, whose Jacobian is the exact Hessian :math:`H`:

    .. math:: \theta \leftarrow \theta - (H^2 + \mu I)^{-1} H g

    with :math:`\mu` shrunk after a step that lowers :math:`\|g\|` and grown otherwise.
    Unlike descent on the loss it is attracted to saddles as much as to minima, which is
    what a census of critical points needs.
    """
    theta = np.array(params, dtype=np.float64)
    g = model.grad(theta, X, y)
    gnorm = float(np.linalg.norm(g))
    mu = 1e-3
    for _ in range(int(iterations)):
        if gnorm <= tol or mu > 1e12:
            break
        H = model.hessian(theta, X, y)
        step = np.linalg.solve(H @ H + mu * np.eye(H.shape[0]), H @ g)
        candidate = theta - step
        g_new = model.grad(candidate, X, y)
        norm_new = float(np.linalg.norm(g_new))
        if np.isfinite(norm_new) and norm_new < gnorm:
            theta, g, gnorm = candidate, g_new, norm_new
            mu = max(mu / 3.0, 1e-12)
        else:
            mu *= 4.0
    return theta


def minimum_ratio_study(
    model_factory: Any,
    data: Any,
    n_runs: int = 20,
    *,
    optimizer: str = "adam",
    lr: float = 0.02,
    epochs: int = 100,
    batch_size: int | None = None,
    gradnorm_iterations: int = 100,
    rtol: float | None = None,
    atol: float = 0.0,
    seed: int = 0,
    **hyper: Any,
) -> Any:
    r"""Train many small networks to points of vanishing gradient and classify them.

    Each run: a fresh initialisation (seed ``seed + run``), ordinary training with
    :func:`saddlepoint.train.train` (full batch unless ``batch_size``), then at most
    ``gradnorm_iterations`` Levenberg-Marquardt steps on the gradient norm (the residual
    :math:`\nabla L` with the exact Hessian as its Jacobian) to land where the gradient is
    near zero. There the exact full Hessian of the training loss
    (:meth:`MLP.hessian`, never block-diagonal or Gauss-Newton) is classified by
    :func:`saddlepoint.hessian.classify` with tolerance ``rtol`` (default
    ``max(1e-6, 10 * grad_norm)`` per point, the rule :func:`saddlepoint.train.minimize`
    uses) and ``atol``.

    Parameters
    ----------
    model_factory : MLP or callable
        The model (same architecture every run) or a callable ``run -> model``.
    data : Dataset or tuple
        Training data; keep it small (the Hessian is ``n_params`` squared).

    Returns
    -------
    pandas.DataFrame
        One row per run: ``run``, ``n_params``, ``train_loss`` (at the final point),
        ``train_loss_before`` (after ordinary training), ``grad_norm`` (final; shown next to
        each point because gradient-norm minimisation can also end in flat regions that are
        not critical points, where the classification means little),
        ``grad_norm_before``, ``kind``, ``minimum_ratio`` (share of positive eigenvalues),
        ``n_positive``, ``n_negative``, ``n_zero``, ``min_eigenvalue``, ``max_eigenvalue``,
        ``param_norm`` (a run drifting to infinity, where cross-entropy on separable data
        flattens out, shows here; give the model a small ``l2`` to keep critical points
        finite) and ``params`` (the final parameter vector, for follow-up checks).

    Examples
    --------
    Twenty tiny networks, about 1.5 s:

    >>> from saddlepoint import data, experiments, models
    >>> df = experiments.minimum_ratio_study(  # doctest: +SKIP
    ...     models.MLP([2, 4, 2], activation="tanh", l2=1e-3),
    ...     data.blobs(60, centers=2, cluster_std=2.0, seed=0), 20, epochs=50)
    >>> df[["train_loss", "minimum_ratio", "grad_norm", "kind"]]  # doctest: +SKIP
    """
    from . import hessian

    pd = _pandas()
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1:
        raise ValueError(f"n_runs: expected an int >= 1, got {n_runs!r}")
    X, y, _, _ = _split_data(data)
    rows = []
    for run in range(int(n_runs)):
        model = model_factory(run) if callable(model_factory) else model_factory
        res = train(
            model,
            data,
            optimizer,
            batch_size=X.shape[0] if batch_size is None else batch_size,
            epochs=epochs,
            seed=seed + run,
            lr=lr,
            progress=False,
            **hyper,
        )
        before = res.params.copy()
        loss_before = float(model.loss(before, X, y))
        gnorm_before = float(np.linalg.norm(model.grad(before, X, y)))
        theta = _minimize_gradient_norm(model, before, X, y, gradnorm_iterations)
        gnorm = float(np.linalg.norm(model.grad(theta, X, y)))
        H = model.hessian(theta, X, y)
        tol = max(1e-6, 10.0 * gnorm) if rtol is None else rtol
        cls = hessian.classify(H, rtol=tol, atol=atol)
        eig = np.asarray(cls.eigenvalues)
        rows.append(
            {
                "run": run,
                "n_params": model.n_params,
                "train_loss": float(model.loss(theta, X, y)),
                "train_loss_before": loss_before,
                "grad_norm": gnorm,
                "grad_norm_before": gnorm_before,
                "kind": str(cls.kind),
                "minimum_ratio": float(cls.minimum_ratio),
                "n_positive": int(cls.n_positive),
                "n_negative": int(cls.n_negative),
                "n_zero": int(cls.n_zero),
                "min_eigenvalue": float(eig[0]),
                "max_eigenvalue": float(eig[-1]),
                "param_norm": float(np.linalg.norm(theta)),
                "params": theta,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------ optimizer comparison
def _run_specs(optimizers: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(optimizers, Mapping):
        items = list(optimizers.items())
    elif isinstance(optimizers, Sequence) and not isinstance(optimizers, str):
        items = [(o, o) if isinstance(o, str) else (o.get("label"), o) for o in optimizers]
    else:
        raise TypeError(
            "optimizers: expected a mapping label -> name or keyword dict, or a list of "
            f"names / dicts with 'label', got {type(optimizers).__name__}"
        )
    if not items:
        raise ValueError("optimizers: expected at least one optimizer, got none")
    specs = []
    for label, spec in items:
        if isinstance(spec, str):
            spec = {"optimizer": spec}
        elif isinstance(spec, Mapping):
            spec = {k: v for k, v in spec.items() if k != "label"}
            spec.setdefault("optimizer", "adam")
        else:
            raise TypeError(
                f"optimizers[{label!r}]: expected an optimizer name or a dict of minimize "
                f"keywords, got {type(spec).__name__}"
            )
        specs.append((str(label if label is not None else spec["optimizer"]), spec))
    labels = [label for label, _ in specs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"optimizers: labels must be unique, got {labels}")
    return specs


def optimizer_comparison(
    surface: Any,
    optimizers: Any,
    *,
    x0: Any = None,
    steps: int = 300,
    seed: int = 0,
    **common: Any,
) -> Any:
    """Run several optimizers (and schedules) from the same start on one surface.

    Parameters
    ----------
    surface : str or surface
        As for :func:`saddlepoint.train.minimize`.
    optimizers : mapping or list
        ``{label: spec}`` where ``spec`` is an optimizer name or a dict of
        :func:`~saddlepoint.train.minimize` keywords (``optimizer``, ``lr``, ``schedule``,
        hyper-parameters such as ``momentum`` or ``betas``, ``noise``...), e.g.
        ``{"GD": {"optimizer": "sgd", "lr": 0.01}, "momentum": {"optimizer": "sgd",
        "lr": 0.01, "momentum": 0.9}, "Adam": {"optimizer": "adam", "lr": 0.1}}``.
    x0, steps, seed, **common
        Shared by every run (a spec's own keywords win).

    Returns
    -------
    pandas.DataFrame
        Long format, one row per recorded point of every run: ``label``, ``optimizer``,
        ``step``, ``loss``, ``grad_norm``, ``lr`` and the coordinates ``x0 .. x{dim-1}``
        (the path). ``df.attrs["reason"]`` maps each label to why its run ended and
        ``df.attrs["events"]`` to its event messages.

    Examples
    --------
    >>> presets = lecture_comparisons()  # doctest: +SKIP
    >>> df = optimizer_comparison(**presets["bump"])  # doctest: +SKIP
    >>> plot_optimizer_comparison(df, presets["bump"]["surface"])  # doctest: +SKIP
    """
    pd = _pandas()
    specs = _run_specs(optimizers)
    frames, reasons, messages = [], {}, {}
    for label, spec in specs:
        kwargs = {"x0": x0, "steps": steps, "seed": seed, **common, **spec}
        res = minimize(surface, **kwargs)
        hist = res.history
        frame = pd.DataFrame(
            {
                "label": label,
                "optimizer": str(spec["optimizer"])
                if isinstance(spec["optimizer"], str)
                else type(spec["optimizer"]).__name__,
                "step": np.asarray(hist["step"]),
                "loss": np.asarray(hist["loss"]),
                "grad_norm": np.asarray(hist["grad_norm"]),
                "lr": np.asarray(hist["lr"]),
            }
        )
        for i in range(res.trajectory.shape[1]):
            frame[f"x{i}"] = res.trajectory[:, i]
        frames.append(frame)
        reasons[label] = res.reason
        messages[label] = [f"step {e.step}: {e.message}" for e in res.events]
    df = pd.concat(frames, ignore_index=True)
    df.attrs["reason"] = reasons
    df.attrs["events"] = messages
    return df


class LectureRMS:
    r"""Learning rate that turns PyTorch's Adagrad into the lecture's, with optional taming.

    PyTorch's Adagrad divides by the root of the *sum* of squared gradients; the lecture's
    by their root *mean* square :math:`\sigma_t = \sqrt{\frac{1}{t+1}\sum_{i\le t} g_i^2}`.
    Multiplying the learning rate by :math:`\sqrt{t+1}` makes one the other:
    ``lr(t) = eta * sqrt(t + 1) * warm(t) / (1 + t / decay)`` with
    ``warm(t) = min(1, (t + 1) / warmup)``. Without decay the step grows again once the
    gradients of a direction have been small for long: the lecture's late burst.
    """

    def __init__(self, eta: float, *, decay: float | None = None, warmup: int = 0) -> None:
        self.eta, self.decay, self.warmup = float(eta), decay, int(warmup)

    def __call__(self, step: Any) -> Any:
        t = np.asarray(step, dtype=np.float64)
        lr = self.eta * np.sqrt(t + 1.0)
        if self.warmup > 0:
            lr = lr * np.minimum(1.0, (t + 1.0) / self.warmup)
        if self.decay:
            lr = lr / (1.0 + t / float(self.decay))
        return float(lr) if lr.ndim == 0 else lr

    def __repr__(self) -> str:
        extra = (f", decay={self.decay:g}" if self.decay else "") + (
            f", warmup={self.warmup}" if self.warmup else ""
        )
        return f"LectureRMS({self.eta:g}{extra})"


def lecture_comparisons() -> dict[str, dict[str, Any]]:
    """Ready-made :func:`optimizer_comparison` settings for the lecture's stories.

    Each value is a dict of keyword arguments: ``optimizer_comparison(**preset)``. All run
    in well under a second.

    - ``"saddle"``: ``tiny_network`` from its default start next to the saddle at the
      origin; plain GD lingers near the saddle (loss 1) about four times longer than
      momentum or Adam before reaching the valley ``w1 * w2 = 1``.
    - ``"bump"``: ``bumpy_1d`` from ``x = 2``; plain GD stops in the shallow local minimum
      near 0.93, momentum rolls over the bump into the global minimum near -1.06.
    - ``"ill_conditioned"``: the elongated bowl ``(x^2 + 100 y^2) / 2``; GD with
      ``lr = 0.0195`` zig-zags across the valley (each step flips ``y``), momentum and the
      adaptive methods (Adagrad, RMSprop, Adam) go down the valley.
    - ``"adagrad_burst"``: Adagrad in the lecture's root-mean-square form
      (:class:`LectureRMS`) on the same bowl: after ~300 steps of tiny ``y`` gradients the
      effective step in ``y`` has grown past stability and the loss bursts from 1e-6 back to
      about 10; a ``1/(1 + t/50)`` decay, or PyTorch's sum form (an implicit
      ``1/sqrt(t+1)`` decay), tames it.
    """
    return {
        "saddle": {
            "surface": "tiny_network",
            "optimizers": {
                "GD": {"optimizer": "sgd", "lr": 0.02},
                "momentum": {"optimizer": "sgd", "lr": 0.02, "momentum": 0.9},
                "Adam": {"optimizer": "adam", "lr": 0.02},
            },
            "steps": 1000,
        },
        "bump": {
            "surface": "bumpy_1d",
            "optimizers": {
                "GD": {"optimizer": "sgd", "lr": 0.005},
                "momentum": {"optimizer": "sgd", "lr": 0.005, "momentum": 0.9},
            },
            "steps": 3000,
        },
        "ill_conditioned": {
            "surface": "ill_conditioned",
            "optimizers": {
                "GD": {"optimizer": "sgd", "lr": 0.0195},
                "momentum": {"optimizer": "sgd", "lr": 0.0195, "momentum": 0.9},
                "Adagrad": {"optimizer": "adagrad", "lr": 0.5},
                "RMSprop": {"optimizer": "rmsprop", "lr": 0.05},
                "Adam": {"optimizer": "adam", "lr": 0.3},
            },
            "steps": 600,
        },
        "adagrad_burst": {
            "surface": "ill_conditioned",
            "optimizers": {
                "Adagrad, lecture RMS": {"optimizer": "adagrad", "schedule": LectureRMS(0.5)},
                "lecture RMS + decay": {
                    "optimizer": "adagrad",
                    "schedule": LectureRMS(0.5, decay=50.0),
                },
                "lecture RMS + warm-up + decay": {
                    "optimizer": "adagrad",
                    "schedule": LectureRMS(0.5, decay=50.0, warmup=20),
                },
                "Adagrad, PyTorch sum": {"optimizer": "adagrad", "lr": 0.5},
            },
            "steps": 600,
            "grad_tol": 1e-10,
        },
    }


# ----------------------------------------------------------------------------- plots
def plot_batch_size_study(df: Any, **kwargs: Any) -> Any:
    """Plot :func:`batch_size_study`'s table; see :mod:`saddlepoint._plot_experiments`."""
    from ._plot_experiments import plot_batch_size_study as plot

    return plot(df, **kwargs)


def plot_minimum_ratio_study(df: Any, **kwargs: Any) -> Any:
    """Plot :func:`minimum_ratio_study`'s table; see :mod:`saddlepoint._plot_experiments`."""
    from ._plot_experiments import plot_minimum_ratio_study as plot

    return plot(df, **kwargs)


def plot_optimizer_comparison(df: Any, surface: Any = None, **kwargs: Any) -> Any:
    """Plot :func:`optimizer_comparison`'s table; see :mod:`saddlepoint._plot_experiments`."""
    from ._plot_experiments import plot_optimizer_comparison as plot

    return plot(df, surface, **kwargs)
