// Eigenvalues of a symmetric tridiagonal matrix by the Pal-Walker-Kahan root-free QL/QR
// iteration: a port of LAPACK's dsterf (the values-only path of numpy.linalg.eigvalsh). It works
// on squared off-diagonals, so a rotation costs two divisions and no square root; Eigen's
// tridiagonal QR builds a Givens rotation (square root included) per step, which made its
// values-only solver slower than LAPACK for n >= 8.
// Reference: LAPACK 3.x dsterf.f; B. N. Parlett, The Symmetric Eigenvalue Problem, 8.15.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <algorithm>
#include <cmath>
#include <limits>

#include "saddlepoint/linalg/eigh_small.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

namespace detail {

// sqrt(x^2 + 1) without overflow (dlapy2(x, 1)); libm's hypot is several times slower.
template <typename T>
inline T hypot1(T x) {
  const T ax = std::abs(x);
  if (ax > T(1) / std::sqrt(std::numeric_limits<T>::epsilon())) return ax;  // 1 is negligible
  return std::sqrt(ax * ax + T(1));
}

// One step of the root-free rotation, dsterf's
//   c = p / r, s = bb / r, gamma = c (alpha - sigma) - s gamma_old, p = gamma^2 / c
// (p = c_old bb when c = 0), with the second division replaced by a product so that the two
// reciprocals 1/r and 1/p (both known once p is) run side by side: p = gamma^2 (r / p). That
// takes one division off the dependent chain that bounds the loop.
// The quantities are LAPACK's own (c, s in [0, 1], gamma of the size of the entries): an earlier
// regrouping, gamma = (p (alpha - sigma) - bb gamma_old) / r, multiplied two small numbers and
// lost the result to underflow on graded matrices (float32 eigenvalues off by up to 700x the
// error bound). r / p is used only where it is finite; otherwise dsterf's formulas are used.
template <typename T>
inline void rotate(T& p, T bb, T r, T alpha_shifted, T& c, T& s, T& gamma) {
  const T oldc = c;
  const T inv_r = T(1) / r;
  const T r_over_p = r * (T(1) / p);
  if (!(r_over_p <= std::numeric_limits<T>::max())) {  // p tiny or 0: 1/c would overflow
    c = p / r;
    s = bb / r;
    gamma = c * alpha_shifted - s * gamma;
    p = c != T(0) ? (gamma * gamma) / c : oldc * bb;
    return;
  }
  c = p * inv_r;
  s = bb * inv_r;
  gamma = c * alpha_shifted - s * gamma;
  p = (gamma * gamma) * r_over_p;
}

}  // namespace detail

