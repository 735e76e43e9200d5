// The steps' hyper-parameters: plain data shared by the bindings, which fill them, and every
// instruction-set level's kernels, which read them (saddlepoint/dispatch/levels.hpp). A Hyper
// is one value for the whole array or one value per row of a (rows, cols) parameter array: the
// rows are independent runs of a sweep.
#pragma once

#include <algorithm>
#include <cstdint>

namespace saddlepoint {

struct Hyper {
  double scalar = 0.0;
  const double* per_row = nullptr;  // `rows` values when not null

  Hyper() = default;
  Hyper(double value) : scalar(value) {}  // NOLINT: a plain number is the common case
  Hyper(const double* values) : per_row(values) {}

  double at(std::int64_t row) const { return per_row ? per_row[row] : scalar; }
  bool varies() const { return per_row != nullptr; }

  // The values of rows [first, first + n) as a plain array: the per-row values themselves, or
  // `buffer` (n entries) filled with the scalar, so that loops over a block of rows vectorize
  // either way.
  const double* rows(std::int64_t first, std::int64_t n, double* buffer) const {
    if (per_row) return per_row + first;
    std::fill(buffer, buffer + n, scalar);
    return buffer;
  }
};

struct SGDHyper {
  Hyper lr, momentum, dampening, weight_decay;
  bool nesterov = false, maximize = false;
  bool first_step = true;  // the momentum buffer is set to the gradient on the first step
};

struct AdagradHyper {
  Hyper lr, lr_decay, weight_decay, eps;
  bool maximize = false;
  std::int64_t step = 1;  // 1 on the first step
};

struct RMSpropHyper {
  Hyper lr, alpha, eps, weight_decay, momentum;
  bool centered = false, maximize = false;
};

struct AdamHyper {
  Hyper lr, beta1, beta2, eps, weight_decay;
  bool amsgrad = false, maximize = false, decoupled = false;  // decoupled: AdamW
  std::int64_t step = 1;                                     // 1 on the first step
};

}  // namespace saddlepoint
