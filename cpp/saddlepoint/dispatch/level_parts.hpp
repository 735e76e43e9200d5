// The parts of one level's kernel table, each filled by its own translation unit (so that a
// level's kernels compile in parallel): level_optim.cpp, level_linalg.cpp, level_sweep.cpp;
// level.cpp assembles them. Level code: included only where SADDLEPOINT_ISA is defined.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include "saddlepoint/dispatch/kernel_set.hpp"

namespace saddlepoint::dispatch {
SADDLEPOINT_ISA_BEGIN

void add_optim_kernels(Level& level);   // optimizer steps and the Monitor's instruments
void add_linalg_kernels(Level& level);  // batched eigensolvers (and Eigen's SIMD level)
void add_sweep_kernels(Level& level);   // native sweeps and surfaces

SADDLEPOINT_ISA_END
}  // namespace saddlepoint::dispatch
