// The per-step instruments of saddlepoint.Monitor for a gradient the monitor is handed: one
// fused pass over the gradient, the parameters and the monitor's own buffers per array.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings/common.hpp"
#include "bindings/register.hpp"
#include "saddlepoint/dispatch/levels.hpp"

namespace py = pybind11;

namespace saddlepoint::bindings {

namespace {

using monitor::StepSums;

// A flat monitor buffer: one writeable array of `total` elements of the parameters' dtype.
ArrayRef checked_buffer(py::handle obj, const char* name, DType dtype, std::int64_t total) {
  ArrayRef buf = checked_array(obj, name, true);
  if (buf.dtype != dtype || buf.shape.size() != 1 || buf.size != total) {
    const std::string msg = std::string(name) + ": expected a flat " + dtype_name(dtype) +
                            " array of " + std::to_string(total) + " elements, got " +
                            dtype_name(buf.dtype) + " " + shape_str(buf.shape);
    if (buf.dtype != dtype) throw py::type_error(msg);
    throw py::value_error(msg);
  }
  return buf;
}

// The gradients (one array or a list) and their total size; all of one dtype.
std::pair<ArrayList, std::int64_t> checked_grads(py::handle grads) {
  ArrayList g = checked_arrays(grads, "grad", false);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < g.items.size(); ++i) {
    if (g.items[i].dtype != g.items[0].dtype) {
      throw py::type_error(g.names[i] + ": expected " + dtype_name(g.items[0].dtype) +
                           " like grad[0], got " + dtype_name(g.items[i].dtype));
    }
    total += g.items[i].size;
  }
  return {std::move(g), total};
}

py::array_t<double> sums_table(const std::vector<StepSums>& sums) {
  py::array_t<double> out({static_cast<py::ssize_t>(sums.size()),
                           static_cast<py::ssize_t>(monitor::kStepSumCount)});
  static_assert(sizeof(StepSums) == monitor::kStepSumCount * sizeof(double));
  std::memcpy(out.mutable_data(), sums.data(), sums.size() * sizeof(StepSums));
  return out;
}

// Calls body(T*, ...) once per array with the typed pointers at that array's offset.
template <typename Body>
std::vector<StepSums> per_array(const ArrayList& grads, Body body) {
  std::vector<StepSums> out(grads.items.size());
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < grads.items.size(); ++i) {
    out[i] = body(grads.items[i], offset);
    offset += grads.items[i].size;
  }
  return out;
}

// No array of the call may share memory with another: the monitor's buffers (by name) and
// every array of the given lists.
void check_disjoint(const std::vector<std::pair<const ArrayRef*, std::string>>& buffers,
                    const std::vector<const ArrayList*>& lists) {
  std::vector<std::pair<const ArrayRef*, const std::string*>> all;
  for (const auto& [array, name] : buffers) all.emplace_back(array, &name);
  for (const ArrayList* list : lists) {
    for (std::size_t i = 0; i < list->items.size(); ++i) {
      all.emplace_back(&list->items[i], &list->names[i]);
    }
  }
  check_no_overlap(all);
}

// All checks have passed: without the GIL, `kernel(T{}, grad, offset)` per gradient array
// (offset: into the flat buffers), and the (arrays, kStepSumCount) table of its sums.
template <typename Kernel>
py::array_t<double> sums_per_array(DType dtype, const ArrayList& grads, Kernel&& kernel) {
  std::vector<StepSums> sums;
  {
    py::gil_scoped_release release;
    const auto run = [&](auto zero) {
      return per_array(grads, [&](const ArrayRef& g, std::int64_t offset) {
        return kernel(zero, g, offset);
      });
    };
    sums = dtype == DType::f32 ? run(float{}) : run(double{});
  }
  return sums_table(sums);
}

