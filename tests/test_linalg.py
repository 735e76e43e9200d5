"""saddlepoint.linalg.eigh / eigvalsh against numpy.linalg.eigh in float64 and exact spectra."""

from __future__ import annotations

import numpy as np
import pytest
import saddlepoint
from helpers import snapshot
from hypothesis import example, given, settings
from hypothesis import strategies as st
from saddlepoint import _core, linalg

DTYPES = [np.float32, np.float64]


def random_symmetric(shape, n, dtype, seed):
    rng = np.random.default_rng(seed)
    b = rng.standard_normal((*shape, n, n))
    return ((b + np.swapaxes(b, -1, -2)) / 2).astype(dtype)


def with_spectrum(eigenvalues, seed):
    """Q diag(lambda) Q^T in float64 with a random orthogonal Q: a known spectrum."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((*lam.shape, lam.shape[-1])))
    a = np.einsum("...ij,...j,...kj->...ik", q, lam, q)
    return (a + np.swapaxes(a, -1, -2)) / 2


def eps(dtype):
    return float(np.finfo(dtype).eps)


def norm2(a):
    """Spectral norm of each matrix, from the float64 reference."""
    if a.shape[-1] == 0:
        return np.zeros(a.shape[:-2])
    return np.abs(np.linalg.eigvalsh(a.astype(np.float64))).max(axis=-1)


def check_decomposition(a, w, v):
    """Ascending, orthonormal, reconstructs a, and matches NumPy's float64 eigen-solution."""
    n = a.shape[-1]
    dtype = a.dtype
    assert w.dtype == dtype and v.dtype == dtype
    assert w.shape == a.shape[:-1] and v.shape == a.shape
    scale = norm2(a)[..., None] + np.finfo(np.float64).tiny
    tol = 30 * n * eps(dtype)
    wd, vd = w.astype(np.float64), v.astype(np.float64)
    assert np.all(np.diff(wd, axis=-1) >= 0)
    eye = np.eye(n)
    assert np.max(np.abs(np.swapaxes(vd, -1, -2) @ vd - eye), initial=0) <= tol
    recon = (vd * wd[..., None, :]) @ np.swapaxes(vd, -1, -2)
    assert np.all(np.abs(recon - a.astype(np.float64)) <= tol * scale[..., None])
    ref_w, ref_v = np.linalg.eigh(a.astype(np.float64))
    assert np.all(np.abs(wd - ref_w) <= tol * scale)
    # eigenvectors compared as projectors v v^T, where the eigenvalue is separated enough for
    # its projector to be well defined: error <= eps * |a| / gap (Davis-Kahan)
    gaps = np.full(w.shape, np.inf)
    if n > 1:
        d = np.diff(ref_w, axis=-1)
        gaps[..., 1:] = d
        gaps[..., :-1] = np.minimum(gaps[..., :-1], d)
    for i in range(n):
        p = vd[..., :, i, None] * vd[..., None, :, i]
        p_ref = ref_v[..., :, i, None] * ref_v[..., None, :, i]
        err = np.abs(p - p_ref).max(axis=(-1, -2))
        with np.errstate(divide="ignore"):  # a repeated eigenvalue has no projector of its own
            bound = tol * scale[..., 0] / gaps[..., i]
        assert np.all(err <= np.maximum(bound, tol))


# --- agreement with NumPy ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", range(1, 65))
def test_every_size_matches_numpy(n, dtype):
    a = random_symmetric((3,), n, dtype, seed=n)
    w, v = linalg.eigh(a)
    check_decomposition(a, w, v)
    check_eigenvalues(a, linalg.eigvalsh(a))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 64),
    batch=st.lists(st.integers(0, 3), max_size=2),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1e-30, 1e-3, 1.0, 1e4, 1e30]),
)
def test_random_stacks_property(n, batch, dtype, seed, scale):
    if dtype == np.float32:
        scale = min(max(scale, 1e-15), 1e15)
    a = random_symmetric(tuple(batch), n, np.float64, seed) * scale
    a = a.astype(dtype)
    w, v = linalg.eigh(a)
    check_decomposition(a, w, v)
    check_eigenvalues(a, linalg.eigvalsh(a))