// d[0..n): the diagonal, overwritten with the eigenvalues in ascending order; e[0..n-1): the
// off-diagonal, destroyed. Returns false when an eigenvalue did not converge within 30 n
// sweeps (LAPACK's limit; the caller then falls back to another solver).
template <typename T>
bool tridiagonal_eigenvalues(T* d, T* e, int n) {
  if (n <= 1) return true;
  // 1-based accessors keep the translation from dsterf.f line by line checkable
  auto D = [d](int i) -> T& { return d[i - 1]; };
  auto E = [e](int i) -> T& { return e[i - 1]; };
  const T eps = std::numeric_limits<T>::epsilon() / 2;  // dlamch('E')
  const T eps2 = eps * eps;
  const int nmaxit = 30 * n;
  int jtot = 0;
  int l1 = 1;

  while (l1 <= n) {
    if (l1 > 1) E(l1 - 1) = T(0);
    int m = l1;
    for (; m <= n - 1; ++m) {
      if (std::abs(E(m)) <= std::sqrt(std::abs(D(m))) * std::sqrt(std::abs(D(m + 1))) * eps) {
        E(m) = T(0);
        break;
      }
    }
    // m == n when no small off-diagonal was found
    int l = l1;
    const int lsv = l;
    int lend = m;
    const int lendsv = lend;
    l1 = m + 1;
    if (lend == l) continue;

    // Scale the block to max entry in [1, 2) by a power of two (exact), so that squaring its
    // entries cannot overflow and its largest ones stay far from underflow. LAPACK scales only
    // blocks outside a safe range; scaling every block is exact and O(n) against the O(n^2)
    // iteration. Two factors reach subnormal blocks too.
    T anorm = T(0);
    for (int i = l; i <= lend; ++i) anorm = std::max(anorm, std::abs(D(i)));
    for (int i = l; i < lend; ++i) anorm = std::max(anorm, std::abs(E(i)));
    if (anorm == T(0)) continue;
    const int ex = std::ilogb(anorm);
    const T f1 = std::ldexp(T(1), -ex / 2);
    const T f2 = std::ldexp(T(1), -ex - (-ex / 2));
    for (int i = l; i <= lend; ++i) D(i) = D(i) * f1 * f2;
    for (int i = l; i < lend; ++i) E(i) = E(i) * f1 * f2;
    for (int i = l; i < lend; ++i) E(i) = E(i) * E(i);

    // QL when the block's larger end is at the bottom, QR otherwise
    if (std::abs(D(lend)) < std::abs(D(l))) {
      lend = lsv;
      l = lendsv;
    }
    if (lend >= l) {
      // QL iteration
      while (true) {
        if (l != lend) {
          for (m = l; m <= lend - 1; ++m) {
            if (std::abs(E(m)) <= eps2 * std::abs(D(m) * D(m + 1))) break;
          }
        } else {
          m = lend;
        }
        if (m < lend) E(m) = T(0);
        T p = D(l);
        if (m == l) {  // an eigenvalue converged
          D(l) = p;
          ++l;
          if (l <= lend) continue;
          break;
        }
        if (m == l + 1) {  // a 2x2 block: closed form
          T w[2], cs, sn;
          eigh2(D(l), std::sqrt(E(l)), D(l + 1), w, cs, sn);
          D(l) = w[0];
          D(l + 1) = w[1];
          E(l) = T(0);
          l += 2;
          if (l <= lend) continue;
          break;
        }
        if (jtot == nmaxit) break;
        ++jtot;
        // Wilkinson shift
        T rte = std::sqrt(E(l));
        T sigma = (D(l + 1) - p) / (T(2) * rte);
        sigma = p - (rte / (sigma + std::copysign(detail::hypot1(sigma), sigma)));
        T c = T(1), s = T(0);
        T gamma = D(m) - sigma;
        p = gamma * gamma;
        for (int i = m - 1; i >= l; --i) {
          const T bb = E(i);
          const T r = p + bb;
          if (i != m - 1) E(i + 1) = s * r;
          const T alpha = D(i);
          const T oldgam = gamma;
          detail::rotate(p, bb, r, alpha - sigma, c, s, gamma);
          D(i + 1) = oldgam + (alpha - gamma);
        }
        E(l) = s * p;
        D(l) = sigma + gamma;
      }
    } else {
      // QR iteration
      while (true) {
        for (m = l; m >= lend + 1; --m) {
          if (std::abs(E(m - 1)) <= eps2 * std::abs(D(m) * D(m - 1))) break;
        }
        if (m < lend + 1) m = lend;
        if (m > lend) E(m - 1) = T(0);
        T p = D(l);
        if (m == l) {
          D(l) = p;
          --l;
          if (l >= lend) continue;
          break;
        }
        if (m == l - 1) {
          T w[2], cs, sn;
          eigh2(D(l), std::sqrt(E(l - 1)), D(l - 1), w, cs, sn);
          D(l) = w[0];
          D(l - 1) = w[1];
          E(l - 1) = T(0);
          l -= 2;
          if (l >= lend) continue;
          break;
        }
        if (jtot == nmaxit) break;
        ++jtot;
        T rte = std::sqrt(E(l - 1));
        T sigma = (D(l - 1) - p) / (T(2) * rte);
        sigma = p - (rte / (sigma + std::copysign(detail::hypot1(sigma), sigma)));
        T c = T(1), s = T(0);
        T gamma = D(m) - sigma;
        p = gamma * gamma;
        for (int i = m; i <= l - 1; ++i) {
          const T bb = E(i);
          const T r = p + bb;
          if (i != m) E(i - 1) = s * r;
          const T alpha = D(i + 1);
          const T oldgam = gamma;
          detail::rotate(p, bb, r, alpha - sigma, c, s, gamma);
          D(i) = oldgam + (alpha - gamma);
        }
        E(l - 1) = s * p;
        D(l) = sigma + gamma;
      }
    }
    for (int i = lsv; i <= lendsv; ++i) D(i) = D(i) / f1 / f2;
    if (jtot >= nmaxit) {
      for (int i = 1; i <= n - 1; ++i) {
        if (E(i) != T(0)) return false;
      }
      break;
    }
  }
  std::sort(d, d + n);
  return true;
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
