// Adam and AdamW, with torch.optim's single-tensor semantics; conventions in
// saddlepoint/optim/optimizers.hpp.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include "saddlepoint/optim/common.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

// ---------------------------------------------------------------------------------------------
// Adam / AdamW:  Adam: g <- ±g + wd*p;  AdamW: p <- p*(1 - lr*wd), g <- ±g
//   m <- lerp(m, g, 1-beta1);  v <- beta2*v + (1-beta2)*g*g;  vmax <- max(vmax, v) (AMSGrad)
//   p <- p - (lr/bc1) * m / (sqrt(v or vmax)/sqrt(bc2) + eps),  bc_i = 1 - beta_i**step
// ---------------------------------------------------------------------------------------------
// (AdamHyper, its hyper-parameters: saddlepoint/optim/hyper.hpp)

template <typename T>
struct AdamRow {
  T sign, wd, decay, w1, one_minus_w1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size;
  bool low_weight;
  // The fields after sign, in order (RowBlock in row_block.hpp).
  auto fields() const {
    return std::make_tuple(wd, decay, w1, one_minus_w1, beta2, one_minus_beta2, bc2_sqrt, eps,
                           neg_step_size, low_weight);
  }
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

// Element i of the arrays: load, adam_element, store (the loop over a row and the loop over a
// block's rows share it); vmax is touched only with amsgrad.
template <typename T>
SADDLEPOINT_ALWAYS_INLINE void adam_at(T* __restrict p, const T* __restrict g, T* __restrict m,
                                  T* __restrict v,
                    T* __restrict vmax, std::int64_t i, const AdamRow<T>& c, WeightDecay wd,
                    bool amsgrad) {
  T pi = p[i];
  T mi = m[i];
  T vi = v[i];
  T xi = amsgrad ? vmax[i] : T(0);
  adam_element(pi, g[i], mi, vi, xi, c, wd, amsgrad);
  m[i] = mi;
  v[i] = vi;
  if (amsgrad) vmax[i] = xi;
  p[i] = pi;
}

template <typename T, WeightDecay WD, bool AMSGRAD>
void adam_elements(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                   T* __restrict vmax, std::int64_t n, const AdamRow<T> c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) adam_at(p, g, m, v, vmax, i, c, WD, AMSGRAD);
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

// A block's per-row constants (row_block.hpp); at(i) is row i's AdamRow, exactly what adam_row
// gives it.
template <typename T>
using AdamRows = RowBlock<T, AdamRow>;

// Rows [first, first + n) of a block, n <= kRowBlock: bias corrections once per distinct beta,
// the rest (casts, lr / bc1) by adam_row_from_sqrt in a loop across rows.
template <typename T>
void adam_rows_from(const AdamHyper& h, std::int64_t first, std::int64_t n, AdamRows<T>& k) {
  const RowValues x(first, n, h.lr, h.beta1, h.beta2, h.eps, h.weight_decay);
  const double *lr = x.of[0], *beta1 = x.of[1], *beta2 = x.of[2], *eps = x.of[3], *wd = x.of[4];
  double bc1[kRowBlock], bc2_sqrt[kRowBlock];
  bias_corrections(h.beta1, first, n, h.step, false, bc1);
  bias_corrections(h.beta2, first, n, h.step, true, bc2_sqrt);
  const bool maximize = h.maximize;
  fill_row_block(
      k, n, maximize,
      [=, bc1 = &bc1[0], bc2_sqrt = &bc2_sqrt[0]](std::int64_t i) {
        return adam_row_from_sqrt<T>(lr[i], beta1[i], beta2[i], eps[i], wd[i], maximize, bc1[i],
                                     bc2_sqrt[i]);
      },
      [=](std::int64_t i) { return wd[i] != 0.0; }, [](std::int64_t) { return false; });
}

// n rows of COLS elements, vectorized across rows. WD is the decay of the rows whose
// weight_decay is not 0; the others take WeightDecay::none, as adam_row_update gives them.
template <typename T, int COLS, WeightDecay WD, bool AMSGRAD>
void adam_short_rows(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                     T* __restrict vmax, std::int64_t n, const AdamRows<T>& k) {
  for_block_elements<COLS>(k, n, [p, g, m, v, vmax, &k](std::int64_t i, std::int64_t e,
                                                        AdamRow<T> c) SADDLEPOINT_INLINE_LAMBDA {
    const WeightDecay wd = (WD != WeightDecay::none && k.decays_at(i)) ? WD : WeightDecay::none;
    adam_at(p, g, m, v, vmax, e, c, wd, AMSGRAD);
  });
}

// vmax may be null unless amsgrad.
template <typename T>
void adam_step(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t rows, std::int64_t cols,
               const AdamHyper& h) {
  using Rows = AdamRows<T>;
  const bool ams = h.amsgrad && vmax != nullptr;
  step_rows<Rows>(
      rows, cols,
      [&](std::int64_t first, std::int64_t n, Rows& k) { adam_rows_from<T>(h, first, n, k); },
      [&](const Rows& k, std::int64_t n, std::int64_t o) {
        T* const x = ams ? vmax + o : nullptr;
        const bool decays = k.decaying > 0;
        return with_short_cols(cols, [&](auto cols_c) {
          with_flags(
              [&](auto decays_c, auto decoupled_c, auto amsgrad_c) {
                constexpr WeightDecay WD =
                    weight_decay_kind(decltype(decays_c)::value, decltype(decoupled_c)::value);
                adam_short_rows<T, decltype(cols_c)::value, WD, decltype(amsgrad_c)::value>(
                    p + o, g + o, m + o, v + o, x, n, k);
              },
              decays, decays && h.decoupled, ams);
        });
      },
      [&](const Rows& k, std::int64_t i, std::int64_t r) {
        adam_row_update<T>(p + r, g + r, m + r, v + r, vmax ? vmax + r : nullptr, cols,
                           k.at(i, k.sign), k.decays_at(i), h);
      },
      [&](std::int64_t r, std::int64_t o, std::int64_t len) {
        adam_row_update<T>(p + o, g + o, m + o, v + o, vmax ? vmax + o : nullptr, len,
                           adam_row<T>(h, r), h.weight_decay.at(r) != 0.0, h);
      });
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
