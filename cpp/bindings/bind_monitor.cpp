// The per-step instruments of saddlepoint.Monitor for a gradient the monitor is handed: one
// fused pass over the gradient, the parameters and the monitor's own buffers per array.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "bindings/common.hpp"
#include "bindings/optim/engine.hpp"
#include "bindings/register.hpp"
#include "saddlepoint/dispatch/levels.hpp"
#include "saddlepoint/monitor/history.hpp"

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

// The Monitor's history: a (columns, capacity) float64 table, one contiguous column per
// instrument, grown by doubling, and the row state; record_step takes a watched optimizer's
// own sums without a round trip through Python objects (monitor::record_row does the maths).
class MonitorLog {
 public:
  MonitorLog(std::int64_t window, double ema_weight, double loss_atol, bool params_known)
      : params_known_(params_known) {
    set_window(window);
    settings_.ema_weight = ema_weight;
    settings_.loss_atol = loss_atol;
    allocate(256);
  }

  // An optimizer engine whose instrumented steps record_step reads.
  void watch(py::object engine) {
    engine_ = engine.is_none() ? nullptr : engine.cast<Engine*>();
    engine_object_ = std::move(engine);
  }

  // One row from the engine's last instrumented step; returns the rows recorded, negated
  // when the row is acute. The step must be the one just taken, and not yet recorded.
  std::int64_t record_step(double loss, double noise_scale, double gsnr, double loss_noise,
                           double noise_trace, double noise_signal) {
    if (engine_ == nullptr) throw py::value_error("record_step: no optimizer engine watched");
    const std::int64_t done = engine_->sums_step();
    if (done < 0 || done != engine_->steps()) {
      throw py::value_error(
          "grad: the optimizer took no instrumented step since the last observe; call "
          "observe(loss) once per step, right after opt.step(grad)");
    }
    if (done == last_observed_) {
      throw py::value_error("observe: step " + std::to_string(done) +
                            " was already observed; call observe once per step, right "
                            "after opt.step(grad)");
    }
    const double lr = engine_->recorded_lr();  // may call a schedule: before any change
    monitor::StepSums totals;
    for (const auto& s : engine_->last_sums()) totals += s;
    state_.have_last = true;  // the step's own update
    last_observed_ = done;
    return record({loss, lr, totals, params_known_, false, noise_scale, gsnr, loss_noise,
                   noise_trace, noise_signal});
  }

  // One row from a (arrays, kStepSumCount) table of sums (saddlepoint._core.observe_params
  // or observe_gradient).
  std::int64_t record_sums(double loss, double lr, const py::array_t<double>& sums,
                           double noise_scale, double gsnr, double loss_noise,
                           double noise_trace, double noise_signal) {
    if (sums.ndim() != 2 || sums.shape(1) != monitor::kStepSumCount || sums.shape(0) < 1) {
      throw py::value_error("sums: expected a (k, " + std::to_string(monitor::kStepSumCount) +
                            ") table of step sums");
    }
    const auto view = sums.unchecked<2>();
    monitor::StepSums totals;
    for (py::ssize_t i = 0; i < view.shape(0); ++i) {
      monitor::StepSums row;
      std::memcpy(&row, view.data(i, 0), sizeof(row));
      totals += row;
    }
    return record({loss, lr, totals, params_known_, true, noise_scale, gsnr, loss_noise,
                   noise_trace, noise_signal});
  }

  // The rules' numbers of the rows [lo, n) (monitor::window_stats), as a tuple.
  py::tuple window_stats(std::int64_t lo, std::int64_t n) const {
    if (lo < 0 || lo > n || n > state_.rows) {
      throw py::value_error("window_stats: expected 0 <= lo <= n <= rows, got lo=" +
                            std::to_string(lo) + ", n=" + std::to_string(n));
    }
    const monitor::WindowStats w = monitor::window_stats(columns_.data(), lo, n,
                                                         settings_.loss_atol);
    return py::make_tuple(w.improvement, w.improvement_upper, w.mean_cosine, w.promised_drop,
                          w.median_effective_lr, w.noise_trace, w.noise_signal,
                          static_cast<std::int64_t>(w.noise_rows));
  }

  py::array_t<double> table() const { return table_; }
  std::int64_t rows() const { return state_.rows; }
  // A resumed history: `table` (columns, rows) replaces the rows; the state is set apart.
  void load(const py::array_t<double>& table) {
    if (table.ndim() != 2 || table.shape(0) != monitor::kColumnCount) {
      throw py::value_error("table: expected " + std::to_string(monitor::kColumnCount) +
                            " columns");
    }
    const std::int64_t rows = table.shape(1);
    allocate(std::max<std::int64_t>(256, 2 * rows));
    const auto src = table.unchecked<2>();
    for (int k = 0; k < monitor::kColumnCount; ++k) {
      for (std::int64_t r = 0; r < rows; ++r) columns_[k][r] = src(k, r);
    }
    state_.rows = rows;
  }