def check_eigenvalues(a, w):
    """eigvalsh (its own root-free QL path for n >= 4) against NumPy's float64 eigenvalues."""
    n = a.shape[-1]
    assert w.dtype == a.dtype and w.shape == a.shape[:-1]
    ref = np.linalg.eigvalsh(a.astype(np.float64))
    scale = norm2(a)[..., None]
    assert np.all(np.abs(w.astype(np.float64) - ref) <= 30 * n * eps(a.dtype) * scale)


HARD_STRUCTURES = ["graded", "blocks", "tridiagonal", "low rank", "wilkinson"]


def hard_structure(structure, n, seed):
    """A symmetric float64 n x n matrix of one of the structures that stress eigensolvers."""
    rng = np.random.default_rng(seed)
    if structure == "graded":  # entries spanning 20 orders of magnitude
        g = 10.0 ** rng.uniform(-10, 10, n)
        a = random_symmetric((), n, np.float64, seed) * np.sqrt(np.outer(g, g))
    elif structure == "blocks":  # exact zeros split the tridiagonal form
        a = np.zeros((n, n))
        k = n // 2
        a[:k, :k] = random_symmetric((), k, np.float64, seed)
        a[k:, k:] = 1e-8 * random_symmetric((), n - k, np.float64, seed + 1)
    elif structure == "tridiagonal":
        off = rng.standard_normal(n - 1) * 10.0 ** rng.integers(-12, 1, n - 1)
        a = np.diag(rng.standard_normal(n)) + np.diag(off, 1) + np.diag(off, -1)
    elif structure == "low rank":  # many zero eigenvalues
        b = rng.standard_normal((n, 2))
        a = b @ b.T
    else:  # Wilkinson's W+ matrix: pairs of nearly equal eigenvalues
        m = (n - 1) / 2
        a = (
            np.diag(np.abs(np.arange(n) - m))
            + np.diag(np.ones(n - 1), 1)
            + np.diag(np.ones(n - 1), -1)
        )
    return (a + a.T) / 2


@settings(max_examples=30, deadline=None)
@example(n=29, dtype=np.float32, seed=1590204, structure="graded")  # failed in the sanitizer
@example(n=29, dtype=np.float64, seed=1590204, structure="graded")  # build (-O1, portable)
@given(
    n=st.integers(4, 40),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
    structure=st.sampled_from(HARD_STRUCTURES),
)
def test_eigvalsh_on_hard_structures(n, dtype, seed, structure):
    a = hard_structure(structure, n, seed).astype(dtype)
    check_eigenvalues(a, linalg.eigvalsh(a))
    w, v = linalg.eigh(a)
    check_decomposition(a, w, v)


