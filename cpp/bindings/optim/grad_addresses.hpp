// Gradients given as raw addresses instead of NumPy arrays: for the torch bridge, where a
// real loop hands every step new grad tensors and making a NumPy view of each (torch's
// Tensor.numpy(), ~0.5 us a tensor) cost more than stepping a small model. The bridge has
// checked each grad (a live, contiguous CPU tensor of the parameter's dtype, held for the
// call) and passes `data_ptr()` and `numel()`; the engine checks what it can
// check from numbers alone: the count, each size against its parameter's, the alignment,
// and that no grad overlaps a parameter or state buffer (the kernels write those).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace saddlepoint::bindings {

namespace py = pybind11;

struct GradAddresses {
  std::vector<std::uintptr_t> addresses;
  std::vector<std::int64_t> sizes;  // elements

  // From two lists (or tuples) of ints, read through the C API: a step passes a hundred.
  GradAddresses(py::handle addr, py::handle counts) {
    if (!(PyList_Check(addr.ptr()) || PyTuple_Check(addr.ptr())) ||
        !(PyList_Check(counts.ptr()) || PyTuple_Check(counts.ptr()))) {
      throw py::type_error("addresses, sizes: expected lists of ints");
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(addr.ptr());
    if (PySequence_Fast_GET_SIZE(counts.ptr()) != n) {
      throw py::value_error("sizes: expected one size per address, got " +
                            std::to_string(PySequence_Fast_GET_SIZE(counts.ptr())) + " for " +
                            std::to_string(n));
    }
    addresses.resize(static_cast<std::size_t>(n));
    sizes.resize(static_cast<std::size_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      const auto a = PyLong_AsUnsignedLongLong(PySequence_Fast_GET_ITEM(addr.ptr(), i));
      const auto c = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(counts.ptr(), i));
      if (PyErr_Occurred()) throw py::error_already_set();
      if (c < 0) throw py::value_error("sizes: expected sizes >= 0");
      addresses[static_cast<std::size_t>(i)] = static_cast<std::uintptr_t>(a);
      sizes[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(c);
    }
  }
};

}  // namespace saddlepoint::bindings
