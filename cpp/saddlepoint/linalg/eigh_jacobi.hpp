// Small symmetric eigenproblems in bulk: cyclic Jacobi run on W matrices at once, laid out
// structure-of-arrays (entry (i, j) of lane l at [entry * W + l]), so that every arithmetic
// operation is one operation on vector registers holding that entry of W matrices.
// A general solver's set-up, pivoting and branches cost more than the arithmetic at n <= 16;
// the same branch-free rotation applied to W matrices at a time costs only the arithmetic, and
// the compiler vectorizes the lane loops at whatever width the dispatched level has (no
// intrinsics). W is 16 or 32 in float64 and 32 or 64 in float32 (kJacobiLanes below).
//
// Each lane follows its own convergence test and is frozen from the sweep it converges on: its
// rotations become the identity, cos 1 and sin 0 exactly, which keep every value (c u - s w is
// u; only the sign of a zero can change, and zeros are written out as +0), so its bits do not
// depend on which matrices share its group or where in the stack it sits. (Selects that kept
// the old values cost a third of the eigenvalue sweeps.) Results follow numpy.linalg.eigh:
// eigenvalues ascending, eigenvectors as columns, only the lower triangle read (or
// (A + A^T) / 2).
//
// Jacobi's method is backward stable (eigenvalue errors ~ eps * ||A||, eigenvectors orthogonal
// to working precision): Demmel & Veselic, SIAM J. Matrix Anal. Appl. 13(4), 1992; the rotation
// is Golub & Van Loan's sym.schur2 (Matrix Computations, 4th ed., 8.5.2) in a form without
// overflow for the matrix scaled to max |a_ij| = 1.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

// Matrices per group: 256 bytes of T (four AVX-512 registers) up to n = kJacobiSmallN, 128
// above. Each rotation's angle is a chain of two square roots and a division that the next
// rotation waits for, and more lanes give the core independent work meanwhile; but a group's
// eigenvectors must stay near L1. Measured at one thread, us per matrix with 16 / 32 lanes
// (float64): n = 12: 2.53 / 1.87; n = 16: 6.59 / 6.56, and float32 (32 / 64 lanes) 2.5 / 3.5.
template <typename T>
inline constexpr int kJacobiLanesSmall = 256 / static_cast<int>(sizeof(T));
template <typename T>
inline constexpr int kJacobiLanes = 128 / static_cast<int>(sizeof(T));
inline constexpr int kJacobiSmallN = 12;

// Sweeps after which a lane that has not met its test stops anyway. Cyclic Jacobi converges
// quadratically; random matrices n <= 64 need 4 .. 10 sweeps, so this is never reached in
// practice, and a lane stopped here is still orthogonally similar to the input.
inline constexpr int kJacobiMaxSweeps = 60;

namespace detail {

// Workspace of one group: the matrices, the eigenvectors and the per-lane scalars. `a` holds
// the upper triangle packed by rows (entry (i, j), i <= j, at row[i] + j - i), `v` the
// eigenvectors as columns, row-major, and `cs`/`sn` the current rotation.
template <typename T, int Lanes>
struct JacobiGroup {
  static constexpr int W = Lanes;
  int n = 0;
  std::vector<int> row;  // offset of (i, i) in the packed triangle, in entries
  std::vector<T> a, v;
  alignas(64) T scale[W], active[W], cs[W], sn[W];

