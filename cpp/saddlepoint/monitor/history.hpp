// One row of saddlepoint.Monitor's history from one step's sums: the norms, the cosines
// between the update, the gradient and the previous update, the step-size quality alpha of
// the step before (known only now), the smoothed loss and its improvement over the window.
// Scalar work per step, no Python: the binding (bind_monitor.cpp) keeps the columns.
//
// Unlike the SIMD kernels this is not compiled per instruction-set level (saddlepoint/isa.hpp):
// a few dozen scalar operations per step gain nothing from wider registers, so it is compiled
// once, with the bindings that call it, and includes only the shared StepSums record.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "saddlepoint/monitor/sums.hpp"

namespace saddlepoint::monitor {

// The history's columns: Monitor.COLUMNS in its order, then what the rules read besides.
// clang-format off
enum Column : int {
  kStep, kLoss, kLr, kGradNorm, kUpdateNorm, kParamNorm, kDistance, kCosUpdate,
  kCosGradUpdate, kEffectiveLr, kAlpha, kImprovement, kNonfinite, kLambdaMin, kLambdaMax,
  kResidualMin, kResidualMax, kCurvatureProducts, kStabilityRatio, kNoiseScale, kGsnr,
  kLossNoise,
  kEma,            // the smoothed loss
  kGradDotUpdate,  // g . dtheta (NaN where the update is not known)
  kNoiseTrace,     // tr(Sigma) of the step's batch gradients (NaN: none given)
  kNoiseSignal,    // |G|^2 estimated from them
  kColumnCount
};  // clang-format on

inline constexpr int kPublicColumns = kLossNoise + 1;

struct RowSettings {
  std::int64_t window = 50;
  double ema_weight = 2.0 / 11.0;  // 2 / (window / 5 + 1): an EMA over window / 5 steps
  double loss_atol = 1e-12;
};

// What one row carries to the next.
struct RowState {
  std::int64_t rows = 0;    // rows recorded
  std::int64_t start = 0;   // first row of the windows (the row after the last jump)
  bool fresh = false;       // the next row follows a jump: no cosine, no alpha, a new EMA
  bool have_last = false;   // the next row's update is a real one (its norm is known)
  double last_loss = std::numeric_limits<double>::quiet_NaN();
  double lowest_loss = std::numeric_limits<double>::infinity();
  double max_grad_norm = 0.0;
  double first_effective_lr = std::numeric_limits<double>::quiet_NaN();
};

struct RowInput {
  double loss, lr;
  StepSums sums;          // totals over the parameter arrays
  bool params_known;      // param_norm is measured (else NaN)
  bool distance_known;    // distance_sq is the distance from the start (else NaN)
  double noise_scale, gsnr, loss_noise, noise_trace, noise_signal;
};

// alpha = 1/t* - 1 for q(t) = a t^2 + b t + c, t* = -b / (2a); NaN where q opens downward.
inline double alpha_of_parabola(double a, double b) {
  if (!(a > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double t_star = -b / (2.0 * a);
  if (t_star == 0) return std::numeric_limits<double>::infinity();
  return 1.0 / t_star - 1.0;
}

// Step-size quality alpha, Cockpit's noise-free form (Schneider et al. 2021, "Cockpit: A
// Practical Debugging Tool for the Training of Deep Neural Networks", section 4). Along one
// update dtheta the loss f(t) = L(theta + t dtheta) is known at both ends by value and slope:
// f(0) = loss0, f'(0) = g_t . dtheta = slope0, f(1) = loss1, f'(1) = g_(t+1) . dtheta =
// slope1. The parabola q(t) = a t^2 + b t + c fitted to the four by least squares (equal
// weights) has the pseudo-inverse of the design [[0,0,1],[0,1,0],[1,1,1],[2,1,0]] for its
// coefficients: a = (slope1 - slope0) / 2, b = (-loss0 + 4.5 slope0 + loss1 - 0.5 slope1) / 5;
// its minimum sits at t* = -b / (2a). On the scale where the start is -1, the valley floor 0
// and the point across the valley at the start's height +1, the step's end lies at
// alpha = 1/t* - 1: about -1 a step far too short, 0 one that lands on the floor, +1 one that
// jumps to the other wall, above 1 one that climbs; NaN where q opens downward (a <= 0).
inline double step_alpha(double loss0, double slope0, double loss1, double slope1) {
  if (!std::isfinite(loss0 + slope0 + loss1 + slope1)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const double a = 0.5 * slope1 - 0.5 * slope0;
  const double b = -0.2 * loss0 + 0.9 * slope0 + 0.2 * loss1 - 0.1 * slope1;
  return alpha_of_parabola(a, b);
}

// The parabola through the three values where the slope at the end is unknown (Adam's
// instrumented step has only its momentum for the previous direction).
inline double step_alpha_values(double loss0, double slope0, double loss1) {
  if (!std::isfinite(loss0 + slope0 + loss1)) return std::numeric_limits<double>::quiet_NaN();
  return alpha_of_parabola(loss1 - loss0 - slope0, slope0);
}

// Writes row `state.rows` of the columns (col[k] points at column k's first row; the
// columns hold at least rows + 1 entries, the curvature ones already NaN) and the previous
// row's alpha; returns whether the row is acute: the loss, the gradient or the parameters
// not finite, or the parameters too large to measure (the rules must look at once).
inline bool record_row(const RowInput& in, const RowSettings& set, RowState& st,
                       double* const* col) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  const std::int64_t r = st.rows;
  const StepSums& s = in.sums;
  const double loss = in.loss;
  if (loss < st.lowest_loss) st.lowest_loss = loss;
  const bool first = r == 0 || st.fresh;
  st.fresh = false;
  const double gn = std::sqrt(s.grad_sq);
  const bool real_update = st.have_last;
  st.have_last = true;
  const double un = real_update ? std::sqrt(s.update_sq) : nan;
  // the cosine of this update with the previous direction
  const double denom_u = std::sqrt(s.update_sq) * std::sqrt(s.prev_sq);
  const double cos_u = denom_u > 0 && !first ? s.update_dot_prev / denom_u : nan;
  const double gu = real_update ? s.grad_dot_update : nan;
  const double denom_gu = gn * un;
  const double cos_gu = denom_gu > 0 ? gu / denom_gu : nan;
  const double eff = gn > 0 ? un / gn : nan;
  const double previous = st.last_loss;
  if (!first && std::isfinite(previous)) {
    // the previous step's quality: its end is this step's start; s.grad_dot_prev is the
    // slope there along it (NaN where the previous direction is not that step's update)
    const double slope0 = col[kGradDotUpdate][r - 1];
    col[kAlpha][r - 1] = std::isnan(s.grad_dot_prev)
                             ? step_alpha_values(previous, slope0, loss)
                             : step_alpha(previous, slope0, loss, s.grad_dot_prev);
  }
  if (gn > st.max_grad_norm && std::isfinite(gn)) st.max_grad_norm = gn;
  if (std::isnan(st.first_effective_lr) && eff > 0 && std::isfinite(eff)) {
    st.first_effective_lr = eff;
  }
  // the smoothed loss, and its relative drop over the window (or what there is of it)
  double ema = loss;
  if (!first && std::isfinite(col[kEma][r - 1])) {
    ema = col[kEma][r - 1] + set.ema_weight * (loss - col[kEma][r - 1]);
  }
  double improvement = nan;
  const std::int64_t span = std::min(set.window, r - st.start);
  if (span > 0) {
    const double old = col[kEma][r - span];
    improvement = (old - ema) / (std::abs(old) + set.loss_atol);
  }
  const double param_norm = in.params_known ? std::sqrt(s.param_sq) : nan;
  const double nonfinite = s.nonfinite_grad + s.nonfinite_param;
  st.rows = r + 1;
  st.last_loss = loss;
  col[kStep][r] = static_cast<double>(r + 1);
  col[kLoss][r] = loss;
  col[kLr][r] = in.lr;
  col[kGradNorm][r] = gn;
  col[kUpdateNorm][r] = un;
  col[kParamNorm][r] = param_norm;
  col[kDistance][r] = in.distance_known ? std::sqrt(s.distance_sq) : nan;
  col[kCosUpdate][r] = cos_u;
  col[kCosGradUpdate][r] = cos_gu;
  col[kEffectiveLr][r] = eff;
  col[kAlpha][r] = nan;
  col[kImprovement][r] = improvement;
  col[kNonfinite][r] = nonfinite;
  for (int k = kLambdaMin; k <= kStabilityRatio; ++k) col[k][r] = nan;
  col[kNoiseScale][r] = in.noise_scale;
  col[kGsnr][r] = in.gsnr;
  col[kLossNoise][r] = in.loss_noise;
  col[kEma][r] = ema;
  col[kGradDotUpdate][r] = gu;
  col[kNoiseTrace][r] = in.noise_trace;
  col[kNoiseSignal][r] = in.noise_signal;
  return !std::isfinite(loss) || nonfinite > 0 ||
         param_norm == std::numeric_limits<double>::infinity();
}

// What the rules read of a window of rows [lo, n), in one pass over its columns.
struct WindowStats {
  double improvement;        // relative drop of the loss over the window, least squares
  double improvement_upper;  // the same plus two standard errors of the slope
  double mean_cosine;        // mean of the finite cosines between successive updates
  double promised_drop;      // -sum(g . dtheta), NaN left out: the first-order promised drop
  double median_effective_lr;  // median of the finite ||dtheta|| / ||g||
  double noise_trace;        // mean tr(Sigma) over the rows with batch gradients
  double noise_signal;       // mean |G|^2 over them
  double noise_rows;         // how many rows had them
};

// col as record_row's; lo <= n. The loss trend: the least-squares line through the losses
// against the step, slope s with standard error se; improvement = -s (m - 1) / (|mean| +
// loss_atol) over m rows (NaN for fewer than 3 rows or a non-finite loss among them).
inline WindowStats window_stats(const double* const* col, std::int64_t lo, std::int64_t n,
                                double loss_atol) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  WindowStats w{nan, nan, nan, nan, nan, nan, nan, 0.0};
  const std::int64_t m = n - lo;
  const double* loss = col[kLoss] + lo;
  if (m >= 3) {
    double total = 0.0;
    for (std::int64_t i = 0; i < m; ++i) total += loss[i];
    if (std::isfinite(total)) {
      const double mean = total / static_cast<double>(m);
      const double mid = 0.5 * static_cast<double>(m - 1);
      double td = 0.0, dd = 0.0, tt = 0.0;
      for (std::int64_t i = 0; i < m; ++i) {
        const double t = static_cast<double>(i) - mid, d = loss[i] - mean;
        td += t * d;
        dd += d * d;
        tt += t * t;
      }
      const double slope = td / tt;
      // residuals of the line from sums: |d|^2 - slope^2 |t|^2 (t is centred: t . 1 = 0)
      const double rss = std::max(dd - slope * slope * tt, 0.0);
      const double se = std::sqrt(rss / static_cast<double>(m - 2) / tt);
      const double scale = static_cast<double>(m - 1) / (std::abs(mean) + loss_atol);
      w.improvement = -slope * scale;
      w.improvement_upper = (-slope + 2.0 * se) * scale;
    }
  }
  double cos_sum = 0.0, drop = 0.0, trace = 0.0, signal = 0.0;
  std::int64_t cos_count = 0, noise_count = 0;
  for (std::int64_t r = lo; r < n; ++r) {
    const double c = col[kCosUpdate][r];
    if (std::isfinite(c)) {
      cos_sum += c;
      ++cos_count;
    }
    const double g = col[kGradDotUpdate][r];
    if (!std::isnan(g)) drop -= g;
    if (!std::isnan(col[kNoiseTrace][r])) {
      trace += col[kNoiseTrace][r];
      signal += col[kNoiseSignal][r];
      ++noise_count;
    }
  }
  if (cos_count) w.mean_cosine = cos_sum / static_cast<double>(cos_count);
  w.promised_drop = drop;
  if (noise_count) {
    w.noise_trace = trace / static_cast<double>(noise_count);
    w.noise_signal = signal / static_cast<double>(noise_count);
  }
  w.noise_rows = static_cast<double>(noise_count);
  // the median step: the window is at most a few hundred rows, a copy is cheap
  std::vector<double> eff;
  eff.reserve(static_cast<std::size_t>(m > 0 ? m : 0));
  for (std::int64_t r = lo; r < n; ++r) {
    if (std::isfinite(col[kEffectiveLr][r])) eff.push_back(col[kEffectiveLr][r]);
  }
  if (!eff.empty()) {
    const std::size_t k = eff.size();
    std::sort(eff.begin(), eff.end());
    w.median_effective_lr = (eff[(k - 1) / 2] + eff[k / 2]) / 2;
  }
  return w;
}

}  // namespace saddlepoint::monitor
