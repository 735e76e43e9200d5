// Runs a row-wise body over a (rows, cols) array, on one thread or split across threads.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "saddlepoint/parallel.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

// body(begin, end) on one contiguous range of [0, count) per thread, cut on multiples of 16,
// for a job of n elements in all (once, on [0, count), when n is too small for threads).
template <typename Body>
void for_each_thread_range(std::int64_t n, std::int64_t count, Body&& body) {
  if (n == 0) return;
  const int nt = threads_for(n);
  if (nt <= 1) {
    body(std::int64_t{0}, count);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
  {
    const std::int64_t t = omp_get_thread_num();
    const std::int64_t nthreads = omp_get_num_threads();
    auto cut = [&](std::int64_t k) {
      if (k >= nthreads) return count;
      return std::min(count, (count * k / nthreads) & ~std::int64_t{15});
    };
    body(cut(t), cut(t + 1));
  }
#endif
}

// body(row, begin, end) handles columns [begin, end) of one row. The flat index range is cut
// into one contiguous piece per thread, on 16-element (64-byte) boundaries so that no two
// threads write the same cache line; a piece may span many short rows or part of a long one.
// Every element sees the same instructions wherever the cut falls, so results do not depend
// on the thread count.
template <typename Body>
void for_each_row_piece(std::int64_t rows, std::int64_t cols, Body&& body) {
  const std::int64_t n = rows * cols;
  for_each_thread_range(n, n, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin / cols; r < rows && r * cols < end; ++r) {
      const std::int64_t b = std::max(begin, r * cols) - r * cols;
      const std::int64_t e = std::min(end, (r + 1) * cols) - r * cols;
      if (b < e) body(r, b, e);
    }
  });
}

// Rows per block of the short-row kernels: their per-row constants live in stack buffers of
// this many entries (a few KiB each, so a block's working set stays in L1).
inline constexpr std::int64_t kRowBlock = 128;

// Rows this short or shorter take the blocked kernels when hyper-parameters vary by row: there
// a row's constants cost as much as its elements, so both are vectorized across rows.
inline constexpr std::int64_t kShortRowCols = 32;

// body(first, last) handles rows [first, last), at most kRowBlock of them. The rows are cut
// into one contiguous range per thread on 16-row boundaries (64-byte aligned offsets for any
// cols), then into blocks. An element's arithmetic does not depend on its block or lane
// (IEEE operations, no contraction), so results do not depend on the thread count.
template <typename Body>
void for_each_row_block(std::int64_t rows, std::int64_t cols, Body&& body) {
  for_each_thread_range(rows * cols, rows, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t r = first; r < last; r += kRowBlock) body(r, std::min(last, r + kRowBlock));
  });
}

// f(std::integral_constant<int, C>{}) for cols == C in 1..4, so that a loop over a block's rows
// can hold a row's elements in registers; false (f not called) for any other cols.
template <typename F>
bool with_short_cols(std::int64_t cols, F&& f) {
  switch (cols) {
    case 1: f(std::integral_constant<int, 1>{}); return true;
    case 2: f(std::integral_constant<int, 2>{}); return true;
    case 3: f(std::integral_constant<int, 3>{}); return true;
    case 4: f(std::integral_constant<int, 4>{}); return true;
    default: return false;
  }
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
