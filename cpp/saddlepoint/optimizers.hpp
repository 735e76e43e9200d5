// Fused optimizer steps with torch.optim's single-tensor semantics (PyTorch 2.x).
//
// Each step reads every array once and writes it once. Pointers are C-contiguous, of the
// same length and not aliased: the binding layer validated all of that before calling.
// Scalars are formed in double precision and cast to T, as PyTorch casts a Python float
// hyper-parameter to the tensor's dtype; the element arithmetic then runs in T, in
// PyTorch's order of operations (addcmul as (value*a)*b, addcdiv as (value*a)/b, lerp with
// torch's two-sided formula). Every element loads all its inputs before it stores anything:
// NumPy's large arrays alias modulo 4 KiB, and stores ahead of loads cost 1.6x there.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "saddlepoint/hyper.hpp"
#include "saddlepoint/rows.hpp"

namespace saddlepoint {

enum class WeightDecay { none, coupled, decoupled };

// ---------------------------------------------------------------------------------------------
// SGD:  g <- ±g + wd*p;  b <- g (first step) or mu*b + (1-dampening)*g;
//       g <- g + mu*b (Nesterov) or b;  p <- p - lr*g
// ---------------------------------------------------------------------------------------------
struct SGDHyper {
  Hyper lr, momentum, dampening, weight_decay;
  bool nesterov = false, maximize = false;
  bool first_step = true;  // the momentum buffer is set to the gradient on the first step
};

template <typename T>
struct SGDRow {
  T sign, wd, mu, one_minus_dampening, neg_lr;
};


template <typename T>
SGDRow<T> sgd_row_from(double lr, double momentum, double dampening, double wd, bool maximize) {
  return {T(maximize ? -1 : 1), T(wd), T(momentum), T(1.0 - dampening), T(-lr)};
}

// One element of an SGD step, on values already loaded (the caller stores p and buf). The
// kernels and the native sweep both go through it, so they round alike. The flags are
// compile-time constants in the kernels and uniform runtime values in a sweep.
template <typename T>
inline void sgd_element(T& pi, T gi, T& bi, const SGDRow<T>& c, bool wd, bool momentum,
                        bool nesterov, bool first) {
  gi = gi * c.sign;
  if (wd) gi = gi + c.wd * pi;
  if (momentum) {
    bi = first ? gi : bi * c.mu + c.one_minus_dampening * gi;
    gi = nesterov ? gi + c.mu * bi : bi;
  }
  pi = pi + c.neg_lr * gi;
}

template <typename T, bool WD, bool MOMENTUM, bool NESTEROV, bool FIRST>
void sgd_elements(T* __restrict p, const T* __restrict g, T* __restrict buf, std::int64_t n,
                  const SGDRow<T> c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    T pi = p[i];
    T bi = (MOMENTUM && !FIRST) ? buf[i] : T(0);
    sgd_element(pi, g[i], bi, c, WD, MOMENTUM, NESTEROV, FIRST);
    if constexpr (MOMENTUM) buf[i] = bi;
    p[i] = pi;
  }
}

// One row (or piece of one) with its constants c; wd and mom: whether the row applies weight
// decay and momentum (momentum != 0 and a buffer given).
template <typename T>
void sgd_row_update(T* p, const T* g, T* buf, std::int64_t n, const SGDRow<T>& c, bool wd,
                    bool mom, const SGDHyper& h) {
  // Booleans become template arguments so that each loop body is branch-free.
  auto run = [&](auto wd_c, auto mom_c, auto nest_c, auto first_c) {
    sgd_elements<T, decltype(wd_c)::value, decltype(mom_c)::value, decltype(nest_c)::value,
                 decltype(first_c)::value>(p, g, buf, n, c);
  };
  using F = std::false_type;
  using Tr = std::true_type;
  if (!mom) {
    wd ? run(Tr{}, F{}, F{}, F{}) : run(F{}, F{}, F{}, F{});
    return;
  }
  const int key = (wd ? 4 : 0) | (h.nesterov ? 2 : 0) | (h.first_step ? 1 : 0);
  switch (key) {
    case 0: run(F{}, Tr{}, F{}, F{}); break;
    case 1: run(F{}, Tr{}, F{}, Tr{}); break;
    case 2: run(F{}, Tr{}, Tr{}, F{}); break;
    case 3: run(F{}, Tr{}, Tr{}, Tr{}); break;
    case 4: run(Tr{}, Tr{}, F{}, F{}); break;
    case 5: run(Tr{}, Tr{}, F{}, Tr{}); break;
    case 6: run(Tr{}, Tr{}, Tr{}, F{}); break;
    default: run(Tr{}, Tr{}, Tr{}, Tr{}); break;
  }
}

