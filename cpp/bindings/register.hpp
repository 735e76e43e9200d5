// One registration function per bind_*.cpp file, called from module.cpp.
#pragma once

#include <pybind11/pybind11.h>

namespace saddlepoint::bindings {

void bind_config(pybind11::module_& m);
void bind_kernels(pybind11::module_& m);
void bind_optim(pybind11::module_& m);
void bind_linalg(pybind11::module_& m);
void bind_sweep(pybind11::module_& m);
void bind_monitor(pybind11::module_& m);

}  // namespace saddlepoint::bindings