@pytest.mark.parametrize(("dtype", "decades"), [(np.float32, 10), (np.float64, 150)])
def test_eigvalsh_on_many_graded_matrices(dtype, decades):
    # Graded entries g_i g_j spanning 2 * decades orders of magnitude: the root-free QL then
    # meets rotations whose p and r are tiny. An earlier rotation formed products of two small
    # numbers and lost them to underflow: float32 eigenvalues off by up to 700x the bound in
    # about 1 matrix in 400 (the float32 case here failed with it), float64 in about 1 in 5,000.
    rng = np.random.default_rng(20261121)
    for n in range(4, 41):
        count = 60
        g = 10.0 ** rng.uniform(-decades, decades, (count, n))
        a = random_symmetric((count,), n, np.float64, seed=n) * np.sqrt(
            g[:, :, None] * g[:, None, :]
        )
        check_eigenvalues(a.astype(dtype), linalg.eigvalsh(a.astype(dtype)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("offset", [-1, 3, 104, 163])
def test_large_single_matrices_on_both_sides_of_the_lapack_thresholds(dtype, offset):
    n = linalg.LAPACK_MIN_N + offset  # 95, 99 (eigh: LAPACK), 200 (eigvalsh: own), 259 (both)
    assert linalg.LAPACK_MIN_N <= 200 < linalg.LAPACK_MIN_N_EIGVALSH < 259
    a = random_symmetric((), n, dtype, seed=5)
    w, v = linalg.eigh(a)
    check_decomposition(a, w, v)
    check_eigenvalues(a, linalg.eigvalsh(a))


# --- small closed forms, near-degenerate and repeated eigenvalues -----------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_3x3_two_eigenvalues_near_zero_keep_their_signs(dtype):
    # Eigen's unguarded closed form flips these signs (errors ~1e-8 |H|); the guard must not
    count = 20_000
    rng = np.random.default_rng(7)
    tiny = 1e-10 if dtype == np.float64 else 1e-5
    lam = np.stack(
        [
            -rng.uniform(1, 10, count) * tiny,
            rng.uniform(1, 10, count) * tiny,
            rng.choice([-1.0, 1.0], count) * rng.uniform(1, 2, count),
        ],
        axis=-1,
    )
    a = with_spectrum(np.sort(lam, axis=-1), seed=8).astype(dtype)
    w = linalg.eigvalsh(a)
    w2, v = linalg.eigh(a)
    ref = np.linalg.eigvalsh(a.astype(np.float64))  # the exact spectrum of the rounded input
    assert np.all(np.sign(ref) == np.sign(np.sort(lam, axis=-1)))  # the test's premise
    tol = 30 * 3 * eps(dtype) * np.abs(ref).max(axis=-1, keepdims=True)
    assert np.all(np.abs(w - ref) <= tol)
    assert np.all(np.sign(w) == np.sign(ref))
    assert np.all(np.sign(w2) == np.sign(ref))
    check_decomposition(a, w2, v)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 9, 17, 40])
