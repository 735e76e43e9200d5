"""Step-size quality alpha (Cockpit's noise-free form; Schneider et al. 2021, "Cockpit: A
Practical Debugging Tool for the Training of Deep Neural Networks", section 4).

Along one update ``dtheta`` the loss is ``f(t) = L(theta + t dtheta)``, known at both ends by
value and slope: ``f(0) = L_t``, ``f'(0) = g_t . dtheta``, ``f(1) = L_(t+1)``,
``f'(1) = g_(t+1) . dtheta``. A parabola ``q(t) = a t^2 + b t + c`` is fitted to these four
numbers by least squares (equal weights); its minimum sits at ``t* = -b / (2a)``. On the
scale where the start is -1, the valley floor 0 and the point across the valley at the start's
height +1, the step's end lies at ``alpha = 1 / t* - 1``: about -1 is a step far too short,
0 one that lands on the floor, +1 one that jumps to the other wall, above 1 one that climbs.
Where the fitted parabola opens downward (``a <= 0``) alpha is undefined (NaN).
"""

from __future__ import annotations

import math

import numpy as np

# rows: q(0) = c, q'(0) = b, q(1) = a + b + c, q'(1) = 2a + b; unknowns (a, b, c)
_DESIGN = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [2.0, 1.0, 0.0]])
_SOLVE_A, _SOLVE_B, _ = (tuple(float(w) for w in row) for row in np.linalg.pinv(_DESIGN))


def step_alpha(loss0: float, slope0: float, loss1: float, slope1: float) -> float:
    """alpha of one step from the loss and directional derivative at both ends."""
    if not math.isfinite(loss0 + slope0 + loss1 + slope1):
        return math.nan
    # plain floats: this runs once per observed step
    a0, a1, a2, a3 = _SOLVE_A
    b0, b1, b2, b3 = _SOLVE_B
    a = a0 * loss0 + a1 * slope0 + a2 * loss1 + a3 * slope1
    b = b0 * loss0 + b1 * slope0 + b2 * loss1 + b3 * slope1
    return _alpha_of_parabola(a, b)


def _alpha_of_parabola(a: float, b: float) -> float:
    """alpha = 1/t* - 1 for q(t) = a t^2 + b t + c, t* = -b / (2a); NaN where it opens down."""
    if not a > 0:
        return math.nan
    t_star = -b / (2.0 * a)
    if t_star == 0:
        return math.inf
    return float(1.0 / t_star - 1.0)


def step_alpha_values(loss0: float, slope0: float, loss1: float) -> float:
    """alpha from the loss at both ends and the slope at the start only (the parabola through
    the three), where the slope at the end along the step is not known: Adam's instrumented
    step has only its momentum for the previous direction."""
    if not math.isfinite(loss0 + slope0 + loss1):
        return math.nan
    # q(0) = loss0, q'(0) = slope0, q(1) = loss1
    return _alpha_of_parabola(loss1 - loss0 - slope0, slope0)
