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

One private module each: ``_classify``, ``_differences``, ``_eigenpairs``, ``_escape``.

References: Nocedal & Wright, *Numerical Optimization* (2nd ed., 2006), sections 2.1 (second
order conditions) and 8.1 (finite-difference derivatives); Dauphin et al., "Identifying and
attacking the saddle point problem in high-dimensional non-convex optimization" (NeurIPS 2014).
"""

from ._classify import RTOL_FACTOR, Classification, classify
from ._differences import hessian, hessian_from_values
from ._eigenpairs import Eigenpairs, highest_eigenpairs, hvp_from_gradient, lowest_eigenpairs
from ._escape import CriticalPointReport, EscapeResult, critical_point_report, escape

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
