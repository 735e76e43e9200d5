// Native sweep loops for the built-in surfaces: argument checks, then the GIL is released and
// saddlepoint::native_sweep runs every run to the end.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/common.hpp"
#include "bindings/register.hpp"
#include "saddlepoint/dispatch/levels.hpp"

namespace py = pybind11;

namespace saddlepoint::bindings {

namespace {

using surfaces::SurfaceId;

SurfaceId checked_surface(const std::string& name) {
  const auto& names = surfaces::native_surface_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw py::value_error("surface: expected one of the native surfaces (" + known + "), got '" +
                          name + "'");
  }
  return static_cast<SurfaceId>(it - names.begin());
}

// The dimension a surface takes, checked against `dim`; quadratic needs its (dim, dim) matrix.
std::vector<double> checked_matrix(SurfaceId id, int dim, const py::object& matrix) {
  const bool fixed2 = !(id == SurfaceId::rosenbrock || id == SurfaceId::rastrigin ||
                        id == SurfaceId::styblinski_tang || id == SurfaceId::quadratic);
  if (fixed2 && dim != 2) {
    throw py::value_error("dim: this surface is 2-D, got dim=" + std::to_string(dim));
  }
  const int lo = id == SurfaceId::rosenbrock ? 2 : 1;
  if (dim < lo || dim > kMaxNativeSweepDim) {
    throw py::value_error("dim: expected " + std::to_string(lo) + " <= dim <= " +
                          std::to_string(kMaxNativeSweepDim) + " for a native sweep, got " +
                          std::to_string(dim));
  }
  if (id != SurfaceId::quadratic) {
    if (!matrix.is_none()) throw py::value_error("matrix: only the quadratic surface takes one");
    return {};
  }
  if (matrix.is_none()) throw py::value_error("matrix: the quadratic surface needs its matrix A");
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(matrix);
  if (!a || a.ndim() != 2 || a.shape(0) != dim || a.shape(1) != dim) {
    throw py::value_error("matrix: expected a (" + std::to_string(dim) + ", " +
                          std::to_string(dim) + ") array, got " + describe(matrix));
  }
  return std::vector<double>(a.data(), a.data() + a.size());
}

// A read-only per-run array of `runs` values, converted to T's numpy type.
template <typename V>
py::array_t<V, py::array::c_style | py::array::forcecast> per_run(const py::object& obj,
                                                                   const char* name,
                                                                   std::int64_t runs) {
  auto a = py::array_t<V, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a || a.ndim() != 1 || a.shape(0) != runs) {
    throw py::value_error(std::string(name) + ": expected a 1-D array of " +
                          std::to_string(runs) + " values (one per run), got " + describe(obj));
  }
  return a;
}

