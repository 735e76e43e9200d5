// Adagrad, with torch.optim's single-tensor semantics; conventions in
// saddlepoint/optim/optimizers.hpp.
#pragma once

#include "saddlepoint/optim/common.hpp"

namespace saddlepoint {

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
  with_flags([&](auto wd_c) { adagrad_elements<T, decltype(wd_c)::value>(p, g, s, n, c); }, wd);
}

// ---- Adagrad on many short rows with per-row hyper-parameters (the scheme is described in adam.hpp) ----

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
      with_flags(
          [&](auto wd_c) {
            adagrad_short_rows<T, C, decltype(wd_c)::value>(p + o, g + o, s + o, n, k);
          },
          any_wd);
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

}  // namespace saddlepoint
