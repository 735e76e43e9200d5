// RMSprop, with torch.optim's single-tensor semantics; conventions in
// saddlepoint/optim/optimizers.hpp.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include "saddlepoint/optim/common.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

// ---------------------------------------------------------------------------------------------
// RMSprop:  g <- ±g + wd*p;  v <- alpha*v + (1-alpha)*g*g;
//           centered: a <- lerp(a, g, 1-alpha), d = sqrt(v - a*a) + eps; else d = sqrt(v) + eps
//           momentum: b <- mu*b + g/d, p <- p - lr*b;  else p <- p - lr*g/d
// ---------------------------------------------------------------------------------------------
// (RMSpropHyper, its hyper-parameters: saddlepoint/optim/hyper.hpp)

template <typename T>
struct RMSpropRow {
  T sign, wd, alpha, one_minus_alpha, eps, mu, neg_lr;
  bool low_weight;  // torch.lerp's branch for the centered average's weight 1-alpha
  // The fields after sign, in order (RowBlock in row_block.hpp).
  auto fields() const {
    return std::make_tuple(wd, alpha, one_minus_alpha, eps, mu, neg_lr, low_weight);
  }
};

template <typename T>
RMSpropRow<T> rmsprop_row_from(double lr, double alpha, double eps, double wd, double momentum,
                               bool maximize) {
  return {T(maximize ? -1 : 1), T(wd),        T(alpha),   T(1.0 - alpha),
          T(eps),               T(momentum),  T(-lr),     std::abs(1.0 - alpha) < 0.5};
}

// One element of an RMSprop step on loaded values (shared by the kernels and native sweeps).
template <typename T>
inline void rmsprop_element(T& pi, T gi, T& vi, T& ai, T& bi, const RMSpropRow<T>& c, bool wd,
                            bool centered, bool momentum) {
  const T one_minus_w = T(1) - c.one_minus_alpha;
  gi = gi * c.sign;
  if (wd) gi = gi + c.wd * pi;
  vi = vi * c.alpha + (c.one_minus_alpha * gi) * gi;
  T d;
  if (centered) {
    ai = lerp(ai, gi, c.one_minus_alpha, one_minus_w, c.low_weight);
    d = std::sqrt(vi + (T(-1) * ai) * ai) + c.eps;
  } else {
    d = std::sqrt(vi) + c.eps;
  }
  if (momentum) {
    bi = bi * c.mu + gi / d;
    pi = pi + c.neg_lr * bi;
  } else {
    pi = pi + (c.neg_lr * gi) / d;
  }
}

// Element i of the arrays: load, rmsprop_element, store (the loop over a row and the loop over
// a block's rows share it). avg is touched when centered, buf when io_buf; momentum: whether
// this row applies it (io_buf and momentum > 0).
template <typename T>
SADDLEPOINT_ALWAYS_INLINE void rmsprop_at(T* __restrict p, const T* __restrict g, T* __restrict v,
                                     T* __restrict avg,
                       T* __restrict buf, std::int64_t i, const RMSpropRow<T>& c, bool wd,
                       bool centered, bool io_buf, bool momentum) {
  T pi = p[i];
  T vi = v[i];
  T ai = centered ? avg[i] : T(0);
  T bi = io_buf ? buf[i] : T(0);
  rmsprop_element(pi, g[i], vi, ai, bi, c, wd, centered, momentum);
  v[i] = vi;
  if (centered) avg[i] = ai;
  if (io_buf) buf[i] = bi;
  p[i] = pi;
}

template <typename T, bool WD, bool CENTERED, bool MOMENTUM>
void rmsprop_elements(T* __restrict p, const T* __restrict g, T* __restrict v,
                      T* __restrict avg, T* __restrict buf, std::int64_t n,
                      const RMSpropRow<T> c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    rmsprop_at(p, g, v, avg, buf, i, c, WD, CENTERED, MOMENTUM, MOMENTUM);
  }
}

// f(std::bool_constant<wd>, std::bool_constant<centered>, std::bool_constant<mom>). Not
// with_flags (common.hpp), though it names the same instantiations: through it GCC 12 inlined
// the element loops differently, and NaN results from the centered square root came out with
// the other sign bit on the blocked path (tests/test_kernel_rows.py holds the paths
// bit-identical). Measured; revisit with the next compiler.
template <typename F>
void with_rmsprop_flags(F&& f, bool wd, bool centered, bool mom) {
  using F0 = std::false_type;
  using F1 = std::true_type;
  switch ((wd ? 4 : 0) | (centered ? 2 : 0) | (mom ? 1 : 0)) {
    case 0: f(F0{}, F0{}, F0{}); break;
    case 1: f(F0{}, F0{}, F1{}); break;
    case 2: f(F0{}, F1{}, F0{}); break;
    case 3: f(F0{}, F1{}, F1{}); break;
    case 4: f(F1{}, F0{}, F0{}); break;
    case 5: f(F1{}, F0{}, F1{}); break;
    case 6: f(F1{}, F1{}, F0{}); break;
    default: f(F1{}, F1{}, F1{}); break;
  }
}

