// The part every optimizer engine shares: the parameter arrays and flat state buffers are
// registered and validated once, so that a step checks only the gradients (a few pointer and
// shape comparisons each) before it releases the GIL; the learning rate or its schedule; the
// step count; and run_step, the one step routine the engines hand their kernels to.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bindings/common.hpp"
#include "bindings/optim/grad_addresses.hpp"
#include "bindings/steps.hpp"
#include "saddlepoint/monitor/sums.hpp"

namespace saddlepoint::bindings {

struct ByteSpan {
  std::uintptr_t begin, end;
};

inline ByteSpan span_of(const ArrayRef& a) {
  const auto b = reinterpret_cast<std::uintptr_t>(a.data);
  return {b, b + static_cast<std::uintptr_t>(a.nbytes)};
}

class Engine {
 public:
  Engine(py::handle params, const py::dict& state, const std::vector<std::string>& state_names)
      : params_(checked_arrays(params, "params", true)) {
    if (params_.items.empty()) throw py::value_error("params: expected at least one array");
    for (std::size_t i = 1; i < params_.items.size(); ++i) {
      if (params_.items[i].dtype != params_.items[0].dtype) {
        throw py::type_error(params_.names[i] + ": expected " +
                             dtype_name(params_.items[0].dtype) + " like params[0], got " +
                             dtype_name(params_.items[i].dtype));
      }
    }
    for (const auto& p : params_.items) total_ += p.size;
    rows_ = hyper_rows(params_);
    // The (rows, cols) cut of every parameter never changes: computed once, not per step.
    segments_flat_ = segments(params_, false);
    segments_rows_ = segments(params_, true);
    // Flat state buffers: one array of `total` elements per state, in parameter order.
    std::vector<std::pair<const ArrayRef*, const std::string*>> all;
    for (std::size_t i = 0; i < params_.items.size(); ++i) {
      all.emplace_back(&params_.items[i], &params_.names[i]);
    }
    for (const auto& name : state_names) {
      if (!state.contains(name.c_str())) continue;
      ArrayRef buf = checked_array(state[name.c_str()], "state['" + name + "']", true);
      if (buf.dtype != params_.items[0].dtype || buf.shape.size() != 1 || buf.size != total_) {
        throw py::value_error("state['" + name + "']: expected a flat " +
                              std::string(dtype_name(params_.items[0].dtype)) + " array of " +
                              std::to_string(total_) + " elements, got " + dtype_name(buf.dtype) +
                              " " + shape_str(buf.shape));
      }
      buffers_.emplace(name, std::move(buf));
    }
    buffer_names_.reserve(buffers_.size());
    for (const auto& [name, buf] : buffers_) {
      buffer_names_.push_back("state['" + name + "']");
      all.emplace_back(&buf, &buffer_names_.back());
    }
    check_no_overlap(all);
    for (const auto& [a, name] : all) {
      if (a->nbytes) spans_.push_back(span_of(*a));
    }
    std::sort(spans_.begin(), spans_.end(),
              [](const ByteSpan& x, const ByteSpan& y) { return x.begin < y.begin; });
  }
  virtual ~Engine() = default;

  py::list params() const {
    py::list out;
    for (const auto& p : params_.items) out.append(p.array);
    return out;
  }
  py::dict buffers() const {
    py::dict out;
    for (const auto& [name, buf] : buffers_) out[name.c_str()] = buf.array;
    return out;
  }
  bool is_list() const { return params_.is_list; }
  std::int64_t steps() const { return steps_; }
  void set_steps(std::int64_t s) {
    if (s < 0) throw py::value_error("steps: expected an int >= 0, got " + std::to_string(s));
    steps_ = s;
    has_previous_ = false;  // a loaded state: the previous step's constants are not known
  }

