"""classify(..., eigenvalues=False): eigenvalue counts by Sylvester's law of inertia.

The reference is numpy.linalg.eigvalsh in float64 of the same matrices, counted against the
threshold the inertia path documents, tol = max(atol, rtol * ||H||_F), computed here. Random
stacks of every size 1..64 in both dtypes, the hard structures of tests/test_linalg.py (graded,
blocks, tridiagonal, low rank, Wilkinson), known spectra with eigenvalues placed on both sides
of the zero band, exact zeros, pivots that must be 2x2, and agreement with the eigenvalue path
where both use the same threshold (rtol=0, atol given).
"""

from __future__ import annotations

import numpy as np
import pytest
import saddlepoint.hessian as hs
from hypothesis import given, settings
from hypothesis import strategies as st
from saddlepoint import _core
from test_linalg import HARD_STRUCTURES, hard_structure, random_symmetric, with_spectrum

DTYPES = [np.float32, np.float64]


def reference_counts(H, rtol, atol):
    """(n_positive, n_negative, tol) from float64 eigenvalues and the documented threshold."""
    h = np.asarray(H, dtype=np.float64)
    tol = np.maximum(atol, rtol * np.sqrt(np.sum(h * h, axis=(-2, -1))))
    w = np.linalg.eigvalsh(h)
    pos = np.count_nonzero(w > tol[..., None], axis=-1)
    neg = np.count_nonzero(w < -tol[..., None], axis=-1)
    return pos, neg, tol


def expected_kind(pos, neg, n):
    kind = np.full(np.shape(pos), "degenerate", dtype="<U10")
    kind[pos == n] = "minimum"
    kind[neg == n] = "maximum"
    kind[(pos > 0) & (neg > 0)] = "saddle"
    return kind


