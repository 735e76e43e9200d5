"""Dense Hessians by central differences: of a gradient (:func:`hessian`) or of values only
(:func:`hessian_from_values`); Nocedal & Wright, section 8.1."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .._checks import real_number
from ._common import Array, _point


def _steps(x: np.ndarray, step: float | None, power: float) -> np.ndarray:
    """Per-coordinate steps ``step * max(1, |x_i|)``, default ``step = eps ** power``."""
    if step is None:
        step = float(np.finfo(x.dtype).eps) ** power
    else:
        step = real_number("step", step)
        if step == 0.0:
            raise ValueError("step: expected a finite value > 0, got 0.0")
    with np.errstate(over="ignore"):
        h = step * np.maximum(1.0, np.abs(x))
        reach = np.abs(x).astype(np.float64) + 2.0 * h  # (x + h) - (x - h) is formed too
    if not np.all(reach <= float(np.finfo(x.dtype).max)):
        # x +- h would be Inf: every difference quotient would be NaN or Inf
        raise ValueError(
            f"step: x +- step * max(1, |x|) overflows {x.dtype} with step={step}; "
            "expected a smaller step"
        )
    taken = (x + h).astype(x.dtype) - (x - h).astype(x.dtype)
    if np.any(taken == 0):
        # x +- h rounds back to x: every difference quotient would be 0 / 0
        raise ValueError(
            f"step: x +- step * max(1, |x|) rounds to x in {x.dtype} with step={step}; "
            "expected a larger step"
        )
    return h


def hessian(
    grad_fn: Callable[[Array], Array], x: np.ndarray, *, step: float | None = None
) -> Array:
    """Symmetric Hessian by central differences of a gradient function.

    Column ``j`` is ``(g(x + h_j e_j) - g(x - h_j e_j)) / (2 h_j)`` with ``g = grad_fn``; the
    result is symmetrized, ``(H + H^T) / 2``. Steps are ``h_j = step * max(1, |x_j|)`` with
    default ``step = eps^(1/3)`` of ``x``'s dtype (6.1e-6 for float64, 4.9e-3 for float32),
    which balances the two error terms below (Nocedal & Wright, section 8.1). The step actually
    taken, ``(x_j + h_j) - (x_j - h_j)``, is used as the divisor, so representation error in
    ``x +- h`` does not count.

    Error bound (elementwise, before symmetrizing; averaging keeps it)::

        |H_fd[i, j] - H[i, j]| <= h_j^2 / 6 * M3 + delta * G / h_j + 2 eps |H[i, j]|

    where ``M3`` bounds ``|d^3 g_i / dx_j^3|`` (a fourth derivative of f) on
    ``[x - h_j e_j, x + h_j e_j]``, ``G`` bounds ``|g_i|`` there, ``grad_fn`` is accurate to
    ``delta * G`` (``delta`` a few eps for a well-conditioned formula: the tests use
    ``4 eps`` for polynomials with positive terms) and the last term is the rounding of the
    quotient. The first term is the Taylor remainder of the central difference, the second the
    rounding of ``g(x + h) - g(x - h)`` divided by ``2 h``. With the default step the first two
    are ``~eps^(2/3)``: about ``4e-11`` relative for float64, ``2e-5`` for float32.

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(x) -> g`` with ``g`` of ``x``'s shape; called ``2 n`` times.
    x : ndarray, shape (n,)
        The point (float32 or float64; integers become float64).
    step : float, optional
        Relative step (see above).

    Returns
    -------
    ndarray, shape (n, n)
        In the result dtype of ``grad_fn``'s output and ``x``.
    """
    x = _point(x)
    h = _steps(x, step, 1.0 / 3.0)
    n = x.size
    columns = []
    for j in range(n):
        xp, xm = x.copy(), x.copy()
        xp[j] = x[j] + h[j]
        xm[j] = x[j] - h[j]
        gp = np.asarray(grad_fn(xp))
        gm = np.asarray(grad_fn(xm))
        if gp.shape != (n,) or gm.shape != (n,):
            raise ValueError(f"grad_fn: expected a gradient of shape ({n},), got {gp.shape}")
        columns.append((gp - gm) / (xp[j] - xm[j]))
    H = np.stack(columns, axis=1)
    return (H + H.T) * H.dtype.type(0.5)


# critical_point_report's argument `hessian` shadows the function inside it
_finite_difference_hessian = hessian


def hessian_from_values(
    fn: Callable[[Array], float], x: np.ndarray, *, step: float | None = None
) -> Array:
    """Symmetric Hessian from function values alone, by central second differences.

    Diagonal: ``(f(x + h_i e_i) - 2 f(x) + f(x - h_i e_i)) / h_i^2``. Off-diagonal: the four-point
    formula ``(f(x + h_i e_i + h_j e_j) - f(x + h_i e_i - h_j e_j) - f(x - h_i e_i + h_j e_j)
    + f(x - h_i e_i - h_j e_j)) / (4 h_i h_j)``. Steps ``h_i = step * max(1, |x_i|)``, default
    ``step = eps^(1/4)`` (1.2e-4 for float64). ``1 + 2 n^2`` evaluations of ``fn``.

    Error bound (elementwise, ``h`` the largest and ``h_min`` the smallest step)::

        |H_fd[i, j] - H[i, j]| <= h^2 / 3 * M4 + 4 * delta * F / h_min^2

    with ``M4`` a bound on the fourth derivatives of f and ``F`` on ``|f|`` within the steps
    of ``x``, and ``fn`` accurate to ``delta * F`` (a few eps). The first term is the Taylor
    remainder (``h^2 / 12 f_iiii`` on the diagonal, ``(h_i^2 f_iiij + h_j^2 f_ijjj) / 6`` off
    it), the second the rounding of the values (weights 1, 2, 1 over ``h^2`` on the diagonal).
    With the default step both terms are ``~sqrt(eps)``: about ``1e-8`` relative for float64.
    Prefer :func:`hessian` whenever a gradient exists.
    """
    x = _point(x)
    h = _steps(x, step, 0.25)
    n = x.size

    def f(point: np.ndarray) -> float:
        return float(fn(point))

    def at(*moves: tuple[int, float]) -> float:
        y = x.copy()
        for index, delta in moves:
            y[index] = x[index] + delta
        return f(y)

    f0 = f(x)
    H = np.empty((n, n), dtype=np.float64)
    for i in range(n):
        hi = float(h[i])
        H[i, i] = (at((i, hi)) - 2.0 * f0 + at((i, -hi))) / hi**2
        for j in range(i):
            hj = float(h[j])
            total = at((i, hi), (j, hj)) - at((i, hi), (j, -hj))
            total += at((i, -hi), (j, -hj)) - at((i, -hi), (j, hj))
            H[i, j] = H[j, i] = total / (4.0 * hi * hj)
    return H.astype(x.dtype, copy=False)
