// Optimizer steps that also take the Monitor's instruments (StepSums) in the same pass over
// memory: the update of each element goes through the optimizer's own element function
// (adam_element, sgd_element), so the parameters and state come out bit for bit as from the
// plain step, and the reductions ride along on values already in registers.
//
// The previous update direction q comes from the state the step reads anyway:
// - Adam: q = -lr'/bc1' * m, the previous step's momentum before its preconditioning. The
//   exact previous update, q / (sqrt(v / bc2') + eps), costs a square root and a division per
//   element, which took the step from 1.0x to 1.6x the plain one even at 1e7 (compute-bound),
//   so the Monitor reads Adam's successive-update cosine against the momentum and fits its
//   step quality without the slope along the previous update (g.q is left out: NaN);
// - SGD with heavy-ball momentum: q = -lr' * b from the buffer before this step (exact);
// - plain SGD and Nesterov: nothing in the state holds it (Nesterov's update also held the
//   gradient), so the caller passes a `direction` buffer the step reads and overwrites with
//   this step's update (two more streams).
// For SGD q is the previous update itself, so |q|^2 is the previous step's |u|^2, which the
// caller keeps (prev_sq comes back as NaN here). Scalar hyper-parameters only (one run).
//
// Each loop reduces six sums, in T within a block (at most kSumBlock elements) and in double
// across blocks, with fused multiply-adds (the update itself is untouched: the element
// functions round as the plain step does). Six, not all nine: every extra sum costs about 4%
// of the step here, and the non-finite counts are taken by a second look at a block only when
// its sums are not finite (a NaN or Inf anywhere makes them so). Every run-time switch of the
// element function is a template argument (Adam's lerp branch included): with one left as a
// branch, GCC 12 falls back to scalar code for the whole loop, 16x slower.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <cmath>
#include <cstdint>
#include <limits>

#include "saddlepoint/monitor/step_sums.hpp"
#include "saddlepoint/optim/adam.hpp"
#include "saddlepoint/optim/sgd.hpp"

