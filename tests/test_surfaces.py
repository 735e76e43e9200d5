"""Surfaces: derivatives against central differences, critical points verified, SciPy's
Rosenbrock, vectorization, dtypes, bad input, and the momentum demo of bumpy_1d."""

from __future__ import annotations

import numpy as np
import pytest
from saddlepoint import surfaces as S

EPS = np.finfo(np.float64).eps

# Every built-in, with the sizes worth testing.
CASES = [
    ("quadratic", {"A": [[2.0, 1.0], [1.0, -3.0]]}),
    ("quadratic", {"A": np.diag([1.0, 2.0, 5.0])}),
    ("ill_conditioned", {}),
    ("ill_conditioned", {"condition": 1000.0}),
    ("saddle", {}),
    ("monkey_saddle", {}),
    ("tiny_network", {}),
    ("rosenbrock", {}),
    *[("rosenbrock", {"n": n}) for n in (3, 4, 5, 6, 7, 8)],
    ("himmelblau", {}),
    ("beale", {}),
    ("booth", {}),
    ("six_hump_camel", {}),
    ("three_hump_camel", {}),
    ("goldstein_price", {}),
    *[("rastrigin", {"n": n}) for n in (1, 2, 3)],
    *[("styblinski_tang", {"n": n}) for n in (1, 2, 3, 7)],
    ("bumpy_1d", {}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items() if k != 'A')}" for name, kw in CASES]


@pytest.fixture(params=CASES, ids=IDS)
def surface(request):
    name, kw = request.param
    return S.get(name, **kw)


def random_points(surface, n, seed=0):
    rng = np.random.default_rng(seed)
    lo, hi = np.array(surface.bounds).T
    return lo + (hi - lo) * rng.random((n, surface.dim))


def central_grad(f, X, h):
    """d f / d x_i by central differences, point by point, in float64."""
    out = np.empty(X.shape)
    for i in range(X.shape[-1]):
        e = np.zeros(X.shape[-1])
        e[i] = h
        out[..., i] = (f(X + e) - f(X - e)) / (2 * h)
    return out


# ------------------------------------------------------------------------------------------
# derivatives


def test_available_lists_every_case():
    assert set(S.available()) == {name for name, _ in CASES}
    assert S.available() == sorted(S.available())


def test_grad_matches_central_differences(surface):
    X = random_points(surface, 40)
    h = 1e-6
    fd = central_grad(surface.value, X, h)
    g = surface.grad(X)
    # Truncation O(h^2 f''') plus cancellation ~ eps |f| / h.
    scale = 1e-6 * (1 + np.abs(surface.value(X))[:, None])
    assert np.all(np.abs(g - fd) <= 1e-6 * np.abs(g) + scale), np.max(np.abs(g - fd) - scale)


def test_hessian_matches_central_differences_of_grad(surface):
    X = random_points(surface, 40, seed=1)
    h = 1e-6
    H = surface.hessian(X)
    fd = np.empty_like(H)
    for i in range(surface.dim):
        e = np.zeros(surface.dim)
        e[i] = h
        fd[..., :, i] = (surface.grad(X + e) - surface.grad(X - e)) / (2 * h)
    gscale = 1e-6 * (1 + np.abs(surface.grad(X)).max(axis=-1))[:, None, None]
    assert np.all(np.abs(H - fd) <= 1e-6 * np.abs(H) + gscale)


def test_hessian_is_symmetric(surface):
    H = surface.hessian(random_points(surface, 30, seed=2))
    np.testing.assert_array_equal(H, np.swapaxes(H, -1, -2))


def test_vectorized_calls_equal_the_loop_over_points(surface):
    X = random_points(surface, 24, seed=3).reshape(2, 3, 4, surface.dim)
    v, g, H = surface.value(X), surface.grad(X), surface.hessian(X)
    assert v.shape == (2, 3, 4)
    assert g.shape == (2, 3, 4, surface.dim)
    assert H.shape == (2, 3, 4, surface.dim, surface.dim)
    for idx in np.ndindex(2, 3, 4):
        x = X[idx]
        np.testing.assert_allclose(v[idx], surface.value(x), rtol=4 * EPS, atol=0)
        np.testing.assert_allclose(g[idx], surface.grad(x), rtol=4 * EPS, atol=1e-300)
        np.testing.assert_allclose(H[idx], surface.hessian(x), rtol=4 * EPS, atol=1e-300)
    # One point without a leading axis: scalar value, (dim,) gradient, (dim, dim) Hessian.
    assert surface.value(X[0, 0, 0]).shape == ()
    assert surface.grad(X[0, 0, 0]).shape == (surface.dim,)


