// One level's kernel table: compiled once per instruction-set level with that level's -march
// and -DSADDLEPOINT_ISA=<level> (CMakeLists.txt), like the other level_*.cpp files.
#include "saddlepoint/dispatch/level_parts.hpp"

namespace saddlepoint::dispatch {

// level_x86_64_v3() and so on: the one name per level the baseline code (levels.cpp) calls, and
// only once it knows this CPU runs the level.
const Level& SADDLEPOINT_CAT(level_, SADDLEPOINT_ISA)() {
  static const Level level = [] {
    Level l;
    add_optim_kernels(l);
    add_linalg_kernels(l);
    add_sweep_kernels(l);
    return l;
  }();
  return level;
}

}  // namespace saddlepoint::dispatch