// ---- SGD on many short rows with per-row hyper-parameters (see Adam's below) ----

template <typename T>
struct SGDRows {
  T sign;
  T wd[kRowBlock], mu[kRowBlock], one_minus_dampening[kRowBlock], neg_lr[kRowBlock];
  T decays[kRowBlock], moves[kRowBlock];  // 1 or 0: weight_decay != 0, momentum != 0
  std::int64_t decaying = 0, moving = 0;  // rows with weight_decay != 0, momentum != 0

  // sign comes in as an argument: read from the struct inside the loop over rows, GCC 12
  // treats it as a data reference it cannot vectorize.
  SGDRow<T> at(std::int64_t i, T sign) const {
    return {sign, wd[i], mu[i], one_minus_dampening[i], neg_lr[i]};
  }
};

template <typename T>
void sgd_rows_from(const SGDHyper& h, std::int64_t first, std::int64_t n, SGDRows<T>& k) {
  double buffers[4][kRowBlock];
  const double* lr = h.lr.rows(first, n, buffers[0]);
  const double* mu = h.momentum.rows(first, n, buffers[1]);
  const double* dampening = h.dampening.rows(first, n, buffers[2]);
  const double* wd = h.weight_decay.rows(first, n, buffers[3]);
  const bool maximize = h.maximize;
  k.sign = T(maximize ? -1 : 1);
  std::int64_t decaying = 0, moving = 0;
#pragma omp simd reduction(+ : decaying, moving)
  for (std::int64_t i = 0; i < n; ++i) {
    const SGDRow<T> c = sgd_row_from<T>(lr[i], mu[i], dampening[i], wd[i], maximize);
    k.wd[i] = c.wd;
    k.mu[i] = c.mu;
    k.one_minus_dampening[i] = c.one_minus_dampening;
    k.neg_lr[i] = c.neg_lr;
    k.decays[i] = wd[i] != 0.0 ? T(1) : T(0);
    k.moves[i] = mu[i] != 0.0 ? T(1) : T(0);
    decaying += wd[i] != 0.0;
    moving += mu[i] != 0.0;
  }
  k.decaying = decaying;
  k.moving = moving;
}

// n rows of COLS elements, vectorized across rows; MOMENTUM: every row has momentum, else none
// has. A row without decay skips that part of sgd_element, as sgd_row_update does.
template <typename T, int COLS, bool ANY_WD, bool MOMENTUM, bool NESTEROV, bool FIRST>
void sgd_short_rows(T* __restrict p, const T* __restrict g, T* __restrict buf, std::int64_t n,
                    const SGDRows<T>& k) {
  const T sign = k.sign;
  // ivdep, not omp simd: omp simd would privatize the row's constants per lane, which GCC 12
  // then fails to vectorize for some column counts.
#pragma GCC ivdep
  for (std::int64_t i = 0; i < n; ++i) {
    const SGDRow<T> c = k.at(i, sign);
    const bool wd = ANY_WD && k.decays[i] != T(0);
    for (int j = 0; j < COLS; ++j) {
      const std::int64_t e = i * COLS + j;
      T pi = p[e];
      T bi = (MOMENTUM && !FIRST) ? buf[e] : T(0);
      sgd_element(pi, g[e], bi, c, wd, MOMENTUM, NESTEROV, FIRST);
      if constexpr (MOMENTUM) buf[e] = bi;
      p[e] = pi;
    }
  }
}

