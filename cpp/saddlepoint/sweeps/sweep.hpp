// The native sweep: many independent optimizer runs on one built-in surface, the whole loop in
// C++ (gradient, optimizer update, learning rate from a precomputed schedule table, best loss,
// threshold step, divergence), runs spread over threads.
//
// Runs are processed in blocks of kBlock in structure-of-arrays layout (coordinate k of the
// block's runs is contiguous), so the loop over a block's runs vectorizes: each SIMD lane is
// one run. A run's arithmetic is the same in any lane, block or thread (the build disables
// fused multiply-adds, and the optimizer maths is the element code of optimizers.hpp), so a
// result never depends on how runs are grouped, and equals the kernel path step for step.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "saddlepoint/optim/hyper.hpp"
#include "saddlepoint/sweeps/native_surfaces.hpp"
#include "saddlepoint/sweeps/sweep_types.hpp"
#include "saddlepoint/optim/optimizers.hpp"
#include "saddlepoint/parallel.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN


// 1 - beta**step for steps 1..steps (or its square root), for each distinct beta (runs of a
// grid share a few), through step_power so the values are those of the kernels and the
// optimizer objects.
struct BiasTables {
  // (steps, distinct betas): step t's corrections side by side in one short row (by beta rows,
  // each run's lookup needed an index multiply and touched a row of its own)
  std::vector<double> table;
  std::vector<std::int64_t> index;  // per run: its beta's column
  std::int64_t steps = 0, distinct = 0;

  BiasTables(const double* beta, std::int64_t runs, std::int64_t steps_, bool root)
      : steps(steps_) {
    index.resize(static_cast<std::size_t>(runs));
    std::map<double, std::int64_t> columns;
    std::vector<double> betas;
    for (std::int64_t r = 0; r < runs; ++r) {
      auto it = columns.find(beta[r]);
      if (it == columns.end()) {
        it = columns.emplace(beta[r], static_cast<std::int64_t>(betas.size())).first;
        betas.push_back(beta[r]);
      }
      index[static_cast<std::size_t>(r)] = it->second;
    }
    distinct = static_cast<std::int64_t>(betas.size());
    table.resize(static_cast<std::size_t>(steps * distinct));
    for (std::int64_t d = 0; d < distinct; ++d) {
      for (std::int64_t t = 1; t <= steps; ++t) {
        const double bc = 1.0 - step_power(betas[static_cast<std::size_t>(d)], t);
        table[static_cast<std::size_t>((t - 1) * distinct + d)] = root ? std::sqrt(bc) : bc;
      }
    }
  }
  const double* row(std::int64_t t) const { return table.data() + t * distinct; }  // 0-based
};

namespace detail {

inline constexpr std::int64_t kBlock = 256;  // runs per block: a block's state stays in L1

// The largest T at or below x: for every T f, f <= at_or_below<T>(x) exactly when
// double(f) <= x. The loss bookkeeping compares in T with these, so that a float32 loop holds
// no double lanes (same answers as comparing double(f) with x).
template <typename T>
T at_or_below(double x) {
  T y = static_cast<T>(x);
  if (static_cast<double>(y) > x) y = std::nextafter(y, -std::numeric_limits<T>::infinity());
  return y;
}

// Step indices in the run loop: 32-bit lanes beside float32 (the caller checks the range).
template <typename T>
using StepIndex = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

// Loss bookkeeping of one run at x_t, in T (threshold and divergence from at_or_below; the
// best loss in T is the double best, as the conversion keeps order). Selects stored
// unconditionally, not conditional stores: GCC 12 does not if-convert a store that might not
// happen, and that control flow alone kept the whole run loop scalar.
template <typename T>
inline void track(T f, StepIndex<T> t, T threshold, T divergence, T& best, StepIndex<T>& hit,
                  StepIndex<T>& div) {
  best = f < best ? f : best;
  hit = (hit < 0 && f <= threshold) ? t : hit;
  div = !(std::abs(f) <= divergence) ? StepIndex<T>{1} : div;
}

// The optimizer's switches, uniform over a call: as run-time values, or as compile-time
// constants for the variants worth a vectorized instantiation.
struct RuntimeFlags {
  WeightDecay wd;
  bool amsgrad, nesterov, centered, wd_on, mom_on;
};

template <WeightDecay WD, bool AMSGRAD, bool NESTEROV, bool CENTERED, bool WD_ON, bool MOM_ON>
struct StaticFlags {
  static constexpr WeightDecay wd = WD;
  static constexpr bool amsgrad = AMSGRAD, nesterov = NESTEROV, centered = CENTERED;
  static constexpr bool wd_on = WD_ON, mom_on = MOM_ON;
};

// Adam's row constants for a block's runs, one array per AdamRow field (adam_row_from_sqrt's
// values exactly): those of a run's settings once per block, those of its step (lr / bc1,
// sqrt(bc2), 1 - lr * wd) once per step in a loop of their own. Formed inside the run loop,
// their double arithmetic and gathers left the float32 loop little faster than float64.
template <typename T>
struct AdamRowArrays {
  std::vector<T> wd, decay, w1, one_minus_w1, beta2, one_minus_beta2, bc2_sqrt, eps,
      neg_step_size, low_weight;

