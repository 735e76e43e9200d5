// One level's native sweeps and surfaces (see level.cpp).
#include "saddlepoint/dispatch/level_parts.hpp"
#include "saddlepoint/sweeps/native_surfaces.hpp"
#include "saddlepoint/sweeps/sweep.hpp"

namespace saddlepoint::dispatch {
SADDLEPOINT_ISA_BEGIN

namespace {
template <typename T>
void fill(KernelSet<T>& k) {
  k.native_sweep = &saddlepoint::native_sweep<T>;
  k.surface_value_grad = &surfaces::surface_value_grad<T>;
}
}  // namespace

void add_sweep_kernels(Level& level) {
  fill(level.f32);
  fill(level.f64);
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint::dispatch
