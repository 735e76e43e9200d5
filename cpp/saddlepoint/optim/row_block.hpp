// The short-row path shared by the optimizers: a block's per-row constants as arrays, and the
// driver that steps a (rows, cols) array by blocks of rows (the scheme is described in adam.hpp).
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "saddlepoint/optim/hyper.hpp"
#include "saddlepoint/optim/rows.hpp"

// For the small functions the element loops are made of (load, step, store; a row's constants
// from a block): called rather than inlined, they cost the loops their vectorization (5x on
// short rows), and GCC 12's inliner does not always see it.
#define SADDLEPOINT_ALWAYS_INLINE __attribute__((always_inline)) inline
#define SADDLEPOINT_INLINE_LAMBDA __attribute__((always_inline))

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

// Rows [first, first + n) of each hyper-parameter as a plain array (Hyper::rows), n <= kRowBlock.
template <std::size_t N>
struct RowValues {
  double buffers[N][kRowBlock];
  std::array<const double*, N> of;

  template <typename... H>
  RowValues(std::int64_t first, std::int64_t n, const H&... hyper) {
    std::size_t k = 0;
    ((of[k] = hyper.rows(first, n, buffers[k]), ++k), ...);
  }
};
template <typename... H>
RowValues(std::int64_t, std::int64_t, const H&...) -> RowValues<sizeof...(H)>;

// A block's per-row constants, one array per field of Row<T> (all but sign: Row<T>::fields()
// gives their values in the order they follow sign), so that loops over the rows vectorize;
// at(i, sign) is row i's Row, exactly what the row was given by set. A bool field is kept as T (1 or 0):
// GCC 12 finds no vector mask type for a select on a bool array beside T arithmetic. decays and
// moves (1 or 0) say whether a row applies weight decay and momentum; decaying and moving count
// them.
template <typename T, template <typename> class RowOf>
struct RowBlock {
  using Row = RowOf<T>;
  using Fields = decltype(std::declval<const Row&>().fields());
  static constexpr std::size_t kFields = std::tuple_size_v<Fields>;

  T sign;
  T field[kFields][kRowBlock];
  T decays[kRowBlock], moves[kRowBlock];
  std::int64_t decaying = 0, moving = 0;

  // sign comes in as an argument: read from the struct inside the loop over rows, GCC 12
  // treats it as a data reference it cannot vectorize.
  SADDLEPOINT_ALWAYS_INLINE Row at(std::int64_t i, T sign_) const {
    return at(i, sign_, std::make_index_sequence<kFields>{});
  }
  SADDLEPOINT_ALWAYS_INLINE void set(std::int64_t i, Row c) {
    set(i, c, std::make_index_sequence<kFields>{});
  }
  bool decays_at(std::int64_t i) const { return decays[i] != T(0); }
  bool moves_at(std::int64_t i) const { return moves[i] != T(0); }

 private:
  // A Row is built whole and taken by value: through references into it (a const Row&,
  // std::tie, pointers to members) GCC 12 left the loops over the rows scalar (1.7x on a
  // short-row SGD step).
  template <std::size_t... K>
  SADDLEPOINT_ALWAYS_INLINE Row at(std::int64_t i, T sign_, std::index_sequence<K...>) const {
    return Row{sign_, as<std::tuple_element_t<K, Fields>>(field[K][i])...};
  }
  template <std::size_t... K>
  SADDLEPOINT_ALWAYS_INLINE void set(std::int64_t i, Row c, std::index_sequence<K...>) {
    const Fields values = c.fields();
    ((field[K][i] = stored(std::get<K>(values))), ...);
  }
  // A select, not a conversion: GCC 12 does not vectorize bool -> T.
  template <typename U>
  static SADDLEPOINT_ALWAYS_INLINE T stored(U value) {
    if constexpr (std::is_same_v<U, bool>) {
      return value ? T(1) : T(0);
    } else {
      return value;
    }
  }
  template <typename U>
  static SADDLEPOINT_ALWAYS_INLINE U as(T value) {
    if constexpr (std::is_same_v<U, bool>) {
      return value != T(0);
    } else {
      return value;
    }
  }
};

// Fills rows [0, n) of a block: row(i) its constants, decays(i) and moves(i) its flags, in one
// loop across rows. The functions capture pointers by value (an array captured by value is a
// 1 KiB copy per block).
template <typename T, template <typename> class RowOf, typename MakeRow, typename Decays,
          typename Moves>
SADDLEPOINT_ALWAYS_INLINE void fill_row_block(RowBlock<T, RowOf>& k, std::int64_t n,
                                               bool maximize, MakeRow row, Decays decays,
                                               Moves moves) {
  k.sign = T(maximize ? -1 : 1);
  std::int64_t decaying = 0, moving = 0;
#pragma omp simd reduction(+ : decaying, moving)
  for (std::int64_t i = 0; i < n; ++i) {
    k.set(i, row(i));
    const bool d = decays(i), m = moves(i);
    k.decays[i] = d ? T(1) : T(0);
    k.moves[i] = m ? T(1) : T(0);
    decaying += d;
    moving += m;
  }
  k.decaying = decaying;
  k.moving = moving;
}

// Rows [0, n) of a block of COLS-element rows, vectorized across rows: element(i, e, c) steps
// element e of row i, whose constants are c (a Row taken by value, see RowBlock). The
// optimizers pass a lambda capturing their restrict pointers by value, marked
// SADDLEPOINT_INLINE_LAMBDA: a call left in the loop would keep it scalar.
template <int COLS, typename Block, typename Element>
SADDLEPOINT_ALWAYS_INLINE void for_block_elements(const Block& k, std::int64_t n,
                                                  Element element) {
  const auto sign = k.sign;
  // ivdep, not omp simd: omp simd would privatize the row's constants per lane, which GCC 12
  // then fails to vectorize for some column counts.
#pragma GCC ivdep
  for (std::int64_t i = 0; i < n; ++i) {
    const typename Block::Row c = k.at(i, sign);
    for (int j = 0; j < COLS; ++j) element(i, i * COLS + j, c);
  }
}

// One step on a (rows, cols) array. Many short rows go by blocks of kRowBlock rows: fill(first,
// n, block) forms a block's constants, blocked(block, n, o) steps its n rows at element offset o
// vectorized across rows and returns false where it cannot (then row(block, i, r) steps row i
// at offset r alone). Other shapes go by pieces of rows: piece(r, o, len) steps len elements
// of row r from offset o.
template <typename Block, typename Fill, typename Blocked, typename RowStep, typename Piece>
void step_rows(std::int64_t rows, std::int64_t cols, Fill&& fill, Blocked&& blocked,
               RowStep&& row, Piece&& piece) {
  if (rows > 1 && cols <= kShortRowCols) {
    for_each_row_block(rows, cols, [&](std::int64_t first, std::int64_t last) {
      const std::int64_t n = last - first, o = first * cols;
      Block k;
      fill(first, n, k);
      if (blocked(k, n, o)) return;
      for (std::int64_t i = 0; i < n; ++i) row(k, i, o + i * cols);
    });
    return;
  }
  for_each_row_piece(rows, cols, [&](std::int64_t r, std::int64_t b, std::int64_t e) {
    piece(r, r * cols + b, e - b);
  });
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