def check_against_reference(H, rtol=None, atol=0.0, symmetrize=False):
    H = np.asarray(H)
    n = H.shape[-1]
    c = hs.classify(H, rtol=rtol, atol=atol, symmetrize=symmetrize, eigenvalues=False)
    rtol = 10 * n * float(np.finfo(H.dtype).eps) if rtol is None else rtol
    h64 = H.astype(np.float64)  # the core symmetrizes in float64 too
    h = (h64 + np.swapaxes(h64, -1, -2)) / 2 if symmetrize else h64
    pos, neg, tol = reference_counts(h, rtol, atol)
    np.testing.assert_array_equal(c.n_positive, pos)
    np.testing.assert_array_equal(c.n_negative, neg)
    np.testing.assert_array_equal(c.n_zero, n - pos - neg)
    np.testing.assert_allclose(c.tol, tol, rtol=1e-12)
    np.testing.assert_array_equal(c.kind, expected_kind(pos, neg, n))
    np.testing.assert_array_equal(c.minimum_ratio, pos / n)
    assert c.eigenvalues is None and c.escape_direction is None
    return c


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", range(1, 65))
def test_every_size_matches_eigvalsh_counts(n, dtype):
    H = random_symmetric((max(1, 400 // n),), n, dtype, seed=n)
    check_against_reference(H)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
    structure=st.sampled_from(HARD_STRUCTURES),
)
def test_hard_structures_match_eigvalsh_counts(n, dtype, seed, structure):
    a = hard_structure(structure, n, seed).astype(dtype)
    # The counts may differ from eigvalsh's only for eigenvalues within rounding of +-tol:
    # compare where every eigenvalue is clear of the band's edges by 1e3 n eps ||H||_F.
    h = a.astype(np.float64)
    fro = np.sqrt(np.sum(h * h))
    tol = 10 * n * float(np.finfo(dtype).eps) * fro
    w = np.linalg.eigvalsh(h)
    margin = 1e3 * n * np.finfo(np.float64).eps * fro
    if np.all(np.abs(np.abs(w) - tol) > margin):
        check_against_reference(a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_known_spectra_on_both_sides_of_the_band(dtype):
    # eigenvalues at 0.5 tol and 2 tol (and their negatives), exact zeros, repeated values
    atol = 1e-3
    spectra = [
        [2e-3, 5e-4, -5e-4, -2e-3, 1.0, -1.0],
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        [-3.0, -3.0, -3.0, 4e-4, 0.0, 0.0],
        [5.0, 5.0, 5.0, 5.0, 5.0, 5.0],
        [-2e-3, -2e-3, -1.0, -1.0, -7.0, -5e-3],
        [1e-4, -1e-4, 0.0, 0.0, 1e-5, 0.0],
    ]
    H = with_spectrum(np.array(spectra), seed=3).astype(dtype)
    c = hs.classify(H, rtol=0.0, atol=atol, eigenvalues=False)
    lam = np.array(spectra)
    np.testing.assert_array_equal(c.n_positive, (lam > atol).sum(1))
    np.testing.assert_array_equal(c.n_negative, (lam < -atol).sum(1))
    assert list(c.kind) == ["saddle", "degenerate", "degenerate", "minimum", "maximum",
                            "degenerate"]  # fmt: skip


@pytest.mark.parametrize(
    "H, counts",
    [
        ([[0.0, 1.0], [1.0, 0.0]], (1, 1)),  # zero diagonal: a 2x2 pivot
        ([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], (1, 1)),  # and a zero column
        ([[1e-20, 1.0], [1.0, 1e-20]], (1, 1)),
        ([[0.0]], (0, 0)),
        ([[-3.0]], (0, 1)),
        (np.zeros((5, 5)), (0, 0)),
        (np.diag([1.0, 0.0, -1.0, 0.0]), (1, 1)),
        (np.ones((4, 4)), (1, 0)),  # rank one: eigenvalues 4, 0, 0, 0
    ],
)
def test_exact_cases(H, counts):
    c = hs.classify(np.asarray(H), eigenvalues=False)
    assert (c.n_positive, c.n_negative) == counts
    assert isinstance(c.kind, str) and isinstance(c.n_positive, int)


def test_agrees_with_the_eigenvalue_path_when_both_use_the_same_threshold():
    # spectra of every kind, clear of the band's edges: per row all positive, all negative or
    # mixed, and in some rows one eigenvalue inside the band
    rng = np.random.default_rng(7)
    lam = rng.uniform(5e-4, 3e-3, (2000, 9)) * rng.choice([-1.0, 1.0], (2000, 9))
    lam[:600] = np.abs(lam[:600])
    lam[600:1200] = -np.abs(lam[600:1200])
    lam[::3, 4] = rng.uniform(-1e-4, 1e-4, lam[::3, 4].shape)
    H = with_spectrum(lam, seed=8)
    fast = hs.classify(H, rtol=0.0, atol=2e-4, eigenvalues=False)
    full = hs.classify(H, rtol=0.0, atol=2e-4)
    for field in ("kind", "n_positive", "n_negative", "n_zero", "minimum_ratio", "tol"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(full, field))
    assert set(fast.kind) == {"minimum", "maximum", "saddle", "degenerate"}


@pytest.mark.parametrize("dtype", DTYPES)
def test_symmetrize_and_lower_triangle(dtype):
    rng = np.random.default_rng(11)
    a = rng.standard_normal((300, 7, 7)).astype(dtype)
    check_against_reference(a, symmetrize=True)
    low = np.tril(random_symmetric((300,), 7, np.float64, seed=12))
    sym = low + np.tril(low, -1).swapaxes(1, 2)
    noisy = (sym + np.triu(np.full((7, 7), 1e-12), 1)).astype(np.float64)  # upper within rtol
    c = hs.classify(noisy, eigenvalues=False)
    ref = hs.classify(sym, eigenvalues=False)
    np.testing.assert_array_equal(c.n_positive, ref.n_positive)


def test_threads_and_strided_input_give_the_same_counts():
    H = random_symmetric((4000,), 12, np.float64, seed=13)
    one = hs.classify(H, eigenvalues=False)
    strided = hs.classify(np.swapaxes(H, 1, 2), eigenvalues=False)  # transposed: a copy
    np.testing.assert_array_equal(one.n_positive, strided.n_positive)
    import saddlepoint as sp

    before = sp.get_num_threads()
    try:
        sp.set_num_threads(1)
        serial = hs.classify(H, eigenvalues=False)
    finally:
        sp.set_num_threads(before)
    np.testing.assert_array_equal(one.n_negative, serial.n_negative)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"eigenvalues": 0}, TypeError, "eigenvalues: expected True or False, got int"),
        ({"rtol": -1.0}, ValueError, "rtol: expected a finite value >= 0"),
        ({"atol": float("nan")}, ValueError, "atol: expected a finite value >= 0"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        hs.classify(np.eye(3), **{"eigenvalues": False, **kwargs})


def test_bad_matrices_are_refused_naming_h():
    bad = np.eye(3)
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="H: expected finite values"):
        hs.classify(bad, eigenvalues=False)
    with pytest.raises(ValueError, match="H: expected a symmetric matrix"):
        hs.classify(np.triu(np.ones((3, 3))), eigenvalues=False)
    with pytest.raises(ValueError, match="rtol: expected a finite value >= 0"):
        _core.inertia_stack(np.eye(2), rtol=-1.0)
