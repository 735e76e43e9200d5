// Which compiled level runs: CPU detection and the SADDLEPOINT_ISA override. Compiled with the
// baseline flags, like the bindings: it must run on any CPU, including one that has none of
// the levels, to say so.
#include "saddlepoint/dispatch/levels.hpp"

#include <cstdlib>
#include <string>
#include <vector>

namespace saddlepoint::dispatch {

// Each level's table, defined in its own translation units (level.cpp compiled per level).
// CMake defines SADDLEPOINT_HAS_<LEVEL> for the levels it compiles.
#ifdef SADDLEPOINT_HAS_X86_64_V2
const Level& level_x86_64_v2();
#endif
#ifdef SADDLEPOINT_HAS_X86_64_V3
const Level& level_x86_64_v3();
#endif
#ifdef SADDLEPOINT_HAS_X86_64_V4
const Level& level_x86_64_v4();
#endif
#ifdef SADDLEPOINT_HAS_NATIVE
const Level& level_native();
#endif
#ifdef SADDLEPOINT_HAS_BASELINE
const Level& level_baseline();
#endif

namespace detail {
std::atomic<const Level*> active{nullptr};
}

namespace {

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
// The psABI levels by feature, as GCC's __builtin_cpu_supports("x86-64-v3") tests them (that
// form needs GCC >= 12; the features work with Clang too). libgcc's detection also checks that
// the OS saves the AVX and AVX-512 registers (XCR0).
[[maybe_unused]] bool runs_v2() {
  return __builtin_cpu_supports("sse3") && __builtin_cpu_supports("ssse3") &&
         __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("sse4.2") &&
         __builtin_cpu_supports("popcnt");
}
[[maybe_unused]] bool runs_v3() {
  return runs_v2() && __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("bmi2");
}
[[maybe_unused]] bool runs_v4() {
  return runs_v3() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
}
#endif

struct Entry {
  const char* name;
  const char* requires_;
  bool (*supported)();
  const Level& (*table)();
};

[[maybe_unused]] bool always() { return true; }  // for the single-level builds

const std::vector<Entry>& entries() {
  static const std::vector<Entry> list = {
#ifdef SADDLEPOINT_HAS_X86_64_V2
      {"x86-64-v2", "SSE4.2, SSSE3, POPCNT", &runs_v2, &level_x86_64_v2},
#endif
#ifdef SADDLEPOINT_HAS_X86_64_V3
      {"x86-64-v3", "AVX2, FMA, BMI2", &runs_v3, &level_x86_64_v3},
#endif
#ifdef SADDLEPOINT_HAS_X86_64_V4
      {"x86-64-v4", "AVX-512 F, BW, CD, DQ, VL", &runs_v4, &level_x86_64_v4},
#endif
#ifdef SADDLEPOINT_HAS_NATIVE
      // Tuned to the machine that built it: assumed to be this one.
      {"native", "the building machine's CPU (-march=native)", &always, &level_native},
#endif
#ifdef SADDLEPOINT_HAS_BASELINE
      {"baseline", "the target's default instruction set", &always, &level_baseline},
#endif
  };
  return list;
}

std::atomic<const char*> active_name{""};

std::string names() {
  std::string s;
  for (const Entry& e : entries()) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

}  // namespace

std::vector<LevelInfo> compiled_levels() {
  std::vector<LevelInfo> out;
  for (const Entry& e : entries()) out.push_back({e.name, e.requires_, e.supported()});
  return out;
}

const char* active_level_name() { return active_name.load(std::memory_order_relaxed); }

const Level& active_level() { return *detail::active.load(std::memory_order_relaxed); }

std::string select_level(const std::string& name) {
  for (const Entry& e : entries()) {
    if (name != e.name) continue;
    if (!e.supported()) {
      return "this CPU cannot run the " + name + " kernels (they need " + e.requires_ + ")";
    }
    // The table is built by the level's own code: called only once the CPU is known to run it.
    detail::active.store(&e.table(), std::memory_order_relaxed);
    active_name.store(e.name, std::memory_order_relaxed);
    return "";
  }
  return "no kernels compiled for '" + name + "': this build has " + names();
}

std::string select_initial_level() {
  if (const char* forced = std::getenv("SADDLEPOINT_ISA"); forced && *forced) {
    std::string error = select_level(forced);
    if (!error.empty()) return "SADDLEPOINT_ISA=" + std::string(forced) + ": " + error;
    return "";
  }
  const std::vector<Entry>& list = entries();
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    if (it->supported()) return select_level(it->name);
  }
  return "this CPU runs none of the compiled kernel levels (" + names() + "; the lowest needs " +
         (list.empty() ? std::string("nothing") : list.front().requires_) + ")";
}

}  // namespace saddlepoint::dispatch