template <typename T>
void sgd_step_short_rows(T* p, const T* g, T* buf, std::int64_t rows, std::int64_t cols,
                         const SGDHyper& h) {
  for_each_row_block(rows, cols, [&](std::int64_t first, std::int64_t last) {
    const std::int64_t n = last - first, o = first * cols;
    SGDRows<T> k;
    sgd_rows_from<T>(h, first, n, k);
    const bool any_wd = k.decaying > 0;
    const bool any_mom = buf != nullptr && k.moving > 0;
    // A block mixing rows with and without momentum takes the row loop: vectorized, the rows
    // without would store their buffer back unchanged, and GCC 12 turns that into a masked
    // strided store it cannot vectorize. Sweeps group runs by momentum, so blocks rarely mix.
    const bool mixed = any_mom && k.moving < n;
    T* const b = any_mom ? buf + o : nullptr;
    const bool done = !mixed && with_short_cols(cols, [&](auto cols_c) {
      constexpr int C = decltype(cols_c)::value;
      auto run = [&](auto wd_c, auto mom_c, auto nest_c, auto first_c) {
        sgd_short_rows<T, C, decltype(wd_c)::value, decltype(mom_c)::value,
                       decltype(nest_c)::value, decltype(first_c)::value>(p + o, g + o, b, n, k);
      };
      using F = std::false_type;
      using Tr = std::true_type;
      if (!any_mom) {
        any_wd ? run(Tr{}, F{}, F{}, F{}) : run(F{}, F{}, F{}, F{});
        return;
      }
      switch ((any_wd ? 4 : 0) | (h.nesterov ? 2 : 0) | (h.first_step ? 1 : 0)) {
        case 0: run(F{}, Tr{}, F{}, F{}); break;
        case 1: run(F{}, Tr{}, F{}, Tr{}); break;
        case 2: run(F{}, Tr{}, Tr{}, F{}); break;
        case 3: run(F{}, Tr{}, Tr{}, Tr{}); break;
        case 4: run(Tr{}, Tr{}, F{}, F{}); break;
        case 5: run(Tr{}, Tr{}, F{}, Tr{}); break;
        case 6: run(Tr{}, Tr{}, Tr{}, F{}); break;
        default: run(Tr{}, Tr{}, Tr{}, Tr{}); break;
      }
    });
    if (done) return;
    for (std::int64_t i = 0; i < n; ++i) {  // longer rows, mixed momentum: the row loop
      const std::int64_t r = o + i * cols;
      sgd_row_update<T>(p + r, g + r, buf ? buf + r : nullptr, cols, k.at(i, k.sign),
                        k.decays[i] != T(0), buf != nullptr && k.moves[i] != T(0), h);
    }
  });
}

// p, g, buf: rows*cols elements (buf may be null when momentum is 0 in every row).
template <typename T>
void sgd_step(T* p, const T* g, T* buf, std::int64_t rows, std::int64_t cols, const SGDHyper& h) {
  if (rows > 1 && cols <= kShortRowCols) {
    sgd_step_short_rows<T>(p, g, buf, rows, cols, h);
    return;
  }
  for_each_row_piece(rows, cols, [&](std::int64_t r, std::int64_t b, std::int64_t e) {
    const std::int64_t o = r * cols + b;
    const SGDRow<T> c = sgd_row_from<T>(h.lr.at(r), h.momentum.at(r), h.dampening.at(r),
                                        h.weight_decay.at(r), h.maximize);
    sgd_row_update<T>(p + o, g + o, buf ? buf + o : nullptr, e - b, c,
                      h.weight_decay.at(r) != 0.0, h.momentum.at(r) != 0.0 && buf != nullptr, h);
  });
}

// ---------------------------------------------------------------------------------------------
// Adagrad:  g <- ±g + wd*p;  s <- s + g*g;  p <- p - clr*g/(sqrt(s) + eps),
//           clr = lr / (1 + (step-1)*lr_decay)      (eps outside the square root, as PyTorch)
// ---------------------------------------------------------------------------------------------
struct AdagradHyper {
  Hyper lr, lr_decay, weight_decay, eps;
  bool maximize = false;
  std::int64_t step = 1;  // 1 on the first step
};

template <typename T>
struct AdagradRow {
  T sign, wd, eps, neg_clr;
};

// lr_decay enters through the step: clr = lr / (1 + (step-1)*lr_decay), in double precision.
template <typename T>
AdagradRow<T> adagrad_row_from(double lr, double lr_decay, double wd, double eps, bool maximize,
                               std::int64_t step) {
  const double clr = lr / (1.0 + static_cast<double>(step - 1) * lr_decay);
  return {T(maximize ? -1 : 1), T(wd), T(eps), T(-clr)};
}

