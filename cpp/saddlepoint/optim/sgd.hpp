// SGD with momentum and Nesterov, with torch.optim's single-tensor semantics; conventions in
// saddlepoint/optim/optimizers.hpp.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include "saddlepoint/optim/common.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

// ---------------------------------------------------------------------------------------------
// SGD:  g <- ±g + wd*p;  b <- g (first step) or mu*b + (1-dampening)*g;
//       g <- g + mu*b (Nesterov) or b;  p <- p - lr*g
// ---------------------------------------------------------------------------------------------
// (SGDHyper, its hyper-parameters: saddlepoint/optim/hyper.hpp)

template <typename T>
struct SGDRow {
  T sign, wd, mu, one_minus_dampening, neg_lr;
  // The fields after sign, in order (RowBlock in row_block.hpp).
  auto fields() const { return std::make_tuple(wd, mu, one_minus_dampening, neg_lr); }
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

// Element i of the arrays: load, sgd_element, store (the loop over a row and the loop over a
// block's rows share it); buf is read only with momentum after the first step.
template <typename T>
SADDLEPOINT_ALWAYS_INLINE void sgd_at(T* __restrict p, const T* __restrict g, T* __restrict buf,
                                 std::int64_t i,
                   const SGDRow<T>& c, bool wd, bool momentum, bool nesterov, bool first) {
  T pi = p[i];
  T bi = (momentum && !first) ? buf[i] : T(0);
  sgd_element(pi, g[i], bi, c, wd, momentum, nesterov, first);
  if (momentum) buf[i] = bi;
  p[i] = pi;
}

template <typename T, bool WD, bool MOMENTUM, bool NESTEROV, bool FIRST>
void sgd_elements(T* __restrict p, const T* __restrict g, T* __restrict buf, std::int64_t n,
                  const SGDRow<T> c) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) sgd_at(p, g, buf, i, c, WD, MOMENTUM, NESTEROV, FIRST);
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

// ---- SGD on many short rows with per-row hyper-parameters (row_block.hpp, adam.hpp) ----

template <typename T>
using SGDRows = RowBlock<T, SGDRow>;

template <typename T>
void sgd_rows_from(const SGDHyper& h, std::int64_t first, std::int64_t n, SGDRows<T>& k) {
  const RowValues x(first, n, h.lr, h.momentum, h.dampening, h.weight_decay);
  const double *lr = x.of[0], *mu = x.of[1], *dampening = x.of[2], *wd = x.of[3];
  const bool maximize = h.maximize;
  fill_row_block(
      k, n, maximize,
      [=](std::int64_t i) { return sgd_row_from<T>(lr[i], mu[i], dampening[i], wd[i], maximize); },
      [=](std::int64_t i) { return wd[i] != 0.0; }, [=](std::int64_t i) { return mu[i] != 0.0; });
}

// n rows of COLS elements, vectorized across rows; MOMENTUM: every row has momentum, else none
// has. A row without decay skips that part of sgd_element, as sgd_row_update does.
template <typename T, int COLS, bool ANY_WD, bool MOMENTUM, bool NESTEROV, bool FIRST>
void sgd_short_rows(T* __restrict p, const T* __restrict g, T* __restrict buf, std::int64_t n,
                    const SGDRows<T>& k) {
  for_block_elements<COLS>(k, n, [p, g, buf, &k](std::int64_t i, std::int64_t e, SGDRow<T> c)
                                     SADDLEPOINT_INLINE_LAMBDA {
    sgd_at(p, g, buf, e, c, ANY_WD && k.decays_at(i), MOMENTUM, NESTEROV, FIRST);
  });
}

// p, g, buf: rows*cols elements (buf may be null when momentum is 0 in every row).
template <typename T>
void sgd_step(T* p, const T* g, T* buf, std::int64_t rows, std::int64_t cols, const SGDHyper& h) {
  using Rows = SGDRows<T>;
  step_rows<Rows>(
      rows, cols,
      [&](std::int64_t first, std::int64_t n, Rows& k) { sgd_rows_from<T>(h, first, n, k); },
      [&](const Rows& k, std::int64_t n, std::int64_t o) {
        const bool any_mom = buf != nullptr && k.moving > 0;
        // A block mixing rows with and without momentum takes the row loop: vectorized, the
        // rows without would store their buffer back unchanged, and GCC 12 turns that into a
        // masked strided store it cannot vectorize. Sweeps group runs by momentum, so blocks
        // rarely mix.
        if (any_mom && k.moving < n) return false;
        T* const b = any_mom ? buf + o : nullptr;
        return with_short_cols(cols, [&](auto cols_c) {
          with_flags(
              [&](auto wd_c, auto mom_c, auto nest_c, auto first_c) {
                sgd_short_rows<T, decltype(cols_c)::value, decltype(wd_c)::value,
                               decltype(mom_c)::value, decltype(nest_c)::value,
                               decltype(first_c)::value>(p + o, g + o, b, n, k);
              },
              k.decaying > 0, any_mom, any_mom && h.nesterov, any_mom && h.first_step);
        });
      },
      [&](const Rows& k, std::int64_t i, std::int64_t r) {
        sgd_row_update<T>(p + r, g + r, buf ? buf + r : nullptr, cols, k.at(i, k.sign),
                          k.decays_at(i), buf != nullptr && k.moves_at(i), h);
      },
      [&](std::int64_t r, std::int64_t o, std::int64_t len) {
        const SGDRow<T> c = sgd_row_from<T>(h.lr.at(r), h.momentum.at(r), h.dampening.at(r),
                                            h.weight_decay.at(r), h.maximize);
        sgd_row_update<T>(p + o, g + o, buf ? buf + o : nullptr, len, c,
                          h.weight_decay.at(r) != 0.0, h.momentum.at(r) != 0.0 && buf != nullptr,
                          h);
      });
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
