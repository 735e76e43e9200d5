"""The batched Jacobi path of saddlepoint.linalg.eigh / eigvalsh (n = 3 .. 32): whole groups of
16 to 64 matrices and their tails, matrices of wildly different scales and
structures sharing a group, and results that do not depend on a matrix's neighbours, its place
in the stack or the thread count. References: numpy.linalg.eigh in float64 (check_decomposition
of test_linalg.py)."""

from __future__ import annotations

import numpy as np
import pytest
import saddlepoint
from saddlepoint import linalg
from test_linalg import (
    check_decomposition,
    check_eigenvalues,
    hard_structure,
    random_symmetric,
    with_spectrum,
)

DTYPES = [np.float32, np.float64]
JACOBI_SIZES = [3, 4, 5, 7, 8, 11, 12, 13, 16, 17, 22, 26, 27, 30, 31, 32]


def mixed_stack(n, dtype, count, seed):
    """`count` matrices cycling through structures and scales that a group must handle side by
    side: random at 1e-30 .. 1e30 (float32: 1e-15 .. 1e15), zero, diagonal, a multiple of the
    identity, repeated and clustered eigenvalues, and the hard structures of test_linalg.py."""
    big = 1e30 if dtype == np.float64 else 1e15
    rng = np.random.default_rng(seed)
    mats = []
    for k in range(count):
        kind = k % 9
        if kind == 0:
            m = random_symmetric((), n, np.float64, seed + k) * big
        elif kind == 1:
            m = random_symmetric((), n, np.float64, seed + k) / big
        elif kind == 2:
            m = np.zeros((n, n))
        elif kind == 3:
            m = np.diag(rng.standard_normal(n))
        elif kind == 4:
            m = -2.5 * np.eye(n)
        elif kind == 5:  # two eigenvalues, each repeated
            m = with_spectrum(np.where(np.arange(n) < n // 2, 1.0, -3.0), seed + k)
        elif kind == 6:  # a cluster at zero, both signs
            m = with_spectrum(np.r_[1e-9 * rng.standard_normal(n - 1), 1.0], seed + k)
        else:
            m = hard_structure(["graded", "wilkinson"][kind - 7], n, seed + k)
        mats.append(m)
    return np.stack(mats).astype(dtype)


STACKS = {  # (n, dtype) -> a stack: whole groups and tails of mixed matrices, or many random
    "mixed 1": lambda n, dtype: mixed_stack(n, dtype, 1, seed=n),
    "mixed 31": lambda n, dtype: mixed_stack(n, dtype, 31, seed=n + 31),
    "mixed 65": lambda n, dtype: mixed_stack(n, dtype, 65, seed=n + 65),
    "mixed 140": lambda n, dtype: mixed_stack(n, dtype, 140, seed=n + 140),
    "random 1000": lambda n, dtype: random_symmetric((1000,), n, dtype, seed=n),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", JACOBI_SIZES)
@pytest.mark.parametrize("stack", STACKS)
def test_whole_groups_and_tails_match_numpy(n, dtype, stack):
    a = STACKS[stack](n, dtype)
    w, v = linalg.eigh(a)
    check_decomposition(a, w, v)
    check_eigenvalues(a, linalg.eigvalsh(a))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [3, 8, 13, 16, 26, 30, 32])
def test_a_matrix_gets_the_same_bits_wherever_it_sits_and_whatever_its_neighbours(n, dtype):
    """Each lane stops at its own convergence: its bits must not depend on the group. The same
    matrices in another order, alone, or among others that converge later give the same bits."""
    a = mixed_stack(n, dtype, 90, seed=n)
    w, v = linalg.eigh(a)
    wv = linalg.eigvalsh(a)
    order = np.random.default_rng(n).permutation(len(a))
    w2, v2 = linalg.eigh(a[order])
    assert w2.tobytes() == w[order].tobytes() and v2.tobytes() == v[order].tobytes()
    assert linalg.eigvalsh(a[order]).tobytes() == wv[order].tobytes()
    for k in (0, 2, 6, 89):  # alone, and among slowly converging random neighbours
        wk, vk = linalg.eigh(a[k])
        assert wk.tobytes() == w[k].tobytes() and vk.tobytes() == v[k].tobytes()
        crowd = random_symmetric((40,), n, dtype, seed=k)
        crowd[37] = a[k]
        wc, vc = linalg.eigh(crowd)
        assert wc[37].tobytes() == w[k].tobytes() and vc[37].tobytes() == v[k].tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_thread_count_does_not_change_jacobi_results(dtype):
    a = random_symmetric((3001,), 8, dtype, seed=5)
    before = saddlepoint.get_num_threads()
    try:
        saddlepoint.set_num_threads(1)
        one = linalg.eigh(a), linalg.eigvalsh(a)
        saddlepoint.set_num_threads(2)
        two = linalg.eigh(a), linalg.eigvalsh(a)
    finally:
        saddlepoint.set_num_threads(before)
    assert one[0][0].tobytes() == two[0][0].tobytes()
    assert one[0][1].tobytes() == two[0][1].tobytes()
    assert one[1].tobytes() == two[1].tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [3, 9, 20])
def test_only_the_lower_triangle_is_read_or_the_mean_when_symmetrizing(n, dtype):
    a = random_symmetric((33,), n, np.float64, seed=n)
    # noise above the diagonal only: the lower triangle is still a's
    noise = 1e-3 * np.triu(np.random.default_rng(n).standard_normal((33, n, n)), 1)
    w, v = linalg.eigh((a + noise).astype(dtype), symmetry_rtol=1.0)
    check_decomposition(a.astype(dtype), w, v)
    ws, vs = linalg.eigh((a + noise).astype(dtype), symmetrize=True)
    mean = a + (noise + np.swapaxes(noise, -1, -2)) / 2
    check_decomposition(mean.astype(dtype), ws, vs)
