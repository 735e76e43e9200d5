#include "bindings/register.hpp"

namespace saddlepoint::bindings {

void bind_kernels(pybind11::module_& /*m*/) {}

}  // namespace saddlepoint::bindings