  explicit JacobiGroup(int n_)
      : n(n_),
        row(n_),
        a(std::size_t(n_) * (n_ + 1) / 2 * W),
        v(std::size_t(n_) * (n_ + 1) * W) {
    for (int i = 0; i < n; ++i) row[i] = i * n - i * (i - 1) / 2;
  }
  T* at(int i, int j) { return a.data() + std::size_t(row[i] + j - i) * W; }  // i <= j
  const T* at(int i, int j) const { return a.data() + std::size_t(row[i] + j - i) * W; }
  // V[r, c]; rows n + 1 entries apart: n apart, a power-of-two n put row r + 2's loads 4 KiB
  // from row r's stores, and the core stalled each load on those stores (4K aliasing)
  T* vec(int r, int c) { return v.data() + std::size_t(r * (n + 1) + c) * W; }
  const T* vec(int r, int c) const { return v.data() + std::size_t(r * (n + 1) + c) * W; }
};

// Loads matrices first .. first + used - 1 of the stack into the group (the lanes past `used`
// get a zero matrix, which converges before the first sweep), scaled to max |a_ij| = 1 (the
// rotation's squares then neither overflow nor lose a small matrix to underflow).
template <typename T, int W>
void jacobi_load(const T* __restrict src, std::int64_t first, int used, bool symmetrize,
                 JacobiGroup<T, W>& g) {
  const int n = g.n;
  const std::int64_t nn = std::int64_t(n) * n;
  const T* base = src + first * nn;
  for (int l = 0; l < W; ++l) g.scale[l] = T(0);
  for (int i = 0; i < n; ++i) {
    for (int j = i; j < n; ++j) {
      T* __restrict e = g.at(i, j);
      for (int l = 0; l < used; ++l) {  // entry (j, i) of the lower triangle, or the pair's mean
        const T* m = base + l * nn;
        const T x = symmetrize ? T(0.5) * (m[j * n + i] + m[i * n + j]) : m[j * n + i];
        e[l] = x;
        g.scale[l] = std::max(g.scale[l], std::abs(x));
      }
      for (int l = used; l < W; ++l) e[l] = T(0);
    }
  }
  alignas(64) T inv[W];
  for (int l = 0; l < W; ++l) inv[l] = g.scale[l] > T(0) ? T(1) / g.scale[l] : T(1);
  T* __restrict a = g.a.data();
  const std::size_t entries = g.a.size() / W;
  for (std::size_t e = 0; e < entries; ++e) {
#pragma omp simd
    for (int l = 0; l < W; ++l) a[e * W + l] *= inv[l];
  }
}

// Marks the lanes whose off-diagonal Frobenius norm is still above eps * ||A||_F (the norm is
// invariant under the rotations); a lane once converged stays frozen. Returns the number of
// lanes still active.
template <typename T, int W>
int jacobi_update_active(JacobiGroup<T, W>& g) {
  constexpr T eps = std::numeric_limits<T>::epsilon();
  const int n = g.n;
  alignas(64) T off[W] = {}, diag[W] = {};
  for (int i = 0; i < n; ++i) {
    const T* __restrict d = g.at(i, i);
#pragma omp simd
    for (int l = 0; l < W; ++l) diag[l] += d[l] * d[l];
    for (int j = i + 1; j < n; ++j) {
      const T* __restrict e = g.at(i, j);
#pragma omp simd
      for (int l = 0; l < W; ++l) off[l] += e[l] * e[l];
    }
  }
  int count = 0;
  for (int l = 0; l < W; ++l) {
    const bool go = g.active[l] != T(0) && T(2) * off[l] > eps * eps * (diag[l] + T(2) * off[l]);
    g.active[l] = go ? T(1) : T(0);
    count += go;
  }
  return count;
}

// (u, w) <- (c u - s w, s u + c w) for `len` consecutive entries of two rows (frozen lanes:
// c = 1, s = 0).
template <typename T, int W>
inline void jacobi_rotate_rows(T* __restrict u, T* __restrict w, int len, const T* __restrict cs,
                               const T* __restrict sn) {
  for (int k = 0; k < len; ++k) {
#pragma omp simd
    for (int l = 0; l < W; ++l) {
      const T x = u[k * W + l], y = w[k * W + l];
      u[k * W + l] = cs[l] * x - sn[l] * y;
      w[k * W + l] = sn[l] * x + cs[l] * y;
    }
  }
}

// One rotation in the (p, q) plane, p < q, of every active lane: zeroes a_pq, updates the
// diagonal and rows and columns p and q of the upper triangle, and (WithVectors) columns p and q
// of the eigenvectors.
template <bool WithVectors, typename T, int W>
inline void jacobi_rotate(JacobiGroup<T, W>& g, int p, int q) {
  const int n = g.n;
  T* __restrict cs = g.cs;
  T* __restrict sn = g.sn;
  const T* __restrict on = g.active;
  T* __restrict app = g.at(p, p);
  T* __restrict aqq = g.at(q, q);
  T* __restrict apq = g.at(p, q);
#pragma omp simd
  for (int l = 0; l < W; ++l) {
    // t = tan(theta), the smaller root of t^2 + 2 t tau / (2 a_pq) - 1 = 0 (sym.schur2),
    // written as 2 a_pq sign(tau) / (|tau| + sqrt(tau^2 + 4 a_pq^2)): no cancellation, and 0
    // when a_pq is 0
    const T x = apq[l], tau = aqq[l] - app[l];
    const T den = std::abs(tau) + std::sqrt(tau * tau + T(4) * x * x);
    T t = den > T(0) ? (x + x) / den : T(0);
    t = tau < T(0) ? -t : t;
    t = on[l] != T(0) ? t : T(0);  // frozen: the identity, c = 1 and s = 0 exactly
    const T c = T(1) / std::sqrt(T(1) + t * t);
    cs[l] = c;
    sn[l] = t * c;
    app[l] -= t * x;
    aqq[l] += t * x;
    apq[l] = T(0);
  }
  // the other entries of rows/columns p and q, where the packed upper triangle keeps them:
  // (k, p) and (k, q) above row p, (p, k) and (k, q) between, rows p and q to the right of q
  for (int k = 0; k < p; ++k) jacobi_rotate_rows<T, W>(g.at(k, p), g.at(k, q), 1, cs, sn);
  for (int k = p + 1; k < q; ++k) {
    jacobi_rotate_rows<T, W>(g.at(p, k), g.at(k, q), 1, cs, sn);
  }
  if (q + 1 < n) jacobi_rotate_rows<T, W>(g.at(p, q + 1), g.at(q, q + 1), n - q - 1, cs, sn);
  // one rotation at a time down columns p and q: measured faster than deferring a row's
  // rotations and streaming them past V[r, p] held in a block (n = 16: 6.5 against 6.8 us)
  if constexpr (WithVectors) {
    for (int k = 0; k < n; ++k) jacobi_rotate_rows<T, W>(g.vec(k, p), g.vec(k, q), 1, cs, sn);
  }
}

// Sorts each lane's eigenvalues ascending (and its eigenvectors with them) by an odd-even
// transposition network of selects: n passes of compare-exchanges, the same for every lane.
// A strict comparison keeps equal eigenvalues in the order the sweeps left them.
template <bool WithVectors, typename T, int W>
void jacobi_sort(JacobiGroup<T, W>& g) {
  const int n = g.n;
  for (int pass = 0; pass < n; ++pass) {
    for (int i = pass % 2; i + 1 < n; i += 2) {
      T* __restrict di = g.at(i, i);
      T* __restrict dj = g.at(i + 1, i + 1);
      alignas(64) T swap[W];
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        const T x = di[l], y = dj[l];
        const bool s = x > y;
        swap[l] = s ? T(1) : T(0);
        di[l] = s ? y : x;
        dj[l] = s ? x : y;
      }
      if constexpr (WithVectors) {
        for (int r = 0; r < n; ++r) {
          T* __restrict ci = g.vec(r, i);
          T* __restrict cj = g.vec(r, i + 1);
#pragma omp simd
          for (int l = 0; l < W; ++l) {
            const T x = ci[l], y = cj[l];
            const bool s = swap[l] != T(0);
            ci[l] = s ? y : x;
            cj[l] = s ? x : y;
          }
        }
      }
    }
  }
}

