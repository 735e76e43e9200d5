"""The minimum-ratio study: small networks driven to points of (nearly) zero gradient;
training loss against the share of positive Hessian eigenvalues there."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import int_at_least
from ..train import train
from ..train._train import _split_data
from ._common import _pandas


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
    >>> df = experiments.minimum_ratio_study(
    ...     models.MLP([2, 4, 2], activation="tanh", l2=1e-3),
    ...     data.blobs(60, centers=2, cluster_std=2.0, seed=0), 20, epochs=50)
    >>> len(df), set(df["kind"]) >= {"minimum", "saddle"}  # runs end at minima and at saddles
    (20, True)
    >>> df[["train_loss", "minimum_ratio", "grad_norm", "kind"]].shape
    (20, 4)
    """
    from .. import hessian

    pd = _pandas()
    int_at_least("n_runs", n_runs)
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


def _dedupe(loss: np.ndarray, eigenvalues: np.ndarray, rtol: float) -> np.ndarray:
    """Index of the first point each point copies (itself when new). Hidden-unit
    permutations and sign flips of odd activations are orthogonal maps of the parameters
    that leave the loss unchanged, so a copy has the same loss and, its Hessian being
    similar, the same spectrum; two points count as one when both agree to ``rtol``."""
    first = np.arange(len(loss))
    for i in range(len(loss)):
        for j in range(i):
            if first[j] != j:
                continue
            scale = max(float(np.max(np.abs(eigenvalues[j]))), 1e-300)
            if abs(loss[i] - loss[j]) <= rtol * max(abs(loss[j]), 1e-300) and np.all(
                np.abs(eigenvalues[i] - eigenvalues[j]) <= rtol * scale
            ):
                first[i] = j
                break
    return first


def critical_point_census(
    model: Any,
    data: Any,
    n_runs: int = 100,
    *,
    epochs: Any = (0, 1, 2, 3, 5, 10, 20, 50, 100, 200),
    lr: float = 0.02,
    grad_tol: float = 1e-6,
    max_evaluations: int = 200,
    rtol: float = 1e-6,
    dedupe_rtol: float = 1e-6,
    seed: int = 0,
) -> Any:
    r"""Critical points of a small network by the protocol of Dauphin et al. (2014).

    Run ``r`` starts from ``model.init(seed + r)``, trains full-batch Adam (``lr``) for
    ``epochs[r % len(epochs)]`` epochs (so the starts spread from the initialisation to
    near a minimum), then solves :math:`\nabla L(\theta) = 0` by SciPy's
    ``optimize.root(method="hybr")``: MINPACK's Powell hybrid method, a trust-region
    dogleg that decreases :math:`\|\nabla L\|^2` using the exact Hessian as the Jacobian.
    Unlike descent on the loss it is attracted to saddles as much as to minima. A point
    counts as critical when :math:`\|\nabla L\| <` ``grad_tol``. All Hessians (exact,
    :meth:`MLP.hessian`) are decomposed in one batched call of
    :func:`saddlepoint.linalg.eigvalsh` and classified by
    :func:`saddlepoint.hessian.classify` with ``rtol``; copies of an earlier critical
    point (same loss and spectrum to ``dedupe_rtol``: the network's permutation and
    sign-flip symmetries) are marked.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``run``, ``epochs``, ``loss_start``, ``train_loss``,
        ``grad_norm``, ``param_norm``, ``critical`` (``grad_norm < grad_tol``), ``kind``,
        ``minimum_ratio``, ``n_negative``, ``n_zero``, ``min_eigenvalue``,
        ``max_eigenvalue``, ``copy_of`` (run index of the first critical point it
        duplicates, -1 when distinct or not critical), ``distinct`` and ``evaluations``.
    """
    from .. import hessian, linalg
    from ._common import _scipy_optimize

    optimize = _scipy_optimize()
    pd = _pandas()
    int_at_least("n_runs", n_runs)
    X, y, _, _ = _split_data(data)
    schedule = list(epochs)
    points, rows = [], []
    for run in range(int(n_runs)):
        ep = int(schedule[run % len(schedule)])
        theta = model.init(seed + run)
        if ep:
            theta = train(
                model, data, "adam", lr=lr, batch_size=X.shape[0], epochs=ep,
                seed=seed + run, params=theta, progress=False,
            ).params  # fmt: skip
        loss_start = float(model.loss(theta, X, y))
        sol = optimize.root(
            lambda t: model.grad(t, X, y),
            theta,
            jac=lambda t: model.hessian(t, X, y),
            method="hybr",
            options={"xtol": 1e-14, "maxfev": int(max_evaluations)},
        )
        x = np.asarray(sol.x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            x = theta
        points.append(x)
        rows.append(
            {
                "run": run,
                "epochs": ep,
                "loss_start": loss_start,
                "train_loss": float(model.loss(x, X, y)),
                "grad_norm": float(np.linalg.norm(model.grad(x, X, y))),
                "param_norm": float(np.linalg.norm(x)),
                "evaluations": int(sol.nfev),
            }
        )
    stack = np.stack([model.hessian(x, X, y) for x in points])
    eig = linalg.eigvalsh(stack)  # one batched call for every Hessian
    cls = hessian.classify(stack, rtol=rtol)
    df = pd.DataFrame(rows)
    df["critical"] = df["grad_norm"] < grad_tol
    df["kind"] = [str(k) for k in cls.kind]
    df["minimum_ratio"] = np.asarray(cls.minimum_ratio, dtype=float)
    df["n_negative"] = np.asarray(cls.n_negative, dtype=int)
    df["n_zero"] = np.asarray(cls.n_zero, dtype=int)
    df["min_eigenvalue"] = eig[:, 0]
    df["max_eigenvalue"] = eig[:, -1]
    crit = np.flatnonzero(df["critical"].to_numpy())
    copy_of = np.full(len(df), -1)
    if crit.size:
        first = _dedupe(df["train_loss"].to_numpy()[crit], eig[crit], dedupe_rtol)
        for k, i in enumerate(crit):
            if first[k] != k:
                copy_of[i] = int(crit[first[k]])
    df["copy_of"] = copy_of
    df["distinct"] = df["critical"] & (copy_of < 0)
    df.attrs["n_params"] = int(model.n_params)
    df.attrs["eigenvalues"] = eig
    return df
