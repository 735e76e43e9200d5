"""Test surfaces for the sweep tests, written in NumPy in the same order of operations as
cpp/saddlepoint/native_surfaces.hpp, so the vectorized path and the native loop do identical
maths and must agree bit for bit (ufuncs round each operation exactly like the C++)."""

from __future__ import annotations

import numpy as np


def _symmetric_2x2(xx, xy, yy):
    """The stack of symmetric matrices [[xx, xy], [xy, yy]] (entries broadcast together)."""
    xx, xy, yy = np.broadcast_arrays(*(np.asarray(e, dtype=np.float64) for e in (xx, xy, yy)))
    return np.stack([np.stack([xx, xy], axis=-1), np.stack([xy, yy], axis=-1)], axis=-2)


class Rosen:
    """2-D Rosenbrock, 100 (y - x^2)^2 + (1 - x)^2."""

    dim = 2
    start = (-1.5, 2.0)
    bounds = ((-2.0, 2.0), (-1.0, 3.0))

    def value(self, X):
        X = np.asarray(X)
        x, y = X[..., 0], X[..., 1]
        r = y - x * x
        s = 1 - x
        return 0 + 100 * r * r + s * s

    def grad(self, X):
        X = np.asarray(X)
        x, y = X[..., 0], X[..., 1]
        r = y - x * x
        s = 1 - x
        return np.stack([0 - 400 * x * r - 2 * s, 0 + 200 * r], axis=-1)

    def hessian(self, X):
        X = np.asarray(X, dtype=np.float64)
        x, y = X[..., 0], X[..., 1]
        return _symmetric_2x2(1200 * x * x - 400 * y + 2, -400 * x, 200.0)


class TinyNet:
    """(1 - w1 w2)^2: a saddle at the origin, minima on w1 w2 = 1."""

    dim = 2
    start = (0.0, 0.0)

    def value(self, X):
        X = np.asarray(X)
        r = 1 - X[..., 0] * X[..., 1]
        return r * r

    def grad(self, X):
        X = np.asarray(X)
        r = 1 - X[..., 0] * X[..., 1]
        return np.stack([-2 * r * X[..., 1], -2 * r * X[..., 0]], axis=-1)

    def hessian(self, X):
        X = np.asarray(X, dtype=np.float64)
        a, b = X[..., 0], X[..., 1]
        return _symmetric_2x2(2 * b * b, 4 * a * b - 2, 2 * a * a)


class MonkeySaddle:
    """x^3 - 3 x y^2: a degenerate critical point at the origin (zero Hessian)."""

    dim = 2
    start = (0.0, 0.0)

    def value(self, X):
        X = np.asarray(X)
        u, v = X[..., 0], X[..., 1]
        return u * u * u - 3 * u * v * v

    def grad(self, X):
        X = np.asarray(X)
        u, v = X[..., 0], X[..., 1]
        return np.stack([3 * u * u - 3 * v * v, -6 * u * v], axis=-1)

    def hessian(self, X):
        X = np.asarray(X, dtype=np.float64)
        u, v = X[..., 0], X[..., 1]
        return _symmetric_2x2(6 * u, -6 * v, -6 * u)


class Bowl:
    """x^2/2 + 2 y^2: a strict minimum at the origin."""

    dim = 2
    start = (1.0, 1.0)

    def value(self, X):
        X = np.asarray(X)
        return 0.5 * X[..., 0] ** 2 + 2 * X[..., 1] ** 2

    def grad(self, X):
        X = np.asarray(X)
        return np.stack([X[..., 0], 4 * X[..., 1]], axis=-1)

    def hessian(self, X):
        X = np.asarray(X, dtype=np.float64)
        return np.broadcast_to(np.diag([1.0, 4.0]), (*X.shape[:-1], 2, 2)).copy()