// Decomposes the group in place: after it the diagonal of g.a holds the scaled eigenvalues,
// ascending, and g.v (WithVectors) the eigenvectors.
template <bool WithVectors, typename T, int W>
void jacobi_solve(JacobiGroup<T, W>& g) {
  const int n = g.n;
  if constexpr (WithVectors) {
    std::fill(g.v.begin(), g.v.end(), T(0));
    for (int i = 0; i < n; ++i) std::fill_n(g.vec(i, i), W, T(1));
  }
  for (int l = 0; l < W; ++l) g.active[l] = T(1);
  for (int sweep = 0; sweep < kJacobiMaxSweeps && jacobi_update_active(g) > 0; ++sweep) {
    for (int p = 0; p + 1 < n; ++p) {
      for (int q = p + 1; q < n; ++q) jacobi_rotate<WithVectors>(g, p, q);
    }
  }
  jacobi_sort<WithVectors>(g);
}

// Writes the first `used` lanes out: eigenvalues (scaled back) into w, eigenvectors into v.
template <bool WithVectors, typename T, int W>
void jacobi_store(const JacobiGroup<T, W>& g, std::int64_t first, int used, T* __restrict w,
                  T* __restrict v) {
  const int n = g.n;
  const std::int64_t nn = std::int64_t(n) * n;
  for (int i = 0; i < n; ++i) {
    const T* d = g.at(i, i);
    for (int l = 0; l < used; ++l) w[(first + l) * n + i] = d[l] * g.scale[l] + T(0);
  }
  if constexpr (WithVectors) {
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < n; ++c) {
        const T* x = g.vec(r, c);
        for (int l = 0; l < used; ++l) v[(first + l) * nn + r * n + c] = x[l] + T(0);
      }
    }
  }
}

template <bool WithVectors, typename T, int W>
void jacobi_stack(const T* a, std::int64_t count, int n, T* w, T* v, bool symmetrize,
                  int threads) {
  const std::int64_t groups = (count + W - 1) / W;
  const int nt = static_cast<int>(std::min<std::int64_t>(threads, groups));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    JacobiGroup<T, W> g(n);
#pragma omp for schedule(dynamic, std::max(1, 512 / (n * n)))
    for (std::int64_t k = 0; k < groups; ++k) {
      const std::int64_t first = k * W;
      const int used = static_cast<int>(std::min<std::int64_t>(W, count - first));
      jacobi_load(a, first, used, symmetrize, g);
      jacobi_solve<WithVectors>(g);
      jacobi_store<WithVectors>(g, first, used, w, v);
    }
  }
}

}  // namespace detail

// Eigenvalues (and eigenvectors as columns, unless v is null) of `count` n x n matrices by the
// batched Jacobi method above; the same contract as eigh_stack.
template <typename T>
void eigh_stack_jacobi(const T* a, std::int64_t count, int n, T* w, T* v, bool symmetrize,
                       int threads) {
  constexpr int W = kJacobiLanes<T>, Ws = kJacobiLanesSmall<T>;
  if (v) {
    if (n <= kJacobiSmallN) {
      detail::jacobi_stack<true, T, Ws>(a, count, n, w, v, symmetrize, threads);
    } else {
      detail::jacobi_stack<true, T, W>(a, count, n, w, v, symmetrize, threads);
    }
  } else if (n <= kJacobiSmallN) {
    detail::jacobi_stack<false, T, Ws>(a, count, n, w, v, symmetrize, threads);
  } else {
    detail::jacobi_stack<false, T, W>(a, count, n, w, v, symmetrize, threads);
  }
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
