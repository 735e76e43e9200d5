// Closed forms for the smallest symmetric eigenproblems, where a general solver's set-up costs
// more than the arithmetic. Results follow numpy.linalg.eigh: eigenvalues ascending,
// eigenvectors as columns, only the lower triangle read (the caller symmetrizes if asked).
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

// Eigen-decomposition of [[a, b], [b, c]] by LAPACK's dlaev2 rotation (Kahan's formulation):
// the eigenvalue of larger magnitude comes from a sum without cancellation and the other from
// the determinant divided by it, so both are accurate relative to the matrix norm and a tiny
// eigenvalue keeps its sign. Written with selects instead of branches so that a loop over a
// stack vectorizes (random data made the branches mispredict: 20 ns a matrix instead of ~3).
// Returns ascending values; (cs, sn) / (-sn, cs) are the unit eigenvectors of w[0] / w[1].
// Anderson et al., LAPACK Users' Guide, dlaev2 / dlae2.
template <typename T>
inline void eigh2_values(T a, T b, T c, T& rt1, T& rt2, T& rt) {
  const T sm = a + c;
  const T adf = std::abs(a - c);
  const T ab = std::abs(b + b);
  const bool a_larger = std::abs(a) > std::abs(c);
  const T acmx = a_larger ? a : c;
  const T acmn = a_larger ? c : a;
  const T mx = std::max(adf, ab);
  const T mn = std::min(adf, ab);
  const T r = mx > T(0) ? mn / mx : T(0);
  rt = mx * std::sqrt(T(1) + r * r);  // sqrt((a - c)^2 + 4 b^2) without overflow
  rt1 = T(0.5) * (sm + (sm < T(0) ? -rt : rt));
  rt2 = rt1 != T(0) ? (acmx / rt1) * acmn - (b / rt1) * b : T(0);
}

template <typename T>
inline void eigvals2(T a, T b, T c, T w[2]) {
  T rt1, rt2, rt;
  eigh2_values(a, b, c, rt1, rt2, rt);
  w[0] = std::min(rt1, rt2);
  w[1] = std::max(rt1, rt2);
}

template <typename T>
inline void eigh2(T a, T b, T c, T w[2], T& cs, T& sn) {
  T rt1, rt2, rt;
  eigh2_values(a, b, c, rt1, rt2, rt);
  // the eigenvector (cs1, sn1) of rt1, from the better-conditioned of two equivalent ratios
  const T df = a - c;
  const T tb = b + b;
  const bool df_nonneg = df >= T(0);
  const T cv = df_nonneg ? df + rt : df - rt;
  const bool by_cv = std::abs(cv) > std::abs(tb);
  const T num = by_cv ? -tb : -cv;
  const T den = by_cv ? cv : tb;
  const T q = den != T(0) ? num / den : T(0);  // den = 0 only for a multiple of the identity
  const T f = T(1) / std::sqrt(T(1) + q * q);
  T cs1 = by_cv ? q * f : f;
  T sn1 = by_cv ? f : q * f;
  const bool swap = ((a + c) < T(0)) != df_nonneg;  // dlaev2's sgn1 == sgn2
  const T cs2 = swap ? -sn1 : cs1;
  const T sn2 = swap ? cs1 : sn1;
  // (cs2, sn2) belongs to rt1 and (-sn2, cs2) to rt2; order them ascending
  const bool ascending = rt1 <= rt2;
  w[0] = ascending ? rt1 : rt2;
  w[1] = ascending ? rt2 : rt1;
  cs = ascending ? cs2 : -sn2;
  sn = ascending ? sn2 : cs2;
}

// Relative margin the 3x3 closed form must keep. The trigonometric solution of the
// characteristic cubic carries eigenvalue errors up to ~sqrt(eps)*|A| when two eigenvalues
// cluster (measured with Eigen's computeDirect: a pair near zero comes out with flipped signs),
// and ~eps/gap*|A| otherwise. Its answer is accepted only when every eigenvalue and every gap
// between neighbours exceeds kDirectMargin * max|lambda| (then errors stay below ~2e-13 * |A|,
// far inside the margin, so signs are right); otherwise the caller runs the iterative QR solver
// (backward stable: errors ~eps*|A|). Random matrices rarely trip it.
inline constexpr double kDirectMargin = 1e-3;

