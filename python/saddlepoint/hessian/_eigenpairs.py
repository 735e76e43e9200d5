"""Extreme eigenpairs of a Hessian known only by its products with vectors (models too large
to form it): Hessian-vector products from a gradient, and the lowest or highest eigenpairs by
Lanczos (ARPACK) or LOBPCG, densely for small dimensions."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._checks import checked_int, is_int, real_number
from ..linalg import _decompose
from ._common import HVP, Array, _point


@dataclass(frozen=True)
class Eigenpairs:
    """Extreme eigenpairs from Hessian-vector products.

    Attributes
    ----------
    eigenvalues : ndarray, shape (k,)
        Ascending for :func:`lowest_eigenpairs`, descending for :func:`highest_eigenpairs`
        (the most extreme first in both).
    eigenvectors : ndarray, shape (dim, k)
        Unit eigenvectors as columns.
    residual_norms : ndarray, shape (k,)
        ``||H v_i - lambda_i v_i||`` recomputed with one more product each: an eigenvalue is
        within this distance of a true eigenvalue of ``H`` (Bauer-Fike for symmetric
        matrices), so it tells how far to trust the answer.
    n_products : int
        Hessian-vector products used, residual checks included.
    method : str
        ``"eigsh"``, ``"lobpcg"`` or ``"dense"``.
    """

    eigenvalues: Array
    eigenvectors: Array
    residual_norms: Array
    n_products: int
    method: str


def hvp_from_gradient(
    grad_fn: Callable[[Array], Array], x: np.ndarray, *, step: float | None = None
) -> HVP:
    """Hessian-vector products by central differences of a gradient: ``Hv ~ (g(x + t v) -
    g(x - t v)) / (2 t)``, ``t = step * max(1, ||x||) / ||v||`` (default ``step = eps^(1/3)``),
    with the same ``~eps^(2/3)`` relative error as :func:`hessian`. Two gradients per product.
    """
    x = _point(x)
    base = float(np.finfo(x.dtype).eps) ** (1.0 / 3.0) if step is None else step
    base = real_number("step", base)
    scale = max(1.0, float(np.linalg.norm(x)))

    def hvp(v: Array) -> Array:
        v = np.asarray(v, dtype=x.dtype).reshape(x.shape)
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            return np.zeros_like(x)
        t = base * scale / norm
        return (np.asarray(grad_fn(x + t * v)) - np.asarray(grad_fn(x - t * v))) / (2.0 * t)

    return hvp


def _extreme_eigenpairs(
    hvp: HVP,
    dim: int,
    k: int,
    *,
    lowest: bool,
    method: str,
    tol: float,
    maxiter: int | None,
    v0: Array | None,
    dtype: Any,
    dense_below: int,
) -> Eigenpairs:
    # the options and their defaults: lowest_eigenpairs's signature (highest binds to it)
    if not callable(hvp):
        raise TypeError(f"hvp: expected a callable v -> H v, got {type(hvp).__name__}")
    if not is_int(k):  # its range is checked against dim below
        raise TypeError(f"k: expected an int >= 1, got {type(k).__name__}")
    optional = () if maxiter is None else (("maxiter", maxiter, 1),)
    for name, value, low in (("dim", dim, 1), ("dense_below", dense_below, 0), *optional):
        checked_int(name, value, low)
    if not 1 <= k <= dim:
        raise ValueError(f"k: expected 1 <= k <= dim = {dim}, got {k}")
    if not isinstance(method, str) or method not in ("eigsh", "lobpcg"):
        raise ValueError(f"method: expected 'eigsh' or 'lobpcg', got {method!r}")
    tol = real_number("tol", tol)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
    if v0 is not None:
        v0 = _point(v0, "v0")
        if v0.shape != (dim,):
            raise ValueError(f"v0: expected shape ({dim},), got {v0.shape}")
    count = [0]

    def product(v: Array) -> Array:
        count[0] += 1
        out = np.asarray(hvp(np.asarray(v, dtype=dtype).reshape(dim)), dtype=dtype)
        if out.shape != (dim,):
            raise ValueError(f"hvp: expected a product of shape ({dim},), got {out.shape}")
        return out

    used = method
    # ARPACK needs k < dim - 1 and LOBPCG k < dim / 5: small problems are cheaper dense anyway
    if dim <= dense_below or k >= dim - 1 or (method == "lobpcg" and 5 * k >= dim):
        H = np.stack([product(e) for e in np.eye(dim, dtype=dtype)], axis=1)
        w, V = _decompose(H, vectors=True, symmetrize=True, symmetry_rtol=None, name="H")
        order = np.arange(k) if lowest else np.arange(dim - 1, dim - 1 - k, -1)
        w, V, used = w[order], V[:, order], "dense"
    else:
        try:
            from scipy.sparse.linalg import LinearOperator, eigsh, lobpcg
        except ImportError as exc:  # pragma: no cover - scipy is in the test extra
            raise ImportError(
                "matrix-free eigenpairs need SciPy: pip install 'saddlepoint[scipy]'"
            ) from exc
        op = LinearOperator((dim, dim), matvec=product, dtype=dtype)
        if method == "eigsh":
            w, V = eigsh(op, k=k, which="SA" if lowest else "LA", tol=tol, maxiter=maxiter, v0=v0)
        else:
            rng = np.random.default_rng(0)
            X = rng.standard_normal((dim, k)).astype(dtype)
            if v0 is not None:
                X[:, 0] = v0
            w, V = lobpcg(
                lambda X: np.stack([product(c) for c in X.T], axis=1).reshape(dim, -1),
                X,
                largest=not lowest,
                tol=tol or None,
                maxiter=maxiter or 200,
            )
        order = np.argsort(w) if lowest else np.argsort(w)[::-1]
        w, V = w[order], V[:, order]
    V = V / np.linalg.norm(V, axis=0)
    residuals = np.array([np.linalg.norm(product(V[:, i]) - w[i] * V[:, i]) for i in range(k)])
    return Eigenpairs(np.asarray(w), np.asarray(V), residuals, count[0], used)


def lowest_eigenpairs(
    hvp: HVP,
    dim: int,
    k: int = 1,
    *,
    method: str = "eigsh",
    tol: float = 0.0,
    maxiter: int | None = None,
    v0: Array | None = None,
    dtype: Any = np.float64,
    dense_below: int = 16,
) -> Eigenpairs:
    """The ``k`` algebraically smallest eigenpairs of a symmetric ``H`` known by products.

    The most negative eigenvalue is what matters at a saddle (its eigenvector is the escape
    direction); tools that return the largest ``|lambda|`` (power iteration, PyHessian) miss
    it when positive curvature dominates.

    Parameters
    ----------
    hvp : callable
        ``hvp(v) -> H v`` for a vector of shape ``(dim,)``. From a gradient function use
        :func:`hvp_from_gradient`.
    dim : int
        Dimension of ``H``.
    k : int
        Number of eigenpairs.
    method : {"eigsh", "lobpcg"}
        SciPy's implicitly restarted Lanczos (ARPACK, ``which="SA"``) or LOBPCG.
    tol : float
        Relative accuracy passed to the solver (0: machine precision for eigsh).
    maxiter, v0 : optional
        Passed to the solver.
    dtype : dtype
        Dtype of the products (float64 or float32).
    dense_below : int
        For ``dim <= dense_below`` (or ``k`` too large for the iterative solver) ``H`` is formed
        from ``dim`` products and decomposed densely with :func:`saddlepoint.linalg.eigh`.

    Returns
    -------
    Eigenpairs
        Eigenvalues ascending, with residual norms.
    """
    return _extreme_eigenpairs(
        hvp, dim, k, lowest=True, method=method, tol=tol, maxiter=maxiter, v0=v0,
        dtype=dtype, dense_below=dense_below,
    )  # fmt: skip


def highest_eigenpairs(hvp: HVP, dim: int, k: int = 1, **options: Any) -> Eigenpairs:
    """The ``k`` algebraically largest eigenpairs (eigenvalues descending). The keyword
    options (``method``, ``tol``, ``maxiter``, ``v0``, ``dtype``, ``dense_below``) are those of
    :func:`lowest_eigenpairs`. The largest eigenvalue bounds the stable learning rate of
    gradient descent, ``lr < 2 / lambda_max``."""
    bound = _OPTIONS.bind(hvp, dim, k, **options)
    bound.apply_defaults()
    return _extreme_eigenpairs(lowest=False, **bound.arguments)


_OPTIONS = inspect.signature(lowest_eigenpairs)