  std::int64_t window() const { return settings_.window; }
  void set_window(std::int64_t w) {
    if (w < 2) throw py::value_error("window: expected an int >= 2, got " + std::to_string(w));
    settings_.window = w;
  }

  monitor::RowState state_;
  std::int64_t last_observed_ = -1;

 private:
  std::int64_t record(const monitor::RowInput& in) {
    if (state_.rows >= capacity_) allocate(2 * capacity_);
    const bool acute = monitor::record_row(in, settings_, state_, columns_.data());
    return acute ? -state_.rows : state_.rows;
  }

  // A table of `capacity` rows (NaN beyond the rows recorded), the old rows copied over.
  void allocate(std::int64_t capacity) {
    py::array_t<double> fresh({static_cast<py::ssize_t>(monitor::kColumnCount),
                               static_cast<py::ssize_t>(capacity)});
    double* data = fresh.mutable_data();
    std::fill(data, data + monitor::kColumnCount * capacity,
              std::numeric_limits<double>::quiet_NaN());
    for (int k = 0; k < monitor::kColumnCount; ++k) {
      if (state_.rows > 0) {
        std::copy(columns_[k], columns_[k] + state_.rows, data + k * capacity);
      }
      columns_[k] = data + k * capacity;
    }
    table_ = std::move(fresh);
    capacity_ = capacity;
  }

  monitor::RowSettings settings_;
  bool params_known_;
  py::array_t<double> table_;
  std::array<double*, monitor::kColumnCount> columns_{};
  std::int64_t capacity_ = 0;
  py::object engine_object_ = py::none();
  Engine* engine_ = nullptr;
};

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

  m.attr("monitor_columns") = py::int_(static_cast<int>(monitor::kColumnCount));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  py::class_<MonitorLog>(m, "MonitorLog",
                         "saddlepoint.Monitor's history table and the state one row carries "
                         "to the next (saddlepoint/monitor/history.hpp computes each row).")
      .def(py::init<std::int64_t, double, double, bool>(), py::arg("window"),
           py::arg("ema_weight"), py::arg("loss_atol"), py::arg("params_known"))
      .def("watch", &MonitorLog::watch, py::arg("engine"),
           "Read the instrumented steps of this optimizer engine (None: none).")
      .def("record_step", &MonitorLog::record_step, py::arg("loss"),
           py::arg("noise_scale") = nan, py::arg("gsnr") = nan, py::arg("loss_noise") = nan,
           py::arg("noise_trace") = nan, py::arg("noise_signal") = nan,
           "Record the watched engine's last step; returns the rows, negated if the row is "
           "acute (non-finite loss, gradient or parameters).")
      .def("record_sums", &MonitorLog::record_sums, py::arg("loss"), py::arg("lr"),
           py::arg("sums"), py::arg("noise_scale"), py::arg("gsnr"), py::arg("loss_noise"),
           py::arg("noise_trace"), py::arg("noise_signal"),
           "Record a step from its table of sums (observe_params / observe_gradient).")
      .def("window_stats", &MonitorLog::window_stats, py::arg("lo"), py::arg("n"),
           "The rules' numbers of rows [lo, n): (improvement, improvement_upper, mean_cosine, "
           "promised_drop, median_effective_lr, noise_trace, noise_signal, noise_rows).")
      .def_property_readonly("table", &MonitorLog::table,
                             "The (columns, capacity) table, live; rows beyond `rows` NaN.")
      .def_property_readonly("rows", &MonitorLog::rows)
      .def("load", &MonitorLog::load, py::arg("table"),
           "Replace the rows by a (columns, rows) table (a resumed monitor).")
      .def_property("window", &MonitorLog::window, &MonitorLog::set_window)
      .def_readwrite("last_observed", &MonitorLog::last_observed_)
      .def_property(
          "start", [](const MonitorLog& l) { return l.state_.start; },
          [](MonitorLog& l, std::int64_t v) { l.state_.start = v; })
      .def_property(
          "fresh", [](const MonitorLog& l) { return l.state_.fresh; },
          [](MonitorLog& l, bool v) { l.state_.fresh = v; })
      .def_property(
          "have_last", [](const MonitorLog& l) { return l.state_.have_last; },
          [](MonitorLog& l, bool v) { l.state_.have_last = v; })
      .def_property(
          "last_loss", [](const MonitorLog& l) { return l.state_.last_loss; },
          [](MonitorLog& l, double v) { l.state_.last_loss = v; })
      .def_property(
          "lowest_loss", [](const MonitorLog& l) { return l.state_.lowest_loss; },
          [](MonitorLog& l, double v) { l.state_.lowest_loss = v; })
      .def_property(
          "max_grad_norm", [](const MonitorLog& l) { return l.state_.max_grad_norm; },
          [](MonitorLog& l, double v) { l.state_.max_grad_norm = v; })
      .def_property(
          "first_effective_lr", [](const MonitorLog& l) { return l.state_.first_effective_lr; },
          [](MonitorLog& l, double v) { l.state_.first_effective_lr = v; });
}

}  // namespace saddlepoint::bindings