namespace detail {

inline void cross(const double a[3], const double b[3], double out[3]) {
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

inline double dot3(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

// Unit null vector of A - lambda I for a simple, well-separated eigenvalue: the largest cross
// product of two rows of A - lambda I (its norm is at least ~gap * |A|).
inline void null_vector(const double A[3][3], double lambda, double v[3]) {
  const double r0[3] = {A[0][0] - lambda, A[0][1], A[0][2]};
  const double r1[3] = {A[1][0], A[1][1] - lambda, A[1][2]};
  const double r2[3] = {A[2][0], A[2][1], A[2][2] - lambda};
  double c[3][3];
  cross(r0, r1, c[0]);
  cross(r0, r2, c[1]);
  cross(r1, r2, c[2]);
  double best = dot3(c[0], c[0]);
  int k = 0;
  for (int i = 1; i < 3; ++i) {
    const double n2 = dot3(c[i], c[i]);
    if (n2 > best) {
      best = n2;
      k = i;
    }
  }
  const double inv = 1.0 / std::sqrt(best);
  for (int i = 0; i < 3; ++i) v[i] = c[k][i] * inv;
}

}  // namespace detail

// Closed-form eigen-decomposition of a symmetric 3x3 matrix (lower triangle of the row-major
// `a`, or (a + a^T)/2), in double: Smith's trigonometric roots of the characteristic cubic of
// the shifted and scaled matrix (O. K. Smith, CACM 4(4), 1961; the same formula as Eigen's
// computeDirect), eigenvectors from cross products of rows of A - lambda I. Returns false,
// leaving w and v undefined, when the result cannot be trusted (see kDirectMargin); v (row-
// major, eigenvectors as columns) may be null.
template <typename T>
inline bool eigh3_direct(const T* a, bool symmetrize, double w[3], double* v) {
  double A[3][3];
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j <= i; ++j) {
      const double x = symmetrize ? 0.5 * (static_cast<double>(a[3 * i + j]) +
                                           static_cast<double>(a[3 * j + i]))
                                  : static_cast<double>(a[3 * i + j]);
      A[i][j] = A[j][i] = x;
    }
  }
  const double shift = (A[0][0] + A[1][1] + A[2][2]) / 3.0;
  double B[3][3];
  double scale = 0.0;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      B[i][j] = A[i][j] - (i == j ? shift : 0.0);
      scale = std::max(scale, std::abs(B[i][j]));
    }
  }
  if (scale == 0.0) return false;  // a multiple of the identity: a triple eigenvalue
  for (auto& row : B) {
    for (double& x : row) x /= scale;
  }
  // x^3 - c2 x^2 + c1 x - c0 for the scaled, shifted matrix B
  const double c0 = B[0][0] * B[1][1] * B[2][2] + 2.0 * B[1][0] * B[2][0] * B[2][1] -
                    B[0][0] * B[2][1] * B[2][1] - B[1][1] * B[2][0] * B[2][0] -
                    B[2][2] * B[1][0] * B[1][0];
  const double c1 = B[0][0] * B[1][1] - B[1][0] * B[1][0] + B[0][0] * B[2][2] -
                    B[2][0] * B[2][0] + B[1][1] * B[2][2] - B[2][1] * B[2][1];
  const double c2 = B[0][0] + B[1][1] + B[2][2];
  const double c2_3 = c2 / 3.0;
  const double a_3 = std::max(0.0, (c2 * c2_3 - c1) / 3.0);
  const double half_b = 0.5 * (c0 + c2_3 * (2.0 * c2_3 * c2_3 - c1));
  const double q = std::max(0.0, a_3 * a_3 * a_3 - half_b * half_b);
  const double rho = std::sqrt(a_3);
  const double theta = std::atan2(std::sqrt(q), half_b) / 3.0;
  const double cs = std::cos(theta), sn = std::sin(theta);
  const double sqrt3 = 1.7320508075688772;
  w[0] = (c2_3 - rho * (cs + sqrt3 * sn)) * scale + shift;
  w[1] = (c2_3 - rho * (cs - sqrt3 * sn)) * scale + shift;
  w[2] = (c2_3 + 2.0 * rho * cs) * scale + shift;
  if (w[0] > w[1]) std::swap(w[0], w[1]);  // rounding only; theta in [0, pi/3] orders them
  if (w[1] > w[2]) std::swap(w[1], w[2]);
  if (w[0] > w[1]) std::swap(w[0], w[1]);

  const double size = std::max(std::abs(w[0]), std::abs(w[2]));
  const double margin = kDirectMargin * size;
  const double smallest = std::min({std::abs(w[0]), std::abs(w[1]), std::abs(w[2])});
  if (!(smallest > margin && w[1] - w[0] > margin && w[2] - w[1] > margin)) return false;
  if (!v) return true;

  double v0[3], v2[3], v1[3];
  detail::null_vector(A, w[0], v0);
  detail::null_vector(A, w[2], v2);
  const double d = detail::dot3(v0, v2);  // ~eps/gap: re-orthogonalize, then complete
  for (int i = 0; i < 3; ++i) v2[i] -= d * v0[i];
  const double inv = 1.0 / std::sqrt(detail::dot3(v2, v2));
  for (int i = 0; i < 3; ++i) v2[i] *= inv;
  detail::cross(v2, v0, v1);
  for (int i = 0; i < 3; ++i) {
    v[3 * i + 0] = v0[i];
    v[3 * i + 1] = v1[i];
    v[3 * i + 2] = v2[i];
  }
  return true;
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