  // lr: a number, one value per row of a 2-D param, or a schedule (callable step -> lr).
  py::object lr() const {
    if (!schedule_.is_none()) return scheduled_lr_object();
    return hyper_object(lr_);
  }
  void set_lr(py::handle value) {
    const bool is_number = py::isinstance<py::float_>(value) || py::isinstance<py::int_>(value) ||
                           py::isinstance<py::array>(value);
    if (!is_number && PyCallable_Check(value.ptr())) {
      schedule_ = py::reinterpret_borrow<py::object>(value);
      return;
    }
    lr_ = checked_hyper(value, ranges::lr, rows_);
    schedule_ = py::none();
  }
  py::object schedule() const { return schedule_; }

  // The Monitor's instruments taken inside the step (saddlepoint/monitor/instrumented.hpp),
  // for the engines that have an instrumented kernel (instrumentable()); one run only.
  void set_instrumented(bool on) {
    if (on && !instrumentable()) {
      throw py::type_error(
          "optimizer: instruments inside the step exist for SGD and Adam/AdamW; pass the "
          "gradient to Monitor.observe(loss, grad) for this optimizer");
    }
    if (on && (lr_.per_row || varies_by_row())) {
      throw py::value_error(
          "optimizer: hyper-parameters vary by row (a sweep's optimizer); the monitor "
          "watches one run");
    }
    instrumented_ = on;
    has_previous_ = false;  // the next step starts a new sequence of directions
    sums_step_ = -1;
  }
  bool instrumented() const { return instrumented_; }
  // (parameter arrays, kStepSumCount) float64 sums of the last instrumented step, as
  // saddlepoint._core.observe_params returns them, and the step count they belong to.
  py::object step_sums() const {
    if (sums_step_ < 0) return py::none();
    py::array_t<double> out({static_cast<py::ssize_t>(sums_.size()),
                             static_cast<py::ssize_t>(monitor::kStepSumCount)});
    std::memcpy(out.mutable_data(), sums_.data(), sums_.size() * sizeof(monitor::StepSums));
    return std::move(out);
  }
  std::int64_t sums_step() const { return sums_step_; }
  // For the Monitor's history (bind_monitor.cpp, MonitorLog): the last instrumented step's
  // sums per segment, and the learning rate its lr column shows (as Python's
  // saddlepoint.monitor._stability.current_lr reads it: the schedule at max(steps, 1)).
  const std::vector<monitor::StepSums>& last_sums() const { return sums_; }
  double recorded_lr() const {
    if (!schedule_.is_none()) {
      return py::cast<double>(py::float_(schedule_(std::max<std::int64_t>(steps_, 1))));
    }
    if (lr_.per_row) {
      throw py::value_error(
          "optimizer: lr varies by row (a sweep's optimizer); the monitor watches one run");
    }
    return lr_.scalar;
  }

 protected:
  virtual bool instrumentable() const { return false; }
  virtual bool varies_by_row() const { return false; }

  // Runs run_step with `kernel` returning each segment's StepSums, kept for step_sums().
  template <typename MakeHyper, typename Kernel>
  void run_instrumented_step(py::handle grads, MakeHyper&& make_hyper, Kernel&& kernel) {
    std::vector<monitor::StepSums>& sums = next_sums_;  // reused: no allocation per step
    sums.clear();
    run_step(
        grads, false, make_hyper,
        [&](auto* param, const auto* grad, const Segment& s, const auto& h) {
          sums.push_back(kernel(param, grad, s, h));  // segments run in order on this thread
        },
        /*split_segments=*/false);
    // where the kernel's previous direction is the previous update (SGD) its squared norm is
    // that update's; the kernel leaves it NaN then
    for (std::size_t i = 0; i < sums.size(); ++i) {
      if (std::isnan(sums[i].prev_sq)) {
        sums[i].prev_sq = has_previous_ && i < sums_.size() ? sums_[i].update_sq : 0.0;
      }
    }
    std::swap(sums_, next_sums_);
    sums_step_ = steps_;
    has_previous_ = true;
  }

  bool instrumented_ = false;
  bool has_previous_ = false;  // the state holds a previous step's direction
  std::vector<monitor::StepSums> sums_, next_sums_;
  std::int64_t sums_step_ = -1;