// One element of an Adagrad step on loaded values (shared by the kernels and native sweeps).
template <typename T>
inline void adagrad_element(T& pi, T gi, T& si, const AdagradRow<T>& c, bool wd) {
  gi = gi * c.sign;
  if (wd) gi = gi + c.wd * pi;
  si = si + gi * gi;
  const T std_i = std::sqrt(si) + c.eps;
  pi = pi + (c.neg_clr * gi) / std_i;
}

template <typename T, bool WD>
void adagrad_elements(T* __restrict p, const T* __restrict g, T* __restrict s, std::int64_t n,
                      const AdagradRow<T> c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    T pi = p[i];
    T si = s[i];
    adagrad_element(pi, g[i], si, c, WD);
    s[i] = si;
    p[i] = pi;
  }
}

template <typename T>
void adagrad_row_update(T* p, const T* g, T* s, std::int64_t n, const AdagradRow<T>& c, bool wd) {
  if (wd) {
    adagrad_elements<T, true>(p, g, s, n, c);
  } else {
    adagrad_elements<T, false>(p, g, s, n, c);
  }
}

// ---- Adagrad on many short rows with per-row hyper-parameters (see Adam's below) ----

template <typename T>
struct AdagradRows {
  T sign;
  T wd[kRowBlock], eps[kRowBlock], neg_clr[kRowBlock];
  T decays[kRowBlock];        // 1 or 0: weight_decay != 0
  std::int64_t decaying = 0;  // rows with weight_decay != 0

  // sign comes in as an argument: read from the struct inside the loop over rows, GCC 12
  // treats it as a data reference it cannot vectorize.
  AdagradRow<T> at(std::int64_t i, T sign) const { return {sign, wd[i], eps[i], neg_clr[i]}; }
};

template <typename T>
void adagrad_rows_from(const AdagradHyper& h, std::int64_t first, std::int64_t n,
                       AdagradRows<T>& k) {
  double buffers[4][kRowBlock];
  const double* lr = h.lr.rows(first, n, buffers[0]);
  const double* lr_decay = h.lr_decay.rows(first, n, buffers[1]);
  const double* wd = h.weight_decay.rows(first, n, buffers[2]);
  const double* eps = h.eps.rows(first, n, buffers[3]);
  const bool maximize = h.maximize;
  const std::int64_t step = h.step;
  k.sign = T(maximize ? -1 : 1);
  std::int64_t decaying = 0;
#pragma omp simd reduction(+ : decaying)
  for (std::int64_t i = 0; i < n; ++i) {
    const AdagradRow<T> c = adagrad_row_from<T>(lr[i], lr_decay[i], wd[i], eps[i], maximize, step);
    k.wd[i] = c.wd;
    k.eps[i] = c.eps;
    k.neg_clr[i] = c.neg_clr;
    k.decays[i] = wd[i] != 0.0 ? T(1) : T(0);
    decaying += wd[i] != 0.0;
  }
  k.decaying = decaying;
}

template <typename T, int COLS, bool ANY_WD>
void adagrad_short_rows(T* __restrict p, const T* __restrict g, T* __restrict s, std::int64_t n,
                        const AdagradRows<T>& k) {
  const T sign = k.sign;
  // ivdep, not omp simd: omp simd would privatize the row's constants per lane, which GCC 12
  // then fails to vectorize for some column counts.
#pragma GCC ivdep
  for (std::int64_t i = 0; i < n; ++i) {
    const AdagradRow<T> c = k.at(i, sign);
    const bool wd = ANY_WD && k.decays[i] != T(0);
    for (int j = 0; j < COLS; ++j) {
      const std::int64_t e = i * COLS + j;
      T pi = p[e];
      T si = s[e];
      adagrad_element(pi, g[e], si, c, wd);
      s[e] = si;
      p[e] = pi;
    }
  }
}

