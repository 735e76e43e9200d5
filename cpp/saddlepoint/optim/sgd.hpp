// SGD with momentum and Nesterov, with torch.optim's single-tensor semantics; conventions in
// saddlepoint/optim/optimizers.hpp.
#pragma once

#include "saddlepoint/optim/common.hpp"

namespace saddlepoint {

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
  // Without momentum the Nesterov and first-step flags do not matter: masked, they select the
  // same instantiation.
  with_flags(
      [&](auto wd_c, auto mom_c, auto nest_c, auto first_c) {
        sgd_elements<T, decltype(wd_c)::value, decltype(mom_c)::value, decltype(nest_c)::value,
                     decltype(first_c)::value>(p, g, buf, n, c);
      },
      wd, mom, mom && h.nesterov, mom && h.first_step);
}

// ---- SGD on many short rows with per-row hyper-parameters (the scheme is described in adam.hpp) ----

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
      with_flags(
          [&](auto wd_c, auto mom_c, auto nest_c, auto first_c) {
            sgd_short_rows<T, C, decltype(wd_c)::value, decltype(mom_c)::value,
                           decltype(nest_c)::value, decltype(first_c)::value>(p + o, g + o, b,
                                                                              n, k);
          },
          any_wd, any_mom, any_mom && h.nesterov, any_mom && h.first_step);
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

}  // namespace saddlepoint
