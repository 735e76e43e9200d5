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

template <typename T>
void sgd_row_update(T* p, const T* g, T* buf, std::int64_t n, const SGDHyper& h, std::int64_t r) {
  const SGDRow<T> c = sgd_row_from<T>(h.lr.at(r), h.momentum.at(r), h.dampening.at(r),
                                      h.weight_decay.at(r), h.maximize);
  const bool wd = h.weight_decay.at(r) != 0.0;
  const bool mom = h.momentum.at(r) != 0.0 && buf != nullptr;
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

// p, g, buf: rows*cols elements (buf may be null when momentum is 0 in every row).
template <typename T>
void sgd_step(T* p, const T* g, T* buf, std::int64_t rows, std::int64_t cols, const SGDHyper& h) {
  for_each_row_piece(rows, cols, [&](std::int64_t r, std::int64_t b, std::int64_t e) {
    const std::int64_t o = r * cols + b;
    sgd_row_update<T>(p + o, g + o, buf ? buf + o : nullptr, e - b, h, r);
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
void adagrad_row_update(T* p, const T* g, T* s, std::int64_t n, const AdagradHyper& h,
                        std::int64_t r) {
  const AdagradRow<T> c = adagrad_row_from<T>(h.lr.at(r), h.lr_decay.at(r),
                                              h.weight_decay.at(r), h.eps.at(r), h.maximize,
                                              h.step);
  if (h.weight_decay.at(r) != 0.0) {
    adagrad_elements<T, true>(p, g, s, n, c);
  } else {
    adagrad_elements<T, false>(p, g, s, n, c);
  }
}

template <typename T>
void adagrad_step(T* p, const T* g, T* s, std::int64_t rows, std::int64_t cols,
                  const AdagradHyper& h) {
  for_each_row_piece(rows, cols, [&](std::int64_t r, std::int64_t b, std::int64_t e) {
    const std::int64_t o = r * cols + b;
    adagrad_row_update<T>(p + o, g + o, s + o, e - b, h, r);
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

template <typename T>
void rmsprop_row_update(T* p, const T* g, T* v, T* avg, T* buf, std::int64_t n,
                        const RMSpropHyper& h, std::int64_t r) {
  const RMSpropRow<T> c = rmsprop_row_from<T>(h.lr.at(r), h.alpha.at(r), h.eps.at(r),
                                              h.weight_decay.at(r), h.momentum.at(r),
                                              h.maximize);
  const bool wd = h.weight_decay.at(r) != 0.0;
  const bool mom = h.momentum.at(r) > 0.0 && buf != nullptr;
  const bool centered = h.centered && avg != nullptr;
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

// avg may be null unless centered; buf may be null unless momentum > 0 in some row.
template <typename T>
void rmsprop_step(T* p, const T* g, T* v, T* avg, T* buf, std::int64_t rows, std::int64_t cols,
                  const RMSpropHyper& h) {
  for_each_row_piece(rows, cols, [&](std::int64_t r, std::int64_t b, std::int64_t e) {
    const std::int64_t o = r * cols + b;
    rmsprop_row_update<T>(p + o, g + o, v + o, avg ? avg + o : nullptr, buf ? buf + o : nullptr,
                          e - b, h, r);
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

// Bias corrections depend on (beta, step) only; rows of a sweep grid share a few betas, so the
// last pair is remembered and pow runs once per distinct value rather than once per row.
struct BiasCorrection {
  double beta = std::nan("");
  std::int64_t step = -1;
  double value = 0.0;
  double operator()(double b, std::int64_t t) {
    if (!(b == beta) || t != step) {
      beta = b;
      step = t;
      value = 1.0 - step_power(b, t);
    }
    return value;
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

template <typename T>
AdamRow<T> adam_row(const AdamHyper& h, std::int64_t r, BiasCorrection& bc1,
                    BiasCorrection& bc2) {
  const double beta1 = h.beta1.at(r), beta2 = h.beta2.at(r);
  return adam_row_from<T>(h.lr.at(r), beta1, beta2, h.eps.at(r), h.weight_decay.at(r),
                          h.maximize, bc1(beta1, h.step), bc2(beta2, h.step));
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

// vmax may be null unless amsgrad.
template <typename T>
void adam_step(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t rows, std::int64_t cols,
               const AdamHyper& h) {
  for_each_row_piece(rows, cols, [&](std::int64_t r, std::int64_t b, std::int64_t e) {
    thread_local BiasCorrection bc1, bc2;  // keyed by (beta, step): safe across calls
    const std::int64_t o = r * cols + b;
    const AdamRow<T> c = adam_row<T>(h, r, bc1, bc2);
    adam_row_update<T>(p + o, g + o, m + o, v + o, vmax ? vmax + o : nullptr, e - b, c,
                       h.weight_decay.at(r) != 0.0, h);
  });
}

}  // namespace saddlepoint