template <typename T>
void adagrad_step_short_rows(T* p, const T* g, T* s, std::int64_t rows, std::int64_t cols,
                             const AdagradHyper& h) {
  for_each_row_block(rows, cols, [&](std::int64_t first, std::int64_t last) {
    const std::int64_t n = last - first, o = first * cols;
    AdagradRows<T> k;
    adagrad_rows_from<T>(h, first, n, k);
    const bool any_wd = k.decaying > 0;
    const bool done = with_short_cols(cols, [&](auto cols_c) {
      constexpr int C = decltype(cols_c)::value;
      if (any_wd) {
        adagrad_short_rows<T, C, true>(p + o, g + o, s + o, n, k);
      } else {
        adagrad_short_rows<T, C, false>(p + o, g + o, s + o, n, k);
      }
    });
    if (done) return;
    for (std::int64_t i = 0; i < n; ++i) {  // longer rows: the row loop, block constants
      const std::int64_t r = o + i * cols;
      adagrad_row_update<T>(p + r, g + r, s + r, cols, k.at(i, k.sign), k.decays[i] != T(0));
    }
  });
}

template <typename T>
void adagrad_step(T* p, const T* g, T* s, std::int64_t rows, std::int64_t cols,
                  const AdagradHyper& h) {
  if (rows > 1 && cols <= kShortRowCols) {
    adagrad_step_short_rows<T>(p, g, s, rows, cols, h);
    return;
  }
  for_each_row_piece(rows, cols, [&](std::int64_t r, std::int64_t b, std::int64_t e) {
    const std::int64_t o = r * cols + b;
    const AdagradRow<T> c = adagrad_row_from<T>(h.lr.at(r), h.lr_decay.at(r),
                                                h.weight_decay.at(r), h.eps.at(r), h.maximize,
                                                h.step);
    adagrad_row_update<T>(p + o, g + o, s + o, e - b, c, h.weight_decay.at(r) != 0.0);
  });
}

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

// ---- RMSprop on many short rows with per-row hyper-parameters (see Adam's below) ----

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

// ---------------------------------------------------------------------------------------------
// Adam / AdamW:  Adam: g <- ±g + wd*p;  AdamW: p <- p*(1 - lr*wd), g <- ±g
//   m <- lerp(m, g, 1-beta1);  v <- beta2*v + (1-beta2)*g*g;  vmax <- max(vmax, v) (AMSGrad)
//   p <- p - (lr/bc1) * m / (sqrt(v or vmax)/sqrt(bc2) + eps),  bc_i = 1 - beta_i**step
// ---------------------------------------------------------------------------------------------
struct AdamHyper {
  Hyper lr, beta1, beta2, eps, weight_decay;
  bool amsgrad = false, maximize = false, decoupled = false;  // decoupled: AdamW
  std::int64_t step = 1;                                     // 1 on the first step
};

template <typename T>
struct AdamRow {
  T sign, wd, decay, w1, one_minus_w1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size;
  bool low_weight;
};

// The per-row constants from the row's hyper-parameters and its bias corrections
// bc1 = 1 - beta1**step, bc2 = 1 - beta2**step (native sweeps pass precomputed tables).
template <typename T>
AdamRow<T> adam_row_from_sqrt(double lr, double beta1, double beta2, double eps, double wd,
                              bool maximize, double bc1, double bc2_sqrt);

template <typename T>
AdamRow<T> adam_row_from(double lr, double beta1, double beta2, double eps, double wd,
                         bool maximize, double bc1, double bc2) {
  return adam_row_from_sqrt<T>(lr, beta1, beta2, eps, wd, maximize, bc1, std::sqrt(bc2));
}

// The same with sqrt(bc2) given: it depends on (beta2, step) only, so a native sweep takes it
// from a table instead of one double sqrt per run and step (the same double either way).
template <typename T>
AdamRow<T> adam_row_from_sqrt(double lr, double beta1, double beta2, double eps, double wd,
                              bool maximize, double bc1, double bc2_sqrt) {
  const double w1 = 1.0 - beta1;
  return {T(maximize ? -1 : 1),
          T(wd),
          T(1.0 - lr * wd),
          T(w1),
          T(1) - T(w1),
          T(beta2),
          T(1.0 - beta2),
          T(bc2_sqrt),
          T(eps),
          T(-(lr / bc1)),
          std::abs(w1) < 0.5};
}

