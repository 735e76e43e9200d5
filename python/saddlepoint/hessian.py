"""Critical points: minimum, maximum, saddle or undecidable, and the way out of a saddle.

At a critical point (gradient zero) the second-order Taylor expansion
``f(x + d) ~ f(x) + d^T H d / 2`` decides what the point is from the eigenvalues of the
Hessian ``H``: all positive, a strict local minimum; all negative, a strict local maximum; some
of each, a saddle point, left along the eigenvector of a negative eigenvalue. When some
eigenvalues are zero the higher-order terms decide, and this module says so (``"degenerate"``)
instead of guessing.

- :func:`classify`: the classification of one Hessian or a stack of them.
- :func:`hessian`, :func:`hessian_from_values`: dense Hessians by central differences.
- :func:`hvp_from_gradient`, :func:`lowest_eigenpairs`, :func:`highest_eigenpairs`: extreme
  eigenpairs of models too large to form ``H``, from Hessian-vector products.
- :func:`critical_point_report`, :func:`escape`: the full diagnosis at a point, and a line
  search along the escape direction.

References: Nocedal & Wright, *Numerical Optimization* (2nd ed., 2006), sections 2.1 (second
order conditions) and 8.1 (finite-difference derivatives); Dauphin et al., "Identifying and
attacking the saddle point problem in high-dimensional non-convex optimization" (NeurIPS 2014).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np

from .linalg import _decompose

__all__ = [
    "RTOL_FACTOR",
    "Classification",
    "CriticalPointReport",
    "Eigenpairs",
    "EscapeResult",
    "classify",
    "critical_point_report",
    "escape",
    "hessian",
    "hessian_from_values",
    "highest_eigenpairs",
    "hvp_from_gradient",
    "lowest_eigenpairs",
]

#: classify's default ``rtol`` is ``RTOL_FACTOR * n * eps(dtype)``: a backward-stable
#: eigensolver's eigenvalues are exact for a matrix within ~``n * eps * |H|`` of ``H``, so an
#: eigenvalue below a few times that cannot be told from zero; 10 leaves a safety margin.
RTOL_FACTOR = 10

Array = np.ndarray
HVP = Callable[[Array], Array]


# ----------------------------------------------------------------------------------------------
# classification


@dataclass(frozen=True)
class Classification:
    """What the Hessian says about a critical point (arrays over the stack for a stack).

    Attributes
    ----------
    kind : str or ndarray of str
        ``"minimum"`` (every eigenvalue positive), ``"maximum"`` (every eigenvalue negative),
        ``"saddle"`` (at least one positive and one negative eigenvalue, whatever else), or
        ``"degenerate"`` (some eigenvalues are zero and the rest share one sign, or all are
        zero: the Hessian cannot decide).
    eigenvalues : ndarray, shape (..., n)
        Ascending.
    n_positive, n_negative, n_zero : int or ndarray of int
        Counts of eigenvalues above ``tol``, below ``-tol`` and within ``tol`` of zero.
    minimum_ratio : float or ndarray
        ``n_positive / n``: 1 at a strict minimum, lower at saddles (the share of directions
        curving up).
    escape_direction : ndarray or None
        Unit eigenvector of the most negative eigenvalue, shape (..., n); None for a single
        Hessian without negative eigenvalues, rows of NaN for such members of a stack. Its sign
        is arbitrary: both ``+d`` and ``-d`` lead down to second order.
    tol : float or ndarray
        The zero threshold used, ``max(atol, rtol * max|lambda|)``.
    """

    kind: Any
    eigenvalues: Array
    n_positive: Any
    n_negative: Any
    n_zero: Any
    minimum_ratio: Any
    escape_direction: Array | None
    tol: Any


def _as_hessian(H: object) -> np.ndarray:
    """Float32/float64 stays; integers and booleans (exact) become float64."""
    arr = np.asarray(H)
    if arr.dtype.kind in "iub":
        return arr.astype(np.float64)
    if arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8):
        raise TypeError(f"H: expected real float32 or float64 values, got {arr.dtype}")
    return arr


def _check_tolerance(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    value = float(value)
    if not (np.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name}: expected a finite value >= 0, got {value}")
    return value


def classify(
    H: np.ndarray,
    *,
    rtol: float | None = None,
    atol: float = 0.0,
    symmetrize: bool = False,
) -> Classification:
    """Classify critical points from their Hessians.

    An eigenvalue counts as zero when ``|lambda| <= tol = max(atol, rtol * max|lambda|)``
    (per matrix). With ``p``, ``m``, ``z`` the numbers of positive, negative and zero
    eigenvalues of an ``n x n`` Hessian:

    =========================  ==============  ==================================================
    eigenvalues                kind            why
    =========================  ==============  ==================================================
    ``p = n``                  ``minimum``     ``d^T H d > 0`` for every direction
    ``m = n``                  ``maximum``     ``d^T H d < 0`` for every direction
    ``p > 0`` and ``m > 0``    ``saddle``      a way down and a way up exist, whatever the zeros
    otherwise (``z > 0``)      ``degenerate``  higher-order terms decide
    =========================  ==============  ==================================================

    The last row covers ``x^4 + y^4`` (a minimum), ``x^2 + y^3`` and the monkey saddle
    ``x^3 - 3 x y^2`` (saddles), ``-x^2 - y^4`` (a maximum) and ``(x - y)^2`` (a valley of
    minima): their Hessians at the origin look alike, so none of them is called a minimum.

    Parameters
    ----------
    H : array_like, shape (..., n, n)
        Symmetric Hessians (float32 or float64; integers are converted to float64), n >= 1.
    rtol : float, optional
        Relative zero threshold. Default ``RTOL_FACTOR * n * eps(dtype)`` (10 n eps: 4.4e-15
        for a float64 2x2), right for Hessians exact to rounding. For finite-difference
        Hessians pass their relative error (see :func:`hessian`).
    atol : float
        Absolute zero threshold (the larger of the two wins).
    symmetrize : bool
        Use ``(H + H^T) / 2`` instead of requiring symmetry (see :func:`saddlepoint.linalg.eigh`).

    Returns
    -------
    Classification
        Scalars for one Hessian, arrays over the stack for a stack.

    Examples
    --------
    >>> c = classify([[0.0, -2.0], [-2.0, 0.0]])  # (1 - w1 w2)^2 at the origin
    >>> c.kind, c.eigenvalues, c.minimum_ratio
    ('saddle', array([-2.,  2.]), 0.5)
    """
    H = _as_hessian(H)
    if H.ndim < 2 or H.shape[-1] != H.shape[-2] or H.shape[-1] == 0:
        raise ValueError(
            "H: expected a Hessian or stack of Hessians of shape (..., n, n) with n >= 1, "
            f"got shape {H.shape}"
        )
    n = H.shape[-1]
    eps = float(np.finfo(H.dtype).eps)
    rtol = RTOL_FACTOR * n * eps if rtol is None else _check_tolerance(rtol, "rtol")
    atol = _check_tolerance(atol, "atol")
    w, v = _decompose(H, vectors=True, symmetrize=symmetrize, symmetry_rtol=None, name="H")

    scale = np.maximum(np.abs(w[..., 0]), np.abs(w[..., -1])).astype(np.float64)
    tol = np.maximum(atol, rtol * scale)
    wide = w.astype(np.float64)
    n_pos = np.count_nonzero(wide > tol[..., None], axis=-1)
    n_neg = np.count_nonzero(wide < -tol[..., None], axis=-1)
    n_zero = n - n_pos - n_neg
    kind = np.full(w.shape[:-1], "degenerate", dtype="<U10")
    kind[n_pos == n] = "minimum"
    kind[n_neg == n] = "maximum"
    kind[(n_pos > 0) & (n_neg > 0)] = "saddle"
    ratio = n_pos / n
    # ascending order: the most negative eigenvalue is the first one
    direction = v[..., :, 0].copy()
    direction[n_neg == 0] = np.nan

    if w.ndim == 1:
        return Classification(
            kind=str(kind),
            eigenvalues=w,
            n_positive=int(n_pos),
            n_negative=int(n_neg),
            n_zero=int(n_zero),
            minimum_ratio=float(ratio),
            escape_direction=None if n_neg == 0 else direction,
            tol=float(tol),
        )
    return Classification(kind, w, n_pos, n_neg, n_zero, ratio, direction, tol)


# ----------------------------------------------------------------------------------------------
# finite-difference Hessians


def _point(x: object, name: str = "x") -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8):
        raise TypeError(f"{name}: expected float32 or float64 values, got {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D point, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got {arr}")
    return arr


def _steps(x: np.ndarray, step: float | None, power: float) -> np.ndarray:
    """Per-coordinate steps ``step * max(1, |x_i|)``, default ``step = eps ** power``."""
    if step is None:
        step = float(np.finfo(x.dtype).eps) ** power
    else:
        step = _check_tolerance(step, "step")
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


# ----------------------------------------------------------------------------------------------
# matrix-free extreme eigenpairs


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
    base = _check_tolerance(base, "step")
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
    if not callable(hvp):
        raise TypeError(f"hvp: expected a callable v -> H v, got {type(hvp).__name__}")
    optional = () if maxiter is None else ((maxiter, "maxiter", 1),)
    for value, name, low in ((dim, "dim", 1), (k, "k", 1), (dense_below, "dense_below", 0),
                             *optional):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name}: expected an int >= {low}, got {type(value).__name__}")
        if value < low and name != "k":  # k's range is checked against dim below
            raise ValueError(f"{name}: expected an int >= {low}, got {value}")
    if not 1 <= k <= dim:
        raise ValueError(f"k: expected 1 <= k <= dim = {dim}, got {k}")
    if not isinstance(method, str) or method not in ("eigsh", "lobpcg"):
        raise ValueError(f"method: expected 'eigsh' or 'lobpcg', got {method!r}")
    tol = _check_tolerance(tol, "tol")
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


def highest_eigenpairs(
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
    """The ``k`` algebraically largest eigenpairs (eigenvalues descending); see
    :func:`lowest_eigenpairs` for the parameters. The largest eigenvalue bounds the stable
    learning rate of gradient descent, ``lr < 2 / lambda_max``."""
    return _extreme_eigenpairs(
        hvp, dim, k, lowest=False, method=method, tol=tol, maxiter=maxiter, v0=v0,
        dtype=dtype, dense_below=dense_below,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# escape and report


@dataclass(frozen=True)
class EscapeResult:
    """The outcome of :func:`escape`.

    Attributes
    ----------
    x : ndarray
        The new point ``x0 + step * direction``.
    value, initial_value : float
        ``f`` there and at the start.
    loss_drop : float
        ``initial_value - value`` (> 0 when the escape worked).
    step : float
        Signed distance along the unit ``direction`` given.
    n_evaluations : int
        Calls of ``f``.
    """

    x: Array
    value: float
    initial_value: float
    loss_drop: float
    step: float
    n_evaluations: int


def escape(
    f: Callable[[Array], float],
    x: np.ndarray,
    direction: np.ndarray,
    *,
    initial_step: float | None = None,
    max_doublings: int = 60,
    xtol: float = 1e-10,
) -> EscapeResult:
    """Leave a saddle along ``direction`` (either sign) with a line search on ``f``.

    1. With ``d = direction / ||direction||`` and ``t0 = initial_step`` (default
       ``1e-2 * max(1, ||x||)``), take the sign ``s`` of whichever of ``f(x + t0 d)``,
       ``f(x - t0 d)`` is lower. Near a saddle both go down to second order
       (``f(x + t d) ~ f(x) + lambda t^2 / 2`` with ``lambda < 0``); a gradient term picks one.
       If neither is below ``f(x)`` the step is halved (up to 40 times).
    2. Double ``t`` while ``f`` keeps decreasing (at most ``max_doublings`` times): the
       minimum along the ray is then bracketed by the last three trial steps.
    3. Golden-section search in that bracket down to ``xtol * max(1, t)``.

    For ``L(w1, w2) = (1 - w1 w2)^2`` from the origin along ``(1, 1) / sqrt(2)`` this reaches
    ``t = sqrt(2)``, the point ``(1, 1)`` on the valley ``w1 w2 = 1`` where ``L = 0``.

    Returns
    -------
    EscapeResult
        ``loss_drop == 0`` and ``x`` unchanged when no descent was found along ``direction``.
    """
    x = _point(x)
    d = np.asarray(direction, dtype=np.float64).reshape(-1)
    if d.shape != x.shape:
        raise ValueError(f"direction: expected shape {x.shape} like x, got {d.shape}")
    norm = float(np.linalg.norm(d))
    if not (np.isfinite(norm) and norm > 0.0):
        raise ValueError("direction: expected a finite, non-zero vector")
    d = d / norm
    evaluations = [0]

    def along(t: float) -> float:
        evaluations[0] += 1
        return float(fn_value(f, (x + t * d).astype(x.dtype)))

    f0 = along(0.0)
    t = 1e-2 * max(1.0, float(np.linalg.norm(x))) if initial_step is None else initial_step
    t = _check_tolerance(t, "initial_step")
    if t == 0.0:
        raise ValueError("initial_step: expected a finite value > 0, got 0.0")
    sign = 0.0
    for _ in range(40):
        fp, fm = along(t), along(-t)
        if min(fp, fm) < f0:
            sign = 1.0 if fp <= fm else -1.0
            break
        t *= 0.5
    if sign == 0.0:
        return EscapeResult(x.copy(), f0, f0, 0.0, 0.0, evaluations[0])

    # bracket: f(a) > f(b) < f(c) with a < b < c along the chosen sign
    a, b = 0.0, t
    fb = min(fp, fm)
    c = 2.0 * b
    fc = along(sign * c)
    for _ in range(max_doublings):
        if fc >= fb:
            break
        a, b, fb = b, c, fc
        c *= 2.0
        fc = along(sign * c)
    # golden-section search on [a, c] around b
    inv_phi = (np.sqrt(5.0) - 1.0) / 2.0
    lo, hi = a, c
    x1, x2 = hi - inv_phi * (hi - lo), lo + inv_phi * (hi - lo)
    f1, f2 = along(sign * x1), along(sign * x2)
    while hi - lo > xtol * max(1.0, hi):
        if f1 <= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - inv_phi * (hi - lo)
            f1 = along(sign * x1)
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + inv_phi * (hi - lo)
            f2 = along(sign * x2)
    best_t, best_f = min(((b, fb), (x1, f1), (x2, f2)), key=lambda p: p[1])
    new_x = (x + sign * best_t * d).astype(x.dtype)
    return EscapeResult(new_x, best_f, f0, f0 - best_f, sign * best_t, evaluations[0])


def fn_value(f: Callable[[Array], Any], x: Array) -> float:
    """``f(x)`` as a float, with a clear error when ``f`` does not return one number."""
    value = np.asarray(f(x))
    if value.size != 1:
        raise ValueError(f"f: expected a scalar value, got shape {value.shape}")
    return float(value.reshape(()))


@dataclass(frozen=True)
class CriticalPointReport:
    """The diagnosis of :func:`critical_point_report`.

    Attributes
    ----------
    x : ndarray
        The point.
    value : float
        ``f(x)``.
    gradient_norm : float
        ``||grad f(x)||``.
    gtol : float
        The criticality threshold used.
    is_critical : bool
        ``gradient_norm <= gtol``.
    classification : Classification
        From the Hessian (exact or finite differences).
    hessian_source : str
        ``"given"`` or ``"finite differences"``.
    escape : EscapeResult or None
        Set when the Hessian has a negative eigenvalue (saddles, and degenerate points with a
        negative eigenvalue: a way down exists in both cases).
    """

    x: Array
    value: float
    gradient_norm: float
    gtol: float
    is_critical: bool
    classification: Classification
    hessian_source: str
    escape: EscapeResult | None

    @property
    def kind(self) -> str:
        """``classification.kind``."""
        return self.classification.kind

    @property
    def minimum_ratio(self) -> float:
        """``classification.minimum_ratio``."""
        return self.classification.minimum_ratio


HessianArg = Union[None, np.ndarray, Callable[[Array], Array]]


def critical_point_report(
    f: Callable[[Array], float],
    grad_fn: Callable[[Array], Array],
    x: np.ndarray,
    hessian: HessianArg = None,
    *,
    gtol: float | None = None,
    rtol: float | None = None,
    atol: float = 0.0,
    escape_saddle: bool = True,
) -> CriticalPointReport:
    """Diagnose a point: is the gradient zero, and what does the Hessian say?

    Parameters
    ----------
    f, grad_fn : callable
        The loss and its gradient at a 1-D point.
    x : ndarray, shape (n,)
        The point.
    hessian : ndarray or callable, optional
        The exact Hessian at ``x`` (or a function of the point returning it). Without it the
        Hessian comes from :func:`hessian` (central differences of ``grad_fn``).
    gtol : float, optional
        ``x`` counts as critical when ``||grad|| <= gtol``; default
        ``sqrt(eps) * max(1, |f(x)|)`` (a heuristic: the gradient's rounding floor is far
        below this for well-scaled problems).
    rtol, atol : float, optional
        Zero thresholds for :func:`classify`. ``rtol`` defaults to classify's for an exact
        Hessian and to ``sqrt(eps)`` (1.5e-8 in float64) for a finite-difference one, well
        above its ``~eps^(2/3)`` relative error (see :func:`hessian`).
    escape_saddle : bool
        Run :func:`escape` along the escape direction when there is one.

    Examples
    --------
    The lecture's saddle, ``L(w1, w2) = (1 - w1 w2)^2`` at the origin:

    >>> L = lambda w: (1 - w[0] * w[1]) ** 2
    >>> dL = lambda w: -2 * (1 - w[0] * w[1]) * np.array([w[1], w[0]])
    >>> r = critical_point_report(L, dL, np.zeros(2))
    >>> r.kind, r.is_critical
    ('saddle', True)
    """
    x = _point(x)
    value = fn_value(f, x)
    g = np.asarray(grad_fn(x))
    if g.shape != x.shape:
        raise ValueError(f"grad_fn: expected a gradient of shape {x.shape}, got {g.shape}")
    gradient_norm = float(np.linalg.norm(g))
    eps = float(np.finfo(x.dtype).eps)
    gtol = np.sqrt(eps) * max(1.0, abs(value)) if gtol is None else _check_tolerance(gtol, "gtol")

    if hessian is None:
        H, source = _finite_difference_hessian(grad_fn, x), "finite differences"
        if rtol is None:
            rtol = float(np.sqrt(eps))
    else:
        H = hessian(x) if callable(hessian) else hessian
        source = "given"
    classification = classify(H, rtol=rtol, atol=atol)
    result = None
    if escape_saddle and classification.escape_direction is not None:
        result = escape(f, x, classification.escape_direction)
    return CriticalPointReport(
        x=x,
        value=value,
        gradient_norm=gradient_norm,
        gtol=float(gtol),
        is_critical=gradient_norm <= gtol,
        classification=classification,
        hessian_source=source,
        escape=result,
    )
