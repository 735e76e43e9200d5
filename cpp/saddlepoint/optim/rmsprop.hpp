// RMSprop, with torch.optim's single-tensor semantics; conventions in
// saddlepoint/optim/optimizers.hpp.
#pragma once

#include "saddlepoint/optim/common.hpp"

namespace saddlepoint {

// ---------------------------------------------------------------------------------------------
// RMSprop:  g <- ±g + wd*p;  v <- alpha*v + (1-alpha)*g*g;
//           centered: a <- lerp(a, g, 1-alpha), d = sqrt(v - a*a) + eps; else d = sqrt(v) + eps
//           momentum: b <- mu*b + g/d, p <- p - lr*b;  else p <- p - lr*g/d
// ---------------------------------------------------------------------------------------------
struct RMSpropHyper {
  Hyper lr, alpha, eps, weight_decay, momentum;
  bool centered = false, maximize = false;
};

template <typename T>
struct RMSpropRow {
  T sign, wd, alpha, one_minus_alpha, eps, mu, neg_lr;
  bool low_weight;  // torch.lerp's branch for the centered average's weight 1-alpha
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

template <typename T, bool WD, bool CENTERED, bool MOMENTUM>
void rmsprop_elements(T* __restrict p, const T* __restrict g, T* __restrict v,
                      T* __restrict avg, T* __restrict buf, std::int64_t n,
                      const RMSpropRow<T> c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    T pi = p[i];
    T vi = v[i];
    T ai = CENTERED ? avg[i] : T(0);
    T bi = MOMENTUM ? buf[i] : T(0);
    rmsprop_element(pi, g[i], vi, ai, bi, c, WD, CENTERED, MOMENTUM);
    v[i] = vi;
    if constexpr (CENTERED) avg[i] = ai;
    if constexpr (MOMENTUM) buf[i] = bi;
    p[i] = pi;
  }
}

// One row (or piece of one) with its constants c; wd, centered, mom: whether the row applies
// weight decay, the centered average (centered and avg given), momentum (> 0 and buf given).
template <typename T>
void rmsprop_row_update(T* p, const T* g, T* v, T* avg, T* buf, std::int64_t n,
                        const RMSpropRow<T>& c, bool wd, bool centered, bool mom) {
  // Not with_flags (common.hpp), though it names the same instantiations: through it GCC 12
  // inlined these loops differently, and NaN results from the centered square root came out
  // with the other sign bit on the blocked path (tests/test_kernel_rows.py holds the paths
  // bit-identical). Measured; revisit with the next compiler.
  auto run = [&](auto wd_c, auto cen_c, auto mom_c) {
    rmsprop_elements<T, decltype(wd_c)::value, decltype(cen_c)::value, decltype(mom_c)::value>(
        p, g, v, avg, buf, n, c);
  };
  using F = std::false_type;
  using Tr = std::true_type;
  switch ((wd ? 4 : 0) | (centered ? 2 : 0) | (mom ? 1 : 0)) {
    case 0: run(F{}, F{}, F{}); break;
    case 1: run(F{}, F{}, Tr{}); break;
    case 2: run(F{}, Tr{}, F{}); break;
    case 3: run(F{}, Tr{}, Tr{}); break;
    case 4: run(Tr{}, F{}, F{}); break;
    case 5: run(Tr{}, F{}, Tr{}); break;
    case 6: run(Tr{}, Tr{}, F{}); break;
    default: run(Tr{}, Tr{}, Tr{}); break;
  }
}

// ---- RMSprop on many short rows with per-row hyper-parameters (the scheme is described in adam.hpp) ----

template <typename T>
struct RMSpropRows {
  T sign;
  T wd[kRowBlock], alpha[kRowBlock], one_minus_alpha[kRowBlock], eps[kRowBlock], mu[kRowBlock],
      neg_lr[kRowBlock];
  // 1 or 0: torch.lerp's branch, weight_decay != 0, momentum > 0
  T low_weight[kRowBlock], decays[kRowBlock], moves[kRowBlock];
  std::int64_t decaying = 0, moving = 0;  // rows with weight_decay != 0, momentum > 0

