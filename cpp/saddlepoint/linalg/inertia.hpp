// The inertia of symmetric matrices (how many eigenvalues lie above tau, below -tau and in
// between) without their eigenvalues: by Sylvester's law of inertia a congruence P L D L^T P^T
// keeps the signs, so the counts are read off the block-diagonal D of a Bunch-Kaufman
// factorization (1x1 and 2x2 pivots, LAPACK's dsytf2 pivoting rule). That costs about n^3/3
// multiply-adds per factorization against the several n^3 of a symmetric eigensolver, and the
// classification of a critical point needs only the counts.
//
// The zero band: eigenvalues in [-tau, tau] count as zero, with
//   tau = max(atol, rtol * ||A||_F),
// the Frobenius norm standing in for max |lambda| (which it bounds, and exceeds by at most
// sqrt(n)). Then n_negative is the number of negative pivots of A + tau I, n_positive that of
// positive pivots of A - tau I. Both factorizations run in double precision whatever the input
// type. Bunch-Kaufman is backward stable in practice (growth bounded by 2.57^(n-1), small on
// real matrices), so the counts are those of a matrix within a few n eps ||A|| of A: exact for
// eigenvalues farther than that from +-tau.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "saddlepoint/parallel.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

namespace detail {

// Counts the positive and negative pivots of the Bunch-Kaufman factorization of the symmetric
// n x n matrix s (full storage, row-major), which it overwrites with Schur complements.
inline void pivot_signs(double* s, int n, std::int64_t& positive, std::int64_t& negative) {
  const double alpha = (1.0 + std::sqrt(17.0)) / 8.0;  // Bunch-Kaufman's growth-balancing constant
  positive = negative = 0;
  auto at = [s, n](int i, int j) -> double& { return s[i * n + j]; };
  auto swap_rows_cols = [&](int p, int q, int from) {  // symmetric swap of p < q in [from, n)
    for (int j = from; j < n; ++j) std::swap(at(p, j), at(q, j));
    for (int i = from; i < n; ++i) std::swap(at(i, p), at(i, q));
  };
  int k = 0;
  while (k < n) {
    const double absakk = std::abs(at(k, k));
    int imax = k;
    double colmax = 0.0;
    for (int i = k + 1; i < n; ++i) {
      if (std::abs(at(i, k)) > colmax) {
        colmax = std::abs(at(i, k));
        imax = i;
      }
    }
    if (std::max(absakk, colmax) == 0.0) {  // a zero column: a zero eigenvalue of the rest
      ++k;
      continue;
    }
    int kstep = 1, kp = k;
    if (absakk < alpha * colmax) {
      double rowmax = 0.0;  // largest off-diagonal entry of row/column imax
      for (int j = k; j < n; ++j) {
        if (j != imax) rowmax = std::max(rowmax, std::abs(at(imax, j)));
      }
      if (absakk >= alpha * colmax * (colmax / rowmax)) {
        kp = k;
      } else if (std::abs(at(imax, imax)) >= alpha * rowmax) {
        kp = imax;
      } else {
        kp = imax;
        kstep = 2;
      }
    }
    const int kk = k + kstep - 1;
    if (kp != kk) swap_rows_cols(kk, kp, k);
    if (kstep == 1) {
      const double d = at(k, k);
      positive += d > 0.0;
      negative += d < 0.0;
      if (d != 0.0) {
        for (int i = k + 1; i < n; ++i) {
          const double f = at(i, k) / d;
          double* row = s + i * n;
          const double* pivot_row = s + k * n;
#pragma omp simd
          for (int j = k + 1; j < n; ++j) row[j] -= f * pivot_row[j];
        }
      }
    } else {
      // 2x2 pivot [[a, b], [b, c]]: its two eigenvalues' signs from the determinant and trace
      const double a = at(k, k), b = at(k + 1, k), c = at(k + 1, k + 1);
      const double det = a * c - b * b;
      if (det < 0.0) {
        ++positive;
        ++negative;
      } else if (det > 0.0) {
        (a + c > 0.0 ? positive : negative) += 2;
      } else {  // one zero eigenvalue, the other a + c
        positive += a + c > 0.0;
        negative += a + c < 0.0;
      }
      if (det != 0.0) {
        // S <- S - [s_ik s_i,k+1] D^-1 [s_kj; s_k+1,j] for i, j > k + 1
        for (int i = k + 2; i < n; ++i) {
          const double x = at(i, k), y = at(i, k + 1);
          const double f = (c * x - b * y) / det, g = (a * y - b * x) / det;
          double* row = s + i * n;
          const double* r0 = s + k * n;
          const double* r1 = s + (k + 1) * n;
#pragma omp simd
          for (int j = k + 2; j < n; ++j) row[j] -= f * r0[j] + g * r1[j];
        }
      }
    }
    k += kstep;
  }
}

}  // namespace detail

// For each of the `count` n x n matrices of a (row-major, C-contiguous; the lower triangle, or
// (a + a^T) / 2 with symmetrize): the eigenvalues above tau (positive[k]) and below -tau
// (negative[k]), and tau itself (tol[k]), with tau = max(atol, rtol * ||a_k||_F). Inputs were
// validated by the caller (finite, symmetric unless symmetrize, rtol and atol >= 0).
template <typename T>
void inertia_stack(const T* a, std::int64_t count, std::int64_t n, bool symmetrize, double rtol,
                   double atol, std::int64_t* positive, std::int64_t* negative, double* tol) {
  const int m = static_cast<int>(n);
  // about 2 n^3 / 3 flops per factorization, two per matrix
  const std::int64_t work = count * (n * n * n + 4 * n * n);
  const int nt = static_cast<int>(std::min<std::int64_t>(threads_for(work), count));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    std::vector<double> h(static_cast<std::size_t>(n * n)), s(h.size());
#pragma omp for schedule(static)
    for (std::int64_t k = 0; k < count; ++k) {
      const T* ak = a + k * n * n;
      double fro = 0.0;
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j <= i; ++j) {
          const double x = symmetrize ? 0.5 * (static_cast<double>(ak[i * n + j]) +
                                               static_cast<double>(ak[j * n + i]))
                                      : static_cast<double>(ak[i * n + j]);
          h[i * n + j] = h[j * n + i] = x;
          fro += (i == j ? 1.0 : 2.0) * x * x;
        }
      }
      const double tau = std::max(atol, rtol * std::sqrt(fro));
      std::int64_t pos, neg;
      // eigenvalues of h + tau I below 0: those of h below -tau
      s = h;
      for (int i = 0; i < m; ++i) s[i * n + i] += tau;
      detail::pivot_signs(s.data(), m, pos, neg);
      negative[k] = neg;
      // eigenvalues of h - tau I above 0: those of h above tau
      s = h;
      for (int i = 0; i < m; ++i) s[i * n + i] -= tau;
      detail::pivot_signs(s.data(), m, pos, neg);
      positive[k] = pos;
      tol[k] = tau;
    }
  }
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