def test_100k_points_in_one_call():
    s = S.rosenbrock()
    X = random_points(s, 100_000, seed=4)
    assert s.value(X).shape == (100_000,)
    assert s.grad(X).shape == (100_000, 2)
    H = s.hessian(X)
    assert H.shape == (100_000, 2, 2)
    np.testing.assert_allclose(H[12345], s.hessian(X[12345]), rtol=4 * EPS)


# ------------------------------------------------------------------------------------------
# dtypes and bad input


def test_float32_in_float32_out(surface):
    X = random_points(surface, 10, seed=5).astype(np.float32)
    for method in (surface.value, surface.grad, surface.hessian):
        out = method(X)
        assert out.dtype == np.float32, method.__name__
        ref = method(X.astype(np.float64))
        # float32 arithmetic: relative to the scale of the float64 result.
        tol = 1e-4 * (1 + np.abs(ref).max())
        assert np.abs(out - ref).max() <= tol


def test_ints_and_lists_computed_in_float64():
    s = S.himmelblau()
    for X in ([1, 2], np.array([[1, 2], [3, 2]], dtype=np.int32), np.float16([3, 2])):
        assert s.value(X).dtype == np.float64
        assert s.grad(X).dtype == np.float64
    assert s.value([3, 2]) == 0.0


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 1), ()])
def test_wrong_last_axis_raises_naming_the_shape(shape):
    s = S.himmelblau()
    X = np.ones(shape)
    before = X.tobytes()
    for method in (s.value, s.grad, s.hessian):
        with pytest.raises(
            ValueError, match=r"X: himmelblau expects points of shape \(\.\.\., 2\)"
        ):
            method(X)
    assert X.tobytes() == before


def test_rosenbrock_names_its_dimension():
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 5\), got shape \(2, 4\)"):
        S.rosenbrock(5).grad(np.zeros((2, 4)))


@pytest.mark.parametrize("X", [np.array([1 + 2j, 0j]), np.array(["a", "b"]), [True, False]])
def test_non_real_input_raises_type_error(X):
    with pytest.raises(TypeError, match=r"X: expected a real"):
        S.saddle().value(X)