  std::vector<double> decay_rate, bc1_lanes;  // weight_decay; step's 1 - beta1^t; lane order
  // lanes [begin, end) share one bias-correction column
  struct Segment {
    std::int64_t begin, end, column;
  };
  std::vector<Segment> bc1_segments, bc2_segments;
  bool decay_formed = false;

  // Extends `segments` by lane j of column c.
  static void add_lane(std::vector<Segment>& segments, std::int64_t j, std::int64_t c) {
    if (segments.empty() || segments.back().column != c) {
      segments.push_back({j, j + 1, c});
    } else {
      segments.back().end = j + 1;
    }
  }

  // `run[j]`: the run in lane j, ordered by bias-correction columns (run_block).
  AdamRowArrays(std::int64_t B, const std::int64_t* run, const SweepHyper& h,
                const std::int64_t* bc1_index, const std::int64_t* bc2_index) {
    for (auto* a : {&wd, &decay, &w1, &one_minus_w1, &beta2, &one_minus_beta2, &bc2_sqrt, &eps,
                    &neg_step_size, &low_weight}) {
      a->assign(static_cast<std::size_t>(B), T(0));
    }
    decay_rate.assign(static_cast<std::size_t>(B), 0.0);
    bc1_lanes.assign(static_cast<std::size_t>(B), 1.0);
    for (std::int64_t j = 0; j < B; ++j) {
      const std::int64_t r = run[j];
      decay_rate[static_cast<std::size_t>(j)] = h.weight_decay[r];
      add_lane(bc1_segments, j, bc1_index[r]);
      add_lane(bc2_segments, j, bc2_index[r]);
      const double w = 1.0 - h.beta1[r];
      wd[j] = T(h.weight_decay[r]);
      w1[j] = T(w);
      one_minus_w1[j] = T(1) - T(w);
      beta2[j] = T(h.beta2[r]);
      one_minus_beta2[j] = T(1.0 - h.beta2[r]);
      eps[j] = T(h.eps[r]);
      low_weight[j] = std::abs(w) < 0.5 ? T(1) : T(0);
    }
  }

