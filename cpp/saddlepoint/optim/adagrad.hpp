// Adagrad, with torch.optim's single-tensor semantics; conventions in
// saddlepoint/optim/optimizers.hpp.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include "saddlepoint/optim/common.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

// ---------------------------------------------------------------------------------------------
// Adagrad:  g <- ±g + wd*p;  s <- s + g*g;  p <- p - clr*g/(sqrt(s) + eps),
//           clr = lr / (1 + (step-1)*lr_decay)      (eps outside the square root, as PyTorch)
// ---------------------------------------------------------------------------------------------
// (AdagradHyper, its hyper-parameters: saddlepoint/optim/hyper.hpp)

template <typename T>
struct AdagradRow {
  T sign, wd, eps, neg_clr;
  // The fields after sign, in order (RowBlock in row_block.hpp).
  auto fields() const { return std::make_tuple(wd, eps, neg_clr); }
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

// Element i of the arrays: load, adagrad_element, store (the loop over a row and the loop over
// a block's rows share it).
template <typename T>
SADDLEPOINT_ALWAYS_INLINE void adagrad_at(T* __restrict p, const T* __restrict g,
                                     T* __restrict s, std::int64_t i,
                       const AdagradRow<T>& c, bool wd) {
  T pi = p[i];
  T si = s[i];
  adagrad_element(pi, g[i], si, c, wd);
  s[i] = si;
  p[i] = pi;
}

template <typename T, bool WD>
void adagrad_elements(T* __restrict p, const T* __restrict g, T* __restrict s, std::int64_t n,
                      const AdagradRow<T> c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) adagrad_at(p, g, s, i, c, WD);
}

template <typename T>
void adagrad_row_update(T* p, const T* g, T* s, std::int64_t n, const AdagradRow<T>& c, bool wd) {
  with_flags([&](auto wd_c) { adagrad_elements<T, decltype(wd_c)::value>(p, g, s, n, c); }, wd);
}

// ---- Adagrad on many short rows with per-row hyper-parameters (row_block.hpp, adam.hpp) ----

template <typename T>
using AdagradRows = RowBlock<T, AdagradRow>;

template <typename T>
void adagrad_rows_from(const AdagradHyper& h, std::int64_t first, std::int64_t n,
                       AdagradRows<T>& k) {
  const RowValues x(first, n, h.lr, h.lr_decay, h.weight_decay, h.eps);
  const double *lr = x.of[0], *lr_decay = x.of[1], *wd = x.of[2], *eps = x.of[3];
  const bool maximize = h.maximize;
  const std::int64_t step = h.step;
  fill_row_block(
      k, n, maximize,
      [=](std::int64_t i) {
        return adagrad_row_from<T>(lr[i], lr_decay[i], wd[i], eps[i], maximize, step);
      },
      [=](std::int64_t i) { return wd[i] != 0.0; }, [](std::int64_t) { return false; });
}

template <typename T, int COLS, bool ANY_WD>
void adagrad_short_rows(T* __restrict p, const T* __restrict g, T* __restrict s, std::int64_t n,
                        const AdagradRows<T>& k) {
  for_block_elements<COLS>(k, n, [p, g, s, &k](std::int64_t i, std::int64_t e, AdagradRow<T> c)
                                     SADDLEPOINT_INLINE_LAMBDA {
    adagrad_at(p, g, s, e, c, ANY_WD && k.decays_at(i));
  });
}

template <typename T>
void adagrad_step(T* p, const T* g, T* s, std::int64_t rows, std::int64_t cols,
                  const AdagradHyper& h) {
  using Rows = AdagradRows<T>;
  step_rows<Rows>(
      rows, cols,
      [&](std::int64_t first, std::int64_t n, Rows& k) { adagrad_rows_from<T>(h, first, n, k); },
      [&](const Rows& k, std::int64_t n, std::int64_t o) {
        return with_short_cols(cols, [&](auto cols_c) {
          with_flags(
              [&](auto wd_c) {
                adagrad_short_rows<T, decltype(cols_c)::value, decltype(wd_c)::value>(
                    p + o, g + o, s + o, n, k);
              },
              k.decaying > 0);
        });
      },
      [&](const Rows& k, std::int64_t i, std::int64_t r) {
        adagrad_row_update<T>(p + r, g + r, s + r, cols, k.at(i, k.sign), k.decays_at(i));
      },
      [&](std::int64_t r, std::int64_t o, std::int64_t len) {
        const AdagradRow<T> c =
            adagrad_row_from<T>(h.lr.at(r), h.lr_decay.at(r), h.weight_decay.at(r), h.eps.at(r),
                                h.maximize, h.step);
        adagrad_row_update<T>(p + o, g + o, s + o, len, c, h.weight_decay.at(r) != 0.0);
      });
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
