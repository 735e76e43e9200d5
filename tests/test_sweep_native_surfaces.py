"""The C++ twins of the built-in surfaces (native sweeps) against formulas written here in
float64, SciPy's Rosenbrock, central differences, and saddlepoint.surfaces."""

from __future__ import annotations

import numpy as np
import pytest
from saddlepoint import _core

TWO_PI = 2 * np.pi


def _f(name, X, A=None):
    x, y = X[:, 0], X[:, -1]
    if name == "himmelblau":
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2
    if name == "beale":
        return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    if name == "booth":
        return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2
    if name == "six_hump_camel":
        return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2
    if name == "three_hump_camel":
        return 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2
    if name == "goldstein_price":
        a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
        b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
        return a * b
    if name == "rastrigin":
        return 10 * X.shape[1] + np.sum(X**2 - 10 * np.cos(TWO_PI * X), axis=1)
    if name == "styblinski_tang":
        return 0.5 * np.sum(X**4 - 16 * X**2 + 5 * X, axis=1)
    if name == "quadratic":
        return 0.5 * np.einsum("ni,ij,nj->n", X, A, X)
    if name == "saddle":
        return x**2 - y**2
    if name == "monkey_saddle":
        return x**3 - 3 * x * y**2
    if name == "tiny_network":
        return (1 - x * y) ** 2
    raise AssertionError(name)


def _grad(name, X, A=None):
    x, y = X[:, 0], X[:, -1]
    if name == "rastrigin":
        return 2 * X + 10 * TWO_PI * np.sin(TWO_PI * X)
    if name == "styblinski_tang":
        return 2 * X**3 - 16 * X + 2.5
    if name == "quadratic":
        return X @ A.T
    g = {
        "himmelblau": (
            4 * x * (x**2 + y - 11) + 2 * (x + y**2 - 7),
            2 * (x**2 + y - 11) + 4 * y * (x + y**2 - 7),
        ),
        "booth": (
            2 * (x + 2 * y - 7) + 4 * (2 * x + y - 5),
            4 * (x + 2 * y - 7) + 2 * (2 * x + y - 5),
        ),
        "six_hump_camel": (8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3),
        "three_hump_camel": (4 * x - 4.2 * x**3 + x**5 + y, x + 2 * y),
        "saddle": (2 * x, -2 * y),
        "monkey_saddle": (3 * x**2 - 3 * y**2, -6 * x * y),
        "tiny_network": (-2 * (1 - x * y) * y, -2 * (1 - x * y) * x),
    }.get(name)
    if g is not None:
        return np.stack(g, axis=1)
    return None  # beale, goldstein_price: checked by central differences below


TWO_D = [
    "himmelblau",
    "beale",
    "booth",
    "six_hump_camel",
    "three_hump_camel",
    "goldstein_price",
    "saddle",
    "monkey_saddle",
    "tiny_network",
]


def test_native_surface_names():
    assert set(_core.native_sweep_surfaces()) == {
        "rosenbrock",
        "rastrigin",
        "styblinski_tang",
        "quadratic",
        *TWO_D,
    }


@pytest.mark.parametrize("name", TWO_D)
def test_two_d_surfaces_equal_the_formulas(name):
    X = np.random.default_rng(1).uniform(-2, 2, size=(200, 2))
    v, g = _core.native_surface_value_grad(name, X)
    np.testing.assert_allclose(v, _f(name, X), rtol=1e-12, atol=1e-12)
    ref = _grad(name, X)
    if ref is not None:
        np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-11)
    # every gradient against central differences of the native value
    h = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        vp, _ = _core.native_surface_value_grad(name, X + e)
        vm, _ = _core.native_surface_value_grad(name, X - e)
        fd = (vp - vm) / (2 * h)
        np.testing.assert_allclose(g[:, k], fd, rtol=1e-6, atol=1e-5 * (1 + np.abs(v).max()))


@pytest.mark.parametrize("n", [2, 3, 7])
def test_rosenbrock_equals_scipy(n):
    opt = pytest.importorskip("scipy.optimize")
    X = np.random.default_rng(n).uniform(-2, 2, size=(50, n))
    v, g = _core.native_surface_value_grad("rosenbrock", X)
    np.testing.assert_allclose(v, [opt.rosen(x) for x in X], rtol=1e-13)
    np.testing.assert_allclose(g, [opt.rosen_der(x) for x in X], rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("name", ["rastrigin", "styblinski_tang"])
@pytest.mark.parametrize("n", [1, 2, 5])
def test_n_dimensional_surfaces_equal_the_formulas(name, n):
    X = np.random.default_rng(n).uniform(-4, 4, size=(100, n))
    v, g = _core.native_surface_value_grad(name, X)
    np.testing.assert_allclose(v, _f(name, X), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(g, _grad(name, X), rtol=1e-12, atol=1e-10)


def test_quadratic_with_its_matrix_and_float32():
    A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, -0.5], [0.0, -0.5, 1.0]])
    X = np.random.default_rng(0).normal(size=(40, 3))
    v, g = _core.native_surface_value_grad("quadratic", X, A)
    np.testing.assert_allclose(v, _f("quadratic", X, A), rtol=1e-13)
    np.testing.assert_allclose(g, _grad("quadratic", X, A), rtol=1e-13, atol=1e-15)
    v32, g32 = _core.native_surface_value_grad("quadratic", X.astype(np.float32), A)
    assert v32.dtype == g32.dtype == np.float32
    np.testing.assert_allclose(v32, v, rtol=1e-5, atol=1e-6)


def test_bad_native_calls_raise():
    with pytest.raises(ValueError, match="surface: expected one of the native surfaces"):
        _core.native_surface_value_grad("bumpy", np.zeros((1, 2)))
    with pytest.raises(ValueError, match="dim: this surface is 2-D, got dim=3"):
        _core.native_surface_value_grad("booth", np.zeros((1, 3)))
    with pytest.raises(ValueError, match="matrix: the quadratic surface needs its matrix A"):
        _core.native_surface_value_grad("quadratic", np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"matrix: expected a \(2, 2\) array"):
        _core.native_surface_value_grad("quadratic", np.zeros((1, 2)), np.eye(3))
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="optimizer: expected 'sgd'"):
        _core.native_sweep("booth", x, 5, "lbfgs", {}, np.full(4, -1), np.zeros((1, 5)))
    with pytest.raises(ValueError, match="hyper: missing 'beta1'"):
        _core.native_sweep(
            "booth", x, 5, "adam", {"lr": np.ones(4)}, np.full(4, -1), np.zeros((1, 5))
        )
    with pytest.raises(TypeError, match="x: expected a float32 or float64 array"):
        _core.native_sweep(
            "booth", x.astype(np.int64), 5, "sgd", {}, np.full(4, -1), np.zeros((1, 5))
        )


SURFACE_KW = {"rosenbrock": {}, "rastrigin": {}, "styblinski_tang": {}}


@pytest.mark.parametrize("name", ["rosenbrock", "rastrigin", "styblinski_tang", *TWO_D])
def test_native_surfaces_equal_saddlepoint_surfaces(name):
    from saddlepoint import surfaces

    s = surfaces.get(name)
    X = np.random.default_rng(3).uniform(-2, 2, size=(200, s.dim))
    v, g = _core.native_surface_value_grad(name, X)
    np.testing.assert_allclose(v, s.value(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, s.grad(X), rtol=1e-12, atol=1e-11)
