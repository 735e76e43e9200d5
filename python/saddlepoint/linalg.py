"""Symmetric eigen-decomposition of one matrix or a stack of millions of small ones.

:func:`eigh` and :func:`eigvalsh` follow :func:`numpy.linalg.eigh` / :func:`numpy.linalg.eigvalsh`
so that either can replace the other: any stack ``(..., n, n)``, eigenvalues ascending,
eigenvectors as the *columns* of ``v`` (``a @ v[..., :, i] == w[..., i] * v[..., :, i]``), the
lower triangle read, the input's dtype (float32 or float64) kept.

How the work is done
--------------------
- ``n = 2``: LAPACK's ``dlaev2`` rotation in closed form (accurate to rounding: a tiny
  eigenvalue keeps its sign).
- ``n = 3``: Eigen's closed form (the trigonometric solution of the characteristic cubic),
  evaluated in float64 and *guarded*: it loses up to ~1e-8 * |a| when eigenvalues cluster, so
  whenever an eigenvalue or a gap between neighbours is below 1e-3 * max|lambda| the matrix is
  redone by the iterative solver.
- ``n = 4 .. 16``: Eigen's ``SelfAdjointEigenSolver`` on fixed-size matrices (Householder
  tridiagonalization and implicit symmetric QR, backward stable).
- larger ``n`` below :data:`LAPACK_MIN_N`: the same solver on dynamic-size matrices, one
  preallocated per thread.
- ``n >= LAPACK_MIN_N``: :func:`numpy.linalg.eigh` (LAPACK ``syevd`` from NumPy's BLAS build),
  which is faster than Eigen for large matrices on this kind of machine (measured by
  ``bench/eigh.py``; Eigen alone was 1.5-5x slower there). The same input checks run first.

Stacks are split across :func:`saddlepoint.set_num_threads` threads with the GIL released.
Strided, read-only or non-native-byte-order input is copied to a contiguous array first.
"""

from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["LAPACK_MIN_N", "eigh", "eigvalsh"]

#: Matrices of this size and larger go to LAPACK through :func:`numpy.linalg.eigh`.
#: Measured on a 2-core AMD EPYC (single matrices, medians of 15): Eigen's solver against
#: NumPy was 1.35x (eigh) / 1.24x (eigvalsh) faster at n = 64, 1.05x / 1.14x at 96, but 0.87x /
#: 0.80x at 128 and 0.68x / 0.86x at 256. ``bench/eigh.py`` reports both sides.
LAPACK_MIN_N = 128


def _prepared(a: object, name: str) -> np.ndarray:
    """``a`` as an array the core accepts, copying only strided or foreign-order input."""
    if not isinstance(a, np.ndarray):
        a = np.asarray(a)
        if a.dtype == np.float64 or a.dtype == np.float32:
            pass
        elif a.dtype.kind in "iub":
            raise TypeError(
                f"{name}: expected float32 or float64 values, got {a.dtype} "
                f"(convert with np.asarray({name}, dtype=np.float64))"
            )
    if a.dtype.kind == "f" and a.dtype.itemsize in (4, 8) and not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    if a.dtype.kind == "f" and not (a.flags.c_contiguous and a.flags.aligned):
        a = np.array(a, order="C", copy=True)  # also realigns a contiguous, misaligned buffer
    return a


def _decompose(
    a: object, *, vectors: bool, symmetrize: bool, symmetry_rtol: float | None, name: str
):
    """The checked decomposition behind :func:`eigh`, :func:`eigvalsh` and ``classify``."""
    a = _prepared(a, name)
    options = {"symmetrize": symmetrize, "symmetry_rtol": symmetry_rtol, "name": name}
    if a.ndim >= 2 and a.shape[-1] >= LAPACK_MIN_N:
        _core.check_symmetric_stack(a, **options)
        if symmetrize:
            a = (a + np.swapaxes(a, -1, -2)) * a.dtype.type(0.5)
        return tuple(np.linalg.eigh(a)) if vectors else np.linalg.eigvalsh(a)
    if vectors:
        return _core.eigh_stack(a, **options)
    return _core.eigvalsh_stack(a, **options)


def eigh(
    a: np.ndarray,
    *,
    symmetrize: bool = False,
    symmetry_rtol: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors of a symmetric matrix or a stack of them.

    Solves ``a v_i = w_i v_i`` for every matrix of the stack: ``a = V diag(w) V^T`` with ``V``
    orthogonal.

    Parameters
    ----------
    a : ndarray, shape (..., n, n), float32 or float64
        Symmetric matrices. Only the lower triangle is used (like ``numpy.linalg.eigh``'s
        default ``UPLO="L"``), but every entry must be finite and the matrix symmetric within
        ``symmetry_rtol``.
    symmetrize : bool
        Decompose ``(a + a^T) / 2`` instead of checking symmetry (for finite-difference
        Hessians, say). The input array is not modified.
    symmetry_rtol : float, optional
        Largest accepted ``max|a_ij - a_ji| / max|a_ij|`` per matrix; default ``sqrt(eps)`` of
        the dtype (1.5e-8 for float64, 3.5e-4 for float32).

    Returns
    -------
    w : ndarray, shape (..., n)
        Eigenvalues in ascending order, the dtype of ``a``.
    v : ndarray, shape (..., n, n)
        Unit eigenvectors as columns: ``v[..., :, i]`` belongs to ``w[..., i]``. Their signs
        are arbitrary (compare projectors ``v_i v_i^T``, not vectors, across libraries).

    Raises
    ------
    TypeError
        ``a`` is not a float32/float64 array (integers are refused, as their conversion is the
        caller's choice).
    ValueError
        ``a`` is not a stack of square matrices, holds NaN or Inf, or is not symmetric (the
        message gives the matrix, the worst entry and how far off it is).

    Examples
    --------
    >>> w, v = eigh(np.array([[0.0, -2.0], [-2.0, 0.0]]))
    >>> w
    array([-2.,  2.])
    """
    return _decompose(
        a, vectors=True, symmetrize=symmetrize, symmetry_rtol=symmetry_rtol, name="a"
    )


def eigvalsh(
    a: np.ndarray,
    *,
    symmetrize: bool = False,
    symmetry_rtol: float | None = None,
) -> np.ndarray:
    """Eigenvalues (ascending) of a symmetric matrix or a stack of them.

    Same input, checks and dispatch as :func:`eigh`, without the eigenvectors, which makes it
    cheaper (no accumulation of the Householder and Givens rotations).

    Returns
    -------
    w : ndarray, shape (..., n)
        Eigenvalues in ascending order, the dtype of ``a``.
    """
    return _decompose(
        a, vectors=False, symmetrize=symmetrize, symmetry_rtol=symmetry_rtol, name="a"
    )
