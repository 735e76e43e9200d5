// Argument checks shared by every binding: arrays are validated completely before any memory
// is touched, and every error names the argument and what was expected.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "saddlepoint/optim/hyper.hpp"

namespace saddlepoint::bindings {

namespace py = pybind11;

enum class DType { f32, f64 };

inline const char* dtype_name(DType d) { return d == DType::f32 ? "float32" : "float64"; }

// A validated NumPy array: the reference keeps it alive while its pointer is in use.
struct ArrayRef {
  // Null until set: py::array's default constructor would allocate an empty NumPy array, one
  // per ArrayRef, which cost about 0.1 us per array of every call.
  py::array array = py::reinterpret_steal<py::array>(py::handle());
  void* data = nullptr;
  std::int64_t size = 0;
  std::int64_t nbytes = 0;
  DType dtype = DType::f64;
  std::vector<py::ssize_t> shape;

  template <typename T>
  T* ptr() const {
    return static_cast<T*>(data);
  }
};

inline std::string shape_str(const std::vector<py::ssize_t>& shape) {
  std::ostringstream s;
  s << '(';
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s << ", ";
    s << shape[i];
  }
  if (shape.size() == 1) s << ',';
  s << ')';
  return s.str();
}

inline std::vector<py::ssize_t> shape_of(const py::array& a) {
  return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

inline std::string describe(py::handle obj) {
  if (py::isinstance<py::array>(obj)) {
    auto a = py::reinterpret_borrow<py::array>(obj);
    return std::string(py::str(a.dtype())) + " array of shape " + shape_str(shape_of(a));
  }
  return std::string(py::str(py::type::handle_of(obj).attr("__name__")));
}

// The float dtype of an array, if it is one of ours (native byte order included).
inline bool float_dtype(const py::array& a, DType& out) {
  static const py::dtype f32 = py::dtype::of<float>();
  static const py::dtype f64 = py::dtype::of<double>();
  PyObject* d = a.dtype().ptr();
  auto& api = py::detail::npy_api::get();
  if (d == f64.ptr() || api.PyArray_EquivTypes_(d, f64.ptr())) {
    out = DType::f64;
    return true;
  }
  if (d == f32.ptr() || api.PyArray_EquivTypes_(d, f32.ptr())) {
    out = DType::f32;
    return true;
  }
  return false;
}

// An array the call reads (`writable` false) or updates in place (`writable` true). Never
// converted: a copy would make an in-place update land in the copy and be lost.
inline ArrayRef checked_array(py::handle obj, const std::string& name, bool writable) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(name + ": expected a float32 or float64 NumPy array, got " +
                         describe(obj));
  }
  ArrayRef r;
  r.array = py::reinterpret_borrow<py::array>(obj);
  if (!float_dtype(r.array, r.dtype)) {
    throw py::type_error(name + ": expected a float32 or float64 array, got " + describe(obj));
  }
  const int flags = py::detail::array_proxy(r.array.ptr())->flags;
  if (!(flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_)) {
    throw py::value_error(name + ": expected a C-contiguous array, got a strided view of shape " +
                          shape_str(shape_of(r.array)) +
                          " (an update of a copy would be lost; pass np.ascontiguousarray(" +
                          name + ") and keep that array)");
  }
  if (!(flags & py::detail::npy_api::NPY_ARRAY_ALIGNED_)) {
    throw py::value_error(name + ": expected an aligned array, got a misaligned buffer");
  }
  if (writable && !(flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_)) {
    throw py::value_error(name + ": expected a writeable array (it is updated in place), got a "
                                 "read-only one");
  }
  r.data = const_cast<void*>(r.array.data());
  r.size = static_cast<std::int64_t>(r.array.size());
  r.nbytes = static_cast<std::int64_t>(r.array.nbytes());
  r.shape = shape_of(r.array);
  return r;
}

// `a` must have the dtype and shape of `like` (the parameter it belongs to).
inline void check_like(const ArrayRef& a, const std::string& name, const ArrayRef& like,
                       const std::string& like_name) {
  if (a.dtype != like.dtype || a.shape != like.shape) {
    const std::string msg = name + ": expected " + dtype_name(like.dtype) + " array of shape " +
                            shape_str(like.shape) + " like " + like_name + ", got " +
                            dtype_name(a.dtype) + " " + shape_str(a.shape);
    if (a.dtype != like.dtype) throw py::type_error(msg);
    throw py::value_error(msg);
  }
}

