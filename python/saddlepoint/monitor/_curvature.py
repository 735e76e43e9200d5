"""Curvature checks: the lowest and highest Hessian eigenpairs from Hessian-vector products.

Each check runs one Lanczos recurrence (full reorthogonalisation) whose Krylov space gives
both ends of the spectrum, started from the eigenvectors the previous check found (plus a
little noise): where an extreme eigenvalue is well separated its eigenvector moves little
between checks a few dozen steps apart, and the warm start shortens the Krylov space that end
needs. Where the lowest eigenvalue sits in a cluster its eigenvector turns from one check to
the next (the digits MLP of bench/monitor.py: overlap 0.06 between steps 1001 and 1051, the
lowest gap 3e-4 of lambda_max), so no start from the previous vectors helps that end, and a
check costs about what a cold one does: 50 products (range 25-69) against 53 (34-64),
medians over 29 later checks every 50 Adam steps, the two residual products included (LOBPCG
from the previous eigenvector needs more).

About 20 products a check is out of reach there at ``tol=1e-3``, measured against the exact
Hessians (``numpy.linalg.eigh``): the rule asks the lowest residual below ``1e-3 |lambda_min|``
(about 5e-5 against gaps of 2e-4 to 1e-2 in a dense cluster near -0.05), and Lanczos started
from the *exact new* lowest eigenvector (noise at the top) still needs 17 products (median);
from the best combination of the previous 20 exact lowest eigenvectors (which a check could
only find by 20 more products) 24, of the previous 5, 43. Starting from a sum of the previous
lowest 3 to 40 eigenvectors: 49-51. A block warm start (the previous check's 3 lowest and
highest Ritz vectors and a random vector, a Rayleigh-Ritz on their span grown by the two
ends' Ritz residuals, exact residuals from the kept products) gave a median of 47 (28-64)
there, and 9-11 against 13 on a perturbed clustered test matrix, but missed a new eigenvalue
orthogonal to the block in 3-6 of 10 matrices (tests/test_monitor_curvature.py builds such
a matrix; the Krylov space of a start with noise in it finds it in all): not adopted. Small
problems (``dim <= dense_below``) form the Hessian from ``dim`` products and decompose it
exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class CurvatureCheck:
    """One curvature check.

    ``lambda_min``/``lambda_max`` with unit eigenvectors ``v_min``/``v_max`` and residual
    norms ``||H v - lambda v||`` (each eigenvalue is within its residual of a true one);
    ``n_products`` Hessian-vector products, residuals included; ``method`` ``"dense"`` or
    ``"lanczos"``.
    """

    lambda_min: float
    lambda_max: float
    v_min: Array
    v_max: Array
    residual_min: float
    residual_max: float
    n_products: int
    method: str
    spectrum: Array | None = None  # every eigenvalue, ascending, where the check was dense


class CountingOperator:
    """``hvp`` checked and counted: a product of the wrong shape or with non-finite values is a
    ValueError naming ``hvp`` (a NaN would otherwise send ARPACK into a silent loop)."""

    def __init__(self, hvp: Callable[[Array], Any], dim: int, dtype: Any) -> None:
        self.hvp, self.dim, self.dtype = hvp, dim, np.dtype(dtype)
        self.count = 0

    def __call__(self, v: Array) -> Array:
        self.count += 1
        out = np.asarray(self.hvp(np.ascontiguousarray(v, dtype=self.dtype).reshape(self.dim)))
        if out.shape not in ((self.dim,), (self.dim, 1)):
            raise ValueError(
                f"hvp: expected a product of shape ({self.dim},) like the gradient, got "
                f"{out.shape}"
            )
        if not np.issubdtype(out.dtype, np.floating) and not np.issubdtype(out.dtype, np.integer):
            raise TypeError(f"hvp: expected a real float array, got {out.dtype}")
        out = out.reshape(self.dim).astype(np.float64, copy=False)
        if not np.all(np.isfinite(out)):
            raise ValueError(
                "hvp: returned non-finite values (NaN or Inf) for a finite vector; check the "
                "Hessian-vector product at the current parameters"
            )
        return out


def _lanczos(
    op: CountingOperator,
    start: Array,
    tol: float,
    *,
    low: bool = True,
    min_steps: int = 8,
    seed: int = 0,
) -> tuple[float, Array, float, Array]:
    """Both ends of the spectrum from one Krylov space: Lanczos with full reorthogonalisation,
    stopped when the Ritz residual estimates of the extreme pairs (the top one only, unless
    ``low``) are below ``tol`` times their own eigenvalue, that floored at a hundredth of the
    spectral scale ``max |theta|`` (a near-zero eigenvalue is resolved to ``1e-2 * tol`` of
    the scale, enough to tell its sign from the verdicts' tolerance, without chasing digits
    of a number that is zero for every purpose). An invariant subspace (breakdown) continues
    from a fresh random direction. Returns ``(lo, v_lo, hi, v_hi)``."""
    from scipy.linalg import eigh_tridiagonal

    dim = op.dim
    # the basis is kept whole: cap its memory at about 200 MB, and the steps at 300
    m_max = int(min(dim, 300, max(20, 200_000_000 // (8 * dim))))
    basis = np.empty((m_max, dim))
    rng = np.random.default_rng(seed)
    q = np.asarray(start, dtype=np.float64)
    basis[0] = q / np.linalg.norm(q)
    alpha: list[float] = []
    beta: list[float] = []
    m = 0
    theta = np.zeros(1)
    S = np.ones((1, 1))
    for j in range(m_max):
        w = op(basis[j])
        a = float(basis[j] @ w)
        w = w - a * basis[j] - (beta[-1] * basis[j - 1] if j else 0.0)
        for _ in range(2):  # full reorthogonalisation, twice is enough
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
        b = float(np.linalg.norm(w))
        alpha.append(a)
        m = j + 1
        if m == 1:
            theta, S = np.array([a]), np.ones((1, 1))
        else:
            theta, S = eigh_tridiagonal(np.array(alpha), np.array(beta))
        scale = max(abs(theta[0]), abs(theta[-1]))
        res_lo, res_hi = b * abs(S[-1, 0]), b * abs(S[-1, -1])
        floor = 1e-2 * scale
        done_hi = res_hi <= tol * max(abs(theta[-1]), floor)
        done_lo = not low or res_lo <= tol * max(abs(theta[0]), floor)
        if m == m_max or (m >= min(min_steps, dim) and done_lo and done_hi):
            break
        if b <= 1e-12 * max(scale, 1e-300):  # invariant subspace: go on elsewhere
            w = rng.standard_normal(dim)
            for _ in range(2):
                w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
            b_new = float(np.linalg.norm(w))
            if b_new == 0.0:
                break
            beta.append(0.0)
            basis[j + 1] = w / b_new
        else:
            beta.append(b)
            basis[j + 1] = w / b
    V = basis[:m].T
    return float(theta[0]), V @ S[:, 0], float(theta[-1]), V @ S[:, -1]


def check_curvature(
    hvp: Callable[[Array], Any],
    dim: int,
    *,
    dtype: Any = np.float64,
    previous: CurvatureCheck | None = None,
    tol: float = 1e-3,
    dense_below: int = 32,
    seed: int = 0,
) -> CurvatureCheck:
    """The extreme eigenpairs of the Hessian behind ``hvp``, warm-started from ``previous``.

    ``tol`` is ARPACK's relative accuracy for the Ritz values; the residual norms returned
    say how far each eigenvalue can be from a true one.
    """
    op = CountingOperator(hvp, dim, dtype)
    if dim <= dense_below:
        H = np.stack([op(e) for e in np.eye(dim)], axis=1)
        w, V = np.linalg.eigh(0.5 * (H + H.T))
        lo, hi, v_lo, v_hi, method = float(w[0]), float(w[-1]), V[:, 0], V[:, -1], "dense"
        spectrum: Array | None = np.asarray(w, dtype=np.float64)
    else:
        if previous is not None and previous.v_min.shape == (dim,):
            # the previous eigenvectors, and a little of everything else so that an
            # eigenvalue that has overtaken them is still found
            noise = np.random.default_rng(seed).standard_normal(dim)
            start = previous.v_min + previous.v_max + 0.1 * noise / np.linalg.norm(noise)
        else:
            start = np.random.default_rng(seed).standard_normal(dim)
        lo, v_lo, hi, v_hi = _lanczos(op, start, tol, seed=seed)
        method, spectrum = "lanczos", None
    v_lo = v_lo / np.linalg.norm(v_lo)
    v_hi = v_hi / np.linalg.norm(v_hi)
    r_lo = float(np.linalg.norm(op(v_lo) - lo * v_lo))
    r_hi = float(np.linalg.norm(op(v_hi) - hi * v_hi))
    return CurvatureCheck(lo, hi, v_lo, v_hi, r_lo, r_hi, op.count, method, spectrum)


def preconditioned_lambda_max(
    hvp: Callable[[Array], Any],
    scale: Array,
    *,
    previous: Array | None = None,
    tol: float = 1e-3,
    dense_below: int = 32,
) -> tuple[float, Array, int]:
    """The largest eigenvalue of ``D^(1/2) H D^(1/2)``, ``D = diag(scale)``: the curvature an
    adaptive optimizer's step ``-lr * D g`` sees (same spectrum as ``D H``). Returns the
    eigenvalue, its eigenvector and the products used."""
    root = np.sqrt(np.asarray(scale, dtype=np.float64))
    dim = root.size

    def pre(v: Array) -> Array:
        return root * np.asarray(hvp(root * v), dtype=np.float64).reshape(dim)

    op = CountingOperator(pre, dim, np.float64)
    if dim <= dense_below:
        H = np.stack([op(e) for e in np.eye(dim)], axis=1)
        w, V = np.linalg.eigh(0.5 * (H + H.T))
        return float(w[-1]), V[:, -1], op.count
    warm = previous is not None and previous.shape == (dim,)
    noise = np.random.default_rng(1).standard_normal(dim)
    start = previous + 0.1 * noise / np.linalg.norm(noise) if warm else noise
    _, _, hi, v = _lanczos(op, start, tol, low=False, seed=1)
    return hi, v / np.linalg.norm(v), op.count
