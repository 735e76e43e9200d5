"""Classification of a Hessian (or a stack): minimum, maximum, saddle or degenerate, by the
signs of its eigenvalues, with the minimum ratio and the escape direction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from .._checks import real_number
from ..linalg import _decompose, _prepared
from ._common import Array

#: classify's default ``rtol`` is ``RTOL_FACTOR * n * eps(dtype)``: a backward-stable
#: eigensolver's eigenvalues are exact for a matrix within ~``n * eps * |H|`` of ``H``, so an
#: eigenvalue below a few times that cannot be told from zero; 10 leaves a safety margin.
RTOL_FACTOR = 10


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
    eigenvalues : ndarray, shape (..., n), or None
        Ascending; None when classified with ``eigenvalues=False``.
    n_positive, n_negative, n_zero : int or ndarray of int
        Counts of eigenvalues above ``tol``, below ``-tol`` and within ``tol`` of zero.
    minimum_ratio : float or ndarray
        ``n_positive / n``: 1 at a strict minimum, lower at saddles (the share of directions
        curving up).
    escape_direction : ndarray or None
        Unit eigenvector of the most negative eigenvalue, shape (..., n); None for a single
        Hessian without negative eigenvalues, rows of NaN for such members of a stack, and None
        with ``eigenvalues=False``. Its sign is arbitrary: both ``+d`` and ``-d`` lead down to
        second order.
    tol : float or ndarray
        The zero threshold used, ``max(atol, rtol * max|lambda|)``, or
        ``max(atol, rtol * ||H||_F)`` with ``eigenvalues=False``.
    """

    kind: Any
    eigenvalues: Array | None
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


def classify(
    H: np.ndarray,
    *,
    rtol: float | None = None,
    atol: float = 0.0,
    symmetrize: bool = False,
    eigenvalues: bool = True,
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
    eigenvalues : bool
        ``False`` counts the eigenvalues without computing them, for maps of many Hessians
        where only the kind, the counts and the minimum ratio matter: by Sylvester's law of
        inertia, from the signs of the pivots of Bunch-Kaufman ``LDL^T`` factorizations of
        ``H - tol I`` (eigenvalues above ``tol``) and ``H + tol I`` (below ``-tol``), about
        ``n^3/3`` operations each against an eigensolver's several ``n^3``. The scale in the
        zero threshold is then the Frobenius norm ``||H||_F``, which bounds ``max|lambda|``
        and exceeds it by at most ``sqrt(n)``: ``tol = max(atol, rtol * ||H||_F)``, a zero
        band at least as wide as the default path's. ``eigenvalues`` and
        ``escape_direction`` are None then.

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
    if not isinstance(eigenvalues, bool):
        raise TypeError(f"eigenvalues: expected True or False, got {type(eigenvalues).__name__}")
    if H.ndim < 2 or H.shape[-1] != H.shape[-2] or H.shape[-1] == 0:
        raise ValueError(
            "H: expected a Hessian or stack of Hessians of shape (..., n, n) with n >= 1, "
            f"got shape {H.shape}"
        )
    n = H.shape[-1]
    eps = float(np.finfo(H.dtype).eps)
    rtol = RTOL_FACTOR * n * eps if rtol is None else real_number("rtol", rtol)
    atol = real_number("atol", atol)
    if not eigenvalues:
        return _classify_by_inertia(H, rtol=rtol, atol=atol, symmetrize=symmetrize)
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


def _classify_by_inertia(
    H: np.ndarray, *, rtol: float, atol: float, symmetrize: bool
) -> Classification:
    """classify(..., eigenvalues=False): the counts from two LDL^T factorizations per matrix."""
    n = H.shape[-1]
    n_pos, n_neg, tol = _core.inertia_stack(
        _prepared(H, "H"), symmetrize=symmetrize, rtol=rtol, atol=atol, name="H"
    )
    n_zero = n - n_pos - n_neg
    kind = np.full(n_pos.shape, "degenerate", dtype="<U10")
    kind[n_pos == n] = "minimum"
    kind[n_neg == n] = "maximum"
    kind[(n_pos > 0) & (n_neg > 0)] = "saddle"
    ratio = n_pos / n
    if n_pos.ndim == 0:
        return Classification(
            kind=str(kind),
            eigenvalues=None,
            n_positive=int(n_pos),
            n_negative=int(n_neg),
            n_zero=int(n_zero),
            minimum_ratio=float(ratio),
            escape_direction=None,
            tol=float(tol),
        )
    return Classification(kind, None, n_pos, n_neg, n_zero, ratio, None, tol)
