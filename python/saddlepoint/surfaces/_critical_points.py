"""The known critical points of the built-in surfaces, as literals, and how they were found.

Kept apart from the formulas (:mod:`._formulas`): these are data, checked by the tests
against the gradients and Hessians the formulas give.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from ._surface import Array, CriticalPoint, _cp


def _literal_points(
    rows: Sequence[tuple[Sequence[float], float, str, str]],
) -> list[CriticalPoint]:
    return [_cp(p, v, k, note) for p, v, k, note in rows]


def _separable_points(
    roots: Sequence[tuple[float, str]], n: int, value: Callable[[Array], Array]
) -> list[CriticalPoint]:
    """All products of 1-D critical points: the Hessian is diagonal, so the kind follows
    the count of coordinates at a 1-D maximum."""
    out = []
    for combo in itertools.product(roots, repeat=n):
        point = np.array([r for r, _ in combo])
        n_max = sum(k == "maximum" for _, k in combo)
        kind = "minimum" if n_max == 0 else "maximum" if n_max == n else "saddle"
        out.append(_cp(point, float(value(point)), kind))
    return out


# Critical points as literals: (point, value, kind, note). Unless marked exact, found by
# Newton's method on the gradient started from every point of a 401 x 401 grid over the
# bounds (a 20,001-point grid in 1-D), duplicates merged, then each polished by further
# float64 Newton steps until a step no longer changed it, keeping the iterate of smallest
# |grad|; kind from the signs of numpy.linalg.eigvalsh of the Hessian there (all far from
# zero); value from the formula at the literal. Complete inside the bounds as far as that
# search can tell.
_Rows = list[tuple[Sequence[float], float, str, str]]


_HIMMELBLAU: _Rows = [
    ([3.0, 2.0], 0.0, "minimum", "global minimum (exact)"),
    ([3.5844283403304917, -1.8481265269644036], 0.0, "minimum", "global minimum"),
    ([-3.779310253377747, -3.2831859912861696], 0.0, "minimum", "global minimum"),
    ([-2.805118086952745, 3.131312518250573], 0.0, "minimum", "global minimum"),
    ([3.385154183607021, 0.07385187983774928], 13.311926270405587, "saddle", ""),
    ([0.08667750455539634, 2.884254701174776], 67.71915008752613, "saddle", ""),
    ([-3.0730257507643897, -0.08135304428796751], 104.01516291755811, "saddle", ""),
    ([-0.12796134673068005, -1.9537149802445766], 178.33723920192745, "saddle", ""),
    ([-0.2708445906673476, -0.9230385564799816], 181.6165215225827, "maximum", ""),
]


_BEALE: _Rows = [
    ([3.0, 0.5], 0.0, "minimum", "global minimum (exact)"),
    ([0.1005379373241584, -2.6445135850231245], 9.86451228475556, "saddle", ""),
    # Exact: on x = 0 only df/dx survives, 1.5(y-1) + 2.25(y^2-1) + 2.625(y^3-1), whose
    # only real root is y = 1.
    ([0.0, 1.0], 14.203125, "saddle", "exact"),
]


_SIX_HUMP_CAMEL: _Rows = [
    ([-0.08984201310031807, 0.7126564030207396], -1.0316284534898774, "minimum", "global minimum"),
    ([0.08984201310031807, -0.7126564030207396], -1.0316284534898774, "minimum", "global minimum"),
    ([-1.7036067149699814, 0.7960835686726251], -0.21546382438372036, "minimum", ""),
    ([1.7036067149699807, -0.7960835686726251], -0.21546382438371725, "minimum", ""),
    ([-1.6071047529201976, -0.5686514548841313], 2.1042503103112593, "minimum", ""),
    ([1.6071047529201976, 0.5686514548841313], 2.1042503103112593, "minimum", ""),
    ([0.0, 0.0], 0.0, "saddle", "exact"),
    ([-1.1092053368047863, 0.7682680925095399], 0.543718600978185, "saddle", ""),
    ([1.1092053368047863, -0.7682680925095399], 0.543718600978185, "saddle", ""),
    ([-1.6380679841897785, -0.22867406904439408], 2.2293571975307147, "saddle", ""),
    ([1.6380679841897785, 0.22867406904439408], 2.2293571975307147, "saddle", ""),
    ([-1.2960702671671092, -0.6050843880386585], 2.229470818029859, "saddle", ""),
    ([1.2960702671671092, 0.6050843880386585], 2.229470818029859, "saddle", ""),
    ([-1.2302298765166526, -0.16233458445899498], 2.4962953510235764, "maximum", ""),
    ([1.2302298765166526, 0.16233458445899498], 2.4962953510235764, "maximum", ""),
]


_THREE_HUMP_CAMEL: _Rows = [
    ([0.0, 0.0], 0.0, "minimum", "global minimum (exact)"),
    ([-1.747552345830289, 0.8737761729151445], 0.29863844223686054, "minimum", ""),
    ([1.747552345830289, -0.8737761729151445], 0.29863844223686054, "minimum", ""),
    ([-1.0705422918236598, 0.5352711459118299], 0.8773615577631402, "saddle", ""),
    ([1.0705422918236598, -0.5352711459118299], 0.8773615577631402, "saddle", ""),
]


# Goldstein-Price: the search finds nine critical points, all at rational coordinates
# (multiples of 1/5) with integer values; the gradient vanishes there exactly in rational
# arithmetic (fractions.Fraction), so the literals are the nearest doubles.
_GOLDSTEIN_PRICE: _Rows = [
    ([0.0, -1.0], 3.0, "minimum", "global minimum"),
    ([-0.6, -0.4], 30.0, "minimum", ""),
    ([1.8, 0.2], 84.0, "minimum", ""),
    ([1.2, 0.8], 840.0, "minimum", ""),
    ([-0.4, -0.6], 35.0, "saddle", ""),
    ([1.2, -0.2], 99.0, "saddle", ""),
    ([1.4, 0.6], 980.0, "saddle", ""),
    ([0.6, 0.4], 990.0, "saddle", ""),
    ([0.8, 0.2], 1155.0, "maximum", ""),
]


# Roots of 4x^3 - 4x + 1/2.
_BUMPY_1D: _Rows = [
    ([-1.057453770738378], -0.5147536412757056, "minimum", "global minimum"),
    ([0.9304029265558517], 0.4832514917147508, "minimum", "shallow local minimum"),
    ([0.1270508441825262], 1.0315021495609549, "maximum", "the bump"),
]


# Newton's method on the gradient from (-1, 1, ..., 1), float64, to a fixed point; value
# from the formula there. The Hessian is positive definite at each (checked in the tests).
_ROSENBROCK_LOCAL_MIN: dict[int, tuple[list[float], float]] = {
    4: (
        [-0.7756592265653527, 0.6130933654850436, 0.38206284633839327, 0.14597201855219472],
        3.7014286104300176,
    ),
    5: (
        [
            -0.9620510206947501,
            0.9357393959767101,
            0.8807136041943207,
            0.7778776758544064,
            0.605093678592653,
        ],
        3.930839434133028,
    ),
    6: (
        [
            -0.9865749795709937,
            0.9833982288361818,
            0.9721066700530919,
            0.947437436826436,
            0.8986511848517296,
            0.8075739520354174,
        ],
        3.973940500930295,
    ),
    7: (
        [
            -0.9917225725614055,
            0.9935553935033712,
            0.9921733215946921,
            0.986898762690314,
            0.975164756608873,
            0.9514319827049926,
            0.9052228177139535,
        ],
        3.983600536424854,
    ),
}


# Newton's method on x + 10 pi sin(2 pi x) from each k/2, k = 1..10 (float64, to a fixed
# point); the function is odd, so the negative roots are the negated ones; 0 is exact.
_RASTRIGIN_1D_POSITIVE: list[tuple[float, str]] = [
    (0.5025460365546747, "maximum"),
    (0.9949586376523348, "minimum"),
    (1.5076407318703584, "maximum"),
    (1.9899122337085497, "minimum"),
    (2.512743318200085, "maximum"),
    (2.984855701039481, "minimum"),
    (3.517859138170441, "maximum"),
    (3.9797838603007536, "minimum"),
    (4.522993659584519, "maximum"),
    (4.974691390895051, "minimum"),
]


_RASTRIGIN_1D: list[tuple[float, str]] = [
    *((-r, k) for r, k in reversed(_RASTRIGIN_1D_POSITIVE)),
    (0.0, "minimum"),
    *_RASTRIGIN_1D_POSITIVE,
]


# Newton's method on 2x^3 - 16x + 2.5 from -3, 0 and 3 (float64, to a fixed point).
_STYBLINSKI_TANG_1D: list[tuple[float, str]] = [
    (-2.903534027771177, "minimum"),
    (0.1567312567803401, "maximum"),
    (2.746802770990837, "minimum"),
]
