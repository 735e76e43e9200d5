// Batched symmetric eigen-decomposition of a C-contiguous stack of `count` n x n matrices
// (row-major, one after another): eigenvalues ascending, eigenvectors as columns, the lower
// triangle read (numpy.linalg.eigh's UPLO="L"), or (A + A^T)/2 when `symmetrize` is set.
// Each matrix is mapped in place; threads split the stack.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "saddlepoint/linalg/eigh_jacobi.hpp"
#include "saddlepoint/linalg/eigh_small.hpp"
#include "saddlepoint/linalg/stack_check.hpp"
#include "saddlepoint/parallel.hpp"
#include "saddlepoint/linalg/sterf.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

template <typename T, int N>
using RowMajorMatrix = Eigen::Matrix<T, N, N, N == 1 ? Eigen::ColMajor : Eigen::RowMajor>;


// Whether a stack of n x n matrices goes to the batched Jacobi solver (eigh_jacobi.hpp) rather
// than to one Eigen solver per matrix. Jacobi's work grows like (sweeps) n^3 against the
// tridiagonal solvers' ~n^3, so it wins while the vector lanes pay more than the extra work.
// Measured here (one thread, us per matrix, Jacobi against Eigen): float64 eigh 33.6 / ~39 at
// n = 30 and 43.2 / 44.4 at 32 (Eigen's there), eigenvalues only 11.3 / 13.1 at 24 and 19.7 /
// 17.6 at 28; float32 eigh 31.0 / 33.7 at 32, eigenvalues 16.9 / 17.7 at 32.
template <typename T>
inline bool use_jacobi(std::int64_t n, bool vectors) {
  const std::int64_t largest = sizeof(T) == 4 ? (vectors ? 32 : 30) : (vectors ? 30 : 26);
  return n >= 3 && n <= largest;
}