namespace saddlepoint::monitor {
SADDLEPOINT_ISA_BEGIN

// NaN and +-Inf entries of g and theta in [0, n), for a block whose sums are not finite.
template <typename T>
void count_nonfinite(const T* g, const T* theta, std::int64_t n, StepSums& out) {
  for (std::int64_t i = 0; i < n; ++i) {
    out.nonfinite_grad += not_finite(double(g[i]));
    out.nonfinite_param += not_finite(double(theta[i]));
  }
}

// A block's sums, with the counts looked up where a sum is not finite.
inline StepSums finished(StepSums out, const void* g, const void* theta, std::int64_t n,
                         bool single) {
  if (!std::isfinite(out.grad_sq) || !std::isfinite(out.param_sq)) {
    if (single) {
      count_nonfinite(static_cast<const float*>(g), static_cast<const float*>(theta), n, out);
    } else {
      count_nonfinite(static_cast<const double*>(g), static_cast<const double*>(theta), n, out);
    }
  }
  return out;
}

// The five sums both instrumented loops take (fused multiply-adds in T); each adds the sixth
// it can give: Adam |q|^2, SGD g.q.
#define SADDLEPOINT_FMA_STEP_SUMS(g, u, q, t) \
  gg = std::fma(g, g, gg);                    \
  uu = std::fma(u, u, uu);                    \
  gu = std::fma(g, u, gu);                    \
  uq = std::fma(u, q, uq);                    \
  tt = std::fma(t, t, tt)

template <typename T, WeightDecay WD, bool AMSGRAD, bool LOW, bool PREV>
StepSums adam_block(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                    T* __restrict vmax, std::int64_t n, AdamRow<T> c, T prev_neg_step) {
  c.low_weight = LOW;  // a constant for the compiler: no branch left in the loop
  T gg = 0, uu = 0, gu = 0, uq = 0, qq = 0, tt = 0;
#pragma omp simd reduction(+ : gg, uu, gu, uq, qq, tt)
  for (std::int64_t i = 0; i < n; ++i) {
    // every input of the element is loaded before anything is stored (4 KiB aliasing)
    const T p0 = p[i], g0 = g[i], m0 = m[i], v0 = v[i];
    const T x0 = AMSGRAD ? vmax[i] : T(0);
    T pi = p0, mi = m0, vi = v0, xi = x0;
    adam_element(pi, g0, mi, vi, xi, c, WD, AMSGRAD);
    m[i] = mi;
    v[i] = vi;
    if constexpr (AMSGRAD) vmax[i] = xi;
    p[i] = pi;
    const T q = PREV ? prev_neg_step * m0 : T(0);
    const T u = pi - p0;
    SADDLEPOINT_FMA_STEP_SUMS(g0, u, q, pi);
    qq = std::fma(q, q, qq);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return finished(StepSums{double(gg), double(uu), double(gu), nan, double(uq), double(qq),
                           double(tt), 0.0, 0.0, 0.0},
                  g, p, n, sizeof(T) == 4);
}

// An Adam step over one flat segment with the instruments; `prev_neg_step` = -lr'/bc1' of the
// previous step (ignored on the first step: has_prev).
template <typename T>
StepSums adam_step_instrumented(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t n,
                                const AdamHyper& h, bool has_prev, double prev_neg_step) {
  const AdamRow<T> c = adam_row<T>(h, 0);
  const bool decays = h.weight_decay.at(0) != 0.0;
  const bool ams = h.amsgrad && vmax != nullptr;
  return blockwise_sums(n, [&](std::int64_t begin, std::int64_t end) {
    StepSums out;
    with_flags(
        [&](auto decays_c, auto decoupled_c, auto ams_c, auto low_c, auto prev_c) {
          constexpr WeightDecay WD =
              weight_decay_kind(decltype(decays_c)::value, decltype(decoupled_c)::value);
          out = adam_block<T, WD, decltype(ams_c)::value, decltype(low_c)::value,
                           decltype(prev_c)::value>(p + begin, g + begin, m + begin, v + begin,
                                                    ams ? vmax + begin : nullptr, end - begin, c,
                                                    T(prev_neg_step));
        },
        decays, decays && h.decoupled, ams, c.low_weight, has_prev);
    return out;
  });
}

// SGD: `direction` (DIR: plain SGD, Nesterov) holds the previous update and receives this one;
// with heavy-ball momentum the buffer before the step gives it (times prev_neg_lr = -lr').
template <typename T, bool WD, bool MOMENTUM, bool NESTEROV, bool FIRST, bool DIR, bool PREV>
StepSums sgd_block(T* __restrict p, const T* __restrict g, T* __restrict buf,
                   T* __restrict direction, std::int64_t n, const SGDRow<T> c, T prev_neg_lr) {
  T gg = 0, uu = 0, gu = 0, gq = 0, uq = 0, tt = 0;
#pragma omp simd reduction(+ : gg, uu, gu, gq, uq, tt)
  for (std::int64_t i = 0; i < n; ++i) {
    const T p0 = p[i], g0 = g[i];
    const T b0 = (MOMENTUM && !FIRST) ? buf[i] : T(0);
    const T d0 = (DIR && PREV) ? direction[i] : T(0);
    T pi = p0, bi = b0;
    sgd_element(pi, g0, bi, c, WD, MOMENTUM, NESTEROV, FIRST);
    if constexpr (MOMENTUM) buf[i] = bi;
    p[i] = pi;
    const T u = pi - p0;
    if constexpr (DIR) direction[i] = u;
    const T q = !PREV ? T(0) : DIR ? d0 : prev_neg_lr * b0;
    SADDLEPOINT_FMA_STEP_SUMS(g0, u, q, pi);
    gq = std::fma(g0, q, gq);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // without a previous direction g.q is unknown, not 0 (the Monitor then fits alpha without it)
  return finished(StepSums{double(gg), double(uu), double(gu), PREV ? double(gq) : nan, double(uq), nan,
                           double(tt), 0.0, 0.0, 0.0},
                  g, p, n, sizeof(T) == 4);
}

template <typename T>
StepSums sgd_step_instrumented(T* p, const T* g, T* buf, T* direction, std::int64_t n,
                               const SGDHyper& h, bool has_prev, double prev_neg_lr) {
  const SGDRow<T> c = sgd_row_from<T>(h.lr.at(0), h.momentum.at(0), h.dampening.at(0),
                                      h.weight_decay.at(0), h.maximize);
  const bool wd = h.weight_decay.at(0) != 0.0;
  const bool mom = h.momentum.at(0) != 0.0 && buf != nullptr;
  const bool dir = direction != nullptr;  // the caller passes one for plain SGD and Nesterov
  // the first momentum step has no previous buffer: the previous direction comes from nothing
  const bool prev = has_prev && (dir || !h.first_step);
  return blockwise_sums(n, [&](std::int64_t begin, std::int64_t end) {
    StepSums out;
    with_flags(
        [&](auto wd_c, auto mom_c, auto nest_c, auto first_c, auto dir_c, auto prev_c) {
          out = sgd_block<T, decltype(wd_c)::value, decltype(mom_c)::value,
                          decltype(nest_c)::value, decltype(first_c)::value,
                          decltype(dir_c)::value, decltype(prev_c)::value>(
              p + begin, g + begin, mom ? buf + begin : nullptr, dir ? direction + begin : nullptr,
              end - begin, c, T(prev_neg_lr));
        },
        wd, mom, mom && h.nesterov, mom && h.first_step, dir, prev);
    return out;
  });
}

#undef SADDLEPOINT_FMA_STEP_SUMS

SADDLEPOINT_ISA_END
}  // namespace saddlepoint::monitor