  // sign comes in as an argument: read from the struct inside the loop over rows, GCC 12
  // treats it as a data reference it cannot vectorize.
  RMSpropRow<T> at(std::int64_t i, T sign) const {
    return {sign, wd[i], alpha[i], one_minus_alpha[i], eps[i], mu[i], neg_lr[i],
            low_weight[i] != T(0)};
  }
};

template <typename T>
void rmsprop_rows_from(const RMSpropHyper& h, std::int64_t first, std::int64_t n,
                       RMSpropRows<T>& k) {
  double buffers[5][kRowBlock];
  const double* lr = h.lr.rows(first, n, buffers[0]);
  const double* alpha = h.alpha.rows(first, n, buffers[1]);
  const double* eps = h.eps.rows(first, n, buffers[2]);
  const double* wd = h.weight_decay.rows(first, n, buffers[3]);
  const double* mu = h.momentum.rows(first, n, buffers[4]);
  const bool maximize = h.maximize;
  k.sign = T(maximize ? -1 : 1);
  std::int64_t decaying = 0, moving = 0;
#pragma omp simd reduction(+ : decaying, moving)
  for (std::int64_t i = 0; i < n; ++i) {
    const RMSpropRow<T> c = rmsprop_row_from<T>(lr[i], alpha[i], eps[i], wd[i], mu[i], maximize);
    k.wd[i] = c.wd;
    k.alpha[i] = c.alpha;
    k.one_minus_alpha[i] = c.one_minus_alpha;
    k.eps[i] = c.eps;
    k.mu[i] = c.mu;
    k.neg_lr[i] = c.neg_lr;
    k.low_weight[i] = c.low_weight ? T(1) : T(0);
    k.decays[i] = wd[i] != 0.0 ? T(1) : T(0);
    k.moves[i] = mu[i] > 0.0 ? T(1) : T(0);
    decaying += wd[i] != 0.0;
    moving += mu[i] > 0.0;
  }
  k.decaying = decaying;
  k.moving = moving;
}

// n rows of COLS elements, vectorized across rows; a row without momentum stores its buffer
// back unchanged.
template <typename T, int COLS, bool ANY_WD, bool CENTERED, bool BUF>
void rmsprop_short_rows(T* __restrict p, const T* __restrict g, T* __restrict v,
                        T* __restrict avg, T* __restrict buf, std::int64_t n,
                        const RMSpropRows<T>& k) {
  const T sign = k.sign;
  // ivdep, not omp simd: omp simd would privatize the row's constants per lane, which GCC 12
  // then fails to vectorize for some column counts.
#pragma GCC ivdep
  for (std::int64_t i = 0; i < n; ++i) {
    const RMSpropRow<T> c = k.at(i, sign);
    const bool wd = ANY_WD && k.decays[i] != T(0);
    const bool mom = BUF && k.moves[i] != T(0);
    for (int j = 0; j < COLS; ++j) {
      const std::int64_t e = i * COLS + j;
      T pi = p[e];
      T vi = v[e];
      T ai = CENTERED ? avg[e] : T(0);
      T bi = BUF ? buf[e] : T(0);
      rmsprop_element(pi, g[e], vi, ai, bi, c, wd, CENTERED, mom);
      v[e] = vi;
      if constexpr (CENTERED) avg[e] = ai;
      if constexpr (BUF) buf[e] = bi;
      p[e] = pi;
    }
  }
}

template <typename T>
void rmsprop_step_short_rows(T* p, const T* g, T* v, T* avg, T* buf, std::int64_t rows,
                             std::int64_t cols, const RMSpropHyper& h) {
  const bool centered = h.centered && avg != nullptr;
  for_each_row_block(rows, cols, [&](std::int64_t first, std::int64_t last) {
    const std::int64_t n = last - first, o = first * cols;
    RMSpropRows<T> k;
    rmsprop_rows_from<T>(h, first, n, k);
    const bool any_wd = k.decaying > 0;
    const bool any_mom = buf != nullptr && k.moving > 0;
    T* const a = centered ? avg + o : nullptr;
    T* const b = any_mom ? buf + o : nullptr;
    const bool done = with_short_cols(cols, [&](auto cols_c) {
      constexpr int C = decltype(cols_c)::value;
      auto run = [&](auto wd_c, auto cen_c, auto buf_c) {
        rmsprop_short_rows<T, C, decltype(wd_c)::value, decltype(cen_c)::value,
                           decltype(buf_c)::value>(p + o, g + o, v + o, a, b, n, k);
      };
      using F = std::false_type;
      using Tr = std::true_type;
      switch ((any_wd ? 4 : 0) | (centered ? 2 : 0) | (any_mom ? 1 : 0)) {
        case 0: run(F{}, F{}, F{}); break;
        case 1: run(F{}, F{}, Tr{}); break;
        case 2: run(F{}, Tr{}, F{}); break;
        case 3: run(F{}, Tr{}, Tr{}); break;
        case 4: run(Tr{}, F{}, F{}); break;
        case 5: run(Tr{}, F{}, Tr{}); break;
        case 6: run(Tr{}, Tr{}, F{}); break;
        default: run(Tr{}, Tr{}, Tr{}); break;
      }
    });
    if (done) return;
    for (std::int64_t i = 0; i < n; ++i) {  // longer rows: the row loop, block constants
      const std::int64_t r = o + i * cols;
      rmsprop_row_update<T>(p + r, g + r, v + r, avg ? avg + r : nullptr,
                            buf ? buf + r : nullptr, cols, k.at(i, k.sign), k.decays[i] != T(0),
                            centered, buf != nullptr && k.moves[i] != T(0));
    }
  });
}

// avg may be null unless centered; buf may be null unless momentum > 0 in some row.
template <typename T>
void rmsprop_step(T* p, const T* g, T* v, T* avg, T* buf, std::int64_t rows, std::int64_t cols,
                  const RMSpropHyper& h) {
  if (rows > 1 && cols <= kShortRowCols) {
    rmsprop_step_short_rows<T>(p, g, v, avg, buf, rows, cols, h);
    return;
  }
  const bool centered = h.centered && avg != nullptr;
  for_each_row_piece(rows, cols, [&](std::int64_t r, std::int64_t b, std::int64_t e) {
    const std::int64_t o = r * cols + b;
    const RMSpropRow<T> c = rmsprop_row_from<T>(h.lr.at(r), h.alpha.at(r), h.eps.at(r),
                                                h.weight_decay.at(r), h.momentum.at(r),
                                                h.maximize);
    rmsprop_row_update<T>(p + o, g + o, v + o, avg ? avg + o : nullptr, buf ? buf + o : nullptr,
                          e - b, c, h.weight_decay.at(r) != 0.0, centered,
                          h.momentum.at(r) > 0.0 && buf != nullptr);
  });
}

}  // namespace saddlepoint
