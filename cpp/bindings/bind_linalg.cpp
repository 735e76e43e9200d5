// Batched symmetric eigensolvers (issue 3 fills this in).
#include "bindings/register.hpp"

namespace saddlepoint::bindings {

void bind_linalg(pybind11::module_& /*m*/) {}

}  // namespace saddlepoint::bindings
