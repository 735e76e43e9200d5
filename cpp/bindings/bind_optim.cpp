// Optimizer engines: the registration of what every engine shares is one template
// (register_engine: step, the hyper-parameter properties and their names), as boost-histogram
// registers the shared part of its histogram bindings; each engine adds its constructor and
// what is its own. The engines themselves are in optim/engines.hpp.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/optim/engines.hpp"
#include "bindings/register.hpp"

namespace py = pybind11;

namespace saddlepoint::bindings {

namespace {

// A setter taking any Python object (validation, with its messages, is the engine's).
template <typename E>
auto setter(void (E::*f)(py::handle)) {
  return [f](E& e, py::object v) { (e.*f)(v); };
}

const char* const kStepDoc =
    "Take one step: update the registered parameters in place from `grads` (an array like "
    "the parameter, or a list like the list of parameters).";

// step, one property per entry of E::settings_table() (a float hyper-parameter settable, a
// switch read-only), and `hyper_names`: the table's names in order, the single list that the
// Python optimizer classes take their hyper-parameters from.
template <typename E>
py::class_<E, Engine> register_engine(py::module_& m, const char* name, const char* doc) {
  py::class_<E, Engine> cls(m, name, doc);
  cls.def("step", &E::step, py::arg("grads"), kStepDoc);
  py::list names;
  for (const auto& entry : E::settings_table()) {
    names.append(entry.name);
    if (entry.value) {
      const auto member = entry.value;
      const HyperSpec* range = entry.range;
      cls.def_property(
          entry.name, [member](const E& e) { return e.get(member); },
          [member, range](E& e, py::object v) { e.set(member, *range, v); });
    } else if (entry.flag) {
      const auto flag = entry.flag;
      cls.def_property_readonly(entry.name, [flag](const E& e) { return e.settings().*flag; });
    }
  }
  cls.attr("hyper_names") = py::tuple(names);
  return cls;
}

}  // namespace

void bind_optim(py::module_& m) {
  py::class_<GradAddresses>(
      m, "GradAddresses",
      "Gradients as (addresses, sizes in elements) of live, contiguous arrays of the engine's dtype, one "
      "per parameter, held by the caller through the step: the torch bridge's fast path.")
      .def(py::init<py::handle, py::handle>(), py::arg("addresses"),
           py::arg("sizes"));
  py::class_<Engine>(m, "Engine", "Registered parameters, flat state buffers and a step count.")
      .def_property_readonly("params", &Engine::params, "The registered parameter arrays.")
      .def_property_readonly("_is_list", &Engine::is_list)
      .def("_buffers", &Engine::buffers, "The flat state buffers by name (live, not copies).")
      .def_property("steps", &Engine::steps, &Engine::set_steps, "Steps taken so far.")
      .def_property("lr", &Engine::lr, setter(&Engine::set_lr),
                    "Learning rate of the next step; set a number, per-row array or schedule.")
      .def_property_readonly("schedule", &Engine::schedule,
                             "The learning-rate schedule (callable step -> lr), or None.")
      .def("_set_instrumented", &Engine::set_instrumented, py::arg("on"),
           "Take the Monitor's instruments inside every step from now on (SGD, Adam/AdamW).")
      .def_property_readonly("_instrumented", &Engine::instrumented)
      .def("_step_sums", &Engine::step_sums,
           "The last instrumented step's sums per parameter array (as observe_params), or None.")
      .def_property_readonly("_sums_step", &Engine::sums_step,
                             "The step count the last sums belong to (-1: none yet).");

  register_engine<SGDEngine>(m, "SGDEngine", "SGD with momentum (torch.optim.SGD).")
      .def(py::init<py::handle, const py::dict&, py::handle, py::handle, py::handle, py::handle,
                    py::handle, py::handle>(),
           py::arg("params"), py::arg("state"), py::arg("lr"), py::arg("momentum"),
           py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
           py::arg("maximize"))
      .def_property("_buffer_initialized", &SGDEngine::buffer_initialized,
                    &SGDEngine::set_buffer_initialized);

  register_engine<AdagradEngine>(m, "AdagradEngine", "Adagrad (torch.optim.Adagrad).")
      .def(py::init<py::handle, const py::dict&, py::handle, py::handle, py::handle, py::handle,
                    py::handle>(),
           py::arg("params"), py::arg("state"), py::arg("lr"), py::arg("lr_decay"),
           py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"));

  register_engine<RMSpropEngine>(m, "RMSpropEngine", "RMSprop (torch.optim.RMSprop).")
      .def(py::init<py::handle, const py::dict&, py::handle, py::handle, py::handle, py::handle,
                    py::handle, py::handle, py::handle>(),
           py::arg("params"), py::arg("state"), py::arg("lr"), py::arg("alpha"), py::arg("eps"),
           py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"),
           py::arg("maximize"));

  // decoupled_weight_decay picks AdamW: a variant of the method, not one of its hyper_names.
  register_engine<AdamEngine>(m, "AdamEngine", "Adam and AdamW (torch.optim.Adam / AdamW).")
      .def(py::init<py::handle, const py::dict&, py::handle, py::handle, py::handle, py::handle,
                    py::handle, py::handle, py::handle>(),
           py::arg("params"), py::arg("state"), py::arg("lr"), py::arg("betas"), py::arg("eps"),
           py::arg("weight_decay"), py::arg("amsgrad"), py::arg("maximize"),
           py::arg("decoupled_weight_decay"))
      .def_property("betas", &AdamEngine::betas, setter(&AdamEngine::set_betas))
      .def_property_readonly("decoupled_weight_decay", [](const AdamEngine& e) {
        return e.settings().decoupled_weight_decay;
      });
}

}  // namespace saddlepoint::bindings
