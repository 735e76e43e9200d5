"""The Hessian's eigenvalue density by stochastic Lanczos quadrature (Ghorbani, Krishnan &
Xiao, "An Investigation into Neural Net Optimization via Hessian Eigenvalue Density", ICML
2019; Ubaru, Chen & Saad 2017 for the quadrature).

For a unit vector ``v``, ``m`` Lanczos steps from ``v`` give a tridiagonal ``T`` whose
eigenvalues ``theta_i`` and squared first eigenvector components ``tau_i^2`` are the nodes and
weights of the Gauss quadrature of the measure ``sum_j (u_j . v)^2 delta(t - lambda_j)``,
exact for polynomials of degree up to ``2m - 1``. For a random ``v`` its expectation is the
spectral density ``(1/n) sum_j delta(t - lambda_j)``; averaging a few vectors and smoothing
with a Gaussian gives the density Ghorbani et al. plot, and the weight on the negative nodes
estimates the share of negative eigenvalues: one minus the minimum ratio, for models far
too large to form ``H``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import checked_int, is_int, real_number
from ..monitor._curvature import CountingOperator, _lanczos
from ._hvp import HessianVectorProduct, hvp

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: ``_lanczos`` stops once the Ritz residuals are below ``tol`` times the eigenvalue: with a
#: tolerance no residual can exceed it runs exactly ``min_steps`` steps, as SLQ needs
_NEVER_CONVERGED = 1e300


class _Recording(CountingOperator):
    """The operator the Lanczos recurrence calls, reading ``T`` off its calls: it is called
    with the basis vectors ``q_0, q_1, ...`` in order, so ``alpha_j = q_j . H q_j`` and
    ``beta_j = q_{j+1} . H q_j`` (the recurrence's own coefficients, with its full
    reorthogonalisation), keeping only the last product."""

    def __init__(self, hvp: Any, dim: int) -> None:
        super().__init__(hvp, dim, np.float64)
        self.alpha: list[float] = []
        self.beta: list[float] = []
        self._last: np.ndarray | None = None

    def __call__(self, v: np.ndarray) -> np.ndarray:
        q = np.asarray(v, dtype=np.float64).reshape(self.dim)
        out = super().__call__(q)
        if self._last is not None:
            self.beta.append(float(q @ self._last))
        self.alpha.append(float(q @ out))
        self._last = out
        return out


def _quadrature(op: _Recording, start: np.ndarray, steps: int, seed: int) -> tuple[Any, Any]:
    from scipy.linalg import eigh_tridiagonal

    _lanczos(op, start, _NEVER_CONVERGED, low=True, min_steps=steps, seed=seed)
    alpha, beta = np.array(op.alpha), np.array(op.beta)
    if alpha.size == 1:
        return alpha, np.ones(1)
    theta, S = eigh_tridiagonal(alpha, beta)
    return theta, S[0] ** 2  # the start vector is the first basis vector


@dataclass(frozen=True)
class SpectralDensity:
    """An estimated Hessian eigenvalue density (:func:`spectral_density`).

    Attributes
    ----------
    nodes, weights : ndarray, shape (n_vectors, steps)
        Gauss quadrature nodes (Ritz values) and weights (each row sums to 1) per start
        vector.
    dim : int
        Number of parameters ``n``.
    sigma : float
        Width of the Gaussian each node is smoothed with, and the band around zero within
        which a node counts as neither sign: the estimate's resolution.
    negative_share, zero_share, positive_share : float
        The quadrature weight on nodes below ``-sigma``, within ``sigma`` of zero and above
        ``sigma``, averaged over the vectors: estimates of the shares of negative, (near-)
        zero and positive eigenvalues. ``positive_share`` estimates the minimum ratio.
    trace : float
        ``n * mean(sum_i tau_i^2 theta_i)``: Hutchinson's estimate of ``tr H``.
    n_products : int
        Hessian-vector products used.
    """

    nodes: np.ndarray
    weights: np.ndarray
    dim: int
    sigma: float
    negative_share: float
    zero_share: float
    positive_share: float
    trace: float
    n_products: int

    @property
    def minimum_ratio(self) -> float:
        """:attr:`positive_share`: the estimated share of directions curving up."""
        return self.positive_share

    @property
    def lambda_min(self) -> float:
        """The lowest node: the Lanczos estimate of the lowest eigenvalue."""
        return float(self.nodes.min())

    @property
    def lambda_max(self) -> float:
        """The highest node."""
        return float(self.nodes.max())

    def grid(self, points: int | None = None) -> np.ndarray:
        """Evenly spaced eigenvalues from below the lowest node to above the highest; by
        default spaced at most ``sigma / 4`` apart (at least 1,000, at most 100,000 points),
        so that no smoothed node falls between two points."""
        margin = 0.05 * (self.lambda_max - self.lambda_min) + 5.0 * self.sigma
        lo, hi = self.lambda_min - margin, self.lambda_max + margin
        if points is None:
            points = int(min(100_000, max(1000, math.ceil(4.0 * (hi - lo) / self.sigma) + 1)))
        points = checked_int("points", points, 2)
        return np.linspace(lo, hi, points)

    def density(self, t: Any = None, *, sigma: float | None = None) -> np.ndarray:
        """The smoothed density ``(1 / n_vectors) sum_l sum_i tau_li^2 N(t; theta_li,
        sigma^2)`` at the eigenvalues ``t`` (default :meth:`grid`); it integrates to 1."""
        t = self.grid() if t is None else np.asarray(t, dtype=np.float64)
        s = self.sigma if sigma is None else real_number("sigma", sigma)
        if s == 0.0:
            raise ValueError("sigma: expected a finite value > 0, got 0.0")
        z = (t[..., None] - self.nodes.reshape(-1)) / s
        kernel = np.exp(-0.5 * z * z) / (s * math.sqrt(2.0 * math.pi))
        return kernel @ self.weights.reshape(-1) / self.nodes.shape[0]

    def plot(self, ax: Axes | None = None, *, log: bool = True, **kwargs: Any) -> Axes:
        """Draw the density against the eigenvalue (matplotlib, imported here), on a log
        scale by default: the outliers' mass is orders of magnitude below the bulk's, as in
        Ghorbani et al.'s figures. Returns the ``Axes`` (a new figure's without ``ax``)."""
        from ..plot import _new_axes

        ax = _new_axes(ax)
        t = self.grid()
        values = self.density(t)
        if log:
            values = np.maximum(values, 1e-12 * values.max())
            ax.set_yscale("log")
        kwargs.setdefault("color", "C0")
        ax.plot(t, values, **kwargs)
        ax.axvline(0.0, color="0.6", linewidth=0.8)
        ax.set_xlabel("eigenvalue")
        ax.set_ylabel("density")
        ax.set_title(
            f"Hessian spectrum (SLQ, {self.nodes.shape[0]} x {self.nodes.shape[1]}): "
            f"{self.negative_share:.1%} negative"
        )
        return ax

    def __repr__(self) -> str:
        return (
            f"SpectralDensity({self.dim} parameters, nodes in [{self.lambda_min:.4g}, "
            f"{self.lambda_max:.4g}], negative share {self.negative_share:.3g}, "
            f"{self.n_products} products)"
        )


def spectral_density(
    model: Any, loss_fn: Any, data: Any, *, steps: int = 90, n_vectors: int = 1,
    sigma: float | None = None, seed: int = 0, mode: str = "eval", hvp_method: str = "auto",
) -> SpectralDensity:  # fmt: skip
    """The eigenvalue density of a torch model's loss Hessian by stochastic Lanczos quadrature.

    Each of ``n_vectors`` Rademacher start vectors (normalised) runs ``steps`` Lanczos steps
    with full reorthogonalisation (the recurrence of :class:`saddlepoint.Monitor`'s curvature
    checks) on :func:`hvp`'s product; the tridiagonal's eigen-decomposition gives the nodes
    and weights (see the module's notes). ``steps * n_vectors`` products in all; with
    ``steps >= dim`` the nodes are the exact eigenvalues.

    Parameters
    ----------
    model, loss_fn, data, mode
        As for :func:`hvp`.
    steps : int
        Lanczos steps per vector; Ghorbani et al. use 90. The recurrence keeps its basis
        whole and caps it at 300 steps and 200 MB (25 steps at a million parameters):
        ``nodes.shape[1]`` says how many were taken.
    n_vectors : int
        Start vectors averaged. The weights' spread shrinks like ``1/sqrt(dim)``, so one is
        usually enough for a large model; more smooth a small one.
    sigma : float, optional
        Smoothing width; default ``sqrt(1e-5 * max(1, range))`` with ``range`` the spread of
        the nodes, the default of google/spectral-density (the authors' code).
    seed : int
        For the start vectors.
    hvp_method : str
        :func:`hvp`'s ``method``.

    Returns
    -------
    SpectralDensity
        Nodes, weights, the shares of negative / zero / positive eigenvalues (an estimate of
        the minimum ratio), the trace; ``density()`` and ``plot()``.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(4, 1, bias=False).double()
    >>> X = torch.diag(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    >>> d = spectral_density(model, torch.nn.MSELoss(), (X, torch.zeros(4, 1).double()))
    >>> d.nodes.round(6)  # steps >= dim: H = 2 X^T X / 4 exactly, diag(0.5, 2, 4.5, 8)
    array([[0.5, 2. , 4.5, 8. ]])
    >>> d.positive_share
    1.0
    """
    steps = checked_int("steps", steps, 1)
    if steps > 300:
        raise ValueError(f"steps: expected an int in [1, 300], got {steps}")
    n_vectors = checked_int("n_vectors", n_vectors, 1)
    if not is_int(seed):
        raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
    h: HessianVectorProduct = hvp(model, loss_fn, data, mode=mode, method=hvp_method)
    rng = np.random.default_rng(seed)
    rows, products = [], 0
    for _ in range(n_vectors):
        op = _Recording(h, h.dim)
        start = rng.choice([-1.0, 1.0], size=h.dim)
        theta, tau2 = _quadrature(op, start, min(steps, h.dim), int(rng.integers(2**31)))
        rows.append((theta, tau2 / tau2.sum()))
        products += op.count
    nodes, weights = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    spread = float(nodes.max() - nodes.min())
    s = math.sqrt(1e-5 * max(1.0, spread)) if sigma is None else real_number("sigma", sigma)
    if s == 0.0:
        raise ValueError("sigma: expected a finite value > 0, got 0.0")
    share = lambda mask: float((weights * mask).sum() / n_vectors)  # noqa: E731
    return SpectralDensity(
        nodes=nodes,
        weights=weights,
        dim=h.dim,
        sigma=s,
        negative_share=share(nodes < -s),
        zero_share=share(np.abs(nodes) <= s),
        positive_share=share(nodes > s),
        trace=float(h.dim * (weights * nodes).sum() / n_vectors),
        n_products=products,
    )
