// The extension module saddlepoint._core: one submodule per area, each bound in its own file.
#include <pybind11/pybind11.h>

#include "bindings/register.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "saddlepoint's compiled core. Use the Python package (saddlepoint.kernels, "
            "saddlepoint.optim, saddlepoint.linalg, ...) rather than this module directly.";
  saddlepoint::bindings::bind_config(m);
  saddlepoint::bindings::bind_kernels(m.def_submodule("kernels", "Fused in-place optimizer steps."));
  saddlepoint::bindings::bind_optim(m.def_submodule("optim", "Optimizer engines holding state."));
  saddlepoint::bindings::bind_linalg(m.def_submodule("linalg", "Batched symmetric eigensolvers."));
  saddlepoint::bindings::bind_sweep(m.def_submodule("sweep", "Native sweep loops for built-in surfaces."));
}