// Row r's constants; the bias corrections through this thread's table of (beta, step) pairs.
template <typename T>
AdamRow<T> adam_row(const AdamHyper& h, std::int64_t r) {
  BiasCorrections& bc = BiasCorrections::local();
  const double beta1 = h.beta1.at(r), beta2 = h.beta2.at(r);
  return adam_row_from<T>(h.lr.at(r), beta1, beta2, h.eps.at(r), h.weight_decay.at(r),
                          h.maximize, bc(beta1, h.step), bc(beta2, h.step));
}

// One element of an Adam/AdamW step on loaded values (shared by the kernels and native sweeps).
template <typename T>
inline void adam_element(T& pi, T gi, T& mi, T& vi, T& xi, const AdamRow<T>& c, WeightDecay wd,
                         bool amsgrad) {
  gi = gi * c.sign;
  if (wd == WeightDecay::decoupled) pi = pi * c.decay;
  if (wd == WeightDecay::coupled) gi = gi + c.wd * pi;
  mi = lerp(mi, gi, c.w1, c.one_minus_w1, c.low_weight);
  vi = vi * c.beta2 + (c.one_minus_beta2 * gi) * gi;
  // torch.maximum propagates NaN; std::max(xi, vi) would keep xi when vi is NaN.
  if (amsgrad) xi = (vi > xi || vi != vi) ? vi : xi;
  const T denom = std::sqrt(amsgrad ? xi : vi) / c.bc2_sqrt + c.eps;
  pi = pi + (c.neg_step_size * mi) / denom;
}

template <typename T, WeightDecay WD, bool AMSGRAD>
void adam_elements(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                   T* __restrict vmax, std::int64_t n, const AdamRow<T> c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    T pi = p[i];
    T mi = m[i];
    T vi = v[i];
    T xi = AMSGRAD ? vmax[i] : T(0);
    adam_element(pi, g[i], mi, vi, xi, c, WD, AMSGRAD);
    m[i] = mi;
    v[i] = vi;
    if constexpr (AMSGRAD) vmax[i] = xi;
    p[i] = pi;
  }
}

template <typename T>
void adam_row_update(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t n, const AdamRow<T>& c,
                     bool decay, const AdamHyper& h) {
  const WeightDecay wd = !decay ? WeightDecay::none
                         : h.decoupled ? WeightDecay::decoupled
                                       : WeightDecay::coupled;
  const bool ams = h.amsgrad && vmax != nullptr;
  switch (static_cast<int>(wd) * 2 + (ams ? 1 : 0)) {
    case 0: adam_elements<T, WeightDecay::none, false>(p, g, m, v, vmax, n, c); break;
    case 1: adam_elements<T, WeightDecay::none, true>(p, g, m, v, vmax, n, c); break;
    case 2: adam_elements<T, WeightDecay::coupled, false>(p, g, m, v, vmax, n, c); break;
    case 3: adam_elements<T, WeightDecay::coupled, true>(p, g, m, v, vmax, n, c); break;
    case 4: adam_elements<T, WeightDecay::decoupled, false>(p, g, m, v, vmax, n, c); break;
    default: adam_elements<T, WeightDecay::decoupled, true>(p, g, m, v, vmax, n, c); break;
  }
}

// ---- Adam on many short rows with per-row hyper-parameters (a sweep's runs) ----

// out[i] = f(1 - beta**step) for rows [first, first + n) of a block, f the identity or sqrt
// (Adam takes sqrt(bc2): a function of (beta2, step) only, so it is formed once per distinct
// value too, the same double as per row). A sweep's rows share a few betas, sorted or
// interleaved: each distinct value is looked up once (BiasCorrections) and handed to its rows
// in a vectorized pass over the block; past kMaxDistinct distinct values the remaining rows
// are looked up one by one. Equal values give equal results (+0.0 and -0.0 too: 1 - (+-0)**step
// is the same double), so matching by value is exact; a NaN matches nothing and goes alone.
inline void bias_corrections(const Hyper& beta, std::int64_t first, std::int64_t n,
                             std::int64_t step, bool take_sqrt, double* out) {
  constexpr int kMaxDistinct = 8;
  BiasCorrections& table = BiasCorrections::local();
  auto value_of = [&](double b) {
    const double bc = table(b, step);
    return take_sqrt ? std::sqrt(bc) : bc;
  };
  if (!beta.per_row) {
    std::fill(out, out + n, value_of(beta.scalar));
    return;
  }
  const double* b = beta.per_row + first;
  std::int64_t done[kRowBlock];  // 1 once out[i] is set; as wide as double, so passes vectorize
  std::fill(done, done + n, std::int64_t{0});
  std::int64_t i = 0, left = n;  // rows before i are done; `left` rows are not
  for (int distinct = 0; left > 0; ++distinct) {
    while (done[i]) ++i;
    if (distinct == kMaxDistinct) {
      for (; i < n; ++i) {
        if (!done[i]) out[i] = value_of(b[i]);
      }
      return;
    }
    const double key = b[i], v = value_of(key);
    out[i] = v;
    done[i] = 1;
    std::int64_t matched = 1;
    for (std::int64_t j = i + 1; j < n; ++j) {
      const bool match = !done[j] && b[j] == key;
      out[j] = match ? v : out[j];
      done[j] |= match;
      matched += match;
    }
    left -= matched;
  }
}

