// The closed form for the smallest symmetric eigenproblem, where a general solver's set-up costs
// more than the arithmetic (n = 3 and up: eigh_jacobi.hpp). Results follow numpy.linalg.eigh:
// eigenvalues ascending, eigenvectors as columns, only the lower triangle read (the caller
// symmetrizes if asked).
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

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

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