namespace detail {

// Returns true when matrix `a` (n x n, row-major) is finite and, unless `check_symmetry` is
// false, max|a_ij - a_ji| <= rtol * max|a_ij|. Fills `out` with the details.
template <typename T>
bool matrix_ok(const T* a, std::int64_t n, double rtol, bool check_symmetry, StackCheck& out) {
  double scale = 0.0, asym = 0.0;
  for (std::int64_t i = 0; i < n * n; ++i) {  // row-major: the first non-finite entry
    const double x = static_cast<double>(a[i]);
    if (!std::isfinite(x)) {
      out.nonfinite = true;
      out.row = i / n;
      out.col = i % n;
      return false;
    }
    scale = std::max(scale, std::abs(x));
  }
  // a[i, j] against a[j, i] in 64 x 64 tiles, so that the transposed reads of a large matrix
  // stay in cache (column by column they cost a miss each: 20 ms at n = 2048)
  constexpr std::int64_t tile = 64;
  std::int64_t ai = 0, aj = 0;
  for (std::int64_t ib = 0; ib < n; ib += tile) {
    for (std::int64_t jb = 0; jb <= ib; jb += tile) {
      for (std::int64_t i = ib; i < std::min(n, ib + tile); ++i) {
        for (std::int64_t j = jb; j < std::min(i, jb + tile); ++j) {
          const double d =
              std::abs(static_cast<double>(a[i * n + j]) - static_cast<double>(a[j * n + i]));
          if (d > asym) {
            asym = d;
            ai = i;
            aj = j;
          }
        }
      }
    }
  }
  out.scale = scale;
  out.asymmetry = asym;
  out.row = ai;
  out.col = aj;
  return !check_symmetry || asym <= rtol * scale;
}

// True when every matrix of the stack is finite and (if asked) symmetric within rtol. No early
// exit and no branches per entry, so a stack of tiny matrices is scanned at memory speed; the
// caller looks for the first offender (matrix_ok) only when this says there is one.
template <typename T, int N>
bool stack_ok_fixed(const T* a, std::int64_t count, double rtol, bool check_symmetry) {
  constexpr T big = std::numeric_limits<T>::max();
  const int nt = threads_for(count * N * N);
  int bad = 0;
#pragma omp parallel for num_threads(nt) if (nt > 1) reduction(| : bad) schedule(static)
  for (std::int64_t k = 0; k < count; ++k) {
    const T* m = a + N * N * k;
    T scale = T(0), asym = T(0);
    int nonfinite = 0;
    for (int i = 0; i < N; ++i) {
      for (int j = 0; j < N; ++j) {
        const T x = std::abs(m[i * N + j]);
        nonfinite |= !(x <= big);  // NaN and Inf fail the comparison
        scale = std::max(scale, x);
        if (j < i) asym = std::max(asym, std::abs(m[i * N + j] - m[j * N + i]));
      }
    }
    bad |= nonfinite | (check_symmetry &&
                        static_cast<double>(asym) > rtol * static_cast<double>(scale));
  }
  return bad == 0;
}

// Work of one decomposition in units of streaming elements, for threads_for: measured
// ~25 ns for a 2x2 and ~150 us for a 64x64, i.e. roughly n^3 + 16 n^2 element-passes.
inline std::int64_t eigh_work(std::int64_t count, std::int64_t n) {
  return count * (n * n * n + 16 * n * n + 16);
}

// Threads for a stack: never more than matrices (an idle OpenMP worker still spins after the
// region, and on two cores that slows whatever runs next, OpenBLAS included).
inline int eigh_threads(std::int64_t count, std::int64_t n) {
  return static_cast<int>(std::min<std::int64_t>(threads_for(eigh_work(count, n)), count));
}

template <typename T>
inline void load(const T* a, std::int64_t n, bool symmetrize,
                 Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& m) {
  const Eigen::Map<const RowMajorMatrix<T, Eigen::Dynamic>> A(a, n, n);
  if (symmetrize) {
    m = (A + A.transpose()) * T(0.5);
  } else {
    m = A;
  }
}

// 2x2: the dlaev2 closed form (eigh_small.hpp) is accurate, so it needs no guard. A plain
// loop of selects over restrict pointers, which the compiler vectorizes.
template <typename T>
void eigh_2(const T* __restrict a, std::int64_t begin, std::int64_t end, T* __restrict w,
            T* __restrict v, bool symmetrize) {
  if (!v) {
#pragma omp simd
    for (std::int64_t k = begin; k < end; ++k) {
      const T a00 = a[4 * k], a01 = a[4 * k + 1], a10 = a[4 * k + 2], a11 = a[4 * k + 3];
      eigvals2(a00, symmetrize ? (a01 + a10) * T(0.5) : a10, a11, w + 2 * k);
    }
    return;
  }
#pragma omp simd
  for (std::int64_t k = begin; k < end; ++k) {
    const T a00 = a[4 * k], a01 = a[4 * k + 1], a10 = a[4 * k + 2], a11 = a[4 * k + 3];
    T cs, sn;
    eigh2(a00, symmetrize ? (a01 + a10) * T(0.5) : a10, a11, w + 2 * k, cs, sn);
    T* V = v + 4 * k;  // columns: (cs, sn) then (-sn, cs)
    V[0] = cs;
    V[1] = -sn;
    V[2] = sn;
    V[3] = cs;
  }
}

// Eigenvalues only: Eigen's Householder tridiagonalization of the matrix scaled to max|a| = 1
// (as its solver does), then the root-free QL of sterf.hpp instead of Eigen's tridiagonal QR.
// `m` is overwritten; `reload` refills it for Eigen's solver if the QL does not converge.
template <typename Matrix, typename Diag, typename Sub, typename Solver, typename Reload>
void eigenvalues_only(Matrix& m, Diag& diag, Sub& sub, Sub& hcoeffs, Solver& solver,
                      const Reload& reload, typename Matrix::Scalar* w) {
  using T = typename Matrix::Scalar;
  const auto n = static_cast<int>(m.rows());
  const T scale = m.cwiseAbs().maxCoeff();
  if (scale == T(0)) {
    std::fill(w, w + n, T(0));
    return;
  }
  m /= scale;
  Eigen::internal::tridiagonalization_inplace(m, diag, sub, hcoeffs, false);
  for (int i = 0; i < n; ++i) w[i] = diag[i];
  if (tridiagonal_eigenvalues(w, sub.data(), n)) {
    for (int i = 0; i < n; ++i) w[i] *= scale;
    return;
  }
  reload(m);
  solver.compute(m, Eigen::EigenvaluesOnly);
  for (int i = 0; i < n; ++i) w[i] = solver.eigenvalues()[i];
}

// 2x2 matrices handed to a thread at a time. Dynamic scheduling:
// on a 2-core host shared with other work, a static split waits for whichever thread was
// descheduled, and two threads measured slower than one.
inline constexpr std::int64_t kChunk = 4096;

// The 2x2 stack loop; chunks of kChunk matrices to a thread.
template <typename T>
void eigh_stack_2(const T* a, std::int64_t count, T* w, T* v, bool symmetrize) {
  const int nt = eigh_threads(count, 2);
  const std::int64_t chunks = (count + kChunk - 1) / kChunk;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
  for (std::int64_t c = 0; c < chunks; ++c) {
    eigh_2(a, c * kChunk, std::min(count, (c + 1) * kChunk), w, v, symmetrize);
  }
}

template <typename T>
void eigh_stack_dynamic(const T* a, std::int64_t count, std::int64_t n, T* w, T* v,
                        bool symmetrize) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  const int nt = eigh_threads(count, n);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    Eigen::SelfAdjointEigenSolver<Matrix> solver(n);  // sized once: no allocation per matrix
    Matrix m(n, n);
    Vector diag(n), sub(n - 1), hcoeffs(n - 1);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t k = 0; k < count; ++k) {
      const auto reload = [&](Matrix& into) { load<T>(a + n * n * k, n, symmetrize, into); };
      reload(m);
      if (!v) {
        eigenvalues_only(m, diag, sub, hcoeffs, solver, reload, w + n * k);
        continue;
      }
      solver.compute(m, Eigen::ComputeEigenvectors);
      Eigen::Map<Vector>(w + n * k, n) = solver.eigenvalues();
      Eigen::Map<RowMajorMatrix<T, Eigen::Dynamic>>(v + n * n * k, n, n) = solver.eigenvectors();
    }
  }
}

}  // namespace detail

