// Native sweep loops for the built-in surfaces (issue 6 fills this in).
#include "bindings/register.hpp"

namespace saddlepoint::bindings {

void bind_sweep(pybind11::module_& /*m*/) {}

}  // namespace saddlepoint::bindings
