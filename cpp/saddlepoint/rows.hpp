// Runs a row-wise body over a (rows, cols) array, on one thread or split across threads.
#pragma once

#include <algorithm>
#include <cstdint>

#include "saddlepoint/parallel.hpp"

namespace saddlepoint {

// body(row, begin, end) handles columns [begin, end) of one row. The flat index range is cut
// into one contiguous piece per thread, on 16-element (64-byte) boundaries so that no two
// threads write the same cache line; a piece may span many short rows or part of a long one.
// Every element sees the same instructions wherever the cut falls, so results do not depend
// on the thread count.
template <typename Body>
void for_each_row_piece(std::int64_t rows, std::int64_t cols, Body&& body) {
  const std::int64_t n = rows * cols;
  if (n == 0) return;
  const int nt = threads_for(n);
  if (nt <= 1) {
    for (std::int64_t r = 0; r < rows; ++r) body(r, std::int64_t{0}, cols);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
  {
    const std::int64_t t = omp_get_thread_num();
    const std::int64_t nthreads = omp_get_num_threads();
    auto cut = [&](std::int64_t k) {
      if (k >= nthreads) return n;
      return std::min(n, (n * k / nthreads) & ~std::int64_t{15});
    };
    const std::int64_t begin = cut(t), end = cut(t + 1);
    for (std::int64_t r = begin / cols; r < rows && r * cols < end; ++r) {
      const std::int64_t b = std::max(begin, r * cols) - r * cols;
      const std::int64_t e = std::min(end, (r + 1) * cols) - r * cols;
      if (b < e) body(r, b, e);
    }
  }
#endif
}

}  // namespace saddlepoint
