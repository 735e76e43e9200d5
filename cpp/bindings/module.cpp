// The extension module saddlepoint._core: one submodule per area, each bound in its own file.
#include <pybind11/pybind11.h>

#include <string>

#include "bindings/register.hpp"
#include "saddlepoint/dispatch/levels.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "saddlepoint's compiled core. Use the Python package (saddlepoint.kernels, "
            "saddlepoint.optim, saddlepoint.linalg, ...) rather than this module directly.";
  // The kernels' instruction-set level, before anything can call them: the best this CPU runs,
  // or the one SADDLEPOINT_ISA names (a typo or a level this CPU lacks fails the import).
  const std::string error = saddlepoint::dispatch::select_initial_level();
  if (!error.empty()) throw py::import_error("saddlepoint: " + error);
  saddlepoint::bindings::bind_config(m);
  // One flat namespace, so that the hand-written _core.pyi is one file; the Python modules
  // (kernels, optim, linalg, sweep) re-export what belongs to them.
  saddlepoint::bindings::bind_kernels(m);   // fused optimizer steps
  saddlepoint::bindings::bind_optim(m);     // optimizer engines holding registered arrays
  saddlepoint::bindings::bind_linalg(m);    // batched symmetric eigensolvers
  saddlepoint::bindings::bind_sweep(m);      // native sweep loops for built-in surfaces
  saddlepoint::bindings::bind_monitor(m);    // the Monitor's per-step instruments
}
