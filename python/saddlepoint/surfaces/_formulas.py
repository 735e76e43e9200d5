"""The formulas of the built-in surfaces: value, exact gradient and exact Hessian, vectorized
over points of shape ``(..., dim)``; each factory registered by name (:func:`get`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import require_int
from ._critical_points import (
    _BEALE,
    _BUMPY_1D,
    _GOLDSTEIN_PRICE,
    _HIMMELBLAU,
    _RASTRIGIN_1D,
    _ROSENBROCK_LOCAL_MIN,
    _SIX_HUMP_CAMEL,
    _STYBLINSKI_TANG_1D,
    _THREE_HUMP_CAMEL,
    _literal_points,
    _separable_points,
)
from ._surface import Array, CriticalPoint, Surface, _builtin, _cp, _Formula

# ----------------------------------------------------------------------------------------
# helpers for the formulas


def _grad2(gx: Array, gy: Array) -> Array:
    return np.stack(np.broadcast_arrays(gx, gy), axis=-1)


def _hess2(hxx: Any, hxy: Any, hyy: Any, X: Array) -> Array:
    out = np.empty((*X.shape, 2), dtype=X.dtype)
    out[..., 0, 0] = hxx
    out[..., 0, 1] = hxy
    out[..., 1, 0] = hxy
    out[..., 1, 1] = hyy
    return out


def _diag(d: Array) -> Array:
    n = d.shape[-1]
    out = np.zeros((*d.shape, n), dtype=d.dtype)
    i = np.arange(n)
    out[..., i, i] = d
    return out


def _separable(
    name: str,
    n: int,
    value: Callable[[Array], Array],
    grad: Callable[[Array], Array],
    curvature: Callable[[Array], Array],
    critical_points: list[CriticalPoint],
    interval: tuple[float, float],
    *,
    start: float,
) -> Surface:
    """A sum of one 1-D function per coordinate over the box ``interval^n``: ``grad`` and
    ``curvature`` are its first and second derivatives coordinate by coordinate, so the
    Hessian is the diagonal of ``curvature``; the start is ``start`` in every coordinate."""
    return _Formula(
        value,
        grad,
        lambda X: _diag(curvature(X)),
        name=name,
        dim=n,
        bounds=(interval,) * n,
        start=np.full(n, start),
        critical_points=critical_points,
    )


def _dimension(factory: str, n: Any, minimum: int = 1) -> int:
    return require_int(factory, "n", n, minimum)


# ----------------------------------------------------------------------------------------
# quadratics


def _classify_symmetric(eig: NDArray[np.floating[Any]]) -> str:
    # The rule of saddlepoint.hessian.classify: both signs make a saddle whatever the
    # zeros; otherwise any zero eigenvalue leaves it to higher orders (degenerate).
    tol = eig.size * np.finfo(np.float64).eps * max(1.0, float(np.abs(eig).max()))
    positive, negative = bool(np.any(eig > tol)), bool(np.any(eig < -tol))
    if positive and negative:
        return "saddle"
    if np.any(np.abs(eig) <= tol):
        return "degenerate"
    return "minimum" if positive else "maximum"


@_builtin
def quadratic(A: ArrayLike, *, name: str = "quadratic") -> Surface:
    r"""The quadratic form :math:`f(x) = \tfrac12 x^\top A x`, with :math:`\nabla f = A x`
    and :math:`\nabla^2 f = A`.

    ``A`` must be a square, finite, symmetric matrix (symmetric to ``1e-12`` relative; it
    is then symmetrized exactly). The origin is critical; its kind follows the signs of
    ``A``'s eigenvalues (a singular ``A`` makes it ``"degenerate"``: a whole subspace is
    critical). The condition number of a positive definite ``A`` sets how slowly gradient
    descent converges: the step must stay below ``2 / lambda_max`` while progress along the
    flattest direction is ``lr * lambda_min`` per step.
    """
    raw = np.asarray(A)
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"A: expected a real (float or int) matrix, got dtype {raw.dtype}")
    M = np.array(raw, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"A: expected a square (n, n) matrix, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError("A: expected finite values, got NaN or Inf")
    with np.errstate(over="ignore"):  # entries near the float64 limit: Inf means asymmetric
        asym = float(np.abs(M - M.T).max())
    if asym > 1e-12 * max(1.0, float(np.abs(M).max())):
        raise ValueError(f"A: expected a symmetric matrix, got max|A - A.T| = {asym:.3g}")
    # M + (M.T - M) / 2 rather than (M + M.T) / 2: no overflow for entries above max / 2
    M = M + 0.5 * (M.T - M)
    M.flags.writeable = False
    n = M.shape[0]
    # Exact at the origin: f = 0, grad = 0; kind from the (exact enough) eigenvalues.
    origin = _cp(np.zeros(n), 0.0, _classify_symmetric(np.linalg.eigvalsh(M)))

    def value(X: Array) -> Array:
        return 0.5 * np.einsum("...i,ij,...j->...", X, M.astype(X.dtype), X)

    def grad(X: Array) -> Array:
        return X @ M.astype(X.dtype)

    def hessian(X: Array) -> Array:
        return np.broadcast_to(M.astype(X.dtype), (*X.shape, n)).copy()

    return _Formula(
        value,
        grad,
        hessian,
        name=name,
        dim=n,
        bounds=((-5.0, 5.0),) * n,
        start=np.linspace(4.0, 2.0, n) if n > 1 else [4.0],
        critical_points=[origin],
    )


@_builtin
def ill_conditioned(condition: float = 100.0) -> Surface:
    r"""An elongated bowl :math:`f(x, y) = \tfrac12 (x^2 + \kappa y^2)`, ``kappa = condition``.

    The Hessian is ``diag(1, condition)``: gradient descent must take ``lr < 2 / condition``
    to stay stable in ``y`` and then crawls along ``x``, zig-zagging across the valley;
    momentum and adaptive methods are the fixes. Minimum at the origin.
    """
    if isinstance(condition, bool) or not isinstance(condition, (int, float, np.number)):
        raise TypeError(f"condition: expected a real number >= 1, got {type(condition).__name__}")
    if not math.isfinite(condition) or condition < 1:
        raise ValueError(f"ill_conditioned requires condition >= 1, got condition={condition!r}")
    surface = quadratic(np.diag([1.0, float(condition)]), name="ill_conditioned")
    surface.bounds = ((-10.0, 10.0), (-2.0, 2.0))
    surface.start = np.array([-9.0, 1.0])
    surface.start.flags.writeable = False
    return surface


# ----------------------------------------------------------------------------------------
# saddles


@_builtin
def saddle() -> Surface:
    r"""The saddle :math:`f(x, y) = x^2 - y^2`: a minimum along ``x``, a maximum along ``y``.

    Gradient descent started on (or near) the ``x`` axis slides into the origin and stalls
    there; the escape direction is ``y``. Hessian ``diag(2, -2)`` everywhere.
    """

    def value(X: Array) -> Array:
        return X[..., 0] ** 2 - X[..., 1] ** 2

    def grad(X: Array) -> Array:
        return _grad2(2 * X[..., 0], -2 * X[..., 1])

    def hessian(X: Array) -> Array:
        return _hess2(2.0, 0.0, -2.0, X)

    return _Formula(
        value,
        grad,
        hessian,
        name="saddle",
        dim=2,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        start=[1.5, 1e-3],
        critical_points=[_cp([0.0, 0.0], 0.0, "saddle")],  # by hand
    )


@_builtin
def monkey_saddle() -> Surface:
    r"""The monkey saddle :math:`f(x, y) = x^3 - 3 x y^2` (three valleys, three ridges).

    The Hessian vanishes at the origin, so second order cannot tell what it is: its kind is
    ``"degenerate"``, though it is a saddle (of third order). Gradient descent from the
    default start crawls towards it as ``1/t``.
    """

    def value(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return x**3 - 3 * x * y**2

    def grad(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return _grad2(3 * x**2 - 3 * y**2, -6 * x * y)

    def hessian(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return _hess2(6 * x, -6 * y, -6 * x, X)

    origin = _cp([0.0, 0.0], 0.0, "degenerate", "monkey saddle: zero Hessian, third-order saddle")
    return _Formula(
        value,
        grad,
        hessian,
        name="monkey_saddle",
        dim=2,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        start=[1.5, 0.1],
        critical_points=[origin],  # by hand: grad = 0 only at the origin
    )


@_builtin
def tiny_network() -> Surface:
    r"""The "worst network ever": :math:`y = w_1 w_2 x`, one example ``x = 1``, target 1.

    .. math::
        L(w_1, w_2) = (1 - w_1 w_2)^2,\quad
        \nabla L = -2 (1 - w_1 w_2) (w_2, w_1),\quad
        \nabla^2 L = \begin{pmatrix} 2 w_2^2 & 4 w_1 w_2 - 2 \\ 4 w_1 w_2 - 2 & 2 w_1^2
                     \end{pmatrix}

    The origin is a saddle: Hessian ``[[0, -2], [-2, 0]]``, eigenvalues -2 and 2, escape
    direction ``±(1, 1)/sqrt(2)``. Every point of the hyperbola ``w1 * w2 = 1`` is a global
    minimum (``L = 0``), but none is isolated: the Hessian there,
    ``[[2/a^2, 2], [2, 2 a^2]]`` at ``(a, 1/a)``, has eigenvalues 0 (along the valley) and
    ``2 (a^2 + 1/a^2)``, so their ``kind`` is ``"degenerate"`` (what the Hessian test can
    say) and their ``note`` says global minimum. Listed: ``(1, 1)``, ``(-1, -1)``,
    ``(2, 1/2)`` and ``(-1/2, -2)`` as representatives of the two branches.
    The default start is near the saddle, where training stalls before it escapes.
    """

    def value(X: Array) -> Array:
        return (1 - X[..., 0] * X[..., 1]) ** 2

    def grad(X: Array) -> Array:
        w1, w2 = X[..., 0], X[..., 1]
        r = -2 * (1 - w1 * w2)
        return _grad2(r * w2, r * w1)

    def hessian(X: Array) -> Array:
        w1, w2 = X[..., 0], X[..., 1]
        return _hess2(2 * w2**2, 4 * w1 * w2 - 2, 2 * w1**2, X)

    valley = "global minimum on the valley w1 * w2 = 1 (not isolated)"
    cps = [
        _cp([0.0, 0.0], 1.0, "saddle", "the origin: escape along ±(1, 1)/sqrt(2)"),
        # Exact by hand: w1 * w2 = 1 in binary floating point for these four.
        _cp([1.0, 1.0], 0.0, "degenerate", valley),
        _cp([-1.0, -1.0], 0.0, "degenerate", valley),
        _cp([2.0, 0.5], 0.0, "degenerate", valley),
        _cp([-0.5, -2.0], 0.0, "degenerate", valley),
    ]
    return _Formula(
        value,
        grad,
        hessian,
        name="tiny_network",
        dim=2,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        start=[0.05, -0.04],
        critical_points=cps,
    )


# ----------------------------------------------------------------------------------------
# classic test functions (2-D)


@_builtin
def rosenbrock(n: int = 2) -> Surface:
    r"""Rosenbrock's banana valley in ``n >= 2`` dimensions (as ``scipy.optimize.rosen``).

    .. math:: f(x) = \sum_{i=1}^{n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2

    Global minimum ``f = 0`` at ``(1, ..., 1)``, at the end of a long curved, flat valley.
    Default start: the classic ``(-1.2, 1, -1.2, 1, ...)``.
    For ``4 <= n <= 7`` there is also a local minimum near ``(-1, 1, ..., 1)`` (Kok &
    Sandrock, *Locating and characterizing the stationary points of the extended
    Rosenbrock function*, Evol. Comput. 2009), listed too. Rosenbrock, Comput. J. 1960.
    """
    n = _dimension("rosenbrock", n, 2)

    def value(X: Array) -> Array:
        x0, x1 = X[..., :-1], X[..., 1:]
        return np.sum(100 * (x1 - x0**2) ** 2 + (1 - x0) ** 2, axis=-1)

    def grad(X: Array) -> Array:
        x0, x1 = X[..., :-1], X[..., 1:]
        r = x1 - x0**2
        g = np.zeros_like(X)
        g[..., :-1] = -400 * x0 * r - 2 * (1 - x0)
        g[..., 1:] += 200 * r
        return g

    def hessian(X: Array) -> Array:
        x0, x1 = X[..., :-1], X[..., 1:]
        d = np.zeros_like(X)
        d[..., :-1] = 1200 * x0**2 - 400 * x1 + 2
        d[..., 1:] += 200
        H = _diag(d)
        i = np.arange(n - 1)
        H[..., i, i + 1] = -400 * x0
        H[..., i + 1, i] = -400 * x0
        return H

    cps = [_cp(np.ones(n), 0.0, "minimum", "global minimum")]  # by hand
    if n in _ROSENBROCK_LOCAL_MIN:
        cps.append(_cp(*_ROSENBROCK_LOCAL_MIN[n], "minimum", "local minimum"))
    start = np.where(np.arange(n) % 2 == 0, -1.2, 1.0)
    return _Formula(
        value,
        grad,
        hessian,
        name="rosenbrock",
        dim=n,
        bounds=((-2.0, 2.0), (-1.0, 3.0)) if n == 2 else ((-2.0, 2.0),) * n,
        start=start,
        critical_points=cps,
    )


@_builtin
def himmelblau() -> Surface:
    r"""Himmelblau's function :math:`(x^2 + y - 11)^2 + (x + y^2 - 7)^2`.

    Four global minima (``f = 0``; ``(3, 2)`` exactly), one local maximum near
    ``(-0.27, -0.92)`` and four saddles between them. Himmelblau, *Applied Nonlinear
    Programming*, 1972.
    """

    def value(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def grad(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        a, b = x**2 + y - 11, x + y**2 - 7
        return _grad2(4 * x * a + 2 * b, 2 * a + 4 * y * b)

    def hessian(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return _hess2(12 * x**2 + 4 * y - 42, 4 * x + 4 * y, 4 * x + 12 * y**2 - 26, X)

    return _Formula(
        value,
        grad,
        hessian,
        name="himmelblau",
        dim=2,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        start=[0.0, 0.0],
        critical_points=_literal_points(_HIMMELBLAU),
    )


_BEALE_C = (1.5, 2.25, 2.625)


@_builtin
def beale() -> Surface:
    r"""Beale's function :math:`\sum_{k=1}^{3} (c_k - x + x y^k)^2`, ``c = (1.5, 2.25, 2.625)``.

    Global minimum ``f = 0`` at ``(3, 0.5)``; a saddle at ``(0, 1)``; flat plateaus and
    sharp ridges near the corners of ``[-4.5, 4.5]^2``.
    """

    def value(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        out = np.zeros_like(x)
        for k, c in enumerate(_BEALE_C, 1):
            out = out + (c - x + x * y**k) ** 2
        return out

    def grad(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        gx = np.zeros_like(x)
        gy = np.zeros_like(x)
        for k, c in enumerate(_BEALE_C, 1):
            u = c - x + x * y**k
            gx = gx + 2 * u * (y**k - 1)
            gy = gy + 2 * u * k * x * y ** (k - 1)
        return _grad2(gx, gy)

    def hessian(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        hxx = np.zeros_like(x)
        hxy = np.zeros_like(x)
        hyy = np.zeros_like(x)
        for k, c in enumerate(_BEALE_C, 1):
            u = c - x + x * y**k
            ux, uy = y**k - 1, k * x * y ** (k - 1)
            hxx = hxx + 2 * ux**2
            hxy = hxy + 2 * (uy * ux + u * k * y ** (k - 1))
            uyy = k * (k - 1) * x * y ** (k - 2) if k >= 2 else 0.0
            hyy = hyy + 2 * (uy**2 + u * uyy)
        return _hess2(hxx, hxy, hyy, X)

    return _Formula(
        value,
        grad,
        hessian,
        name="beale",
        dim=2,
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
        start=[1.0, 1.0],
        critical_points=_literal_points(_BEALE),
    )


@_builtin
def booth() -> Surface:
    r"""Booth's function :math:`(x + 2y - 7)^2 + (2x + y - 5)^2`: a tilted quadratic bowl.

    Hessian ``[[10, 8], [8, 10]]`` (eigenvalues 2 and 18); minimum ``f = 0`` at ``(1, 3)``.
    """

    def value(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2

    def grad(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        p, q = x + 2 * y - 7, 2 * x + y - 5
        return _grad2(2 * p + 4 * q, 4 * p + 2 * q)

    def hessian(X: Array) -> Array:
        return _hess2(10.0, 8.0, 10.0, X)

    return _Formula(
        value,
        grad,
        hessian,
        name="booth",
        dim=2,
        bounds=((-10.0, 10.0), (-10.0, 10.0)),
        start=[-5.0, -5.0],
        critical_points=[_cp([1.0, 3.0], 0.0, "minimum")],  # by hand
    )


@_builtin
def six_hump_camel() -> Surface:
    r"""The six-hump camel :math:`(4 - 2.1x^2 + x^4/3)x^2 + xy + (4y^2 - 4)y^2`.

    Two global minima ``f = -1.0316...`` at ``±(0.0898, -0.7126)``, four more local minima,
    two local maxima and seven saddles (the origin one of them) in ``[-3, 3] x [-2, 2]``.
    """

    def value(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (4 * y**2 - 4) * y**2

    def grad(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return _grad2(8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3)

    def hessian(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return _hess2(8 - 25.2 * x**2 + 10 * x**4, 1.0, 48 * y**2 - 8, X)

    return _Formula(
        value,
        grad,
        hessian,
        name="six_hump_camel",
        dim=2,
        bounds=((-3.0, 3.0), (-2.0, 2.0)),
        start=[-1.5, -0.5],
        critical_points=_literal_points(_SIX_HUMP_CAMEL),
    )


@_builtin
def three_hump_camel() -> Surface:
    r"""The three-hump camel :math:`2x^2 - 1.05x^4 + x^6/6 + xy + y^2`.

    Global minimum ``f = 0`` at the origin, two local minima near ``±(1.75, -0.87)`` and
    two saddles between them.
    """

    def value(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2

    def grad(X: Array) -> Array:
        x, y = X[..., 0], X[..., 1]
        return _grad2(4 * x - 4.2 * x**3 + x**5 + y, x + 2 * y)

    def hessian(X: Array) -> Array:
        x = X[..., 0]
        return _hess2(4 - 12.6 * x**2 + 5 * x**4, 1.0, 2.0, X)

    return _Formula(
        value,
        grad,
        hessian,
        name="three_hump_camel",
        dim=2,
        bounds=((-2.5, 2.5), (-2.5, 2.5)),
        start=[-2.0, 2.0],
        critical_points=_literal_points(_THREE_HUMP_CAMEL),
    )


@_builtin
def goldstein_price() -> Surface:
    r"""The Goldstein-Price function :math:`f = A B` with

    .. math::
        A = 1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2),\\
        B = 30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2).

    Global minimum ``f = 3`` at ``(0, -1)``; values span six orders of magnitude over
    ``[-2, 2]^2`` (plots use a log scale). Goldstein & Price, Math. Comp. 1971.
    """

    def parts(X: Array) -> tuple[Array, ...]:
        x, y = X[..., 0], X[..., 1]
        s, d = x + y + 1, 2 * x - 3 * y
        a = 19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2
        b = 18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
        return x, y, s, d, a, b

    def value(X: Array) -> Array:
        _, _, s, d, a, b = parts(X)
        return (1 + s**2 * a) * (30 + d**2 * b)

    def first(X: Array) -> tuple[Array, ...]:
        x, y, s, d, a, b = parts(X)
        a_x = a_y = -14 + 6 * x + 6 * y
        b_x, b_y = -32 + 24 * x - 36 * y, 48 - 36 * x + 54 * y
        A, B = 1 + s**2 * a, 30 + d**2 * b
        A_x, A_y = 2 * s * a + s**2 * a_x, 2 * s * a + s**2 * a_y
        B_x, B_y = 4 * d * b + d**2 * b_x, -6 * d * b + d**2 * b_y
        return s, d, a, b, a_x, a_y, b_x, b_y, A, B, A_x, A_y, B_x, B_y

    def grad(X: Array) -> Array:
        *_, A, B, A_x, A_y, B_x, B_y = first(X)
        return _grad2(A_x * B + A * B_x, A_y * B + A * B_y)

    def hessian(X: Array) -> Array:
        s, d, a, b, a_x, a_y, b_x, b_y, A, B, A_x, A_y, B_x, B_y = first(X)
        # a has all second derivatives 6; b has b_xx = 24, b_xy = -36, b_yy = 54.
        A_xx = 2 * a + 4 * s * a_x + 6 * s**2
        A_xy = 2 * a + 2 * s * (a_x + a_y) + 6 * s**2
        A_yy = 2 * a + 4 * s * a_y + 6 * s**2
        B_xx = 8 * b + 8 * d * b_x + 24 * d**2
        B_xy = -12 * b + 4 * d * b_y - 6 * d * b_x - 36 * d**2
        B_yy = 18 * b - 12 * d * b_y + 54 * d**2
        return _hess2(
            A_xx * B + 2 * A_x * B_x + A * B_xx,
            A_xy * B + A_x * B_y + A_y * B_x + A * B_xy,
            A_yy * B + 2 * A_y * B_y + A * B_yy,
            X,
        )

    return _Formula(
        value,
        grad,
        hessian,
        name="goldstein_price",
        dim=2,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        start=[-1.5, 1.5],
        critical_points=_literal_points(_GOLDSTEIN_PRICE),
    )


# ----------------------------------------------------------------------------------------
# separable n-D functions


@_builtin
def rastrigin(n: int = 2) -> Surface:
    r"""Rastrigin's function :math:`10 n + \sum_i (x_i^2 - 10 \cos 2\pi x_i)`.

    A bowl covered in bumps: a local minimum near every integer point, global minimum
    ``f = 0`` at the origin. It is separable, so its critical points are the products of
    the 21 one-dimensional ones in ``[-5.12, 5.12]`` (roots of
    :math:`x + 10\pi \sin 2\pi x`, near the integers and half-integers); all
    ``21^n`` are listed for ``n <= 2``, only the global minimum above.
    """
    n = _dimension("rastrigin", n)

    def value(X: Array) -> Array:
        return 10 * n + np.sum(X**2 - 10 * np.cos(2 * np.pi * X), axis=-1)

    def grad(X: Array) -> Array:
        return 2 * X + 20 * np.pi * np.sin(2 * np.pi * X)

    def curvature(X: Array) -> Array:
        return 2 + 40 * np.pi**2 * np.cos(2 * np.pi * X)

    if n <= 2:
        cps = _separable_points(_RASTRIGIN_1D, n, value)
    else:
        cps = [_cp(np.zeros(n), 0.0, "minimum", "global minimum")]
    return _separable("rastrigin", n, value, grad, curvature, cps, (-5.12, 5.12), start=3.3)


@_builtin
def styblinski_tang(n: int = 2) -> Surface:
    r"""The Styblinski-Tang function :math:`\tfrac12 \sum_i (x_i^4 - 16 x_i^2 + 5 x_i)`.

    Separable; per coordinate :math:`2x^3 - 16x + 2.5 = 0` has three roots (a minimum near
    -2.9035, a maximum near 0.1567, a minimum near 2.7468), so there are ``3^n`` critical
    points: all listed for ``n <= 6``, only the global minimum (``-39.166... n`` at
    ``(-2.9035..., ...)``) above.
    """
    n = _dimension("styblinski_tang", n)

    def value(X: Array) -> Array:
        return 0.5 * np.sum(X**4 - 16 * X**2 + 5 * X, axis=-1)

    def grad(X: Array) -> Array:
        return 2 * X**3 - 16 * X + 2.5

    def curvature(X: Array) -> Array:
        return 6 * X**2 - 16

    # all 3^n for n <= 6, else only the global minimum (the first 1-D root in every coordinate)
    roots = _STYBLINSKI_TANG_1D if n <= 6 else _STYBLINSKI_TANG_1D[:1]
    cps = _separable_points(roots, n, value)
    return _separable("styblinski_tang", n, value, grad, curvature, cps, (-5.0, 5.0), start=0.5)


# ----------------------------------------------------------------------------------------
# 1-D


@_builtin
def bumpy_1d() -> Surface:
    r"""A tilted double well :math:`f(x) = (x^2 - 1)^2 + x/2`: a shallow local minimum near
    0.93, a bump near 0.13 and the global minimum near -1.06.

    From the default start ``x = 2`` plain gradient descent (``lr = 0.005``) stops in the
    shallow minimum near 0.93; heavy-ball momentum with the same ``lr`` and ``momentum =
    0.9`` (PyTorch's form ``b = 0.9 b + g; x -= lr b``) carries enough speed over the bump
    and settles in the global minimum near -1.06 (3,000 steps; the test checks it). Not
    every setting does: with ``momentum = 0.95`` and ``lr >= 0.007`` the ball swings back
    over the bump and ends in the shallow well again.
    """

    def value(X: Array) -> Array:
        x = X[..., 0]
        return (x**2 - 1) ** 2 + 0.5 * x

    def grad(X: Array) -> Array:
        x = X[..., 0]
        return (4 * x * (x**2 - 1) + 0.5)[..., None]

    def hessian(X: Array) -> Array:
        x = X[..., 0]
        return (12 * x**2 - 4)[..., None, None]

    return _Formula(
        value,
        grad,
        hessian,
        name="bumpy_1d",
        dim=1,
        bounds=((-1.8, 2.2),),
        start=[2.0],
        critical_points=_literal_points(_BUMPY_1D),
    )
