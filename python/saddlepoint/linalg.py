"""Symmetric eigen-decomposition of one matrix or a stack of millions of small ones.

:func:`eigh` and :func:`eigvalsh` follow :func:`numpy.linalg.eigh` / :func:`numpy.linalg.eigvalsh`
so that either can replace the other: any stack ``(..., n, n)``, eigenvalues ascending,
eigenvectors as the *columns* of ``v`` (``a @ v[..., :, i] == w[..., i] * v[..., :, i]``), the
lower triangle read, the input's dtype (float32 or float64) kept.

How the work is done
--------------------
- ``n = 2``: LAPACK's ``dlaev2`` rotation in closed form (accurate to rounding: a tiny
  eigenvalue keeps its sign).
- ``n = 3`` to 30 (float64; 26 for eigenvalues only) or 32 (float32; 30): cyclic Jacobi run
  on 16 to 64 matrices at once, one matrix per SIMD lane (the matrices laid out
  structure-of-arrays), the same branch-free rotations for every lane. Backward stable
  (eigenvalue errors ~eps * ``|a|``, eigenvectors orthogonal to rounding). Each matrix stops at
  its own convergence test (off-diagonal norm below eps times the norm), so its result does not
  depend on the other matrices of the stack or on where it sits.
- larger ``n`` below :data:`LAPACK_MIN_N` (96): Eigen's ``SelfAdjointEigenSolver`` (Householder
  tridiagonalization and implicit symmetric QR, backward stable), one preallocated per thread.
- eigenvalues only (:func:`eigvalsh`, above the Jacobi sizes): Eigen's Householder
  tridiagonalization, then the root-free QL iteration of LAPACK's ``dsterf`` (ported), which
  avoids a square root per rotation; up to :data:`LAPACK_MIN_N_EIGVALSH` (256).
- larger matrices: :func:`numpy.linalg.eigh` / :func:`numpy.linalg.eigvalsh` (LAPACK ``syevd``
  from NumPy's BLAS build), faster than Eigen there on this kind of machine (measured by
  ``bench/eigh.py``: Eigen alone was 1.6-2x slower at n = 256-512). The same input checks
  run first (a serial scan, about 1% of LAPACK's time).

Stacks are split across :func:`saddlepoint.set_num_threads` threads with the GIL released.
Strided, read-only or non-native-byte-order input is copied to a contiguous array first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core

__all__ = ["LAPACK_MIN_N", "LAPACK_MIN_N_EIGVALSH", "eigh", "eigvalsh"]

#: ``eigh`` sends matrices of this size and larger to LAPACK through :func:`numpy.linalg.eigh`.
#: Measured with ``bench/eigh.py`` on a 2-core AMD EPYC (single matrices, Eigen alone against
#: NumPy): 1.13x at n = 64, 0.95x at 96, 0.82x at 128, 0.62x at 256, 0.48x at 512.
LAPACK_MIN_N = 96

#: ``eigvalsh`` sends matrices of this size and larger to LAPACK (``numpy.linalg.eigvalsh``).
#: Its own path (Eigen's tridiagonalization + the root-free QL of ``sterf.hpp``) measured 1.46x
#: at n = 64, 1.25x at 128, 1.11x at 192, 1.00x at 256 and 0.72x at 512.
LAPACK_MIN_N_EIGVALSH = 256


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
) -> Any:
    """The checked decomposition behind :func:`eigh`, :func:`eigvalsh` and ``classify``."""
    arr = _prepared(a, name)
    lapack_min_n = LAPACK_MIN_N if vectors else LAPACK_MIN_N_EIGVALSH
    if arr.ndim >= 2 and arr.shape[-1] >= lapack_min_n:
        _core.check_symmetric_stack(
            arr, symmetrize=symmetrize, symmetry_rtol=symmetry_rtol, name=name
        )
        if symmetrize:
            arr = (arr + np.swapaxes(arr, -1, -2)) * arr.dtype.type(0.5)
        return tuple(np.linalg.eigh(arr)) if vectors else np.linalg.eigvalsh(arr)
    solver = _core.eigh_stack if vectors else _core.eigvalsh_stack
    return solver(arr, symmetrize=symmetrize, symmetry_rtol=symmetry_rtol, name=name)


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