  // A float hyper-parameter as Python sees it: a float, or a copy of the per-row values.
  static py::object hyper_object(const HyperValue& h) {
    if (!h.per_row) return py::float_(h.scalar);
    py::array_t<double> a(static_cast<py::ssize_t>(h.values.size()));
    std::copy(h.values.begin(), h.values.end(), a.mutable_data());
    return std::move(a);
  }

  HyperValue hyper(py::handle value, const HyperSpec& spec) const {
    return checked_hyper(value, spec, rows_);
  }

  // The learning rate of the step about to be taken (a schedule sees the steps taken so far).
  // A reference, so a step copies no per-row array; a schedule's value goes to the caller's
  // `storage` (a local of the step: another thread stepping this engine cannot free it).
  const HyperValue& current_lr(HyperValue& storage) const {
    if (schedule_.is_none()) return lr_;
    const py::object v = schedule_(steps_);
    try {
      storage = checked_hyper(v, ranges::lr, rows_);
      return storage;
    } catch (py::error_already_set&) {
      throw;
    } catch (const std::exception& e) {
      throw py::value_error(std::string("lr schedule returned a bad value at step ") +
                            std::to_string(steps_) + ": " + e.what());
    }
  }

  py::object scheduled_lr_object() const {
    HyperValue scheduled;
    return hyper_object(current_lr(scheduled));
  }

  // The gradients of one step: each like its parameter and not overlapping any registered
  // array. The fast path compares descriptors, flags and shapes; a failure re-runs the full
  // checks to produce the message.
  std::vector<const void*> checked_grads(py::handle grads) const {
    const std::size_t n = params_.items.size();
    if (py::isinstance<GradAddresses>(grads)) {
      return checked_addresses(grads.cast<const GradAddresses&>());
    }
    std::vector<const void*> out(n);
    auto& api = py::detail::npy_api::get();
    const bool seq = PyList_Check(grads.ptr()) || PyTuple_Check(grads.ptr());
    if (seq != params_.is_list || (seq && static_cast<std::size_t>(py::len(grads)) != n)) {
      slow_check(grads);
    }
    for (std::size_t i = 0; i < n; ++i) {
      PyObject* g = seq ? PySequence_Fast_GET_ITEM(grads.ptr(), i) : grads.ptr();
      if (!api.PyArray_Check_(g)) slow_check(grads);
      auto* a = py::detail::array_proxy(g);
      const ArrayRef& p = params_.items[i];
      constexpr int need = py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_ |
                           py::detail::npy_api::NPY_ARRAY_ALIGNED_;
      const auto* pa = py::detail::array_proxy(p.array.ptr());
      if ((a->flags & need) != need || a->nd != static_cast<int>(p.shape.size()) ||
          (a->nd && std::memcmp(a->dimensions, pa->dimensions, sizeof(Py_intptr_t) * a->nd)) ||
          (a->descr != pa->descr && !api.PyArray_EquivTypes_(a->descr, pa->descr))) {
        slow_check(grads);
      }
      out[i] = a->data;
      if (p.nbytes && overlaps(a->data, p.nbytes)) slow_check(grads);
    }
    return out;
  }

  // Grads as addresses (grad_addresses.hpp): one per parameter, each of its parameter's size,
  // aligned to the element size, and overlapping no registered array.
  std::vector<const void*> checked_addresses(const GradAddresses& g) const {
    const std::size_t n = params_.items.size();
    if (g.addresses.size() != n) {
      throw py::value_error("grads: expected " + std::to_string(n) +
                            " addresses, one per parameter, got " +
                            std::to_string(g.addresses.size()));
    }
    const std::uintptr_t item = params_.items[0].dtype == DType::f32 ? 4 : 8;
    std::vector<const void*> out(n);
    for (std::size_t i = 0; i < n; ++i) {
      const ArrayRef& p = params_.items[i];
      if (g.sizes[i] != p.size) {
        throw py::value_error("grads[" + std::to_string(i) + "]: expected " +
                              std::to_string(p.size) + " elements like " + params_.names[i] +
                              ", got " + std::to_string(g.sizes[i]));
      }
      if ((p.nbytes && g.addresses[i] == 0) || g.addresses[i] % item) {
        throw py::value_error("grads[" + std::to_string(i) + "]: address " +
                              std::to_string(g.addresses[i]) + " is null or not aligned to " +
                              std::to_string(item) + " bytes");
      }
      out[i] = reinterpret_cast<const void*>(g.addresses[i]);
      if (p.nbytes && overlaps(out[i], p.nbytes)) {
        throw py::value_error("grads[" + std::to_string(i) +
                              "]: overlaps a parameter or state buffer the step writes");
      }
    }
    return out;
  }

