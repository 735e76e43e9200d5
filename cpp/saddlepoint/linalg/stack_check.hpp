// What the stack check of the batched eigensolvers reports (shared by the kernels and bindings).
#pragma once

#include <cstdint>

namespace saddlepoint {

// What check_stack found: the first matrix (in stack order) that is not finite or not
// symmetric within the tolerance, with its worst entry; index < 0 when every matrix is fine.
struct StackCheck {
  std::int64_t index = -1;
  bool nonfinite = false;
  std::int64_t row = 0, col = 0;  // the non-finite entry, or the worst asymmetric pair
  double asymmetry = 0.0;         // max |a_ij - a_ji| of that matrix
  double scale = 0.0;             // max |a_ij| of that matrix
};

}  // namespace saddlepoint
