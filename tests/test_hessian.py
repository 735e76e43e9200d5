"""saddlepoint.hessian: classification, finite-difference Hessians, matrix-free eigenpairs,
escape from saddles. Reference Hessians are derived by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest
import saddlepoint
from saddlepoint import hessian as hs

EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)


# --- the lecture's example: L(w1, w2) = (1 - w1 w2)^2 ---------------------------------------


def lecture_loss(w):
    return (1.0 - w[0] * w[1]) ** 2


def lecture_grad(w):
    # dL/dw1 = -2 w2 (1 - w1 w2), dL/dw2 = -2 w1 (1 - w1 w2)
    r = 1.0 - w[0] * w[1]
    return np.array([-2.0 * w[1] * r, -2.0 * w[0] * r])


def lecture_hessian(w):
    # d2L/dw1^2 = 2 w2^2, d2L/dw2^2 = 2 w1^2, d2L/dw1 dw2 = -2 (1 - w1 w2) + 2 w1 w2
    w1, w2 = w
    return np.array([[2 * w2**2, 4 * w1 * w2 - 2], [4 * w1 * w2 - 2, 2 * w1**2]])


def test_lecture_saddle_is_classified_with_its_escape_direction():
    c = saddlepoint.classify(lecture_hessian(np.zeros(2)))
    assert c.kind == "saddle"
    assert np.allclose(c.eigenvalues, [-2.0, 2.0], rtol=0, atol=4 * EPS64)
    assert (c.n_positive, c.n_negative, c.n_zero) == (1, 1, 0)
    assert c.minimum_ratio == 0.5
    d = c.escape_direction
    assert np.isclose(np.linalg.norm(d), 1.0)
    assert np.isclose(abs(d @ np.array([1.0, 1.0])) / np.sqrt(2.0), 1.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("given", [False, True])
def test_lecture_report_escapes_into_the_valley(given):
    x0 = np.zeros(2)
    r = hs.critical_point_report(
        lecture_loss, lecture_grad, x0, lecture_hessian if given else None
    )
    assert r.is_critical and r.gradient_norm == 0.0
    assert r.kind == "saddle" and r.minimum_ratio == 0.5
    assert r.hessian_source == ("given" if given else "finite differences")
    assert np.allclose(r.classification.eigenvalues, [-2.0, 2.0], rtol=0, atol=1e-8)
    e = r.escape
    assert e is not None
    w1, w2 = e.x
    assert abs(w1 * w2 - 1.0) < 1e-8  # on the valley of minima w1 w2 = 1
    assert np.isclose(w1, w2)  # along +-(1, 1)/sqrt(2): the point is +-(1, 1)
    assert np.isclose(abs(e.step), np.sqrt(2.0), rtol=1e-8)
    assert e.initial_value == 1.0 and e.value < 1e-15
    assert e.loss_drop == e.initial_value - e.value
    assert np.array_equal(x0, np.zeros(2))


# --- classification of analytic cases ---------------------------------------------------------

# Hessians at the origin, derived by hand:
#   x^2 + y^2            [[2, 0], [0, 2]]           minimum
#   -x^2 - 3 y^2         [[-2, 0], [0, -6]]         maximum
#   x^2 - y^2            [[2, 0], [0, -2]]          saddle
#   x^4 + y^4            0                          degenerate (a minimum, by the quartic terms)
#   x^2 + y^3            [[2, 0], [0, 0]]           degenerate (a saddle, by the cubic term)
#   x^3 - 3 x y^2        0                          degenerate (the monkey saddle)
#   (x - y)^2            [[2, -2], [-2, 2]]         degenerate (a valley of minima), eig 0, 4
#   -x^2 + y^3           [[-2, 0], [0, 0]]          degenerate, with an escape direction e_x
#   x^2 - y^2 + 0 z      diag(2, -2, 0)             saddle: a way down exists despite the zero
#   Rosenbrock at (1,1)  [[802, -400], [-400, 200]] minimum (det 400, trace 1002)
CASES = {
    "bowl": ([[2, 0], [0, 2]], "minimum", (2, 0, 0)),
    "cap": ([[-2, 0], [0, -6]], "maximum", (0, 2, 0)),
    "saddle": ([[2, 0], [0, -2]], "saddle", (1, 1, 0)),
    "quartic": ([[0, 0], [0, 0]], "degenerate", (0, 0, 2)),
    "cubic": ([[2, 0], [0, 0]], "degenerate", (1, 0, 1)),
    "monkey": ([[0, 0], [0, 0]], "degenerate", (0, 0, 2)),
    "valley": ([[2, -2], [-2, 2]], "degenerate", (1, 0, 1)),
    "ridge_cubic": ([[-2, 0], [0, 0]], "degenerate", (0, 1, 1)),
    "saddle_flat": ([[2, 0, 0], [0, -2, 0], [0, 0, 0]], "saddle", (1, 1, 1)),
    "rosenbrock": ([[802, -400], [-400, 200]], "minimum", (2, 0, 0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_analytic_cases(name, dtype):
    H, kind, counts = CASES[name]
    H = np.array(H, dtype=dtype)
    c = hs.classify(H)
    assert c.kind == kind
    assert (c.n_positive, c.n_negative, c.n_zero) == counts
    assert c.minimum_ratio == counts[0] / H.shape[0]
    ref = np.linalg.eigvalsh(H.astype(np.float64))
    assert np.allclose(c.eigenvalues, ref, rtol=0, atol=1e-4)
    if counts[1]:
        d = c.escape_direction.astype(np.float64)
        # the eigenvector of the most negative eigenvalue: H d = lambda_min d
        assert np.allclose(H @ d, ref[0] * d, rtol=0, atol=1e-4)
    else:
        assert c.escape_direction is None


def test_valley_needs_the_relative_tolerance():
    # (x - y)^2: the zero eigenvalue comes out as rounding noise of either sign
    H = np.array([[2.0, -2.0], [-2.0, 2.0]]) * 1e3
    H[0, 1] = H[1, 0] = -2e3 * (1 + 3e-16)
    c = hs.classify(H)
    assert c.kind == "degenerate" and c.n_zero == 1
    assert hs.classify(H, rtol=0.0).kind in ("minimum", "saddle")  # noise decides otherwise


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_default_rtol_is_ten_n_eps(dtype):
    n = 3
    default = hs.RTOL_FACTOR * n * float(np.finfo(dtype).eps)
    assert hs.RTOL_FACTOR == 10
    for factor, kind in ((0.5, "degenerate"), (2.0, "minimum")):
        H = np.diag([1.0, 0.5, factor * default]).astype(dtype)
        c = hs.classify(H)
        assert c.kind == kind
        assert np.isclose(c.tol, default)


def test_atol_and_rtol_take_the_larger_threshold():
    H = np.diag([-1e-3, 1.0, 2.0])
    assert hs.classify(H).kind == "saddle"
    assert hs.classify(H, atol=2e-3).kind == "degenerate"
    assert hs.classify(H, rtol=1e-3 / 2 * 1.01).kind == "degenerate"
    assert np.isclose(hs.classify(H, atol=0.1, rtol=1e-3).tol, 0.1)


def test_stack_gives_arrays():
    H = np.stack([np.array(CASES[k][0], dtype=float) for k in ("bowl", "saddle", "valley", "cap")])
    c = hs.classify(H.reshape(2, 2, 2, 2))
    assert c.kind.shape == (2, 2)
    assert c.kind.tolist() == [["minimum", "saddle"], ["degenerate", "maximum"]]
    assert c.n_positive.tolist() == [[2, 1], [1, 0]]
    assert c.n_negative.tolist() == [[0, 1], [0, 2]]
    assert c.n_zero.tolist() == [[0, 0], [1, 0]]
    assert c.minimum_ratio.tolist() == [[1.0, 0.5], [0.5, 0.0]]
    assert c.escape_direction.shape == (2, 2, 2)
    assert np.all(np.isnan(c.escape_direction[0, 0])) and np.all(
        np.isnan(c.escape_direction[1, 0])
    )
    assert np.allclose(np.abs(c.escape_direction[0, 1]), [0.0, 1.0])
    # the cap diag(-2, -6): the most negative eigenvalue, -6, belongs to e_y
    assert np.allclose(np.abs(c.escape_direction[1, 1]), [0.0, 1.0])
    empty = hs.classify(np.zeros((0, 3, 3)))
    assert empty.kind.shape == (0,) and empty.escape_direction.shape == (0, 3)


def test_random_stack_counts_match_an_independent_inertia():
    rng = np.random.default_rng(0)
    b = rng.standard_normal((500, 6, 6))
    H = b + np.swapaxes(b, 1, 2)
    c = hs.classify(H)
    ref = np.linalg.eigvalsh(H)
    assert np.array_equal(c.n_positive, (ref > 0).sum(axis=1))
    assert np.array_equal(c.n_negative, (ref < 0).sum(axis=1))
    expected = np.where(
        (ref > 0).all(1), "minimum", np.where((ref < 0).all(1), "maximum", "saddle")
    )
    assert np.array_equal(c.kind, expected)


@pytest.mark.parametrize(
    "H, exc, match",
    [
        (np.zeros((0, 0)), ValueError, r"H: expected a Hessian or stack of Hessians .* n >= 1"),
        (np.zeros((2, 3)), ValueError, r"H: expected a Hessian or stack of Hessians"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), ValueError, "H: expected finite values"),
        (np.array([[1.0, 1.0], [0.0, 1.0]]), ValueError, "H: expected a symmetric matrix"),
        (np.eye(2, dtype=complex), TypeError, "H: expected real float32 or float64 values"),
    ],
)
def test_classify_bad_input(H, exc, match):
    before = H.tobytes()
    with pytest.raises(exc, match=match):
        hs.classify(H)
    assert H.tobytes() == before


def test_classify_bad_tolerances():
    with pytest.raises(ValueError, match=r"rtol: expected a finite value >= 0, got -1\.0"):
        hs.classify(np.eye(2), rtol=-1.0)
    with pytest.raises(TypeError, match="atol: expected a real number, got str"):
        hs.classify(np.eye(2), atol="0")


# --- finite-difference Hessians ----------------------------------------------------------------

# f = x0^4 + x0^2 x1^2 + x1 x2^3: a quartic, so the fourth derivatives are constants.
# g = (4 x0^3 + 2 x0 x1^2, 2 x0^2 x1 + x2^3, 3 x1 x2^2)
# H = [[12 x0^2 + 2 x1^2, 4 x0 x1, 0], [4 x0 x1, 2 x0^2, 3 x2^2], [0, 3 x2^2, 6 x1 x2]]
# Largest fourth derivative: d4f/dx0^4 = 24 (then d4f/dx1 dx2^3 = 6, d4f/dx0^2 dx1^2 = 4).
M4 = 24.0


def quartic(x):
    return x[0] ** 4 + x[0] ** 2 * x[1] ** 2 + x[1] * x[2] ** 3


def quartic_grad(x):
    return np.array(
        [
            4 * x[0] ** 3 + 2 * x[0] * x[1] ** 2,
            2 * x[0] ** 2 * x[1] + x[2] ** 3,
            3 * x[1] * x[2] ** 2,
        ],
        dtype=x.dtype,
    )


def quartic_hessian(x):
    x = x.astype(np.float64)
    return np.array(
        [
            [12 * x[0] ** 2 + 2 * x[1] ** 2, 4 * x[0] * x[1], 0.0],
            [4 * x[0] * x[1], 2 * x[0] ** 2, 3 * x[2] ** 2],
            [0.0, 3 * x[2] ** 2, 6 * x[1] * x[2]],
        ]
    )


# Positive coordinates: every term of g and f is positive, so each component is evaluated to
# within delta = 4 eps of its value (at most four roundings, no cancellation).
POINTS = [np.array([0.7, 1.3, 2.1]), np.array([3.0, 0.5, 1.5]), np.array([0.01, 0.02, 0.03])]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("point", range(len(POINTS)))
def test_gradient_differences_meet_the_documented_bound(dtype, point):
    x = POINTS[point].astype(dtype)
    eps = float(np.finfo(dtype).eps)
    H = hs.hessian(quartic_grad, x)
    assert H.dtype == dtype
    assert np.array_equal(H, H.T)
    h = eps ** (1 / 3) * np.maximum(1.0, np.abs(x.astype(np.float64)))
    # G: |g| over the points used, from the float64 formula with a 10% margin on the range
    G = max(
        np.abs(quartic_grad(x.astype(np.float64) + s * hj * e)).max()
        for hj, e in zip(h, np.eye(3))
        for s in (-1.1, 1.1)
    )
    exact = quartic_hessian(x)
    bound = h.max() ** 2 / 6 * M4 + 4 * eps * G / h.min() + 2 * eps * np.abs(exact)
    err = np.abs(H.astype(np.float64) - exact)
    assert np.all(err <= bound), (err, bound)


@pytest.mark.parametrize("point", range(len(POINTS)))
def test_value_differences_meet_the_documented_bound(point):
    x = POINTS[point]
    H = hs.hessian_from_values(quartic, x)
    assert np.array_equal(H, H.T)
    h = EPS64**0.25 * np.maximum(1.0, np.abs(x))
    F = max(abs(quartic(x + s * h)) for s in (-1.1, 1.1))
    bound = h.max() ** 2 / 3 * M4 + 4 * (4 * EPS64) * F / h.min() ** 2
    err = np.abs(H - quartic_hessian(x))
    assert np.all(err <= bound), (err, bound)
    assert bound < 1e-6 * max(1.0, F)  # the bound is a useful one


def test_hessian_of_a_transcendental_function():
    # f = exp(x0) sin(x1): H = exp(x0) [[sin x1, cos x1], [cos x1, -sin x1]]
    x = np.array([0.3, -1.1])
    H = hs.hessian(lambda z: np.exp(z[0]) * np.array([np.sin(z[1]), np.cos(z[1])]), x)
    s, c = np.sin(x[1]), np.cos(x[1])
    exact = np.exp(x[0]) * np.array([[s, c], [c, -s]])
    assert np.max(np.abs(H - exact)) < 1e-9


def test_hessian_bad_input():
    with pytest.raises(ValueError, match=r"x: expected a non-empty 1-D point, got shape \(2, 2\)"):
        hs.hessian(quartic_grad, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="x: expected finite values"):
        hs.hessian(quartic_grad, np.array([np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"grad_fn: expected a gradient of shape \(3,\)"):
        hs.hessian(lambda x: x[:2], np.zeros(3))
    with pytest.raises(ValueError, match=r"step: expected a finite value > 0, got 0\.0"):
        hs.hessian(quartic_grad, np.zeros(3), step=0.0)
    with pytest.raises(TypeError, match="x: expected float32 or float64 values, got complex128"):
        hs.hessian(quartic_grad, np.zeros(3, dtype=complex))


# --- matrix-free eigenpairs -------------------------------------------------------------------


def spectrum_matrix(eigenvalues, seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    a = (q * np.asarray(eigenvalues)) @ q.T
    return (a + a.T) / 2


def check_pairs(result, A, k, lowest, tol):
    ref_w, ref_v = np.linalg.eigh(A)
    order = np.arange(k) if lowest else np.arange(A.shape[0] - 1, A.shape[0] - 1 - k, -1)
    assert np.allclose(result.eigenvalues, ref_w[order], rtol=0, atol=tol)
    for i, j in enumerate(order):
        v = result.eigenvectors[:, i]
        assert np.isclose(abs(v @ ref_v[:, j]), 1.0, rtol=0, atol=tol)
        residual = np.linalg.norm(A @ v - result.eigenvalues[i] * v)
        assert np.isclose(result.residual_norms[i], residual, rtol=1e-6, atol=1e-13)
        assert result.residual_norms[i] < tol


@pytest.mark.parametrize("method", ["eigsh", "lobpcg"])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("n", [40, 200])
def test_lowest_and_highest_eigenpairs_match_dense(method, k, n):
    pytest.importorskip("scipy")
    rng = np.random.default_rng(n + k)
    # well separated ends (as LOBPCG needs for a fast test), a crowded middle
    spectrum = np.r_[-5.0, -4.0, -3.0, rng.uniform(-1.0, 1.0, n - 6), 3.0, 4.0, 5.0]
    A = spectrum_matrix(spectrum, seed=n)
    low = hs.lowest_eigenpairs(
        lambda v: A @ v, n, k, method=method, tol=1e-10 if method == "lobpcg" else 0.0
    )
    high = hs.highest_eigenpairs(
        lambda v: A @ v, n, k, method=method, tol=1e-10 if method == "lobpcg" else 0.0
    )
    assert low.method == method and high.method == method
    check_pairs(low, A, k, lowest=True, tol=1e-7)
    check_pairs(high, A, k, lowest=False, tol=1e-7)
    assert low.n_products > k


def test_small_problems_are_solved_densely():
    A = spectrum_matrix([-2.0, 0.5, 1.0, 7.0], seed=1)
    low = hs.lowest_eigenpairs(lambda v: A @ v, 4, 2)
    assert low.method == "dense" and low.n_products == 4 + 2
    check_pairs(low, A, 2, lowest=True, tol=1e-12)
    high = hs.highest_eigenpairs(lambda v: A @ v, 4, 4)
    check_pairs(high, A, 4, lowest=False, tol=1e-12)


def test_hvp_from_gradient_finds_the_negative_curvature():
    pytest.importorskip("scipy")
    n = 60
    A = spectrum_matrix(np.r_[-0.5, np.linspace(1.0, 10.0, n - 1)], seed=2)
    b = np.random.default_rng(3).standard_normal(n)
    x0 = np.random.default_rng(4).standard_normal(n)

    def grad(x):  # f = x^T A x / 2 + b^T x + ||x||^4 / 4: Hessian A + ||x||^2 I + 2 x x^T
        return A @ x + b + (x @ x) * x

    hvp = hs.hvp_from_gradient(grad, x0)
    H = A + (x0 @ x0) * np.eye(n) + 2 * np.outer(x0, x0)
    low = hs.lowest_eigenpairs(hvp, n, 1)
    ref = np.linalg.eigvalsh(H)[0]
    assert abs(low.eigenvalues[0] - ref) < 1e-6 * np.abs(np.linalg.eigvalsh(H)).max()
    assert low.residual_norms[0] < 1e-5


def test_eigenpairs_bad_input():
    A = np.eye(5)
    with pytest.raises(ValueError, match=r"k: expected 1 <= k <= dim = 5, got 0"):
        hs.lowest_eigenpairs(lambda v: A @ v, 5, 0)
    with pytest.raises(ValueError, match=r"k: expected 1 <= k <= dim = 5, got 6"):
        hs.lowest_eigenpairs(lambda v: A @ v, 5, 6)
    with pytest.raises(TypeError, match="hvp: expected a callable v -> H v, got ndarray"):
        hs.lowest_eigenpairs(A, 5)
    with pytest.raises(ValueError, match="method: expected 'eigsh' or 'lobpcg', got 'power'"):
        hs.highest_eigenpairs(lambda v: A @ v, 5, method="power")
    with pytest.raises(ValueError, match=r"hvp: expected a product of shape \(5,\), got \(4,\)"):
        hs.lowest_eigenpairs(lambda v: v[:4], 5)


# --- escape and report ------------------------------------------------------------------------


def test_escape_takes_the_sign_that_lowers_f():
    # near the lecture saddle with a gradient: at (0.1, 0.1)... a small tilt along (1, 1)
    x = np.array([-0.01, -0.01])
    d = np.array([1.0, 1.0]) / np.sqrt(2)
    e = hs.escape(lecture_loss, x, d)
    assert e.loss_drop > 0.99
    # both signs reach a point of the valley; the chosen one is the lower of the first probes
    assert abs(e.x[0] * e.x[1] - 1.0) < 1e-8
    assert e.n_evaluations < 200


def test_escape_from_a_minimum_changes_nothing():
    x = np.array([1.0, 1.0])  # L = 0 there: nothing lower exists
    e = hs.escape(lecture_loss, x, np.array([1.0, -1.0]))
    assert e.loss_drop == 0.0 and np.array_equal(e.x, x) and e.step == 0.0


def test_escape_bad_direction():
    with pytest.raises(ValueError, match=r"direction: expected shape \(2,\) like x"):
        hs.escape(lecture_loss, np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match="direction: expected a finite, non-zero vector"):
        hs.escape(lecture_loss, np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"initial_step: expected a finite value > 0, got 0\.0"):
        hs.escape(lecture_loss, np.zeros(2), np.ones(2), initial_step=0.0)


def test_report_at_a_minimum_and_away_from_critical_points():
    def f(x):
        return x @ x

    def g(x):
        return 2 * x

    r = hs.critical_point_report(f, g, np.zeros(3), np.eye(3) * 2)
    assert r.kind == "minimum" and r.is_critical and r.escape is None and r.minimum_ratio == 1.0
    r = hs.critical_point_report(f, g, np.ones(3))
    assert not r.is_critical and np.isclose(r.gradient_norm, 2 * np.sqrt(3))
    assert r.kind == "minimum"  # the Hessian is still 2 I there


def test_report_degenerate_cubic_is_not_a_minimum():
    # f = x^2 + y^3 at the origin: gradient 0, Hessian diag(2, 0)
    def f(x):
        return x[0] ** 2 + x[1] ** 3

    def g(x):
        return np.array([2 * x[0], 3 * x[1] ** 2])

    r = hs.critical_point_report(f, g, np.zeros(2))
    assert r.kind == "degenerate" and r.classification.n_zero == 1 and r.escape is None
