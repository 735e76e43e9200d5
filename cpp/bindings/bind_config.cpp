// Build configuration and the process-wide thread setting.
#include <Eigen/Core>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings/register.hpp"
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

std::string simd_level() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__)
  return "AVX2";
#elif defined(__AVX__)
  return "AVX";
#elif defined(__SSE4_2__)
  return "SSE4.2";
#elif defined(__SSE2__)
  return "SSE2";
#elif defined(__ARM_NEON)
  return "NEON";
#else
  return "none";
#endif
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
        d["simd"] = simd_level();
        d["eigen_simd"] = std::string(Eigen::SimdInstructionSetsInUse());
        d["openmp"] = openmp_enabled();
        d["num_threads"] = get_num_threads();
        d["parallel_threshold"] = kParallelThreshold;
        d["pybind11_version"] = std::to_string(PYBIND11_VERSION_MAJOR) + "." +
                                std::to_string(PYBIND11_VERSION_MINOR) + "." +
                                std::to_string(PYBIND11_VERSION_PATCH);
        return d;
      },
      "Build facts: compiler, Eigen version, SIMD level, OpenMP and thread count.");

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
