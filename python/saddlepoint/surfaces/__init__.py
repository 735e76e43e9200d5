"""Analytic loss surfaces with exact gradients and Hessians, vectorized over points.

A :class:`Surface` has ``dim``, ``value(X)``, ``grad(X)`` and ``hessian(X)`` for ``X`` of
shape ``(..., dim)``: any number of leading axes, so a grid of 100,000 points or the
current iterates of 100,000 runs is one call. ``value`` returns shape ``(...)``, ``grad``
``(..., dim)`` and ``hessian`` ``(..., dim, dim)``.

dtype: float32 input gives float32 output and float64 gives float64 (the formulas are
written with Python-scalar constants, so NumPy keeps the input's precision); any other
real input (ints, float16, lists) is computed in float64. An ``X`` whose last axis is not
``dim`` raises ``ValueError`` naming the expected shape.

Each surface also carries ``bounds`` (per-coordinate ``(low, high)`` for plots), a default
``start`` and its known ``critical_points``, each a :class:`CriticalPoint` with ``point``,
``value`` and ``kind``: ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"``.
``kind`` is what the Hessian says, the rule of :func:`saddlepoint.hessian.classify` (both
signs: saddle; otherwise a zero eigenvalue makes it ``"degenerate"``): a point whose
semidefinite Hessian has a zero eigenvalue is ``"degenerate"`` even when it is a minimum
(the valley of :func:`tiny_network`) or a saddle (:func:`monkey_saddle`); ``note`` says what
the point really is. The points were derived by hand where a closed form exists and
otherwise found by multi-start Newton iteration on the gradient (float64, iterated until
the step stopped changing the point, then checked); each literal in ``_critical_points``
says which. The formulas are in ``_formulas``, the interface and the registry in ``_surface``.

Look-up by name: :func:`get` and :func:`available` (sweeps and the CLI use names).
"""

from .._lazy import lazy_attributes
from ._formulas import (
    beale,
    booth,
    bumpy_1d,
    goldstein_price,
    himmelblau,
    ill_conditioned,
    monkey_saddle,
    quadratic,
    rastrigin,
    rosenbrock,
    saddle,
    six_hump_camel,
    styblinski_tang,
    three_hump_camel,
    tiny_network,
)
from ._surface import KINDS as KINDS
from ._surface import CriticalPoint, Surface, available, get

__all__ = [
    "CriticalPoint",
    "Surface",
    "available",
    "beale",
    "booth",
    "bumpy_1d",
    "get",
    "goldstein_price",
    "himmelblau",
    "ill_conditioned",
    "monkey_saddle",
    "plot",
    "quadratic",
    "rastrigin",
    "rosenbrock",
    "saddle",
    "six_hump_camel",
    "styblinski_tang",
    "three_hump_camel",
    "tiny_network",
]


# plot depends on this package: plot is imported on first use, not at import time
__getattr__ = lazy_attributes(__name__, "saddlepoint.plot", {"plot": "plot_surface"})
