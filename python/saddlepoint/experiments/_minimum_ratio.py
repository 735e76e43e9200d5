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
