// Batched symmetric eigensolvers: argument checks, then the GIL released around the kernels of
// saddlepoint/linalg/eigh.hpp. The Python layer (saddlepoint.linalg) makes strided or foreign-byte-
// order input contiguous first; these functions require C-contiguous float32/float64 stacks.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "bindings/common.hpp"
#include "bindings/register.hpp"
#include "saddlepoint/dispatch/levels.hpp"

namespace py = pybind11;

namespace saddlepoint::bindings {

namespace {

// A validated stack (..., n, n) with its batch shape and the symmetry tolerance in force.
struct Stack {
  ArrayRef a;
  std::vector<py::ssize_t> batch;
  std::int64_t count = 1;
  std::int64_t n = 0;
  double rtol = 0.0;
};

std::string index_str(std::int64_t flat, const std::vector<py::ssize_t>& batch) {
  std::vector<std::int64_t> idx(batch.size());
  for (std::size_t d = batch.size(); d-- > 0;) {
    idx[d] = flat % batch[d];
    flat /= batch[d];
  }
  std::ostringstream s;
  s << '[';
  for (std::size_t d = 0; d < idx.size(); ++d) s << (d ? ", " : "") << idx[d];
  s << ']';
  return s.str();
}

std::string num(double x) {
  std::ostringstream s;
  s.precision(3);
  s << x;
  return s.str();
}

Stack checked_stack(py::handle obj, const std::string& name, std::optional<double> rtol) {
  Stack s;
  s.a = checked_array(obj, name, /*writable=*/false);
  const auto& shape = s.a.shape;
  if (shape.size() < 2 || shape[shape.size() - 1] != shape[shape.size() - 2]) {
    throw py::value_error(name + ": expected a stack of square matrices of shape (..., n, n), got " +
                          describe(obj));
  }
  s.n = shape.back();
  s.batch.assign(shape.begin(), shape.end() - 2);
  for (auto b : s.batch) s.count *= b;
  const double eps = s.a.dtype == DType::f32 ? std::numeric_limits<float>::epsilon()
                                             : std::numeric_limits<double>::epsilon();
  s.rtol = rtol ? *rtol : std::sqrt(eps);
  if (!std::isfinite(s.rtol) || s.rtol < 0.0) {
    throw py::value_error("symmetry_rtol: expected a finite value >= 0, got " + num(s.rtol));
  }
  return s;
}

// Scans the data (GIL released: the buffer is kept alive by s.a) and raises on the first
// non-finite or non-symmetric matrix, so no kernel ever sees one.
void check_values(const Stack& s, const std::string& name, bool symmetrize) {
  StackCheck c;
  {
    py::gil_scoped_release release;
    if (s.a.dtype == DType::f32) {
      c = dispatch::kernels<float>().check_stack(s.a.ptr<float>(), s.count, s.n, s.rtol, !symmetrize);
    } else {
      c = dispatch::kernels<double>().check_stack(s.a.ptr<double>(), s.count, s.n, s.rtol, !symmetrize);
    }
  }
  if (c.index < 0) return;
  const std::string where = s.batch.empty() ? std::string() : " " + index_str(c.index, s.batch);
  if (c.nonfinite) {
    const double x = s.a.dtype == DType::f32
                         ? s.a.ptr<float>()[(c.index * s.n + c.row) * s.n + c.col]
                         : s.a.ptr<double>()[(c.index * s.n + c.row) * s.n + c.col];
    throw py::value_error(name + ": expected finite values, got " + num(x) + " in matrix" +
                          where + " at row " + std::to_string(c.row) + ", column " +
                          std::to_string(c.col));
  }
  std::ostringstream o;
  o.precision(3);
  o << name << ": expected a symmetric matrix, but matrix" << where
    << " has max |a[i, j] - a[j, i]| = " << c.asymmetry << " at (" << c.row << ", " << c.col
    << "), " << (c.scale > 0 ? c.asymmetry / c.scale : 0.0) << " relative to max |a[i, j]| = "
    << c.scale << ", above symmetry_rtol = " << s.rtol
    << " (pass symmetrize=True to use (a + a^T) / 2)";
  throw py::value_error(o.str());
}

template <typename T>
py::object solve(const Stack& s, bool vectors, bool symmetrize) {
  std::vector<py::ssize_t> wshape = s.batch;
  wshape.push_back(s.n);
  py::array_t<T> w(wshape);
  py::array_t<T> v;
  if (vectors) v = py::array_t<T>(s.a.shape);
  T* wp = w.mutable_data();
  T* vp = vectors ? v.mutable_data() : nullptr;
  {
    // all checks passed and the outputs are new arrays: no Python objects below
    py::gil_scoped_release release;
    dispatch::kernels<T>().eigh_stack(s.a.ptr<T>(), s.count, s.n, wp, vp, symmetrize);
  }
  if (vectors) return py::make_tuple(w, v);
  return std::move(w);
}

py::object decompose(py::handle a, bool vectors, bool symmetrize, std::optional<double> rtol,
                     const std::string& name) {
  const Stack s = checked_stack(a, name, rtol);
  check_values(s, name, symmetrize);
  return s.a.dtype == DType::f32 ? solve<float>(s, vectors, symmetrize)
                                 : solve<double>(s, vectors, symmetrize);
}

template <typename T>
py::tuple count_inertia(const Stack& s, bool symmetrize, double rtol, double atol) {
  py::array_t<std::int64_t> positive(s.batch), negative(s.batch);
  py::array_t<double> tol(s.batch);
  std::int64_t* pp = positive.mutable_data();
  std::int64_t* np = negative.mutable_data();
  double* tp = tol.mutable_data();
  {
    py::gil_scoped_release release;
    dispatch::kernels<T>().inertia_stack(s.a.ptr<T>(), s.count, s.n, symmetrize, rtol, atol, pp,
                                         np, tp);
  }
  return py::make_tuple(positive, negative, tol);
}

py::tuple inertia(py::handle a, bool symmetrize, std::optional<double> symmetry_rtol,
                  double rtol, double atol, const std::string& name) {
  if (!std::isfinite(rtol) || rtol < 0.0) {
    throw py::value_error("rtol: expected a finite value >= 0, got " + num(rtol));
  }
  if (!std::isfinite(atol) || atol < 0.0) {
    throw py::value_error("atol: expected a finite value >= 0, got " + num(atol));
  }
  const Stack s = checked_stack(a, name, symmetry_rtol);
  check_values(s, name, symmetrize);
  return s.a.dtype == DType::f32 ? count_inertia<float>(s, symmetrize, rtol, atol)
                                 : count_inertia<double>(s, symmetrize, rtol, atol);
}

// The three stack functions take the same arguments: f(a, symmetrize, symmetry_rtol, name).
template <typename F>
void def_stack_function(py::module_& m, const char* function, F&& f, const char* doc) {
  m.def(function, std::forward<F>(f), py::arg("a"), py::kw_only(), py::arg("symmetrize") = false,
        py::arg("symmetry_rtol") = py::none(), py::arg("name") = "a", doc);
}

}  // namespace

void bind_linalg(py::module_& m) {
  def_stack_function(
      m, "eigh_stack",
      [](py::handle a, bool symmetrize, std::optional<double> rtol, const std::string& name) {
        return decompose(a, true, symmetrize, rtol, name);
      },
      "Eigenvalues (ascending) and eigenvectors (columns) of a C-contiguous float32/float64 "
      "stack (..., n, n) of symmetric matrices; returns (w, v) in the input's dtype. The lower "
      "triangle is used, or (a + a^T)/2 with symmetrize=True. Raises ValueError for non-finite "
      "entries or asymmetry above symmetry_rtol * max|a_ij| (default sqrt(eps)). `name` is "
      "the argument name used in error messages.");
  def_stack_function(
      m, "eigvalsh_stack",
      [](py::handle a, bool symmetrize, std::optional<double> rtol, const std::string& name) {
        return decompose(a, false, symmetrize, rtol, name);
      },
      "Eigenvalues (ascending) of a C-contiguous float32/float64 stack (..., n, n) of symmetric "
      "matrices, checked like eigh_stack.");
  m.def("inertia_stack", &inertia, py::arg("a"), py::kw_only(), py::arg("symmetrize") = false,
        py::arg("symmetry_rtol") = py::none(), py::arg("rtol"), py::arg("atol") = 0.0,
        py::arg("name") = "a",
        "Eigenvalue counts of a C-contiguous float32/float64 stack (..., n, n) of symmetric "
        "matrices without the eigenvalues (Bunch-Kaufman LDL^T, Sylvester's law of inertia): "
        "returns (n_positive, n_negative, tol) over the batch shape, the counts of eigenvalues "
        "above tol and below -tol, tol = max(atol, rtol * ||a||_F). Checked like eigh_stack.");
  def_stack_function(
      m, "check_symmetric_stack",
      [](py::handle a, bool symmetrize, std::optional<double> rtol, const std::string& name) {
        check_values(checked_stack(a, name, rtol), name, symmetrize);
      },
      "Raise as eigh_stack would for this stack (shape, dtype, finite values, symmetry), "
      "without decomposing it: the check in front of the LAPACK path.");
}

}  // namespace saddlepoint::bindings
