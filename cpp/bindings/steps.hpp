// What the functional kernels and the optimizer engines share: the parameters of one call cut
// into segments, each a (rows, cols) block handed to a kernel, and the scalar argument checks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/common.hpp"
#include "saddlepoint/parallel.hpp"

namespace saddlepoint::bindings {

// A (rows, cols) view of one parameter array: rows > 1 only when hyper-parameters vary by row.
struct Segment {
  std::int64_t offset = 0;  // into flat state buffers (engines); 0 for the functional kernels
  std::int64_t rows = 1, cols = 0;
};

// rows of the parameter for per-row hyper-parameters, or -1 when they are not allowed
// (a list of arrays, or an array that is not 2-D).
inline std::int64_t hyper_rows(const ArrayList& params) {
  if (params.is_list || params.items[0].shape.size() != 2) return -1;
  return static_cast<std::int64_t>(params.items[0].shape[0]);
}

inline std::vector<Segment> segments(const ArrayList& params, bool per_row) {
  std::vector<Segment> out;
  out.reserve(params.items.size());
  std::int64_t offset = 0;
  for (const auto& p : params.items) {
    Segment s;
    s.offset = offset;
    if (per_row && p.shape.size() == 2 && p.shape[0] > 0) {
      s.rows = static_cast<std::int64_t>(p.shape[0]);
      s.cols = static_cast<std::int64_t>(p.shape[1]);
    } else {
      s.cols = p.size;
    }
    offset += p.size;
    out.push_back(s);
  }
  return out;
}

inline bool checked_bool(py::handle obj, const char* name) {
  static const py::object numpy_bool = py::module_::import("numpy").attr("bool_");
  if (!py::isinstance<py::bool_>(obj) && !py::isinstance(obj, numpy_bool)) {
    throw py::type_error(std::string(name) + ": expected True or False, got " + describe(obj));
  }
  return PyObject_IsTrue(obj.ptr()) == 1;
}

inline std::int64_t checked_step(py::handle obj, const char* name) {
  if (py::isinstance<py::bool_>(obj) || !PyIndex_Check(obj.ptr())) {
    throw py::type_error(std::string(name) + ": expected an int >= 1, got " + describe(obj));
  }
  const auto v = py::reinterpret_steal<py::object>(PyNumber_Index(obj.ptr()));
  if (!v) {
    // ndarray passes PyIndex_Check whatever its dtype or size, and then fails here with
    // NumPy's message, which names no argument: replace it with ours.
    PyErr_Clear();
    throw py::type_error(std::string(name) + ": expected an int >= 1, got " + describe(obj));
  }
  int overflow = 0;
  const long long step = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (overflow != 0 || step < 1) {
    throw py::value_error(std::string(name) + ": expected an int >= 1 (the 1-based number of "
                                              "this step) that fits in 64 bits, got " +
                          std::string(py::str(v)));
  }
  return step;
}

// betas=(beta1, beta2), each a number or a per-row array.
inline std::pair<HyperValue, HyperValue> checked_betas(py::handle obj, std::int64_t rows) {
  if (!(py::isinstance<py::tuple>(obj) || py::isinstance<py::list>(obj)) || py::len(obj) != 2) {
    throw py::type_error("betas: expected a pair (beta1, beta2), got " + describe(obj));
  }
  auto seq = py::reinterpret_borrow<py::sequence>(obj);
  return {checked_hyper(seq[0], ranges::beta1, rows), checked_hyper(seq[1], ranges::beta2, rows)};
}

// Run `f(T{})` with T the float type of `d`.
template <typename F>
void with_dtype(DType d, F&& f) {
  if (d == DType::f32) {
    f(float{});
  } else {
    f(double{});
  }
}

// The shared end of every step, functional or engine: all checks have passed and nothing has
// been touched, so the GIL goes, T is picked from the dtype once, and
// `step_segment(T{}, i)` runs the optimizer's kernel on segment i. The optimizer names its
// own arrays and kernel in that lambda; a variant of the kernel (one that also reduces, say)
// is another lambda here, not another copy of this loop. No Python objects below.
//
// A segment below the parallel threshold runs on one thread, so a model of many small arrays
// would never use a second core however large it is in total: with `split`, such segments
// are shared out across threads, each segment whole (an element's arithmetic, and so every
// bit, is the same on any thread). Off where the caller collects per-segment results in
// order (the instrumented step).
template <typename StepSegment>
void step_segments(DType dtype, const std::vector<Segment>& segs, bool split,
                   StepSegment&& step_segment) {
  py::gil_scoped_release release;
  std::int64_t total = 0, largest = 0;
  for (const Segment& s : segs) {
    total += s.rows * s.cols;
    largest = std::max(largest, s.rows * s.cols);
  }
  const int threads =
      split && segs.size() > 1 && largest < kParallelThreshold ? threads_for(total) : 1;
  const auto count = static_cast<std::int64_t>(segs.size());
  with_dtype(dtype, [&](auto zero) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
    for (std::int64_t i = 0; i < count; ++i) step_segment(zero, static_cast<std::size_t>(i));
  });
}

// Segment `s` of an optional flat state buffer (null stays null: the state is not used).
template <typename T>
T* slice(void* buffer, const Segment& s) {
  return buffer ? static_cast<T*>(buffer) + s.offset : nullptr;
}

}  // namespace saddlepoint::bindings
