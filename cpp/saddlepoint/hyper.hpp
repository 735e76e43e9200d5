// A hyper-parameter that is one value for the whole array or one value per row of a
// (rows, cols) parameter array: the rows are independent runs of a sweep.
#pragma once

#include <cmath>
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
};

// beta**step as Python's float pow and torch.optim compute it (the bias corrections are formed
// in double precision and then cast to the parameter's dtype). Every path (kernels, optimizer
// objects, native sweeps) goes through this one function, so they agree bit for bit.
inline double step_power(double beta, std::int64_t step) {
  return std::pow(beta, static_cast<double>(step));
}

// torch.lerp's formula: the branch keeps the result exact at both ends of the weight range.
template <typename T>
inline T lerp(T start, T end, T weight, T one_minus_weight, bool low_weight) {
  return low_weight ? start + weight * (end - start) : end - (end - start) * one_minus_weight;
}

}  // namespace saddlepoint
