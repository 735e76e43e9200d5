"""Curvature checks: the lowest and highest Hessian eigenpairs from Hessian-vector products.

Each check runs SciPy's Lanczos (``eigsh``) once per end of the spectrum, started from the
eigenvector the previous check found: between checks a few dozen steps apart the extreme
eigenvectors move little, so a warm check needs a short Krylov space (``ncv`` vectors)
where a cold one needs a long one. Small problems (``dim <= dense_below``) form the Hessian
from ``dim`` products and decompose it exactly.
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


def _lanczos_end(
    op: CountingOperator, which: str, v0: Array | None, ncv: int, tol: float
) -> tuple[float, Array]:
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    linear = LinearOperator((op.dim, op.dim), matvec=op, dtype=np.float64)
    try:
        w, V = eigsh(linear, k=1, which=which, v0=v0, ncv=ncv, tol=tol, maxiter=op.dim * 20)
    except ArpackNoConvergence as exc:  # keep the best Ritz pair ARPACK has
        if len(exc.eigenvalues) == 0:
            raise
        w, V = exc.eigenvalues, exc.eigenvectors
    return float(w[0]), np.asarray(V[:, 0], dtype=np.float64)


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
    else:
        if previous is not None and previous.v_min.shape == (dim,):
            starts, ncv = (previous.v_min, previous.v_max), min(dim - 1, 8)
        else:
            rng = np.random.default_rng(seed)
            start = rng.standard_normal(dim)
            starts, ncv = (start, start), min(dim - 1, 24)
        lo, v_lo = _lanczos_end(op, "SA", starts[0], ncv, tol)
        hi, v_hi = _lanczos_end(op, "LA", starts[1], ncv, tol)
        method = "lanczos"
    v_lo = v_lo / np.linalg.norm(v_lo)
    v_hi = v_hi / np.linalg.norm(v_hi)
    r_lo = float(np.linalg.norm(op(v_lo) - lo * v_lo))
    r_hi = float(np.linalg.norm(op(v_hi) - hi * v_hi))
    return CurvatureCheck(lo, hi, v_lo, v_hi, r_lo, r_hi, op.count, method)


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
    ncv = min(dim - 1, 8 if warm else 24)
    start = previous if warm else np.random.default_rng(1).standard_normal(dim)
    hi, v = _lanczos_end(op, "LA", start, ncv, tol)
    return hi, v, op.count
