"""Curvature of a torch model: extreme eigenpairs, the critical-point label and the escape.

Everything here is :mod:`saddlepoint.hessian` applied to :func:`hvp`'s product: the
eigenpairs are its matrix-free Lanczos (ARPACK through SciPy, or dense for small models),
the labels follow :func:`saddlepoint.hessian.classify`'s rule, and the escape is its line
search. The spectral density lives in ``_density``; this module re-exports it so that the
five names resolve from one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import checked_int, real_number
from ..hessian import RTOL_FACTOR, Eigenpairs, EscapeResult, highest_eigenpairs, lowest_eigenpairs
from ..hessian import classify as classify_hessian
from ..hessian import escape as escape_along
from ._density import SpectralDensity, spectral_density
from ._hvp import HessianVectorProduct, Layout, hvp

__all__ = [
    "ModelClassification",
    "SpectralDensity",
    "classify",
    "eigenpairs",
    "escape",
    "hvp",
    "spectral_density",
]


def _default_tol(h: HessianVectorProduct) -> float:
    # ARPACK's relative accuracy: machine precision is out of reach when the products are
    # float32 (their own rounding is ~1e-7 of |H|), its square root is not
    return float(np.sqrt(h.eps))


def eigenpairs(
    model: Any, loss_fn: Any, data: Any, which: str = "lowest", k: int = 1, *,
    mode: str = "eval", tol: float | None = None, maxiter: int | None = None,
    dense_below: int = 16, hvp_method: str = "auto",
) -> Eigenpairs:  # fmt: skip
    """The ``k`` lowest or highest eigenpairs of a torch model's loss Hessian, matrix-free.

    The lowest eigenpair is what a saddle needs (its eigenvector is the way down) and what
    power iteration, PyHessian's method, cannot give when positive curvature dominates.
    SciPy's implicitly restarted Lanczos (:func:`saddlepoint.hessian.lowest_eigenpairs`,
    ``which="SA"``/``"LA"``) on :func:`hvp`'s product; models with at most ``dense_below``
    parameters form ``H`` from ``dim`` products and decompose it exactly.

    Parameters
    ----------
    model, loss_fn, data, mode
        As for :func:`hvp` (the Hessian of the mean loss over ``data``).
    which : {"lowest", "highest"}
        The algebraically smallest (most negative) or largest eigenvalues.
    k : int
        How many.
    tol : float, optional
        ARPACK's relative accuracy; default ``sqrt(eps)`` of the parameters' dtype (1.5e-8
        in float64, 3.5e-4 in float32: a float32 product's rounding rules out more).
    maxiter : int, optional
        ARPACK's restarts (default ``10 * dim``).
    dense_below : int
        Dense below this many parameters.
    hvp_method : str
        :func:`hvp`'s ``method``.

    Returns
    -------
    saddlepoint.hessian.Eigenpairs
        ``eigenvalues`` (most extreme first), unit ``eigenvectors`` as columns (flat, in
        :attr:`HessianVectorProduct.layout` order), ``residual_norms``
        ``||H v - lambda v||`` (each eigenvalue is within its residual of a true one),
        ``n_products``, ``method``.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(3, 1, bias=False)
    >>> X = torch.eye(3, dtype=torch.float32) * torch.tensor([1.0, 2.0, 3.0])
    >>> pairs = eigenpairs(model, torch.nn.MSELoss(), (X, torch.zeros(3, 1)), "highest")
    >>> round(float(pairs.eigenvalues[0]), 4)  # H = 2 X^T X / 3 = diag(2, 8, 18) / 3
    6.0
    """
    if which not in ("lowest", "highest"):
        raise ValueError(f"which: expected 'lowest' or 'highest', got {which!r}")
    h = hvp(model, loss_fn, data, mode=mode, method=hvp_method)
    return _extreme(h, which, k, tol=tol, maxiter=maxiter, dense_below=dense_below)


def _extreme(
    h: HessianVectorProduct, which: str, k: int, *, tol: float | None,
    maxiter: int | None, dense_below: int,
) -> Eigenpairs:  # fmt: skip
    solve = lowest_eigenpairs if which == "lowest" else highest_eigenpairs
    return solve(
        h, h.dim, k, tol=_default_tol(h) if tol is None else real_number("tol", tol),
        maxiter=maxiter, dense_below=dense_below, dtype=np.float64,
    )  # fmt: skip


@dataclass(frozen=True)
class ModelClassification:
    """What the Hessian of a torch model's loss says about its current parameters.

    Attributes
    ----------
    kind : str
        ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"``, by the rule of
        :func:`saddlepoint.hessian.classify` applied to the extreme eigenvalues.
    lambda_min, lambda_max : float
        The lowest and highest eigenvalues.
    residual_min, residual_max : float
        Their residual norms ``||H v - lambda v||`` (0 where ``H`` was decomposed densely
        to rounding).
    tol : float
        The zero threshold ``max(atol, rtol * max(|lambda_min|, |lambda_max|))``; a
        matrix-free eigenvalue counts as zero within ``tol`` plus its residual.
    escape_direction : ndarray or None
        Unit eigenvector of ``lambda_min`` (flat, in :attr:`layout` order) when it is
        negative, else None; either sign leads down to second order.
    eigenvalues : ndarray or None
        The whole spectrum, ascending, where it was formed densely.
    minimum_ratio : float or None
        Share of positive eigenvalues, where the whole spectrum is known (an estimate for
        large models: :func:`spectral_density`).
    loss, gradient_norm : float
        At the point: a label is about a critical point, so look at the gradient too.
    n_products : int
        Hessian-vector products used.
    method : str
        ``"dense"`` or ``"eigsh"``.
    layout : Layout
        Parameter names, shapes and offsets of the flat vectors.
    """

    kind: str
    lambda_min: float
    lambda_max: float
    residual_min: float
    residual_max: float
    tol: float
    escape_direction: np.ndarray | None
    eigenvalues: np.ndarray | None
    minimum_ratio: float | None
    loss: float
    gradient_norm: float
    n_products: int
    method: str
    layout: Layout

    def escape_by_parameter(self) -> dict[str, np.ndarray] | None:
        """:attr:`escape_direction` split by parameter name and shape (None without one)."""
        d = self.escape_direction
        return None if d is None else self.layout.unflatten(d)


def classify(
    model: Any, loss_fn: Any, data: Any, *, mode: str = "eval", rtol: float | None = None,
    atol: float = 0.0, tol: float | None = None, dense_below: int = 64,
    hvp_method: str = "auto",
) -> ModelClassification:  # fmt: skip
    """Label a torch model's current parameters minimum, maximum, saddle or degenerate.

    The rule is :func:`saddlepoint.hessian.classify`'s, on the extreme eigenvalues (they
    decide it: every eigenvalue is positive exactly when the lowest is): with
    ``tol = max(atol, rtol * max(|lambda_min|, |lambda_max|))``

    ==============================================  ==============
    ``lambda_min > tol``                            ``minimum``
    ``lambda_max < -tol``                           ``maximum``
    ``lambda_min < -tol`` and ``lambda_max > tol``  ``saddle``
    otherwise                                       ``degenerate``
    ==============================================  ==============

    Models with at most ``dense_below`` parameters form ``H`` from ``dim`` products and
    are classified by :func:`saddlepoint.hessian.classify` itself (every eigenvalue, the
    exact minimum ratio). Larger ones use :func:`eigenpairs` at both ends, and an eigenvalue
    counts as zero within ``tol`` *plus its residual norm*: a Lanczos estimate is only known
    to be within its residual of a true eigenvalue, so a sign inside that band is not taken
    as an answer.

    Parameters
    ----------
    model, loss_fn, data, mode
        As for :func:`hvp`.
    rtol : float, optional
        Default ``RTOL_FACTOR * n * eps`` of the parameters' dtype, as
        :func:`saddlepoint.hessian.classify` for exact Hessians (the products are exact to
        rounding): ``n = dim`` where ``H`` is dense (a dense eigensolver's backward error
        grows with ``n``), ``n = 1`` matrix-free (each eigenvalue's error is its residual,
        counted separately).
    atol : float
        Absolute zero threshold.
    tol : float, optional
        ARPACK's relative accuracy (see :func:`eigenpairs`).
    dense_below : int
        Dense up to this many parameters.
    hvp_method : str
        :func:`hvp`'s ``method``.

    Returns
    -------
    ModelClassification

    Examples
    --------
    The lecture's two-weight network ``y = w1 w2 x`` at the origin, on ``x = 1`` with
    target 1 and the loss ``(y - 1)^2``: ``H = [[0, -2], [-2, 0]]``, a saddle.

    >>> import torch
    >>> class TwoWeights(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w1 = torch.nn.Parameter(torch.zeros(()))
    ...         self.w2 = torch.nn.Parameter(torch.zeros(()))
    ...     def forward(self, x):
    ...         return self.w1 * self.w2 * x
    >>> c = classify(TwoWeights(), torch.nn.MSELoss(), (torch.ones(1), torch.ones(1)))
    >>> c.kind, c.eigenvalues, c.minimum_ratio
    ('saddle', array([-2.,  2.]), 0.5)
    """
    h = hvp(model, loss_fn, data, mode=mode, method=hvp_method)
    return _classify(h, rtol=rtol, atol=atol, tol=tol, dense_below=dense_below)


def _classify(
    h: HessianVectorProduct, *, rtol: float | None, atol: float, tol: float | None,
    dense_below: int,
) -> ModelClassification:  # fmt: skip
    dense_below = checked_int("dense_below", dense_below, 0)
    atol = real_number("atol", atol)
    eps = h.eps
    start = h.n_products
    loss, gradient_norm = h.loss(), float(np.linalg.norm(h.gradient()))
    if h.dim <= dense_below:
        H = np.stack([h(e) for e in np.eye(h.dim)], axis=1)
        c = classify_hessian(
            H, rtol=RTOL_FACTOR * h.dim * eps if rtol is None else rtol, atol=atol,
            symmetrize=True,
        )  # fmt: skip
        w = np.asarray(c.eigenvalues, dtype=np.float64)
        return ModelClassification(
            c.kind, float(w[0]), float(w[-1]), 0.0, 0.0, float(c.tol), c.escape_direction,
            w, float(c.minimum_ratio), loss, gradient_norm, h.n_products - start, "dense",
            h.layout,
        )  # fmt: skip
    rtol = RTOL_FACTOR * eps if rtol is None else real_number("rtol", rtol)
    low = _extreme(h, "lowest", 1, tol=tol, maxiter=None, dense_below=0)
    high = _extreme(h, "highest", 1, tol=tol, maxiter=None, dense_below=0)
    lo, hi = float(low.eigenvalues[0]), float(high.eigenvalues[0])
    r_lo, r_hi = float(low.residual_norms[0]), float(high.residual_norms[0])
    zero = max(atol, rtol * max(abs(lo), abs(hi)))
    negative, positive = lo < -(zero + r_lo), hi > zero + r_hi
    if lo > zero + r_lo:
        kind = "minimum"
    elif hi < -(zero + r_hi):
        kind = "maximum"
    elif negative and positive:
        kind = "saddle"
    else:
        kind = "degenerate"
    direction = low.eigenvectors[:, 0].copy() if negative else None
    return ModelClassification(
        kind, lo, hi, r_lo, r_hi, zero, direction, None, None, loss, gradient_norm,
        h.n_products - start, "eigsh", h.layout,
    )  # fmt: skip


def escape(
    model: Any, loss_fn: Any, data: Any, *, direction: Any = None, mode: str = "eval",
    monitor: Any = None, initial_step: float | None = None, xtol: float = 1e-10,
    hvp_method: str = "auto", **classify_options: Any,
) -> EscapeResult:  # fmt: skip
    """Leave a saddle: a line search along the lowest eigenvector, the model updated in place.

    The direction is :func:`classify`'s ``escape_direction`` (the eigenvector of the most
    negative eigenvalue) unless one is given; the search is
    :func:`saddlepoint.hessian.escape`'s (try both signs, double the step while the loss
    falls, then golden-section search), on the mean loss over ``data``. The parameters are
    written **in place** at the best point found (``torch.no_grad``, each keeping its dtype
    and device): the optimizer, its state and a :func:`watch`-ing monitor keep pointing at
    the same tensors, so the loop continues without rebuilding anything. They are left
    exactly as they were when no descent is found (``loss_drop == 0``) or on an error.

    Parameters
    ----------
    model, loss_fn, data, mode
        As for :func:`hvp`.
    direction : array_like, optional
        A flat direction (length ``dim``, :attr:`HessianVectorProduct.layout` order).
    monitor : saddlepoint.Monitor, optional
        Told :meth:`~saddlepoint.Monitor.jumped` after the move, so that the jump is not
        counted as an update and the windows restart.
    initial_step, xtol
        :func:`saddlepoint.hessian.escape`'s.
    **classify_options
        Passed to :func:`classify` (``rtol``, ``atol``, ``tol``, ``dense_below``).

    Returns
    -------
    saddlepoint.hessian.EscapeResult
        ``x`` the new flat parameters, ``value`` and ``initial_value`` of the loss,
        ``loss_drop``, the signed ``step`` and ``n_evaluations``.

    Raises
    ------
    ValueError
        Without ``direction`` at a point whose Hessian has no negative eigenvalue (nothing
        to escape along).

    Examples
    --------
    From the lecture's saddle at the origin into the valley ``w1 w2 = 1``:

    >>> import torch
    >>> class TwoWeights(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w1 = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
    ...         self.w2 = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
    ...     def forward(self, x):
    ...         return self.w1 * self.w2 * x
    >>> net = TwoWeights()
    >>> data = (torch.ones(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64))
    >>> r = escape(net, torch.nn.MSELoss(), data)
    >>> round(float(net.w1.detach() * net.w2.detach()), 6), round(r.loss_drop, 6)
    (1.0, 1.0)
    """
    h = hvp(model, loss_fn, data, mode=mode, method=hvp_method)
    if monitor is not None and not callable(getattr(monitor, "jumped", None)):
        raise TypeError(f"monitor: expected a saddlepoint.Monitor, got {type(monitor).__name__}")
    if direction is None:
        c = _classify(
            h, rtol=classify_options.pop("rtol", None), atol=classify_options.pop("atol", 0.0),
            tol=classify_options.pop("tol", None),
            dense_below=classify_options.pop("dense_below", 64),
        )  # fmt: skip
        if classify_options:
            raise TypeError(f"escape: unexpected arguments {sorted(classify_options)}")
        if c.escape_direction is None:
            raise ValueError(
                f"model: the Hessian has no negative eigenvalue here (kind {c.kind!r}, "
                f"lambda_min = {c.lambda_min:.3g}); nothing to escape along (pass direction= "
                "to search along another)"
            )
        direction = c.escape_direction
    elif classify_options:
        raise TypeError(f"escape: unexpected arguments {sorted(classify_options)}")
    else:
        direction = h._vector(direction, "direction")
    start = h.vector()

    def loss_at(x: np.ndarray) -> float:
        h.assign(x)
        return h.loss()

    try:
        result = escape_along(loss_at, start, direction, initial_step=initial_step, xtol=xtol)
    finally:
        h.assign(start)  # every trial point undone, whatever happened
    if result.loss_drop > 0:
        h.assign(result.x)
        if monitor is not None:
            monitor.jumped()
    return result