// One row (or piece of one) with its constants c; wd, centered, mom: whether the row applies
// weight decay, the centered average (centered and avg given), momentum (> 0 and buf given).
template <typename T>
void rmsprop_row_update(T* p, const T* g, T* v, T* avg, T* buf, std::int64_t n,
                        const RMSpropRow<T>& c, bool wd, bool centered, bool mom) {
  with_rmsprop_flags(
      [&](auto wd_c, auto cen_c, auto mom_c) {
        rmsprop_elements<T, decltype(wd_c)::value, decltype(cen_c)::value,
                         decltype(mom_c)::value>(p, g, v, avg, buf, n, c);
      },
      wd, centered, mom);
}

// ---- RMSprop on many short rows with per-row hyper-parameters (row_block.hpp, adam.hpp) ----

template <typename T>
using RMSpropRows = RowBlock<T, RMSpropRow>;

template <typename T>
void rmsprop_rows_from(const RMSpropHyper& h, std::int64_t first, std::int64_t n,
                       RMSpropRows<T>& k) {
  const RowValues x(first, n, h.lr, h.alpha, h.eps, h.weight_decay, h.momentum);
  const double *lr = x.of[0], *alpha = x.of[1], *eps = x.of[2], *wd = x.of[3], *mu = x.of[4];
  const bool maximize = h.maximize;
  fill_row_block(
      k, n, maximize,
      [=](std::int64_t i) {
        return rmsprop_row_from<T>(lr[i], alpha[i], eps[i], wd[i], mu[i], maximize);
      },
      [=](std::int64_t i) { return wd[i] != 0.0; }, [=](std::int64_t i) { return mu[i] > 0.0; });
}

// n rows of COLS elements, vectorized across rows; a row without momentum stores its buffer
// back unchanged.
template <typename T, int COLS, bool ANY_WD, bool CENTERED, bool BUF>
void rmsprop_short_rows(T* __restrict p, const T* __restrict g, T* __restrict v,
                        T* __restrict avg, T* __restrict buf, std::int64_t n,
                        const RMSpropRows<T>& k) {
  for_block_elements<COLS>(k, n, [p, g, v, avg, buf, &k](std::int64_t i, std::int64_t e,
                                                         RMSpropRow<T> c) SADDLEPOINT_INLINE_LAMBDA {
    rmsprop_at(p, g, v, avg, buf, e, c, ANY_WD && k.decays_at(i), CENTERED, BUF,
               BUF && k.moves_at(i));
  });
}

// avg may be null unless centered; buf may be null unless momentum > 0 in some row.
template <typename T>
void rmsprop_step(T* p, const T* g, T* v, T* avg, T* buf, std::int64_t rows, std::int64_t cols,
                  const RMSpropHyper& h) {
  using Rows = RMSpropRows<T>;
  const bool centered = h.centered && avg != nullptr;
  step_rows<Rows>(
      rows, cols,
      [&](std::int64_t first, std::int64_t n, Rows& k) { rmsprop_rows_from<T>(h, first, n, k); },
      [&](const Rows& k, std::int64_t n, std::int64_t o) {
        const bool any_mom = buf != nullptr && k.moving > 0;
        T* const a = centered ? avg + o : nullptr;
        T* const b = any_mom ? buf + o : nullptr;
        return with_short_cols(cols, [&](auto cols_c) {
          with_rmsprop_flags(
              [&](auto wd_c, auto cen_c, auto buf_c) {
                rmsprop_short_rows<T, decltype(cols_c)::value, decltype(wd_c)::value,
                                   decltype(cen_c)::value, decltype(buf_c)::value>(
                    p + o, g + o, v + o, a, b, n, k);
              },
              k.decaying > 0, centered, any_mom);
        });
      },
      [&](const Rows& k, std::int64_t i, std::int64_t r) {
        rmsprop_row_update<T>(p + r, g + r, v + r, avg ? avg + r : nullptr,
                              buf ? buf + r : nullptr, cols, k.at(i, k.sign), k.decays_at(i),
                              centered, buf != nullptr && k.moves_at(i));
      },
      [&](std::int64_t r, std::int64_t o, std::int64_t len) {
        const RMSpropRow<T> c = rmsprop_row_from<T>(h.lr.at(r), h.alpha.at(r), h.eps.at(r),
                                                    h.weight_decay.at(r), h.momentum.at(r),
                                                    h.maximize);
        rmsprop_row_update<T>(p + o, g + o, v + o, avg ? avg + o : nullptr,
                              buf ? buf + o : nullptr, len, c, h.weight_decay.at(r) != 0.0,
                              centered, h.momentum.at(r) > 0.0 && buf != nullptr);
      });
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