def test_repeated_and_clustered_eigenvalues(n, dtype):
    rng = np.random.default_rng(n)
    spectra = [
        np.zeros(n),
        np.ones(n) * 3.0,
        np.r_[np.full(n - 1, 2.0), -1.0],
        np.r_[-1.0, np.full(n - 1, 1e-9)],
        1.0 + 1e-12 * rng.standard_normal(n),
        np.r_[np.full(n // 2, -1.0), np.full(n - n // 2, 1.0)],
    ]
    a = np.stack([with_spectrum(np.sort(s), seed=i) for i, s in enumerate(spectra)])
    a = a.astype(dtype)
    w, v = linalg.eigh(a)
    check_decomposition(a, w, v)
    scale = norm2(a)[:, None] + np.finfo(np.float64).tiny
    exact = np.sort(np.stack(spectra), axis=-1)
    # the input was rounded to dtype: its spectrum moved by at most ~n eps |a|
    assert np.all(np.abs(w - exact) <= 30 * n * eps(dtype) * scale)


@pytest.mark.parametrize("dtype", DTYPES)
def test_2x2_closed_form_is_accurate_for_tiny_eigenvalues(dtype):
    # [[1, 1], [1, 1 + d]] has eigenvalues ~2 and ~d/2: a naive formula loses d entirely
    d = np.array([1e-3, 1e-5, 1e-6] if dtype == np.float32 else [1e-6, 1e-10, 1e-14])
    a = np.zeros((d.size, 2, 2))
    a[:, 0, 0] = 1.0
    a[:, 0, 1] = a[:, 1, 0] = 1.0
    a[:, 1, 1] = 1.0 + d
    a = a.astype(dtype)
    exact = np.linalg.eigvalsh(a.astype(np.float64))
    w, v = linalg.eigh(a)
    assert np.all(np.abs(w - exact) <= 4 * eps(dtype) * 2)
    assert np.all(w[:, 0] > 0)
    check_decomposition(a, w, v)


# --- shapes, layouts, threads -----------------------------------------------------------------


@pytest.mark.parametrize("shape", [(0, 3, 3), (2, 0, 4, 4), (0, 0), (2, 0, 0), (0, 300, 300)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_stacks_and_zero_size_matrices(shape, dtype):
    a = np.zeros(shape, dtype=dtype)
    w, v = linalg.eigh(a)
    ref_w, ref_v = np.linalg.eigh(a.astype(np.float64))
    assert w.shape == ref_w.shape and v.shape == ref_v.shape
    assert w.dtype == dtype and v.dtype == dtype
    assert linalg.eigvalsh(a).shape == ref_w.shape


def test_1x1_and_the_lecture_hessian():
    w, v = linalg.eigh(np.array([[[-3.0]], [[2.5]]]))
    assert np.array_equal(w, [[-3.0], [2.5]]) and np.array_equal(v, [[[1.0]], [[1.0]]])
    w, v = linalg.eigh(np.array([[0.0, -2.0], [-2.0, 0.0]]))
    assert np.allclose(w, [-2.0, 2.0], rtol=0, atol=1e-15)
    assert np.isclose(abs(v[:, 0] @ np.array([1.0, 1.0])) / np.sqrt(2), 1.0)


@pytest.mark.parametrize("n", [2, 3, 6, 20])
def test_strided_transposed_readonly_and_byteswapped_input_give_the_same_result(n):
    base = random_symmetric((6,), n, np.float64, seed=n)
    w, v = linalg.eigh(base)
    views = {
        "every other": (np.repeat(base, 2, axis=0)[::2], w, v),
        "transposed": (np.swapaxes(base, -1, -2), w, v),
        "fortran": (np.asfortranarray(base), w, v),
        "big endian": (base.astype(">f8"), w, v),
    }
    readonly = base.copy()
    readonly.flags.writeable = False
    views["read-only"] = (readonly, w, v)
    for name, (a, w_ref, v_ref) in views.items():
        before = np.array(a, copy=True)
        w2, v2 = linalg.eigh(a)
        assert np.array_equal(w2, w_ref), name
        assert np.array_equal(v2, v_ref), name
        assert np.array_equal(linalg.eigvalsh(a), linalg.eigvalsh(base)), name
        assert np.array_equal(a, before)


def test_misaligned_contiguous_input_is_realigned():
    a = random_symmetric((5,), 3, np.float64, seed=4)
    raw = np.zeros(a.nbytes + 1, dtype=np.uint8)
    misaligned = raw[1:].view(np.float64).reshape(a.shape)
    misaligned[...] = a
    assert misaligned.flags.c_contiguous and not misaligned.flags.aligned
    w, v = linalg.eigh(misaligned)
    w_ref, v_ref = linalg.eigh(a)
    assert np.array_equal(w, w_ref) and np.array_equal(v, v_ref)


def test_core_refuses_strided_input_instead_of_copying_silently():
    a = random_symmetric((4,), 3, np.float64, seed=1)[::2]
    with pytest.raises(ValueError, match="a: expected a C-contiguous array"):
        _core.eigh_stack(a)


def test_thread_count_does_not_change_results():
    a = random_symmetric((30_000,), 3, np.float64, seed=2)
    b = random_symmetric((200,), 12, np.float64, seed=3)
    before = saddlepoint.get_num_threads()
    try:
        saddlepoint.set_num_threads(1)
        one = [linalg.eigh(a), linalg.eigh(b)]
        saddlepoint.set_num_threads(2)
        two = [linalg.eigh(a), linalg.eigh(b)]
    finally:
        saddlepoint.set_num_threads(before)
    for (w1, v1), (w2, v2) in zip(one, two):
        assert np.array_equal(w1, w2) and np.array_equal(v1, v2)


# --- symmetry -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 5, 130, 260])
def test_lower_triangle_is_used_within_the_symmetry_tolerance(n):
    a = random_symmetric((), n, np.float64, seed=n)
    a[0, n - 1] += 1e-10  # upper triangle only, within sqrt(eps) relative
    assert np.allclose(linalg.eigvalsh(a), np.linalg.eigvalsh(a, UPLO="L"), rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 7, 130, 260])
@pytest.mark.parametrize("dtype", DTYPES)
def test_symmetrize_decomposes_the_symmetric_part(n, dtype):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((2, n, n)).astype(dtype)
    before = a.copy()
    w, _ = linalg.eigh(a, symmetrize=True)
    sym = (a.astype(np.float64) + np.swapaxes(a, -1, -2)) / 2
    ref = np.linalg.eigvalsh(sym)
    assert np.all(np.abs(w - ref) <= 30 * n * eps(dtype) * norm2(sym)[:, None])
    assert np.allclose(linalg.eigvalsh(a, symmetrize=True), w, rtol=0, atol=1e-3)
    assert np.array_equal(a, before)


# --- bad input ----------------------------------------------------------------------------------


def unchanged_after(call, a, exc, match):
    before = snapshot(a)
    with pytest.raises(exc, match=match):
        call(a)
    assert snapshot(a) == before


@pytest.mark.parametrize("fn", [linalg.eigh, linalg.eigvalsh])
def test_bad_dtypes_raise_type_error(fn):
    unchanged_after(fn, np.eye(3, dtype=np.int64), TypeError, "a: expected a float32 or float64")
    unchanged_after(fn, np.eye(3, dtype=np.float16), TypeError, "a: expected a float32 or float64")
    unchanged_after(fn, np.eye(3, dtype=complex), TypeError, "a: expected a float32 or float64")
    unchanged_after(fn, [[1, 0], [0, 1]], TypeError, r"a: expected float32 or float64 values")
    unchanged_after(fn, "matrix", TypeError, "a: expected a float32 or float64")


@pytest.mark.parametrize("fn", [linalg.eigh, linalg.eigvalsh])
@pytest.mark.parametrize("shape", [(3,), (), (2, 3), (4, 2, 3)])
def test_non_square_shapes_raise_value_error(fn, shape):
    unchanged_after(
        fn,
        np.ones(shape),
        ValueError,
        r"a: expected a stack of square matrices of shape \(\.\.\., n, n\)",
    )


@pytest.mark.parametrize("fn", [linalg.eigh, linalg.eigvalsh])
@pytest.mark.parametrize("n", [2, 3, 9, 130, 260])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_entries_raise_value_error_naming_the_place(fn, n, bad):
    a = random_symmetric((3,), n, np.float64, seed=0)
    a[2, n - 1, 0] = bad
    unchanged_after(
        fn,
        a,
        ValueError,
        rf"a: expected finite values, got -?(nan|inf) in matrix \[2\] at row {n - 1}, column 0",
    )


@pytest.mark.parametrize("fn", [linalg.eigh, linalg.eigvalsh])
@pytest.mark.parametrize("n", [2, 3, 9, 130, 260])
def test_asymmetric_matrix_raises_value_error_saying_how_far_off(fn, n):
    a = random_symmetric((2, 2), n, np.float64, seed=0)
    a /= np.abs(a).max(axis=(-1, -2), keepdims=True)  # max |a_ij| = 1 in every matrix
    a[1, 0, n - 1, 0] += 0.25
    pattern = (
        r"a: expected a symmetric matrix, but matrix \[1, 0\] has max \|a\[i, j\] - a\[j, i\]\| "
        rf"= 0\.25 at \({n - 1}, 0\), 0\.[12]\d* relative to max \|a\[i, j\]\| = [\d.]+, above "
        r"symmetry_rtol = 1\.49e-08 \(pass symmetrize=True"
    )
    unchanged_after(fn, a, ValueError, pattern)


def test_symmetry_rtol_is_validated_and_applied():
    a = np.array([[1.0, 1e-6], [0.0, 1.0]])
    with pytest.raises(ValueError, match="symmetry_rtol = 1e-07"):
        linalg.eigh(a, symmetry_rtol=1e-7)
    w, _ = linalg.eigh(a, symmetry_rtol=1e-5)
    assert np.array_equal(w, [1.0, 1.0])  # the lower triangle: diag(1, 1)
    with pytest.raises(ValueError, match="symmetry_rtol: expected a finite value >= 0, got -1"):
        linalg.eigh(a, symmetry_rtol=-1.0)
    with pytest.raises(ValueError, match="symmetry_rtol: expected a finite value >= 0, got nan"):
        linalg.eigvalsh(a, symmetry_rtol=float("nan"))


def test_float32_default_symmetry_tolerance_is_sqrt_eps():
    a = np.array([[1.0, 2e-4], [0.0, 1.0]], dtype=np.float32)  # 2e-4 < sqrt(eps32) = 3.5e-4
    assert linalg.eigvalsh(a).dtype == np.float32
    a[0, 1] = 1e-3
    with pytest.raises(ValueError, match=r"symmetry_rtol = 0\.000345"):
        linalg.eigvalsh(a)