  // The data of a registered state buffer, or null when the state was not given (unused).
  void* buffer(const char* name) const {
    const auto it = buffers_.find(name);
    return it == buffers_.end() ? nullptr : it->second.data;
  }
  bool has_buffer(const char* name) const { return buffers_.count(name) != 0; }

  // The one step routine of every engine: check the gradients, take the learning rate (from
  // the schedule if there is one), build the kernel's hyper-parameters with `make_hyper(lr)`,
  // then, without the GIL, run `kernel(param, grad, segment, hyper)` on every parameter. The
  // optimizer's kernel lambda names its own state buffers (slice(buffer, segment)).
  template <typename MakeHyper, typename Kernel>
  void run_step(py::handle grads, bool settings_vary_by_row, MakeHyper&& make_hyper,
                Kernel&& kernel, bool split_segments = true) {
    const auto grad_data = checked_grads(grads);
    HyperValue scheduled;
    const HyperValue& lr = current_lr(scheduled);
    const auto hyper = make_hyper(lr);
    const auto& segs = segments_for(lr.per_row || settings_vary_by_row);
    step_segments(params_.items[0].dtype, segs, split_segments, [&](auto zero, std::size_t i) {
      using T = decltype(zero);
      kernel(params_.items[i].ptr<T>(), static_cast<const T*>(grad_data[i]), segs[i], hyper);
    });
    ++steps_;  // with the GIL again: concurrent steps of one engine still count exactly
  }

  // A float hyper-parameter as Python sees it: a float, or a copy of the per-row values.

  ArrayList params_;
  std::int64_t total_ = 0;
  std::int64_t rows_ = -1;
  std::vector<Segment> segments_flat_, segments_rows_;  // without / with per-row hyper values

  const std::vector<Segment>& segments_for(bool per_row) const {
    return per_row ? segments_rows_ : segments_flat_;
  }
  std::int64_t steps_ = 0;
  HyperValue lr_;
  py::object schedule_ = py::none();
  std::map<std::string, ArrayRef> buffers_;
  std::vector<std::string> buffer_names_;
  std::vector<ByteSpan> spans_;  // params and buffers, sorted and disjoint

 private:
  bool overlaps(const void* data, std::int64_t nbytes) const {
    const auto b = reinterpret_cast<std::uintptr_t>(data);
    const auto e = b + static_cast<std::uintptr_t>(nbytes);
    auto it = std::lower_bound(spans_.begin(), spans_.end(), e,
                               [](const ByteSpan& s, std::uintptr_t v) { return s.begin < v; });
    return it != spans_.begin() && std::prev(it)->end > b;
  }

  [[noreturn]] void slow_check(py::handle grads) const {
    const ArrayList G = checked_arrays(grads, "grads", false);
    check_list_like(G, "grads", params_);
    std::vector<std::pair<const ArrayRef*, const std::string*>> all;
    for (std::size_t i = 0; i < G.items.size(); ++i) all.emplace_back(&G.items[i], &G.names[i]);
    for (std::size_t i = 0; i < params_.items.size(); ++i) {
      all.emplace_back(&params_.items[i], &params_.names[i]);
    }
    std::size_t k = 0;
    for (const auto& [name, buf] : buffers_) all.emplace_back(&buf, &buffer_names_[k++]);
    check_no_overlap(all);
    throw py::value_error("grads: rejected (unexpected layout)");
  }
};

}  // namespace saddlepoint::bindings
