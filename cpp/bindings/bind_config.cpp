// Build configuration, the instruction-set level in use, and the process-wide thread setting.
#include <Eigen/Core>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings/register.hpp"
#include "saddlepoint/dispatch/levels.hpp"
#include "saddlepoint/parallel.hpp"

namespace py = pybind11;

namespace saddlepoint::bindings {

namespace {

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#elif defined(_MSC_VER)
  return "msvc " + std::to_string(_MSC_VER);
#else
  return "unknown";
#endif
}

// The levels compiled in, lowest first, with what each needs and whether this CPU runs it.
py::list isa_levels() {
  py::list out;
  for (const dispatch::LevelInfo& l : dispatch::compiled_levels()) {
    py::dict d;
    d["name"] = l.name;
    d["requires"] = l.requires_;
    d["supported"] = l.supported;
    out.append(d);
  }
  return out;
}

}  // namespace

void bind_config(py::module_& m) {
  m.attr("__version__") = SADDLEPOINT_VERSION;

  m.def(
      "build_config",
      []() {
        py::dict d;
        d["version"] = SADDLEPOINT_VERSION;
        d["compiler"] = compiler();
        d["eigen_version"] = std::to_string(EIGEN_WORLD_VERSION) + "." +
                             std::to_string(EIGEN_MAJOR_VERSION) + "." +
                             std::to_string(EIGEN_MINOR_VERSION);
        d["isa"] = dispatch::active_level_name();
        d["isa_compiled"] = isa_levels();
        d["eigen_simd"] = std::string(dispatch::active_level().eigen_simd);
        d["openmp"] = openmp_enabled();
        d["num_threads"] = get_num_threads();
        d["parallel_threshold"] = kParallelThreshold;
        d["pybind11_version"] = std::to_string(PYBIND11_VERSION_MAJOR) + "." +
                                std::to_string(PYBIND11_VERSION_MINOR) + "." +
                                std::to_string(PYBIND11_VERSION_PATCH);
        return d;
      },
      "Build facts: compiler, Eigen version, the instruction-set level in use (isa) and those "
      "compiled (isa_compiled), Eigen's SIMD at that level, OpenMP and thread count.");

  m.def(
      "_select_isa",
      [](const std::string& name) {
        const std::string error = dispatch::select_level(name);
        if (!error.empty()) throw py::value_error("name: " + error);
      },
      py::arg("name"),
      "Run the kernels of the compiled level `name` from now on (tests compare levels in one "
      "process; users set SADDLEPOINT_ISA before import instead).");

  m.def("get_num_threads", &get_num_threads,
        "Threads the kernels may use (from OMP_NUM_THREADS or set_num_threads; 1 without OpenMP).");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) throw py::value_error("n: expected a thread count >= 1, got " + std::to_string(n));
        set_num_threads(n);
      },
      py::arg("n"),
      "Set how many threads the kernels may use (a no-op without OpenMP). Arrays under "
      "parallel_threshold elements always run on the calling thread.");
}

}  // namespace saddlepoint::bindings