// A block's per-row constants as arrays, one entry per row, so that loops over the rows
// vectorize; at(i) is row i's AdamRow, exactly what adam_row gives it.
template <typename T>
struct AdamRows {
  T sign;
  T wd[kRowBlock], decay[kRowBlock], w1[kRowBlock], one_minus_w1[kRowBlock], beta2[kRowBlock],
      one_minus_beta2[kRowBlock], bc2_sqrt[kRowBlock], eps[kRowBlock], neg_step_size[kRowBlock];
  // Flags as T (1 or 0), not bool: GCC 12 finds no vector mask type for a select on a bool
  // array beside T arithmetic, and the loop over rows would not vectorize.
  T low_weight[kRowBlock], decays[kRowBlock];
  std::int64_t decaying = 0;  // rows with weight_decay != 0

  // sign comes in as an argument: read from the struct inside the loop over rows, GCC 12
  // treats it as a data reference it cannot vectorize.
  AdamRow<T> at(std::int64_t i, T sign) const {
    return {sign,   wd[i],           decay[i],    w1[i],  one_minus_w1[i], beta2[i],
            one_minus_beta2[i], bc2_sqrt[i], eps[i], neg_step_size[i], low_weight[i] != T(0)};
  }
  bool decays_at(std::int64_t i) const { return decays[i] != T(0); }
};

// Rows [first, first + n) of a block, n <= kRowBlock: bias corrections once per distinct beta,
// the rest (casts, lr / bc1) by adam_row_from_sqrt in a loop across rows.
template <typename T>
void adam_rows_from(const AdamHyper& h, std::int64_t first, std::int64_t n, AdamRows<T>& k) {
  double buffers[5][kRowBlock], bc1[kRowBlock], bc2_sqrt[kRowBlock];
  const double* lr = h.lr.rows(first, n, buffers[0]);
  const double* beta1 = h.beta1.rows(first, n, buffers[1]);
  const double* beta2 = h.beta2.rows(first, n, buffers[2]);
  const double* eps = h.eps.rows(first, n, buffers[3]);
  const double* wd = h.weight_decay.rows(first, n, buffers[4]);
  bias_corrections(h.beta1, first, n, h.step, false, bc1);
  bias_corrections(h.beta2, first, n, h.step, true, bc2_sqrt);
  const bool maximize = h.maximize;
  k.sign = T(maximize ? -1 : 1);
  std::int64_t decaying = 0;
#pragma omp simd reduction(+ : decaying)
  for (std::int64_t i = 0; i < n; ++i) {
    const AdamRow<T> c = adam_row_from_sqrt<T>(lr[i], beta1[i], beta2[i], eps[i], wd[i],
                                               maximize, bc1[i], bc2_sqrt[i]);
    k.wd[i] = c.wd;
    k.decay[i] = c.decay;
    k.w1[i] = c.w1;
    k.one_minus_w1[i] = c.one_minus_w1;
    k.beta2[i] = c.beta2;
    k.one_minus_beta2[i] = c.one_minus_beta2;
    k.bc2_sqrt[i] = c.bc2_sqrt;
    k.eps[i] = c.eps;
    k.neg_step_size[i] = c.neg_step_size;
    k.low_weight[i] = c.low_weight ? T(1) : T(0);
    k.decays[i] = wd[i] != 0.0 ? T(1) : T(0);
    decaying += wd[i] != 0.0;
  }
  k.decaying = decaying;
}