// One argument that is a single array or a list/tuple of arrays (a model's parameters).
struct ArrayList {
  std::vector<ArrayRef> items;
  std::vector<std::string> names;
  bool is_list = false;
};

inline ArrayList checked_arrays(py::handle obj, const std::string& name, bool writable) {
  ArrayList out;
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    out.is_list = true;
    auto seq = py::reinterpret_borrow<py::sequence>(obj);
    const auto n = static_cast<std::size_t>(py::len(seq));
    out.items.reserve(n);
    out.names.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      out.names.push_back(name + "[" + std::to_string(i) + "]");
      out.items.push_back(checked_array(seq[i], out.names.back(), writable));
    }
  } else {
    out.names.push_back(name);
    out.items.push_back(checked_array(obj, name, writable));
  }
  return out;
}

// `arrays` must pair up with the parameters one to one, each like its parameter.
inline void check_list_like(const ArrayList& arrays, const std::string& name,
                            const ArrayList& params) {
  if (arrays.is_list != params.is_list || arrays.items.size() != params.items.size()) {
    const auto count = [](const ArrayList& l) {
      return l.is_list ? "a list of " + std::to_string(l.items.size()) + " arrays"
                       : std::string("one array");
    };
    throw py::value_error(name + ": expected " + count(params) + " like param, got " +
                          count(arrays));
  }
  for (std::size_t i = 0; i < arrays.items.size(); ++i) {
    check_like(arrays.items[i], arrays.names[i], params.items[i], params.names[i]);
  }
}

// Arrays that the kernel writes must not share memory with any other array of the call
// (byte ranges are compared after sorting, so a long list costs n log n, not n^2).
inline void check_no_overlap(const std::vector<std::pair<const ArrayRef*, const std::string*>>& all) {
  struct Span {
    std::uintptr_t begin, end;
    const std::string* name;
  };
  std::vector<Span> spans;
  spans.reserve(all.size());
  for (const auto& [a, name] : all) {
    if (a->nbytes == 0) continue;
    const auto b = reinterpret_cast<std::uintptr_t>(a->data);
    spans.push_back({b, b + static_cast<std::uintptr_t>(a->nbytes), name});
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& x, const Span& y) { return x.begin < y.begin; });
  std::size_t reach = 0;  // the span seen so far that reaches furthest
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[reach].end > spans[i].begin) {
      throw py::value_error(*spans[i].name + ": must not share memory with " +
                            *spans[reach].name + " (both are read or updated by one step)");
    }
    if (spans[i].end > spans[reach].end) reach = i;
  }
}

// A hyper-parameter given as a number, or as a 1-D array with one value per row of a 2-D
// parameter array. Values must be finite and within [lo, hi] (open ends as flagged).
struct HyperSpec {
  const char* name;
  double lo, hi;
  bool lo_open = false, hi_open = false;
};

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

// The valid range of every float hyper-parameter, defined once: the functional kernels, the
// optimizer engines and their setters all check against these, so their messages agree.
namespace ranges {
inline constexpr HyperSpec lr{"lr", 0.0, kInfinity};
inline constexpr HyperSpec momentum{"momentum", 0.0, kInfinity};
inline constexpr HyperSpec dampening{"dampening", 0.0, 1.0};
inline constexpr HyperSpec weight_decay{"weight_decay", 0.0, kInfinity};
inline constexpr HyperSpec lr_decay{"lr_decay", 0.0, kInfinity};
inline constexpr HyperSpec eps{"eps", 0.0, kInfinity, true};  // > 0: it keeps a division finite
inline constexpr HyperSpec alpha{"alpha", 0.0, 1.0};
// beta < 1: at beta = 1 the bias correction 1 - beta**step is 0 and the step divides by it.
inline constexpr HyperSpec beta1{"betas[0]", 0.0, 1.0, false, true};
inline constexpr HyperSpec beta2{"betas[1]", 0.0, 1.0, false, true};
}  // namespace ranges

inline std::string range_str(const HyperSpec& s) {
  std::ostringstream o;
  if (std::isinf(s.hi)) {
    o << (s.lo_open ? "> " : ">= ") << s.lo;
  } else {
    o << "in " << (s.lo_open ? '(' : '[') << s.lo << ", " << s.hi << (s.hi_open ? ')' : ']');
  }
  return o.str();
}

