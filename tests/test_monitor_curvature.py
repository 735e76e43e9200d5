"""The warm-started curvature check against numpy.linalg.eigh of dense Hessians.

A 300x300 symmetric matrix with a clustered low end (six eigenvalues -1, -0.998, ...,
-0.990 under a bulk on [0, 10] and a top at 12), perturbed by a random symmetric matrix of
norm 1e-3 between checks: the warm check (Lanczos from the previous eigenvectors) must return
eigenvalues within their residuals of the true extremes, residuals that are true
``||H v - lambda v||`` and within the stopping rule, and cost far fewer products than a cold
check, counted by the test's own hvp.
"""

import numpy as np
import pytest
from saddlepoint.monitor import check_curvature

N, TOL = 300, 1e-3


def _clustered(seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    w = np.concatenate([-1.0 + 2e-3 * np.arange(6), np.linspace(0.0, 10.0, N - 7), [12.0]])
    return (Q * w) @ Q.T, rng


def _perturbed(H, rng, size=1e-3):
    E = rng.standard_normal(H.shape)
    E = E + E.T
    return H + size * E / np.linalg.norm(E, 2)


class _Counting:
    def __init__(self, H):
        self.H, self.count = H, 0

    def __call__(self, v):
        self.count += 1
        return self.H @ v


def _assert_accurate(check, H):
    w = np.linalg.eigvalsh(H)
    scale = max(abs(w[0]), abs(w[-1]))
    for lam, v, res, true in (
        (check.lambda_min, check.v_min, check.residual_min, w[0]),
        (check.lambda_max, check.v_max, check.residual_max, w[-1]),
    ):
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-12)
        # the residual returned is the true one
        assert res == pytest.approx(np.linalg.norm(H @ v - lam * v), rel=1e-8, abs=1e-14)
        # the stopping rule: tol times the eigenvalue, floored at a hundredth of the scale
        assert res <= TOL * max(abs(lam), 1e-2 * scale) * (1 + 1e-6)
        # and each eigenvalue within its residual of the true extreme (not another one)
        assert abs(lam - true) <= res + 1e-12 * scale


def test_warm_check_is_accurate_and_cheaper_than_cold_on_a_perturbed_cluster():
    H, rng = _clustered()
    previous, warm_counts, cold_counts = None, [], []
    for _ in range(8):
        H = _perturbed(H, rng)
        hvp = _Counting(H)
        warm = check_curvature(hvp, N, previous=previous, tol=TOL)
        assert warm.n_products == hvp.count  # every product counted, residuals included
        assert warm.method == "lanczos"
        _assert_accurate(warm, H)
        cold_hvp = _Counting(H)
        cold = check_curvature(cold_hvp, N, tol=TOL)
        assert cold.n_products == cold_hvp.count
        _assert_accurate(cold, H)
        warm_counts.append(warm.n_products)
        cold_counts.append(cold.n_products)
        previous = warm
    # measured: the first check 42 (cold); later warm checks 13-24 against 42 cold
    assert warm_counts[0] == cold_counts[0]
    assert all(w < c for w, c in zip(warm_counts[1:], cold_counts[1:]))
    assert np.median(warm_counts[1:]) <= 20
    assert sum(warm_counts[1:]) <= 0.5 * sum(cold_counts[1:])


def test_warm_check_finds_an_eigenvalue_that_overtook_its_start():
    """A new direction of strong negative curvature, orthogonal to the previous eigenvectors
    the check starts from: the noise in its start still finds it (a Rayleigh-Ritz on the
    previous Ritz block grown by its Ritz residuals missed it in 3-6 of 10 such matrices)."""
    H, rng = _clustered(1)
    first = check_curvature(_Counting(H), N, tol=TOL)
    block = np.stack([first.v_min, first.v_max])
    u = rng.standard_normal(N)
    u -= block.T @ (block @ u)
    u /= np.linalg.norm(u)
    H2 = H - 9.0 * np.outer(u, u)  # u^T H u is about 5, the bulk's middle
    w = np.linalg.eigvalsh(H2)
    assert w[0] < -1.5  # a new lowest eigenvalue, far below the cluster
    warm = check_curvature(_Counting(H2), N, previous=first, tol=TOL)
    _assert_accurate(warm, H2)


def test_same_matrix_again_is_cheap_and_accurate():
    H, _ = _clustered(2)
    first = check_curvature(_Counting(H), N, tol=TOL)
    hvp = _Counting(H)
    again = check_curvature(hvp, N, previous=first, tol=TOL)
    _assert_accurate(again, H)
    assert again.n_products == hvp.count < first.n_products / 2
