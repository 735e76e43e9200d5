// Optimizer steps that also take the Monitor's instruments (StepSums) in the same pass over
// memory: the update of each element goes through the optimizer's own element function
// (adam_element, sgd_element), so the parameters and state come out bit for bit as from the
// plain step, and the reductions ride along on values already in registers.
//
// The previous update direction comes from the state the step reads anyway:
// - Adam: the previous update A = -lr'/bc1' * m / (sqrt(v / bc2') + eps) from m and v (or
//   vmax) before this step, with the previous step's constants (lr', bc1', bc2'); AdamW's
//   decoupled decay adds -lr' wd p'' where p'' = (p - A) / (1 - lr' wd) is the point before
//   the previous step, so the previous update is A + k (A - p) with k = lr' wd / (1 - lr' wd);
// - SGD with heavy-ball momentum: -lr' * b from the buffer before this step;
// - plain SGD and Nesterov: nothing in the state holds it (Nesterov's update also held the
//   gradient), so the caller passes a `direction` buffer the step reads and overwrites with
//   this step's update (two more streams).
// Scalar hyper-parameters only (one run): the Monitor refuses per-row optimizers.
#pragma once

#include <cstdint>

#include "saddlepoint/monitor/step_sums.hpp"
#include "saddlepoint/optim/adam.hpp"
#include "saddlepoint/optim/sgd.hpp"

namespace saddlepoint::monitor {

// The reductions of one element, on values in registers (all in double).
struct ElementSums {
  double gg = 0, uu = 0, gu = 0, gp = 0, up = 0, pp = 0, tt = 0, bad_g = 0, bad_t = 0;
};

#define SADDLEPOINT_ACCUMULATE(g, u, prev, t)  \
  gg += (g) * (g);                              \
  uu += (u) * (u);                              \
  gu += (g) * (u);                              \
  gp += (g) * (prev);                           \
  up += (u) * (prev);                           \
  pp += (prev) * (prev);                        \
  tt += (t) * (t);                              \
  bad_g += not_finite(g);                       \
  bad_t += not_finite(t)

template <typename T, WeightDecay WD, bool AMSGRAD, bool PREV>
StepSums adam_block(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                    T* __restrict vmax, std::int64_t n, const AdamRow<T> c, T prev_neg_step,
                    T prev_bc2_sqrt, T prev_decay_k) {
  double gg = 0, uu = 0, gu = 0, gp = 0, up = 0, pp = 0, tt = 0, bad_g = 0, bad_t = 0;
#pragma omp simd reduction(+ : gg, uu, gu, gp, up, pp, tt, bad_g, bad_t)
  for (std::int64_t i = 0; i < n; ++i) {
    const T p0 = p[i], g0 = g[i], m0 = m[i], v0 = v[i];
    const T x0 = AMSGRAD ? vmax[i] : T(0);
    T pi = p0, mi = m0, vi = v0, xi = x0;
    adam_element(pi, g0, mi, vi, xi, c, WD, AMSGRAD);
    m[i] = mi;
    v[i] = vi;
    if constexpr (AMSGRAD) vmax[i] = xi;
    p[i] = pi;
    double prev = 0.0;
    if constexpr (PREV) {
      const double a =
          double((prev_neg_step * m0) / (std::sqrt(AMSGRAD ? x0 : v0) / prev_bc2_sqrt + c.eps));
      prev = WD == WeightDecay::decoupled ? a + double(prev_decay_k) * (a - double(p0)) : a;
    }
    const double gd = g0, u = double(pi) - double(p0), t = pi;
    SADDLEPOINT_ACCUMULATE(gd, u, prev, t);
  }
  return StepSums{gg, uu, gu, gp, up, pp, tt, 0.0, bad_g, bad_t};
}

// An Adam step over one flat segment with the instruments; `prev_neg_step` = -lr'/bc1',
// `prev_bc2_sqrt` = sqrt(bc2') and `prev_decay` = lr' wd of the previous step (ignored on the
// first step: has_prev).
template <typename T>
StepSums adam_step_instrumented(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t n,
                                const AdamHyper& h, bool has_prev, double prev_neg_step,
                                double prev_bc2_sqrt, double prev_decay) {
  const AdamRow<T> c = adam_row<T>(h, 0);
  const bool decays = h.weight_decay.at(0) != 0.0;
  const bool ams = h.amsgrad && vmax != nullptr;
  return blockwise_sums(n, [&](std::int64_t begin, std::int64_t end) {
    StepSums out;
    with_flags(
        [&](auto decays_c, auto decoupled_c, auto ams_c, auto prev_c) {
          constexpr WeightDecay WD =
              weight_decay_kind(decltype(decays_c)::value, decltype(decoupled_c)::value);
          out = adam_block<T, WD, decltype(ams_c)::value, decltype(prev_c)::value>(
              p + begin, g + begin, m + begin, v + begin, ams ? vmax + begin : nullptr,
              end - begin, c, T(prev_neg_step), T(prev_bc2_sqrt),
              T(prev_decay / (1.0 - prev_decay)));
        },
        decays, decays && h.decoupled, ams, has_prev);
    return out;
  });
}

// SGD: `direction` (DIR: plain SGD, Nesterov) holds the previous update and receives this one;
// with heavy-ball momentum the buffer before the step gives it (times prev_neg_lr = -lr').
template <typename T, bool WD, bool MOMENTUM, bool NESTEROV, bool FIRST, bool DIR, bool PREV>
StepSums sgd_block(T* __restrict p, const T* __restrict g, T* __restrict buf,
                   T* __restrict direction, std::int64_t n, const SGDRow<T> c, T prev_neg_lr) {
  double gg = 0, uu = 0, gu = 0, gp = 0, up = 0, pp = 0, tt = 0, bad_g = 0, bad_t = 0;
#pragma omp simd reduction(+ : gg, uu, gu, gp, up, pp, tt, bad_g, bad_t)
  for (std::int64_t i = 0; i < n; ++i) {
    const T p0 = p[i], g0 = g[i];
    const T b0 = (MOMENTUM && !FIRST) ? buf[i] : T(0);
    const T d0 = (DIR && PREV) ? direction[i] : T(0);
    T pi = p0, bi = b0;
    sgd_element(pi, g0, bi, c, WD, MOMENTUM, NESTEROV, FIRST);
    if constexpr (MOMENTUM) buf[i] = bi;
    p[i] = pi;
    const double u = double(pi) - double(p0);
    if constexpr (DIR) direction[i] = T(u);
    const double prev = !PREV ? 0.0 : DIR ? double(d0) : double(prev_neg_lr * b0);
    const double gd = g0, t = pi;
    SADDLEPOINT_ACCUMULATE(gd, u, prev, t);
  }
  return StepSums{gg, uu, gu, gp, up, pp, tt, 0.0, bad_g, bad_t};
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

#undef SADDLEPOINT_ACCUMULATE

}  // namespace saddlepoint::monitor