inline bool in_range(double v, const HyperSpec& s) {
  return std::isfinite(v) && (s.lo_open ? v > s.lo : v >= s.lo) &&
         (s.hi_open ? v < s.hi : v <= s.hi);
}

// Whether every v[i] is in range: one branch-free pass (a sweep checks its per-run arrays on
// every step); the caller finds the first bad row only when there is one.
inline bool all_in_range(const double* v, std::int64_t n, const HyperSpec& s) {
  const double lo = s.lo, hi = s.hi;
  const bool lo_open = s.lo_open, hi_open = s.hi_open;
  const double max = std::numeric_limits<double>::max();
  std::int64_t bad = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = v[i];
    const bool ok = (std::abs(x) <= max) & (lo_open ? x > lo : x >= lo) &
                    (hi_open ? x < hi : x <= hi);
    bad += !ok;
  }
  return bad == 0;
}

// The message of an out-of-range value; out of line, so that the checks of a per-row array
// (one per run of a sweep, every step) do not set up a string stream's frame per value.
[[noreturn]] __attribute__((noinline, cold)) inline void throw_range_error(
    double v, const HyperSpec& s, std::int64_t row) {
  std::ostringstream o;
  o << s.name << ": expected a finite value " << range_str(s) << ", got " << v;
  if (row >= 0) o << " (row " << row << ")";
  throw py::value_error(o.str());
}

// row < 0: a single value; otherwise the row of a per-row array (named in the message).
inline void check_range(double v, const HyperSpec& s, std::int64_t row = -1) {
  if (!in_range(v, s)) throw_range_error(v, s, row);
}

// Holds the values of a per-row hyper-parameter for as long as the Hyper view is used.
struct HyperValue {
  double scalar = 0.0;
  std::vector<double> values;
  bool per_row = false;

  Hyper view() const { return per_row ? Hyper(values.data()) : Hyper(scalar); }
  // How many values there are to check: one, or one per row (possibly none).
  std::int64_t count() const { return per_row ? static_cast<std::int64_t>(values.size()) : 1; }
  // Rows to visit when checking this together with `other` (both per-row arrays have one
  // value per row of the same param, so they agree whenever both vary).
  std::int64_t count_with(const HyperValue& other) const {
    return per_row ? count() : other.count();
  }
};

// rows < 0: the parameter is not a 2-D array, so per-row values are not allowed.
inline HyperValue checked_hyper(py::handle obj, const HyperSpec& spec, std::int64_t rows) {
  HyperValue h;
  if (py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).ndim() > 0) {
    auto a = py::reinterpret_borrow<py::array>(obj);
    if (rows < 0) {
      throw py::value_error(std::string(spec.name) +
                            ": per-row values need a 2-D param (one row per run); got an "
                            "array for a param that is not 2-D");
    }
    if (a.ndim() != 1 || a.shape(0) != rows) {
      throw py::value_error(std::string(spec.name) + ": expected a number or a 1-D array of " +
                            std::to_string(rows) + " values (one per row of param), got " +
                            describe(obj));
    }
    const char kind = a.dtype().kind();
    if (kind != 'f' && kind != 'i' && kind != 'u') {
      throw py::type_error(std::string(spec.name) + ": expected real numbers, got " +
                           describe(obj));
    }
    auto d = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
    h.values.assign(d.data(), d.data() + rows);
    if (!all_in_range(h.values.data(), rows, spec)) {
      for (std::int64_t r = 0; r < rows; ++r) check_range(h.values[r], spec, r);
    }
    h.per_row = true;
    return h;
  }
  if (py::isinstance<py::bool_>(obj) ||
      !(py::isinstance<py::float_>(obj) || py::isinstance<py::int_>(obj) ||
        py::isinstance<py::array>(obj) || PyNumber_Check(obj.ptr()))) {
    throw py::type_error(std::string(spec.name) + ": expected a real number, got " +
                         describe(obj));
  }
  try {
    h.scalar = obj.cast<double>();
  } catch (const py::cast_error&) {
    throw py::type_error(std::string(spec.name) + ": expected a real number, got " +
                         describe(obj));
  }
  check_range(h.scalar, spec);
  return h;
}

}  // namespace saddlepoint::bindings