  // The constants of step t (0-based), from the tables' rows for it (step t + 1).
  // Lanes are ordered by (bc1, bc2) column (run_block), so each step's corrections are one
  // scalar per segment of lanes sharing a column, broadcast into lane order, rather than two
  // gathers per run (which, with the index multiply, took ~45% of the float32 Adam sweep); the
  // per-run arithmetic is then one loop over every lane, without a remainder per segment.
  // 1 - lr * weight_decay changes only with a scheduled learning rate: otherwise it is formed
  // at the first step only.
  void set_step(std::int64_t B, const double* __restrict lrs, const double* __restrict bc1_row,
                const double* __restrict bc2_row, bool lr_changes) {
    T* __restrict neg = neg_step_size.data();
    T* __restrict dec = decay.data();
    T* __restrict bc2 = bc2_sqrt.data();
    double* __restrict bc1 = bc1_lanes.data();
    const double* __restrict wdec = decay_rate.data();
    for (const Segment& s : bc1_segments) std::fill(bc1 + s.begin, bc1 + s.end, bc1_row[s.column]);
    for (const Segment& s : bc2_segments) {
      std::fill(bc2 + s.begin, bc2 + s.end, T(bc2_row[s.column]));
    }
    if (lr_changes || !decay_formed) {
      for (std::int64_t j = 0; j < B; ++j) dec[j] = T(1.0 - lrs[j] * wdec[j]);
      decay_formed = true;
    }
    for (std::int64_t j = 0; j < B; ++j) neg[j] = T(-(lrs[j] / bc1[j]));
  }
};

template <typename T, SweepOptimizer OPT, typename Surface>
void run_block(const Surface& surface, int dim, std::int64_t r0, std::int64_t B,
               std::int64_t steps, const SweepHyper& h, const BiasTables* bc1,
               const BiasTables* bc2, const SweepOut<T>& out) {
  constexpr int D = Surface::kDim;
  const int d = D > 0 ? D : dim;
  const std::size_t n = static_cast<std::size_t>(d * B);
  std::vector<T> X(n), S0(n, T(0)), S1(n, T(0)), S2(n, T(0));
  using Index = StepIndex<T>;  // one lane width with T
  std::vector<T> best(static_cast<std::size_t>(B), std::numeric_limits<T>::infinity());
  std::vector<Index> hit(static_cast<std::size_t>(B), -1);
  std::vector<Index> div(static_cast<std::size_t>(B), 0);
  // The run in each lane: for Adam ordered by bias-correction columns (a run's arithmetic does
  // not depend on its lane), for the others the block's order.
  std::vector<std::int64_t> run_of(static_cast<std::size_t>(B));
  for (std::int64_t j = 0; j < B; ++j) run_of[static_cast<std::size_t>(j)] = r0 + j;
  if (OPT == SweepOptimizer::adam && bc1 && bc2) {
    const std::int64_t* i1 = bc1->index.data();
    const std::int64_t* i2 = bc2->index.data();
    std::stable_sort(run_of.begin(), run_of.end(), [&](std::int64_t a, std::int64_t b) {
      return i1[a] != i1[b] ? i1[a] < i1[b] : i2[a] < i2[b];
    });
  }
  const std::int64_t* const run = run_of.data();
  for (std::int64_t j = 0; j < B; ++j) {
    for (int k = 0; k < d; ++k) X[k * B + j] = out.x[run[j] * d + k];
  }
  T* const xs_ = X.data();
  T* const s0_ = S0.data();
  T* const s1_ = S1.data();
  T* const s2_ = S2.data();
  T* const bst_ = best.data();
  Index* const ht_ = hit.data();
  Index* const dv_ = div.data();
  const std::int64_t B_ = B, r0_ = r0, steps_ = steps;
  const WeightDecay wd_mode = !h.weight_decay_on ? WeightDecay::none
                              : h.decoupled      ? WeightDecay::decoupled
                                                 : WeightDecay::coupled;

  // Everything the run loop reads, in locals: loads through `h` could alias the stores to the
  // state arrays in the compiler's eyes, and would keep the loop from vectorizing.
  const double* __restrict lr_const = h.lr;
  const std::int64_t* __restrict lr_index = h.lr_index;
  const double* __restrict lr_table = h.lr_table;
  const double* __restrict beta1 = h.beta1;
  const double* __restrict beta2 = h.beta2;
  const double* __restrict eps = h.eps;
  const double* __restrict wdec = h.weight_decay;
  const double* __restrict mom = h.momentum;
  const double* __restrict damp = h.dampening;
  const double* __restrict alpha = h.alpha;
  const double* __restrict lr_decay = h.lr_decay;
  const std::int64_t* __restrict bc1_index = bc1 ? bc1->index.data() : nullptr;
  const std::int64_t* __restrict bc2_index = bc2 ? bc2->index.data() : nullptr;
  const bool maximize = h.maximize;
  const T threshold = at_or_below<T>(h.threshold), divergence = at_or_below<T>(h.divergence);
  // The block's learning rates at step t: straight from lr when no run of the block follows a
  // schedule, else gathered into a buffer first (a conditional gather inside the run loop
  // would keep it from vectorizing).
  bool scheduled = false;
  for (std::int64_t j = 0; j < B; ++j) scheduled = scheduled || lr_index[run[j]] >= 0;
  // Adam's lanes may be reordered: its constant learning rates are gathered once, in lane order
  const bool buffered = scheduled || OPT == SweepOptimizer::adam;
  std::vector<double> lr_buffer(buffered ? static_cast<std::size_t>(B) : 0);
  if (buffered && !scheduled) {
    for (std::int64_t j = 0; j < B; ++j) lr_buffer[static_cast<std::size_t>(j)] = lr_const[run[j]];
  }
  const double* const lrs_ = buffered ? lr_buffer.data() : lr_const + r0;

  // Adam's row constants (empty for the other optimizers)
  AdamRowArrays<T> ar(OPT == SweepOptimizer::adam ? B : 0, run, h, bc1_index, bc2_index);

  // One step of every run of the block. `fl` holds the optimizer's switches: compile-time
  // constants for the common variants (GCC 12 vectorizes the run loop only when no select
  // depends on a uniform runtime flag), runtime values for the rest (then the loop is scalar;
  // the arithmetic, and so every result, is the same either way).
  auto step_all = [&](std::int64_t t, const auto& fl, auto first_c) {
    constexpr bool first = decltype(first_c)::value;
    // Locals, not captures: the int64 stores to ht could alias a captured B in the compiler's
    // eyes, and a trip count it cannot compute keeps the loop scalar.
    const std::int64_t B = B_, r0 = r0_, steps = steps_;
    T* __restrict xs = xs_;
    T* __restrict s0 = s0_;
    T* __restrict s1 = s1_;
    T* __restrict s2 = s2_;
    T* __restrict bst = bst_;
    Index* __restrict ht = ht_;
    Index* __restrict dv = dv_;
    const double* __restrict lrs = lrs_;
    // Adam's row constants: restrict locals too (through `ar` they could alias the state)
    const T* __restrict a_wd = ar.wd.data();
    const T* __restrict a_decay = ar.decay.data();
    const T* __restrict a_w1 = ar.w1.data();
    const T* __restrict a_omw1 = ar.one_minus_w1.data();
    const T* __restrict a_beta2 = ar.beta2.data();
    const T* __restrict a_omb2 = ar.one_minus_beta2.data();
    const T* __restrict a_bc2 = ar.bc2_sqrt.data();
    const T* __restrict a_eps = ar.eps.data();
    const T* __restrict a_neg = ar.neg_step_size.data();
    const T* __restrict a_low = ar.low_weight.data();
    // Runs are independent (ivdep); no omp simd here: it would privatize the coordinate arrays
    // per lane, which GCC 12 then fails to vectorize.
#pragma GCC ivdep
    for (std::int64_t j = 0; j < B; ++j) {
      const std::int64_t r = r0 + j;
      T xl[D > 0 ? D : kMaxNativeSweepDim], gl[D > 0 ? D : kMaxNativeSweepDim];
      for (int k = 0; k < (D > 0 ? D : d); ++k) xl[k] = xs[k * B + j];
      const T f = surface(xl, gl);
      track(f, static_cast<Index>(t), threshold, divergence, bst[j], ht[j], dv[j]);
      const double lr = lrs[j];
      if constexpr (OPT == SweepOptimizer::adam) {
        (void)lr;  // in the step's row constants (adam_step_rows)
        const AdamRow<T> c{T(maximize ? -1 : 1), a_wd[j],  a_decay[j], a_w1[j],
                           a_omw1[j],           a_beta2[j], a_omb2[j], a_bc2[j],
                           a_eps[j],            a_neg[j],   a_low[j] != T(0)};
        for (int k = 0; k < (D > 0 ? D : d); ++k) {
          T mi = s0[k * B + j], vi = s1[k * B + j], ai = s2[k * B + j];
          adam_element(xl[k], gl[k], mi, vi, ai, c, fl.wd, fl.amsgrad);
          s0[k * B + j] = mi;
          s1[k * B + j] = vi;
          s2[k * B + j] = ai;
        }
      }
      if constexpr (OPT == SweepOptimizer::sgd) {
        const SGDRow<T> c = sgd_row_from<T>(lr, mom[r], damp[r], wdec[r], maximize);
        for (int k = 0; k < (D > 0 ? D : d); ++k) {
          T bi = s0[k * B + j];
          sgd_element(xl[k], gl[k], bi, c, fl.wd_on, fl.mom_on, fl.nesterov, first);
          s0[k * B + j] = bi;
        }
      }
      if constexpr (OPT == SweepOptimizer::adagrad) {
        const AdagradRow<T> c =
            adagrad_row_from<T>(lr, lr_decay[r], wdec[r], eps[r], maximize, t + 1);
        for (int k = 0; k < (D > 0 ? D : d); ++k) {
          T si = s0[k * B + j];
          adagrad_element(xl[k], gl[k], si, c, fl.wd_on);
          s0[k * B + j] = si;
        }
      }
      if constexpr (OPT == SweepOptimizer::rmsprop) {
        const RMSpropRow<T> c =
            rmsprop_row_from<T>(lr, alpha[r], eps[r], wdec[r], mom[r], maximize);
        for (int k = 0; k < (D > 0 ? D : d); ++k) {
          T vi = s0[k * B + j], ai = s1[k * B + j], bi = s2[k * B + j];
          rmsprop_element(xl[k], gl[k], vi, ai, bi, c, fl.wd_on, fl.centered, fl.mom_on);
          s0[k * B + j] = vi;
          s1[k * B + j] = ai;
          s2[k * B + j] = bi;
        }
      }
      for (int k = 0; k < (D > 0 ? D : d); ++k) xs[k * B + j] = xl[k];
    }
  };
  auto run_steps = [&](const auto& fl) {
    for (std::int64_t t = 0; t < steps; ++t) {
      if (scheduled) {
        for (std::int64_t j = 0; j < B; ++j) {
          const std::int64_t i = lr_index[run[j]];
          lr_buffer[static_cast<std::size_t>(j)] =
              i < 0 ? lr_const[run[j]] : lr_table[i * steps + t];
        }
      }
      if constexpr (OPT == SweepOptimizer::adam) {
        ar.set_step(B, lrs_, bc1->row(t), bc2->row(t), scheduled);
      }
      if (t == 0) {
        step_all(t, fl, std::true_type{});
      } else {
        step_all(t, fl, std::false_type{});
      }
    }
  };
  const RuntimeFlags rt{wd_mode, h.amsgrad, h.nesterov, h.centered, h.weight_decay_on,
                        h.momentum_on};
  const bool plain = !rt.amsgrad && !rt.centered;
  if constexpr (OPT == SweepOptimizer::adam) {
    if (plain && wd_mode == WeightDecay::none) {
      run_steps(StaticFlags<WeightDecay::none, false, false, false, false, false>{});
    } else if (plain && wd_mode == WeightDecay::decoupled) {
      run_steps(StaticFlags<WeightDecay::decoupled, false, false, false, true, false>{});
    } else {
      run_steps(rt);
    }
  } else if constexpr (OPT == SweepOptimizer::sgd) {
    if (!rt.wd_on && !rt.mom_on) {
      run_steps(StaticFlags<WeightDecay::none, false, false, false, false, false>{});
    } else if (!rt.wd_on && !rt.nesterov) {
      run_steps(StaticFlags<WeightDecay::none, false, false, false, false, true>{});
    } else if (!rt.wd_on) {
      run_steps(StaticFlags<WeightDecay::none, false, true, false, false, true>{});
    } else {
      run_steps(rt);
    }
  } else {
    if (plain && !rt.wd_on && !rt.mom_on) {
      run_steps(StaticFlags<WeightDecay::none, false, false, false, false, false>{});
    } else {
      run_steps(rt);
    }
  }

  // The final point: its loss counts for best / threshold / divergence like every other.
  for (std::int64_t j = 0; j < B; ++j) {
    T xl[D > 0 ? D : kMaxNativeSweepDim], gl[D > 0 ? D : kMaxNativeSweepDim];
    for (int k = 0; k < d; ++k) xl[k] = xs_[k * B + j];
    const T f = surface(xl, gl);
    track(f, static_cast<Index>(steps), threshold, divergence, bst_[j], ht_[j], dv_[j]);
    double g2 = 0.0;
    for (int k = 0; k < d; ++k) g2 += static_cast<double>(gl[k]) * static_cast<double>(gl[k]);
    const std::int64_t r = run[j];
    for (int k = 0; k < d; ++k) out.x[r * d + k] = xl[k];
    out.final_loss[r] = static_cast<double>(f);
    out.best_loss[r] = static_cast<double>(bst_[j]);
    out.grad_norm[r] = std::sqrt(g2);
    out.threshold_step[r] = ht_[j];
    out.diverged[r] = static_cast<std::uint8_t>(dv_[j]);
  }
}

}  // namespace detail