def test_inputs_are_not_modified(surface):
    X = random_points(surface, 5, seed=6)
    before = X.tobytes()
    surface.value(X), surface.grad(X), surface.hessian(X)
    assert X.tobytes() == before


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: S.rosenbrock(1), ValueError, r"rosenbrock requires n >= 2, got n=1"),
        (lambda: S.rosenbrock(2.0), TypeError, r"rosenbrock requires n to be an int"),
        (lambda: S.rastrigin(0), ValueError, r"rastrigin requires n >= 1, got n=0"),
        (lambda: S.styblinski_tang(-1), ValueError, r"styblinski_tang requires n >= 1"),
        (lambda: S.ill_conditioned(0.5), ValueError, r"requires condition >= 1"),
        (lambda: S.quadratic([[1.0, 2.0], [0.0, 1.0]]), ValueError, r"A: expected a symmetric"),
        (lambda: S.quadratic([1.0, 2.0]), ValueError, r"A: expected a square \(n, n\) matrix"),
        (lambda: S.quadratic([[np.nan]]), ValueError, r"A: expected finite values"),
        (lambda: S.get("rosenbrok"), ValueError, r"unknown surface 'rosenbrok'; available: "),
        (lambda: S.get(3), TypeError, r"name: expected a str"),
        (lambda: S.get("saddle", n=3), TypeError, r"unexpected keyword"),
    ],
)
def test_factories_validate(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ------------------------------------------------------------------------------------------
# critical points


def _kind_from_eigenvalues(w):
    """Both signs: a saddle, whatever the zeros; else a zero eigenvalue cannot decide."""
    tol = 1e-8 * max(1.0, np.abs(w).max())
    if np.any(w > tol) and np.any(w < -tol):
        return "saddle"
    if np.any(np.abs(w) <= tol):
        return "degenerate"
    return "minimum" if np.all(w > 0) else "maximum"


def test_every_critical_point_is_verified(surface):
    assert surface.critical_points, "every built-in lists at least one critical point"
    points = np.array([cp.point for cp in surface.critical_points])
    assert points.shape[1:] == (surface.dim,)
    # No duplicates.
    dist = np.linalg.norm(points[:, None] - points[None], axis=-1)
    assert np.all(dist[~np.eye(len(points), dtype=bool)] > 1e-6)
    for cp in surface.critical_points:
        x = cp.point
        H = surface.hessian(x)
        g = surface.grad(x)
        # Zero to rounding: x itself is only known to eps |x|, which moves the gradient by
        # about |H| eps |x|; evaluating the terms adds a few eps of |f| and |H| (measured
        # worst: 0.5 of this bound).
        bound = 8 * EPS * (np.abs(H).max() * (1 + np.abs(x).max()) + abs(cp.value) + 1)
        assert np.abs(g).max() <= bound, (cp, g, bound)
        np.testing.assert_allclose(surface.value(x), cp.value, rtol=1e-13, atol=1e-13)
        assert cp.kind == _kind_from_eigenvalues(np.linalg.eigvalsh(H)), cp
        lo, hi = np.array(surface.bounds).T
        assert np.all((lo <= x) & (x <= hi)), cp


def test_kinds_agree_with_saddlepoint_hessian_classify(surface):
    from saddlepoint import hessian

    points = np.array([cp.point for cp in surface.critical_points])
    result = hessian.classify(surface.hessian(points))
    assert list(np.atleast_1d(result.kind)) == [cp.kind for cp in surface.critical_points]


def test_critical_point_counts():
    def kinds(s):
        out = {}
        for cp in s.critical_points:
            out[cp.kind] = out.get(cp.kind, 0) + 1
        return out

    assert kinds(S.himmelblau()) == {"minimum": 4, "saddle": 4, "maximum": 1}
    assert kinds(S.six_hump_camel()) == {"minimum": 6, "saddle": 7, "maximum": 2}
    assert kinds(S.three_hump_camel()) == {"minimum": 3, "saddle": 2}
    assert kinds(S.goldstein_price()) == {"minimum": 4, "saddle": 4, "maximum": 1}
    # Rastrigin in [-5.12, 5.12]: 11 one-dimensional minima, 10 maxima.
    assert kinds(S.rastrigin(2)) == {"minimum": 121, "maximum": 100, "saddle": 220}
    assert kinds(S.styblinski_tang(3)) == {"minimum": 8, "maximum": 1, "saddle": 18}
    assert kinds(S.rosenbrock(5)) == {"minimum": 2}
    assert kinds(S.rosenbrock(3)) == {"minimum": 1}


def test_known_global_minima():
    def global_min(s):
        return min(cp.value for cp in s.critical_points)

    assert global_min(S.goldstein_price()) == 3.0
    assert global_min(S.six_hump_camel()) == pytest.approx(-1.0316284534898774, rel=1e-15)
    assert global_min(S.styblinski_tang(2)) == pytest.approx(2 * -39.16616570377142, rel=1e-12)
    assert global_min(S.himmelblau()) == 0.0
    np.testing.assert_array_equal(S.booth().critical_points[0].point, [1.0, 3.0])


def test_tiny_network_by_hand():
    s = S.tiny_network()
    np.testing.assert_array_equal(s.hessian([0.0, 0.0]), [[0.0, -2.0], [-2.0, 0.0]])
    w, V = np.linalg.eigh(s.hessian([0.0, 0.0]))
    np.testing.assert_allclose(w, [-2.0, 2.0])
    np.testing.assert_allclose(np.abs(V[:, 0]), [2**-0.5, 2**-0.5])  # escape along ±(1, 1)
    # Anywhere on the valley: zero loss, zero gradient, one zero eigenvalue.
    a = np.linspace(0.3, 3.0, 7)
    valley = np.stack([a, 1 / a], axis=-1)
    np.testing.assert_allclose(s.value(valley), 0.0, atol=1e-30)
    np.testing.assert_allclose(s.grad(valley), 0.0, atol=1e-14)
    w = np.linalg.eigvalsh(s.hessian(valley))
    np.testing.assert_allclose(w[:, 0], 0.0, atol=1e-13)
    np.testing.assert_allclose(w[:, 1], 2 * (a**2 + 1 / a**2), rtol=1e-14)
    kinds = {cp.kind for cp in s.critical_points if cp.value == 0.0}
    assert kinds == {"degenerate"}
    assert all("global minimum" in cp.note for cp in s.critical_points if cp.value == 0.0)


def test_saddles_by_hand():
    np.testing.assert_array_equal(S.saddle().hessian([0.3, -2.0]), [[2.0, 0.0], [0.0, -2.0]])
    np.testing.assert_array_equal(S.monkey_saddle().hessian([0.0, 0.0]), np.zeros((2, 2)))
    assert S.monkey_saddle().critical_points[0].kind == "degenerate"
    np.testing.assert_array_equal(S.booth().hessian([5.0, -1.0]), [[10.0, 8.0], [8.0, 10.0]])


@pytest.mark.parametrize(
    ("A", "kind"),
    [
        ([[2.0, 0.5], [0.5, 1.0]], "minimum"),
        ([[-2.0, 0.5], [0.5, -1.0]], "maximum"),
        ([[1.0, 3.0], [3.0, 1.0]], "saddle"),
        ([[1.0, 1.0], [1.0, 1.0]], "degenerate"),
        ([[-1.0, 1.0], [1.0, -1.0]], "degenerate"),
    ],
)
def test_quadratic(A, kind):
    s = S.quadratic(A)
    assert s.critical_points[0].kind == kind
    X = random_points(s, 7)
    A = np.array(A)
    # atol: x^T A x cancels when A is indefinite or singular (rounding ~ eps |x|^2 |A|).
    ref = 0.5 * np.array([x @ A @ x for x in X])
    np.testing.assert_allclose(s.value(X), ref, rtol=1e-14, atol=1e-13)
    np.testing.assert_allclose(s.grad(X), X @ A, rtol=1e-14)
    np.testing.assert_array_equal(s.hessian(X), np.broadcast_to(A, (7, 2, 2)))


def test_quadratic_with_both_signs_and_a_zero_is_a_saddle():
    assert S.quadratic(np.diag([1.0, 0.0, -1.0])).critical_points[0].kind == "saddle"
    assert S.quadratic(np.diag([1.0, 0.0, 2.0])).critical_points[0].kind == "degenerate"


def test_ill_conditioned_is_the_elongated_bowl():
    s = S.ill_conditioned(250.0)
    np.testing.assert_array_equal(s.hessian([1.0, 2.0]), np.diag([1.0, 250.0]))
    assert s.value([2.0, 1.0]) == 0.5 * (4.0 + 250.0)
    w = np.linalg.eigvalsh(s.hessian(s.start))
    assert w.max() / w.min() == 250.0


# ------------------------------------------------------------------------------------------
# Rosenbrock against SciPy


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_rosenbrock_equals_scipy(n):
    so = pytest.importorskip("scipy.optimize")
    s = S.rosenbrock(n)
    rng = np.random.default_rng(n)
    X = rng.uniform(-2, 2, size=(20, n))
    for x in X:
        np.testing.assert_allclose(s.value(x), so.rosen(x), rtol=1e-14)
        np.testing.assert_allclose(s.grad(x), so.rosen_der(x), rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(s.hessian(x), so.rosen_hess(x), rtol=1e-14, atol=0)
    np.testing.assert_allclose(s.value(X), [so.rosen(x) for x in X], rtol=1e-14)
    assert s.value(np.ones(n)) == 0.0


# ------------------------------------------------------------------------------------------
# bumpy_1d: momentum rolls through the bump


def test_bumpy_1d_gd_stops_in_the_shallow_minimum_and_momentum_reaches_the_global_one():
    s = S.bumpy_1d()
    points = {cp.note: cp.point[0] for cp in s.critical_points}
    lr, momentum, steps = 0.005, 0.9, 3000  # as documented in bumpy_1d's docstring

    x = s.start.copy()
    for _ in range(steps):
        x = x - lr * s.grad(x)
    assert x[0] == pytest.approx(points["shallow local minimum"], abs=1e-9)

    x, buf = s.start.copy(), np.zeros(1)
    for _ in range(steps):  # PyTorch's heavy ball: buf = momentum * buf + g; x -= lr * buf
        buf = momentum * buf + s.grad(x)
        x = x - lr * buf
    assert x[0] == pytest.approx(points["global minimum"], abs=1e-9)
    assert s.value(x) < s.value(np.array([points["shallow local minimum"]]))


# ------------------------------------------------------------------------------------------
# misc API


def test_get_builds_fresh_surfaces_with_arguments():
    a, b = S.get("rosenbrock", n=5), S.get("rosenbrock", n=5)
    assert a is not b and a.dim == 5 and a.name == "rosenbrock"
    assert S.get("rastrigin", n=4).dim == 4
    assert "rosenbrock" in repr(a)


def test_start_and_bounds(surface):
    assert surface.start.shape == (surface.dim,)
    assert len(surface.bounds) == surface.dim
    lo, hi = np.array(surface.bounds).T
    assert np.all((lo <= surface.start) & (surface.start <= hi))
    assert np.abs(surface.grad(surface.start)).max() > 0, "start at a critical point"
    with pytest.raises(ValueError):
        surface.start[0] = 1.0  # read-only: shared by every run


def test_critical_point_validates_kind_and_freezes_point():
    with pytest.raises(ValueError, match=r"kind: expected one of"):
        S.CriticalPoint(np.zeros(2), 0.0, "valley")
    cp = S.CriticalPoint([1, 2], 3, "minimum")
    assert cp.point.dtype == np.float64 and cp.value == 3.0 and not cp.point.flags.writeable


# ------------------------------------------------------------------------------------------
# from_functions


def _himmelblau_point_functions():
    def value(x):
        return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2

    def grad(x):
        a, b = x[0] ** 2 + x[1] - 11, x[0] + x[1] ** 2 - 7
        return np.array([4 * x[0] * a + 2 * b, 2 * a + 4 * x[1] * b])

    def hessian(x):
        return np.array(
            [[12 * x[0] ** 2 + 4 * x[1] - 42, 4 * x[0] + 4 * x[1]],
             [4 * x[0] + 4 * x[1], 4 * x[0] + 12 * x[1] ** 2 - 26]]
        )  # fmt: skip

    return value, grad, hessian


def test_from_functions_wraps_point_functions():
    value, grad, hessian = _himmelblau_point_functions()
    s = S.Surface.from_functions(value, grad, hessian, dim=2, name="mine", start=[1.0, 1.0])
    ref = S.himmelblau()
    X = random_points(ref, 12).reshape(3, 4, 2)
    np.testing.assert_allclose(s.value(X), ref.value(X), rtol=1e-14)
    np.testing.assert_allclose(s.grad(X), ref.grad(X), rtol=1e-14)
    np.testing.assert_allclose(s.hessian(X), ref.hessian(X), rtol=1e-14)
    assert s.dim == 2 and s.name == "mine" and s.bounds == ((-2.0, 2.0), (-2.0, 2.0))
    with pytest.raises(ValueError, match=r"mine expects points of shape \(\.\.\., 2\)"):
        s.value(np.zeros(3))


def test_from_functions_vectorized():
    ref = S.rosenbrock(3)
    s = S.Surface.from_functions(ref.value, ref.grad, ref.hessian, dim=3, vectorized=True)
    X = random_points(ref, 10)
    np.testing.assert_array_equal(s.hessian(X), ref.hessian(X))
    np.testing.assert_array_equal(s.value(X), ref.value(X))


def test_from_functions_vectorized_checks_result_shapes():
    def value(x):
        return x[0] ** 2 + x[1] ** 2  # a per-point function wrongly declared vectorized

    def grad(x):
        return 2 * x

    s = S.Surface.from_functions(value, grad, dim=2, vectorized=True)
    with pytest.raises(ValueError, match=r"value: with vectorized=True expected a result of"):
        s.value(np.ones((5, 2)))


def test_from_functions_rejects_non_callables():
    with pytest.raises(TypeError, match=r"value and grad: expected callables"):
        S.Surface.from_functions(3.0, lambda x: x, dim=1)
    with pytest.raises(TypeError, match=r"hessian: expected a callable or None"):
        S.Surface.from_functions(lambda x: 0.0, lambda x: x, "H", dim=1)
    with pytest.raises(ValueError, match=r"dim: expected an int >= 1, got 0"):
        S.Surface.from_functions(lambda x: 0.0, lambda x: x, dim=0)


def test_from_functions_without_hessian_uses_finite_differences():
    value, grad, _ = _himmelblau_point_functions()
    s = S.Surface.from_functions(value, grad, dim=2)
    ref = S.himmelblau()
    X = random_points(ref, 6).reshape(2, 3, 2)
    H = s.hessian(X)
    assert H.shape == (2, 3, 2, 2)
    np.testing.assert_allclose(
        H, ref.hessian(X), rtol=1e-6, atol=1e-6 * np.abs(ref.hessian(X)).max()
    )


def test_surfaces_pickle_as_their_factory_call(surface):
    import pickle

    copy = pickle.loads(pickle.dumps(surface))
    assert type(copy) is type(surface) and copy.name == surface.name
    assert copy.bounds == surface.bounds
    np.testing.assert_array_equal(copy.start, surface.start)
    X = random_points(surface, 5)
    np.testing.assert_array_equal(copy.grad(X), surface.grad(X))
    np.testing.assert_array_equal(copy.hessian(X), surface.hessian(X))
    assert len(copy.critical_points) == len(surface.critical_points)
