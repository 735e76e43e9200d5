// Runtime dispatch: which instruction-set levels this extension carries, which of them the CPU
// runs, and the one in use. Chosen once at import (the best the CPU runs, or the one the
// SADDLEPOINT_ISA environment variable names), as NumPy chooses its dispatched kernels.
//
// Levels, by build:
// - portable x86-64 (SADDLEPOINT_NATIVE=OFF, GCC or Clang): "x86-64-v2" (SSE4.2, POPCNT),
//   "x86-64-v3" (AVX2, FMA, BMI2), "x86-64-v4" (AVX-512 F/BW/CD/DQ/VL), the psABI levels;
// - tuned to the building machine (the default for a source build): "native" alone;
// - any other target or compiler: "baseline" alone (the target's default flags: NEON on
//   aarch64).
// The bindings call kernels<T>() on every call: one relaxed atomic load and an indirect call.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "saddlepoint/dispatch/kernel_set.hpp"

namespace saddlepoint::dispatch {

struct LevelInfo {
  const char* name;        // "x86-64-v3", "native", "baseline"
  const char* requires_;   // the CPU features it needs, for show_config
  bool supported;          // this CPU runs it
};

// The compiled levels, lowest first.
std::vector<LevelInfo> compiled_levels();

// The level in use.
const char* active_level_name();
const Level& active_level();

// Uses `name` from now on: "" on success, else why not (unknown name, or a level this CPU does
// not run); the level in use is then unchanged.
std::string select_level(const std::string& name);

// At import: SADDLEPOINT_ISA if set (its error, if any, is returned), else the best level the
// CPU runs ("" when the CPU runs none of them: the message says which it needs).
std::string select_initial_level();

namespace detail {
extern std::atomic<const Level*> active;
}

template <typename T>
inline const KernelSet<T>& kernels() {
  const Level* level = detail::active.load(std::memory_order_relaxed);
  if constexpr (sizeof(T) == 4) {
    return level->f32;
  } else {
    return level->f64;
  }
}

}  // namespace saddlepoint::dispatch