py::dict sweep_binding(const std::string& surface, py::object x_obj, std::int64_t steps,
                       const std::string& optimizer, py::dict hyper, py::object lr_index_obj,
                       py::object lr_table_obj, py::object matrix, double threshold,
                       double divergence, py::dict flags) {
  const SurfaceId id = checked_surface(surface);
  ArrayRef x = checked_array(x_obj, "x", true);
  if (x.shape.size() != 2) {
    throw py::value_error("x: expected a 2-D array (runs, dim) of start points, got " +
                          describe(x_obj));
  }
  const std::int64_t runs = x.shape[0];
  const int dim = static_cast<int>(x.shape[1]);
  const std::vector<double> a = checked_matrix(id, dim, matrix);
  if (steps < 0) throw py::value_error("steps: expected an int >= 0, got " + std::to_string(steps));

  SweepHyper h;
  std::vector<const char*> needed;
  if (optimizer == "adam") {
    h.optimizer = SweepOptimizer::adam;
    needed = {"lr", "beta1", "beta2", "eps", "weight_decay"};
  } else if (optimizer == "sgd") {
    h.optimizer = SweepOptimizer::sgd;
    needed = {"lr", "momentum", "dampening", "weight_decay"};
  } else if (optimizer == "adagrad") {
    h.optimizer = SweepOptimizer::adagrad;
    needed = {"lr", "lr_decay", "weight_decay", "eps"};
  } else if (optimizer == "rmsprop") {
    h.optimizer = SweepOptimizer::rmsprop;
    needed = {"lr", "alpha", "eps", "weight_decay", "momentum"};
  } else {
    throw py::value_error("optimizer: expected 'sgd', 'adagrad', 'rmsprop' or 'adam', got '" +
                          optimizer + "'");
  }
  // Keep each converted array alive for the whole call.
  std::vector<py::array_t<double, py::array::c_style | py::array::forcecast>> keep;
  for (const char* name : needed) {
    if (!hyper.contains(name)) throw py::value_error(std::string("hyper: missing '") + name + "'");
    keep.push_back(per_run<double>(hyper[name], name, runs));
    const double* p = keep.back().data();
    const std::string n(name);
    if (n == "lr") h.lr = p;
    if (n == "beta1") h.beta1 = p;
    if (n == "beta2") h.beta2 = p;
    if (n == "eps") h.eps = p;
    if (n == "weight_decay") h.weight_decay = p;
    if (n == "momentum") h.momentum = p;
    if (n == "dampening") h.dampening = p;
    if (n == "lr_decay") h.lr_decay = p;
    if (n == "alpha") h.alpha = p;
  }
  auto lr_index = per_run<std::int64_t>(lr_index_obj, "lr_index", runs);
  auto lr_table = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(lr_table_obj);
  if (!lr_table || lr_table.ndim() != 2 || (lr_table.shape(0) > 0 && lr_table.shape(1) < steps)) {
    throw py::value_error("lr_table: expected a 2-D array (schedules, steps), got " +
                          describe(lr_table_obj));
  }
  for (std::int64_t r = 0; r < runs; ++r) {
    if (lr_index.data()[r] >= lr_table.shape(0)) {
      throw py::value_error("lr_index: row " + std::to_string(r) + " points past lr_table");
    }
  }
  h.lr_index = lr_index.data();
  h.lr_table = lr_table.data();
  const std::int64_t table_stride = lr_table.ndim() == 2 ? lr_table.shape(1) : steps;
  if (table_stride != steps && lr_table.shape(0) > 0) {
    throw py::value_error("lr_table: expected " + std::to_string(steps) + " columns, got " +
                          std::to_string(table_stride));
  }
  auto flag = [&](const char* name) {
    return flags.contains(name) && PyObject_IsTrue(flags[name].ptr()) == 1;
  };
  h.nesterov = flag("nesterov");
  h.maximize = flag("maximize");
  h.amsgrad = flag("amsgrad");
  h.centered = flag("centered");
  h.decoupled = flag("decoupled");
  h.weight_decay_on = flag("weight_decay_on");
  h.momentum_on = flag("momentum_on");
  h.threshold = threshold;
  h.divergence = divergence;

  py::array_t<double> final_loss(runs), best_loss(runs), grad_norm(runs);
  py::array_t<std::int64_t> threshold_step(runs);
  py::array_t<std::uint8_t> diverged(runs);
  const double* am = a.empty() ? nullptr : a.data();
  auto run = [&](auto zero) {
    using T = decltype(zero);
    SweepOut<T> out{x.ptr<T>(),          final_loss.mutable_data(), best_loss.mutable_data(),
                    grad_norm.mutable_data(), threshold_step.mutable_data(),
                    diverged.mutable_data()};
    // all checks passed; no Python objects below, so the GIL can go
    py::gil_scoped_release release;
    dispatch::kernels<T>().native_sweep(id, dim, am, runs, steps, h, out);
  };
  if (x.dtype == DType::f32) {
    run(float{});
  } else {
    run(double{});
  }
  py::dict result;
  result["final_loss"] = final_loss;
  result["best_loss"] = best_loss;
  result["grad_norm"] = grad_norm;
  result["threshold_step"] = threshold_step;
  result["diverged"] = diverged.attr("astype")("bool");
  return result;
}

py::tuple value_grad_binding(const std::string& surface, py::object x_obj, py::object matrix) {
  const SurfaceId id = checked_surface(surface);
  ArrayRef x = checked_array(x_obj, "x", false);
  if (x.shape.size() != 2) {
    throw py::value_error("x: expected a 2-D array (points, dim), got " + describe(x_obj));
  }
  const std::int64_t n = x.shape[0];
  const int dim = static_cast<int>(x.shape[1]);
  const std::vector<double> a = checked_matrix(id, dim, matrix);
  const double* am = a.empty() ? nullptr : a.data();
  auto run = [&](auto zero) -> py::tuple {
    using T = decltype(zero);
    py::array_t<T> values(n);
    py::array_t<T> grads({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(dim)});
    const T* xp = x.ptr<T>();
    T* vp = values.mutable_data();
    T* gp = grads.mutable_data();
    {
      py::gil_scoped_release release;
      dispatch::kernels<T>().surface_value_grad(id, dim, am, xp, n, vp, gp);
    }
    return py::make_tuple(values, grads);
  };
  return x.dtype == DType::f32 ? run(float{}) : run(double{});
}

}  // namespace

void bind_sweep(py::module_& m) {
  m.def("native_sweep_surfaces", &surfaces::native_surface_names,
        "Names of the surfaces whose value and gradient the compiled core carries.");
  m.def("native_surface_value_grad", &value_grad_binding, py::arg("surface"), py::arg("x"),
        py::arg("matrix") = py::none(),
        "Value (n,) and gradient (n, dim) of a native surface at the rows of x (n, dim); "
        "matrix: A of the quadratic surface. For tests against the Python definitions.");
  m.def("native_sweep", &sweep_binding, py::arg("surface"), py::arg("x"), py::arg("steps"),
        py::arg("optimizer"), py::arg("hyper"), py::arg("lr_index"), py::arg("lr_table"),
        py::arg("matrix") = py::none(), py::arg("threshold") = -kInfinity,
        py::arg("divergence") = 1e12, py::arg("flags") = py::dict(),
        "Run x.shape[0] optimizer runs of `steps` steps on a native surface, in place on x "
        "(runs, dim): the final points. hyper: per-run float64 arrays; runs with lr_index < 0 "
        "use hyper['lr'], the others row lr_index of lr_table (schedules, steps). flags: "
        "nesterov, maximize, amsgrad, centered, decoupled, weight_decay_on, momentum_on, "
        "uniform over the call. Returns final_loss, best_loss, grad_norm, threshold_step "
        "(-1: never), diverged.");
}

}  // namespace saddlepoint::bindings