// n rows of COLS elements, vectorized across rows. WD is the decay of the rows whose
// weight_decay is not 0; the others take WeightDecay::none, as adam_row_update gives them.
template <typename T, int COLS, WeightDecay WD, bool AMSGRAD>
void adam_short_rows(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                     T* __restrict vmax, std::int64_t n, const AdamRows<T>& k) {
  const T sign = k.sign;
  // ivdep, not omp simd: omp simd would privatize the row's constants per lane, which GCC 12
  // then fails to vectorize for some column counts.
#pragma GCC ivdep
  for (std::int64_t i = 0; i < n; ++i) {
    const AdamRow<T> c = k.at(i, sign);
    const WeightDecay wd = (WD != WeightDecay::none && k.decays_at(i)) ? WD : WeightDecay::none;
    for (int j = 0; j < COLS; ++j) {
      const std::int64_t e = i * COLS + j;
      T pi = p[e];
      T mi = m[e];
      T vi = v[e];
      T xi = AMSGRAD ? vmax[e] : T(0);
      adam_element(pi, g[e], mi, vi, xi, c, wd, AMSGRAD);
      m[e] = mi;
      v[e] = vi;
      if constexpr (AMSGRAD) vmax[e] = xi;
      p[e] = pi;
    }
  }
}

template <typename T>
void adam_step_short_rows(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t rows,
                          std::int64_t cols, const AdamHyper& h) {
  for_each_row_block(rows, cols, [&](std::int64_t first, std::int64_t last) {
    const std::int64_t n = last - first, o = first * cols;
    AdamRows<T> k;
    adam_rows_from<T>(h, first, n, k);
    const bool ams = h.amsgrad && vmax != nullptr;
    T* const x = ams ? vmax + o : nullptr;
    const WeightDecay wd = k.decaying == 0 ? WeightDecay::none
                           : h.decoupled             ? WeightDecay::decoupled
                                                     : WeightDecay::coupled;
    const bool done = with_short_cols(cols, [&](auto cols_c) {
      constexpr int C = decltype(cols_c)::value;
      switch (static_cast<int>(wd) * 2 + (ams ? 1 : 0)) {
        case 0: adam_short_rows<T, C, WeightDecay::none, false>(p + o, g + o, m + o, v + o, x, n, k); break;
        case 1: adam_short_rows<T, C, WeightDecay::none, true>(p + o, g + o, m + o, v + o, x, n, k); break;
        case 2: adam_short_rows<T, C, WeightDecay::coupled, false>(p + o, g + o, m + o, v + o, x, n, k); break;
        case 3: adam_short_rows<T, C, WeightDecay::coupled, true>(p + o, g + o, m + o, v + o, x, n, k); break;
        case 4: adam_short_rows<T, C, WeightDecay::decoupled, false>(p + o, g + o, m + o, v + o, x, n, k); break;
        default: adam_short_rows<T, C, WeightDecay::decoupled, true>(p + o, g + o, m + o, v + o, x, n, k); break;
      }
    });
    if (done) return;
    for (std::int64_t i = 0; i < n; ++i) {  // longer rows: the row loop, block constants
      const std::int64_t r = o + i * cols;
      adam_row_update<T>(p + r, g + r, m + r, v + r, vmax ? vmax + r : nullptr, cols, k.at(i, k.sign),
                         k.decays_at(i), h);
    }
  });
}

// vmax may be null unless amsgrad.
template <typename T>
void adam_step(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t rows, std::int64_t cols,
               const AdamHyper& h) {
  if (rows > 1 && cols <= kShortRowCols) {
    adam_step_short_rows<T>(p, g, m, v, vmax, rows, cols, h);
    return;
  }
  for_each_row_piece(rows, cols, [&](std::int64_t r, std::int64_t b, std::int64_t e) {
    const std::int64_t o = r * cols + b;
    const AdamRow<T> c = adam_row<T>(h, r);
    adam_row_update<T>(p + o, g + o, m + o, v + o, vmax ? vmax + o : nullptr, e - b, c,
                       h.weight_decay.at(r) != 0.0, h);
  });
}

}  // namespace saddlepoint
