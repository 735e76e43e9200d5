// The Monitor's per-step reductions over one parameter array (StepSums): the record the kernels
// fill and the bindings hand to Python, shared by both.
#pragma once

#include <cstdint>

namespace saddlepoint::monitor {

// The order of these fields is the column order the binding returns (kStepSumNames).
struct StepSums {
  double grad_sq = 0;          // ||g||^2
  double update_sq = 0;        // ||dtheta||^2
  double grad_dot_update = 0;  // g . dtheta (negative when the step goes downhill)
  double grad_dot_prev = 0;    // g . (previous update direction)
  double update_dot_prev = 0;  // dtheta . (previous update direction)
  double prev_sq = 0;          // ||previous update direction||^2
  double param_sq = 0;         // ||theta||^2 after the step
  double distance_sq = 0;      // ||theta - theta_0||^2 after the step
  double nonfinite_grad = 0;   // entries of g that are NaN or +-Inf
  double nonfinite_param = 0;  // entries of theta that are NaN or +-Inf after the step

  StepSums& operator+=(const StepSums& o) {
    grad_sq += o.grad_sq;
    update_sq += o.update_sq;
    grad_dot_update += o.grad_dot_update;
    grad_dot_prev += o.grad_dot_prev;
    update_dot_prev += o.update_dot_prev;
    prev_sq += o.prev_sq;
    param_sq += o.param_sq;
    distance_sq += o.distance_sq;
    nonfinite_grad += o.nonfinite_grad;
    nonfinite_param += o.nonfinite_param;
    return *this;
  }
};

inline constexpr int kStepSumCount = 10;
inline constexpr const char* kStepSumNames[kStepSumCount] = {
    "grad_sq",         "update_sq", "grad_dot_update", "grad_dot_prev",   "update_dot_prev",
    "prev_sq",         "param_sq",  "distance_sq",     "nonfinite_grad", "nonfinite_param"};

}  // namespace saddlepoint::monitor