py::array_t<double> observe_params(py::handle grad, py::handle param, py::handle last_param,
                                   py::handle direction, py::handle initial) {
  auto [grads, total] = checked_grads(grad);
  const ArrayList params = checked_arrays(param, "param", false);
  check_list_like(grads, "grad", params);
  const DType dtype = params.items[0].dtype;
  ArrayRef last = checked_buffer(last_param, "last_param", dtype, total);
  ArrayRef dir = checked_buffer(direction, "direction", dtype, total);
  ArrayRef init;
  const bool has_init = !initial.is_none();
  if (has_init) init = checked_buffer(initial, "initial", dtype, total);
  check_disjoint({{&last, "last_param"}, {&dir, "direction"}}, {&params, &grads});
  return sums_per_array(dtype, grads, [&](auto zero, const ArrayRef& g, std::int64_t offset) {
    using T = decltype(zero);
    const std::size_t i = static_cast<std::size_t>(&g - grads.items.data());
    return dispatch::kernels<T>().observe_params(g.ptr<T>(), params.items[i].ptr<T>(),
                                      last.ptr<T>() + offset, dir.ptr<T>() + offset,
                                      has_init ? init.ptr<T>() + offset : nullptr, g.size);
  });
}

py::array_t<double> observe_gradient(py::handle grad, py::handle buffer, py::handle direction,
                                     py::handle displacement, double lr, double momentum,
                                     bool first) {
  auto [grads, total] = checked_grads(grad);
  const DType dtype = grads.items[0].dtype;
  check_range(lr, ranges::lr);
  // below 1: the reconstructed heavy-ball update would not settle (torch allows any momentum)
  static constexpr HyperSpec kMonitorMomentum{"momentum", 0.0, 1.0, false, true};
  check_range(momentum, kMonitorMomentum);
  const bool has_buffer = !buffer.is_none();
  if (!has_buffer && momentum != 0.0) {
    throw py::value_error("buffer: a momentum buffer is needed when momentum != 0");
  }
  ArrayRef buf;
  if (has_buffer) buf = checked_buffer(buffer, "buffer", dtype, total);
  ArrayRef dir = checked_buffer(direction, "direction", dtype, total);
  ArrayRef moved = checked_buffer(displacement, "displacement", dtype, total);
  std::vector<std::pair<const ArrayRef*, std::string>> buffers{{&dir, "direction"},
                                                                 {&moved, "displacement"}};
  if (has_buffer) buffers.emplace_back(&buf, "buffer");
  check_disjoint(buffers, {&grads});
  return sums_per_array(dtype, grads, [&](auto zero, const ArrayRef& g, std::int64_t offset) {
    using T = decltype(zero);
    return dispatch::kernels<T>().observe_gradient(g.ptr<T>(), has_buffer ? buf.ptr<T>() + offset : nullptr,
                                        dir.ptr<T>() + offset, moved.ptr<T>() + offset, g.size, lr,
                                        momentum, first);
  });
}

}  // namespace

void bind_monitor(py::module_& m) {
  py::tuple names(monitor::kStepSumCount);
  for (int i = 0; i < monitor::kStepSumCount; ++i) names[i] = monitor::kStepSumNames[i];
  m.attr("step_sum_names") = names;
  m.def("observe_params", &observe_params, py::arg("grad"), py::arg("param"),
        py::arg("last_param"), py::arg("direction"), py::arg("initial") = py::none(),
        "One monitored step of a loop whose parameters are known: per array, the sums named by "
        "step_sum_names (a (k, 10) float64 table) of g, dtheta = param - last_param and the "
        "previous direction; then last_param <- param and direction <- dtheta.");
  m.def("observe_gradient", &observe_gradient, py::arg("grad"), py::arg("buffer"),
        py::arg("direction"), py::arg("displacement"), py::arg("lr"), py::arg("momentum"),
        py::arg("first"),
        "One monitored step of a loop known by its gradient: the update is reconstructed as "
        "heavy-ball SGD (buffer <- momentum * buffer + g, dtheta = -lr * buffer); per array, "
        "the sums named by step_sum_names; direction <- dtheta, displacement += dtheta.");
}

}  // namespace saddlepoint::bindings