// Scans every matrix of the stack for non-finite entries and, when check_symmetry is set, for
// asymmetry beyond rtol * max|a_ij| (per matrix). Returns the first offender.
template <typename T>
StackCheck check_stack(const T* a, std::int64_t count, std::int64_t n, double rtol,
                       bool check_symmetry) {
  if (n == 2 && detail::stack_ok_fixed<T, 2>(a, count, rtol, check_symmetry)) return {};
  if (n == 3 && detail::stack_ok_fixed<T, 3>(a, count, rtol, check_symmetry)) return {};
  if (n == 4 && detail::stack_ok_fixed<T, 4>(a, count, rtol, check_symmetry)) return {};
  std::int64_t first = count;
  // one matrix is checked on the calling thread: it is the LAPACK path's check, and waking
  // OpenMP workers right before OpenBLAS starts its own threads slows both on two cores
  const int nt = count > 1 ? threads_for(count * n * n) : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) reduction(min : first) schedule(static)
  for (std::int64_t k = 0; k < count; ++k) {
    if (k > first) continue;  // an earlier offender is known on this thread
    StackCheck scratch;
    if (!detail::matrix_ok(a + n * n * k, n, rtol, check_symmetry, scratch)) first = k;
  }
  StackCheck result;
  if (first < count) {
    detail::matrix_ok(a + n * n * first, n, rtol, check_symmetry, result);
    result.index = first;
  }
  return result;
}

// Eigenvalues into w (count x n), and eigenvectors as columns into v (count x n x n) unless v
// is null. Inputs finite and within the symmetry tolerance (validated by the caller); a, w and
// v C-contiguous and not overlapping.
template <typename T>
void eigh_stack(const T* a, std::int64_t count, std::int64_t n, T* w, T* v, bool symmetrize) {
  if (count == 0 || n == 0) return;
  if (n == 1) {
    for (std::int64_t k = 0; k < count; ++k) {
      w[k] = a[k];
      if (v) v[k] = T(1);
    }
    return;
  }
  if (n == 2) {
    detail::eigh_stack_2(a, count, w, v, symmetrize);
  } else if (use_jacobi<T>(n, v != nullptr)) {
    eigh_stack_jacobi(a, count, static_cast<int>(n), w, v, symmetrize,
                      detail::eigh_threads(count, n));
  } else {
    detail::eigh_stack_dynamic<T>(a, count, n, w, v, symmetrize);
  }
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
