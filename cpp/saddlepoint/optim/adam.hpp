// Adam and AdamW, with torch.optim's single-tensor semantics; conventions in
// saddlepoint/optim/optimizers.hpp.
#pragma once

#include "saddlepoint/optim/common.hpp"

namespace saddlepoint {

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
  with_flags(
      [&](auto decays_c, auto decoupled_c, auto amsgrad_c) {
        adam_elements<T, weight_decay_kind(decltype(decays_c)::value, decltype(decoupled_c)::value),
                      decltype(amsgrad_c)::value>(p, g, m, v, vmax, n, c);
      },
      decay, decay && h.decoupled, h.amsgrad && vmax != nullptr);
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
    const bool decays = k.decaying > 0;
    const bool done = with_short_cols(cols, [&](auto cols_c) {
      constexpr int C = decltype(cols_c)::value;
      with_flags(
          [&](auto decays_c, auto decoupled_c, auto amsgrad_c) {
            constexpr WeightDecay WD =
                weight_decay_kind(decltype(decays_c)::value, decltype(decoupled_c)::value);
            adam_short_rows<T, C, WD, decltype(amsgrad_c)::value>(p + o, g + o, m + o, v + o, x,
                                                                  n, k);
          },
          decays, decays && h.decoupled, ams);
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
