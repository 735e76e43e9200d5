// Thread-count policy shared by every kernel: one process-wide setting, and a size below which
// a kernel stays on the calling thread because an OpenMP region costs more than it saves.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace saddlepoint {

// An OpenMP parallel region costs 0.6-1.5 us here; below ~32K elements of a streaming
// kernel that is more than a second thread saves (PERFORMANCE.md).
inline constexpr std::int64_t kParallelThreshold = 32768;

inline std::atomic<int>& num_threads_setting() {
#ifdef _OPENMP
  static std::atomic<int> n{std::max(1, omp_get_max_threads())};
#else
  static std::atomic<int> n{1};
#endif
  return n;
}

inline int get_num_threads() { return num_threads_setting().load(std::memory_order_relaxed); }

inline void set_num_threads(int n) {
#ifdef _OPENMP
  num_threads_setting().store(std::max(1, n), std::memory_order_relaxed);
#else
  (void)n;  // without OpenMP everything runs on the calling thread
#endif
}

inline bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

// How many threads a streaming job of `work` elements should use.
inline int threads_for(std::int64_t work) {
  if (work < kParallelThreshold) return 1;
  const std::int64_t useful = work / (kParallelThreshold / 2);
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(get_num_threads(), useful)));
}

}  // namespace saddlepoint
