// What a native sweep is asked (SweepHyper) and where it writes (SweepOut): shared by the
// kernels and the bindings.
#pragma once

#include <cstdint>
#include <limits>

namespace saddlepoint {

inline constexpr int kMaxNativeSweepDim = 64;  // native sweeps take surfaces up to this dimension

enum class SweepOptimizer { sgd, adagrad, rmsprop, adam };

// Per-run hyper-parameters (arrays of `runs` doubles; unused ones may be null) and the flags a
// call shares. Runs with lr_index[r] < 0 use lr[r] at every step; the others read row
// lr_index[r] of lr_table (n_tables, steps): a schedule evaluated once for all steps.
struct SweepHyper {
  SweepOptimizer optimizer = SweepOptimizer::adam;
  const double* lr = nullptr;
  const std::int64_t* lr_index = nullptr;
  const double* lr_table = nullptr;
  const double *momentum = nullptr, *dampening = nullptr, *weight_decay = nullptr;
  const double *beta1 = nullptr, *beta2 = nullptr, *eps = nullptr;
  const double *alpha = nullptr, *lr_decay = nullptr;
  bool nesterov = false, maximize = false, amsgrad = false, centered = false;
  bool decoupled = false;  // AdamW
  bool weight_decay_on = false, momentum_on = false;  // any run has a non-zero value
  double threshold = -std::numeric_limits<double>::infinity();  // loss counted as "reached"
  double divergence = 1e12;  // |loss| above this (or not finite) marks a run diverged
};

// Per-run outputs; x holds the start points (runs, dim) on entry and the final points on exit.
template <typename T>
struct SweepOut {
  T* x = nullptr;
  double* final_loss = nullptr;
  double* best_loss = nullptr;
  double* grad_norm = nullptr;
  std::int64_t* threshold_step = nullptr;  // first t with loss(x_t) <= threshold, else -1
  std::uint8_t* diverged = nullptr;
};

}  // namespace saddlepoint
