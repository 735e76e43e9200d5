// A module function called with CPython's vectorcall convention (METH_FASTCALL |
// METH_KEYWORDS), its keywords matched against interned names by pointer. pybind11's
// dispatcher looks every keyword up by building a str from its C name (a UTF-8 decode and a
// hash per argument per call): with the functional steps' ten keywords that was a third of
// a 2 us call on 100 elements. The function still takes py::handle arguments and raises
// through pybind11's exception translators, so its checks and messages are unchanged.
#pragma once

#include <pybind11/pybind11.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace saddlepoint::bindings {

namespace py = pybind11;

struct FastArg {
  const char* name;
  py::object default_value;  // a null handle: required
};

namespace detail {

struct FastSpec {
  std::string name, doc;
  Py_ssize_t max_positional = 0;
  std::vector<PyObject*> names;     // interned, held for the life of the process
  std::vector<py::object> defaults;  // null: required
  std::function<void(const py::handle*)> body;
  PyMethodDef def{};
};

[[noreturn]] inline void raise_type_error(const std::string& msg) {
  PyErr_SetString(PyExc_TypeError, msg.c_str());
  throw py::error_already_set();
}

// One slot per function, so that the function's `self` can be the module (as for any
// built-in function: help() and __self__ look as usual) and its spec is found by the id.
inline FastSpec* fast_specs[16] = {};

inline PyObject* fast_call(const FastSpec* spec, PyObject* const* args, Py_ssize_t nargs,
                           PyObject* kwnames) {
  const std::size_t n = spec->names.size();
  try {
    // at most a dozen arguments: a fixed buffer, no allocation per call
    PyObject* values[32] = {};
    if (nargs > spec->max_positional) {
      raise_type_error(spec->name + "() takes at most " + std::to_string(spec->max_positional) +
                       " positional arguments (" + std::to_string(nargs) + " given)");
    }
    for (Py_ssize_t i = 0; i < nargs; ++i) values[i] = args[i];
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; ++k) {
      PyObject* key = PyTuple_GET_ITEM(kwnames, k);
      std::size_t j = 0;
      while (j < n && spec->names[j] != key) ++j;  // keywords in calls are interned
      if (j == n) {  // a keyword built at run time: compare the text
        j = 0;
        while (j < n && PyUnicode_Compare(spec->names[j], key) != 0) ++j;
      }
      if (j == n) {
        raise_type_error(spec->name + "() got an unexpected keyword argument '" +
                         py::str(key).cast<std::string>() + "'");
      }
      if (values[j]) {
        raise_type_error(spec->name + "() got multiple values for argument '" +
                         py::str(key).cast<std::string>() + "'");
      }
      values[j] = args[nargs + k];
    }
    py::handle handles[32];
    for (std::size_t j = 0; j < n; ++j) {
      if (!values[j]) {
        if (!spec->defaults[j]) {
          raise_type_error(spec->name + "() missing required argument '" +
                           py::str(spec->names[j]).cast<std::string>() + "'");
        }
        values[j] = spec->defaults[j].ptr();
      }
      handles[j] = values[j];
    }
    spec->body(handles);
  } catch (py::error_already_set& e) {
    e.restore();
    return nullptr;
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
  Py_RETURN_NONE;
}

template <int Id>
PyObject* fast_call_of(PyObject* /*module*/, PyObject* const* args, Py_ssize_t nargs,
                       PyObject* kwnames) {
  return fast_call(fast_specs[Id], args, nargs, kwnames);
}

}  // namespace detail

// m.<name>(*args, **kwargs) -> None calling `body(handles)` with one handle per entry of
// `args` (given or defaulted); the first `positional` may be passed by position. `Id`: a
// number of its own for each function so registered (0..15).
template <int Id>
void def_fast(py::module_& m, const char* name, std::size_t positional,
                     std::vector<FastArg> args, std::function<void(const py::handle*)> body,
                     const char* doc) {
  static_assert(Id >= 0 && Id < 16, "def_fast: Id out of range");
  if (args.size() > 32 || positional > args.size() || detail::fast_specs[Id]) {
    throw std::logic_error(std::string("def_fast: bad arguments or Id reused for ") + name);
  }
  auto* spec = new detail::FastSpec();  // lives as long as the function (the process)
  detail::fast_specs[Id] = spec;
  spec->name = name;
  spec->max_positional = static_cast<Py_ssize_t>(positional);
  std::string sig = std::string(name) + "(";
  for (std::size_t j = 0; j < args.size(); ++j) {
    PyObject* key = PyUnicode_InternFromString(args[j].name);
    if (!key) throw py::error_already_set();
    spec->names.push_back(key);
    spec->defaults.push_back(std::move(args[j].default_value));
    if (j) sig += ", ";
    if (j == positional && positional < args.size()) sig += "*, ";
    sig += args[j].name;
    if (spec->defaults.back()) sig += "=" + py::repr(spec->defaults.back()).cast<std::string>();
  }
  spec->doc = sig + ") -> None\n\n" + doc;
  spec->body = std::move(body);
  spec->def = {spec->name.c_str(), reinterpret_cast<PyCFunction>(
                                       reinterpret_cast<void (*)()>(&detail::fast_call_of<Id>)),
               METH_FASTCALL | METH_KEYWORDS, spec->doc.c_str()};
  py::object module_name = m.attr("__name__");
  auto fn = py::reinterpret_steal<py::object>(
      PyCFunction_NewEx(&spec->def, m.ptr(), module_name.ptr()));
  if (!fn) throw py::error_already_set();
  m.add_object(name, fn);
}

}  // namespace saddlepoint::bindings