// Runs `runs` sweeps of `steps` steps each. Inputs validated by the caller: arrays of `runs`
// values, dim <= 64, the surface's parameters consistent with dim.
template <typename T>
void native_sweep(surfaces::SurfaceId id, int dim, const double* surface_matrix,
                  std::int64_t runs, std::int64_t steps, const SweepHyper& h,
                  const SweepOut<T>& out) {
  if (runs == 0) return;
  if (steps >= std::numeric_limits<detail::StepIndex<T>>::max()) {
    throw std::invalid_argument("steps: a float32 native sweep takes fewer than 2**31 - 1 steps");
  }
  std::vector<BiasTables> bc;  // Adam's bias corrections, per distinct beta1 and beta2
  if (h.optimizer == SweepOptimizer::adam) {
    bc.emplace_back(h.beta1, runs, steps, false);  // bc1
    bc.emplace_back(h.beta2, runs, steps, true);   // sqrt(bc2)
  }
  const BiasTables* bc1 = bc.empty() ? nullptr : &bc[0];
  const BiasTables* bc2 = bc.empty() ? nullptr : &bc[1];
  const std::int64_t blocks = (runs + detail::kBlock - 1) / detail::kBlock;
  surfaces::with_surface(id, dim, surface_matrix, [&](const auto& surface) {
    using S = std::decay_t<decltype(surface)>;
    const int nt = static_cast<int>(std::min<std::int64_t>(
        blocks, runs * steps * dim >= kParallelThreshold ? get_num_threads() : 1));
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t r0 = b * detail::kBlock;
      const std::int64_t B = std::min(detail::kBlock, runs - r0);
      switch (h.optimizer) {
        case SweepOptimizer::adam:
          detail::run_block<T, SweepOptimizer::adam, S>(surface, dim, r0, B, steps, h, bc1, bc2,
                                                        out);
          break;
        case SweepOptimizer::sgd:
          detail::run_block<T, SweepOptimizer::sgd, S>(surface, dim, r0, B, steps, h, bc1, bc2,
                                                       out);
          break;
        case SweepOptimizer::adagrad:
          detail::run_block<T, SweepOptimizer::adagrad, S>(surface, dim, r0, B, steps, h, bc1,
                                                           bc2, out);
          break;
        case SweepOptimizer::rmsprop:
          detail::run_block<T, SweepOptimizer::rmsprop, S>(surface, dim, r0, B, steps, h, bc1,
                                                           bc2, out);
          break;
      }
    }
  });
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
