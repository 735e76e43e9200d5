// The per-step instruments of saddlepoint.Monitor: sums over one parameter array of the
// gradient, the update and the previous update direction, accumulated in double in fixed
// blocks so that the totals are the same bits whatever the thread count.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "saddlepoint/monitor/sums.hpp"
#include "saddlepoint/parallel.hpp"

namespace saddlepoint::monitor {
SADDLEPOINT_ISA_BEGIN


// Partial sums are formed per block of this many elements and added in block order: the
// block, not the thread, is the unit of summation, so results do not depend on threads.
inline constexpr std::int64_t kSumBlock = 4096;

// Runs body(begin, end) -> StepSums over fixed blocks of [0, n), threaded above the parallel
// threshold, and adds the block sums in order.
template <typename Body>
StepSums blockwise_sums(std::int64_t n, Body body) {
  const std::int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  if (blocks <= 1) return body(std::int64_t{0}, n);
  std::vector<StepSums> partial(static_cast<std::size_t>(blocks));
  const int threads = threads_for(n);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t begin = b * kSumBlock;
    const std::int64_t end = begin + kSumBlock < n ? begin + kSumBlock : n;
    partial[static_cast<std::size_t>(b)] = body(begin, end);
  }
  StepSums total;
  for (const auto& s : partial) total += s;
  return total;
}

// 1 for NaN and +-Inf, else 0, branch-free (x - x is NaN exactly then) so the loops vectorize.
inline double not_finite(double x) { return (x - x == 0.0) ? 0.0 : 1.0; }

// The sums both observe loops take of one element (in double; see StepSums for the names).
#define SADDLEPOINT_ADD_STEP_SUMS(g, u, prev) \
  gg += (g) * (g);                            \
  uu += (u) * (u);                            \
  gu += (g) * (u);                            \
  gp += (g) * (prev);                         \
  up += (u) * (prev);                         \
  pp += (prev) * (prev);                      \
  bad_g += not_finite(g)

// The loop of observe_params over [begin, end); INITIAL: theta_0 is given.
template <typename T, bool INITIAL>
StepSums observe_params_block(const T* __restrict grad, const T* __restrict theta,
                              T* __restrict last_theta, T* __restrict direction,
                              const T* __restrict initial, std::int64_t begin, std::int64_t end) {
  double gg = 0, uu = 0, gu = 0, gp = 0, up = 0, pp = 0, tt = 0, dd = 0, bad_g = 0, bad_t = 0;
#pragma omp simd reduction(+ : gg, uu, gu, gp, up, pp, tt, dd, bad_g, bad_t)
  for (std::int64_t i = begin; i < end; ++i) {
    // every input of the element is loaded before anything is stored (4 KiB aliasing)
    const T t_in = theta[i];
    const double g = grad[i], t = t_in, last = last_theta[i], prev = direction[i];
    const double t0 = INITIAL ? double(initial[i]) : t;
    const double u = t - last;
    last_theta[i] = t_in;
    direction[i] = T(u);
    SADDLEPOINT_ADD_STEP_SUMS(g, u, prev);
    tt += t * t;
    dd += (t - t0) * (t - t0);
    bad_t += not_finite(t);
  }
  return StepSums{gg, uu, gu, gp, up, pp, tt, dd, bad_g, bad_t};
}

// One observed step of a loop whose parameters the monitor can read: the update is
// theta - last_theta. Afterwards last_theta holds theta and direction holds the update, ready
// for the next step. `initial` (theta_0) may be null: then distance_sq stays 0.
// C-contiguous, same length, not aliased: validated by the caller.
template <typename T>
StepSums observe_params(const T* grad, const T* theta, T* last_theta, T* direction,
                        const T* initial, std::int64_t n) {
  return blockwise_sums(n, [=](std::int64_t begin, std::int64_t end) {
    return initial ? observe_params_block<T, true>(grad, theta, last_theta, direction, initial,
                                                   begin, end)
                   : observe_params_block<T, false>(grad, theta, last_theta, direction, initial,
                                                    begin, end);
  });
}

// The loop of observe_gradient over [begin, end); MOMENTUM: a buffer is kept.
template <typename T, bool MOMENTUM>
StepSums observe_gradient_block(const T* __restrict grad, T* __restrict buffer,
                                T* __restrict direction, T* __restrict displacement,
                                std::int64_t begin, std::int64_t end, double lr, double momentum,
                                bool first) {
  double gg = 0, uu = 0, gu = 0, gp = 0, up = 0, pp = 0, dd = 0, bad_g = 0;
  const double mu = first ? 0.0 : momentum;  // torch's buffer starts as the first gradient
#pragma omp simd reduction(+ : gg, uu, gu, gp, up, pp, dd, bad_g)
  for (std::int64_t i = begin; i < end; ++i) {
    const double g = grad[i], prev = direction[i], moved = displacement[i];
    const double b = MOMENTUM ? mu * double(buffer[i]) + g : g;
    const double u = -lr * b;
    const double now = moved + u;
    if constexpr (MOMENTUM) buffer[i] = T(b);
    direction[i] = T(u);
    displacement[i] = T(now);
    SADDLEPOINT_ADD_STEP_SUMS(g, u, prev);
    dd += now * now;
  }
  return StepSums{gg, uu, gu, gp, up, pp, 0.0, dd, bad_g, 0.0};
}

// One observed step of a loop the monitor knows only by its gradient and learning rate: the
// update is reconstructed as heavy-ball SGD, buffer <- momentum * buffer + g (the gradient on
// the first step), dtheta = -lr * buffer, and the displacement from the start is accumulated
// in `displacement` (param_sq stays 0: the parameters are unknown). With momentum 0 the
// buffer may be null.
template <typename T>
StepSums observe_gradient(const T* grad, T* buffer, T* direction, T* displacement,
                          std::int64_t n, double lr, double momentum, bool first) {
  return blockwise_sums(n, [=](std::int64_t begin, std::int64_t end) {
    return buffer ? observe_gradient_block<T, true>(grad, buffer, direction, displacement, begin,
                                                    end, lr, momentum, first)
                  : observe_gradient_block<T, false>(grad, buffer, direction, displacement,
                                                     begin, end, lr, momentum, first);
  });
}

#undef SADDLEPOINT_ADD_STEP_SUMS

SADDLEPOINT_ISA_END
}  // namespace saddlepoint::monitor
