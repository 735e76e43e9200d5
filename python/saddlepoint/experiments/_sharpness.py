"""How sharp a minimum is: the top Hessian eigenvalue and epsilon-sharpness (Keskar et al.)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import finite_number
from ._common import _scipy_optimize


def top_hessian_eigenvalue(
    model: Any, params: np.ndarray, X: Any, y: Any, *, full_max_params: int = 400
) -> float:
    """Largest Hessian eigenvalue of the loss on ``(X, y)`` at ``params``.

    Up to ``full_max_params`` parameters from the exact full Hessian
    (:meth:`MLP.hessian`, classified by :func:`saddlepoint.hessian.classify`); above that
    matrix-free, from exact Hessian-vector products (:meth:`MLP.hvp`) by
    :func:`saddlepoint.hessian.highest_eigenpairs`.
    """
    from .. import hessian

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
    finite_number("epsilon", epsilon, strict=True)
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
