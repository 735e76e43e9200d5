// One level's batched eigensolvers (see level.cpp).
#include "saddlepoint/dispatch/level_parts.hpp"
#include "saddlepoint/linalg/eigh.hpp"
#include "saddlepoint/linalg/inertia.hpp"

namespace saddlepoint::dispatch {
SADDLEPOINT_ISA_BEGIN

namespace {
template <typename T>
void fill(KernelSet<T>& k) {
  k.check_stack = &saddlepoint::check_stack<T>;
  k.eigh_stack = &saddlepoint::eigh_stack<T>;
  k.inertia_stack = &saddlepoint::inertia_stack<T>;
}
}  // namespace

void add_linalg_kernels(Level& level) {
  level.eigen_simd = Eigen::SimdInstructionSetsInUse();  // as compiled for this level
  fill(level.f32);
  fill(level.f64);
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint::dispatch
