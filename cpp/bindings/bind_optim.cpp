#include "bindings/register.hpp"

namespace saddlepoint::bindings {

void bind_optim(pybind11::module_& /*m*/) {}

}  // namespace saddlepoint::bindings
