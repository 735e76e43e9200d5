// Optimizer engines: the parameter arrays and flat state buffers are registered and validated
// once, so that a step checks only the gradients (a few pointer and shape comparisons each)
// before it releases the GIL. The Python classes in saddlepoint.optim derive from these.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bindings/common.hpp"
#include "bindings/register.hpp"
#include "bindings/steps.hpp"
#include "saddlepoint/optim/optimizers.hpp"

namespace py = pybind11;

namespace saddlepoint::bindings {

namespace {

struct ByteSpan {
  std::uintptr_t begin, end;
};

ByteSpan span_of(const ArrayRef& a) {
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
    lr_ = checked_hyper(value, {"lr", 0.0, inf()}, rows_);
    schedule_ = py::none();
  }
  py::object schedule() const { return schedule_; }

 protected:
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
      storage = checked_hyper(v, {"lr", 0.0, inf()}, rows_);
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

  template <typename T>
  T* buffer(const char* name) const {
    const auto it = buffers_.find(name);
    return it == buffers_.end() ? nullptr : it->second.ptr<T>();
  }

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

// Run a kernel over every registered parameter with its gradient and state segments.
template <typename Body>
void for_each_segment(const ArrayList& params, const std::vector<Segment>& segs, Body&& body) {
  for (std::size_t i = 0; i < segs.size(); ++i) body(i, params.items[i], segs[i]);
}

class SGDEngine : public Engine {
 public:
  SGDEngine(py::handle params, const py::dict& state, py::handle lr, py::handle momentum,
            py::handle dampening, py::handle weight_decay, py::handle nesterov,
            py::handle maximize)
      : Engine(params, state, {"momentum_buffer"}) {
    set_lr(lr);
    momentum_ = hyper(momentum, {"momentum", 0.0, inf()});
    dampening_ = hyper(dampening, {"dampening", 0.0, 1.0});
    weight_decay_ = hyper(weight_decay, {"weight_decay", 0.0, inf()});
    nesterov_ = checked_bool(nesterov, "nesterov");
    maximize_ = checked_bool(maximize, "maximize");
    check_momentum();
  }

  void step(py::handle grads) {
    const auto g = checked_grads(grads);
    HyperValue scheduled;
    const HyperValue& lr = current_lr(scheduled);
    SGDHyper h;
    h.lr = lr.view();
    h.momentum = momentum_.view();
    h.dampening = dampening_.view();
    h.weight_decay = weight_decay_.view();
    h.nesterov = nesterov_;
    h.maximize = maximize_;
    h.first_step = !buffer_initialized_;
    const bool per_row = lr.per_row || momentum_.per_row || dampening_.per_row ||
                         weight_decay_.per_row;
    const auto& segs = segments_for(per_row);
    {
      py::gil_scoped_release release;
      with_dtype(params_.items[0].dtype, [&](auto t) {
        using T = decltype(t);
        T* buf = buffer<T>("momentum_buffer");
        for_each_segment(params_, segs, [&](std::size_t i, const ArrayRef& p, const Segment& s) {
          saddlepoint::sgd_step<T>(p.ptr<T>(), static_cast<const T*>(g[i]),
                                   buf ? buf + s.offset : nullptr, s.rows, s.cols, h);
        });
      });
    }
    // PyTorch creates the buffer from the first gradient that uses momentum.
    if (buffer<double>("momentum_buffer") && uses_momentum()) buffer_initialized_ = true;
    ++steps_;
  }

  py::object momentum() const { return hyper_object(momentum_); }
  void set_momentum(py::handle v) {
    HyperValue old = momentum_;
    momentum_ = hyper(v, {"momentum", 0.0, inf()});
    try {
      check_momentum();
    } catch (...) {
      momentum_ = old;
      throw;
    }
  }
  py::object dampening() const { return hyper_object(dampening_); }
  void set_dampening(py::handle v) {
    HyperValue old = dampening_;
    dampening_ = hyper(v, {"dampening", 0.0, 1.0});
    try {
      check_momentum();
    } catch (...) {
      dampening_ = old;
      throw;
    }
  }
  py::object weight_decay() const { return hyper_object(weight_decay_); }
  void set_weight_decay(py::handle v) { weight_decay_ = hyper(v, {"weight_decay", 0.0, inf()}); }
  bool nesterov() const { return nesterov_; }
  bool maximize() const { return maximize_; }
  bool buffer_initialized() const { return buffer_initialized_; }
  void set_buffer_initialized(bool v) { buffer_initialized_ = v; }

 private:
  bool uses_momentum() const {
    for (std::int64_t r = 0; r < momentum_.count(); ++r) {
      if (momentum_.view().at(r) != 0.0) return true;
    }
    return false;
  }

  void check_momentum() const {
    bool any = false;
    for (std::int64_t r = 0; r < momentum_.count_with(dampening_); ++r) {
      const double mu = momentum_.view().at(r);
      any = any || mu != 0.0;
      if (nesterov_ && (mu <= 0.0 || dampening_.view().at(r) != 0.0)) {
        throw py::value_error("nesterov: requires momentum > 0 and dampening == 0");
      }
    }
    if (any && buffers_.find("momentum_buffer") == buffers_.end()) {
      throw py::value_error("momentum: a non-zero momentum needs state['momentum_buffer']");
    }
  }

  HyperValue momentum_, dampening_, weight_decay_;
  bool nesterov_ = false, maximize_ = false, buffer_initialized_ = false;
};

class AdagradEngine : public Engine {
 public:
  AdagradEngine(py::handle params, const py::dict& state, py::handle lr, py::handle lr_decay,
                py::handle weight_decay, py::handle eps, py::handle maximize)
      : Engine(params, state, {"sum"}) {
    if (!buffers_.count("sum")) throw py::value_error("state['sum']: required");
    set_lr(lr);
    lr_decay_ = hyper(lr_decay, {"lr_decay", 0.0, inf()});
    weight_decay_ = hyper(weight_decay, {"weight_decay", 0.0, inf()});
    eps_ = hyper(eps, {"eps", 0.0, inf(), true});
    maximize_ = checked_bool(maximize, "maximize");
  }

  void step(py::handle grads) {
    const auto g = checked_grads(grads);
    HyperValue scheduled;
    const HyperValue& lr = current_lr(scheduled);
    AdagradHyper h;
    h.lr = lr.view();
    h.lr_decay = lr_decay_.view();
    h.weight_decay = weight_decay_.view();
    h.eps = eps_.view();
    h.maximize = maximize_;
    h.step = steps_ + 1;
    const bool per_row = lr.per_row || lr_decay_.per_row || weight_decay_.per_row || eps_.per_row;
    const auto& segs = segments_for(per_row);
    {
      py::gil_scoped_release release;
      with_dtype(params_.items[0].dtype, [&](auto t) {
        using T = decltype(t);
        T* sum = buffer<T>("sum");
        for_each_segment(params_, segs, [&](std::size_t i, const ArrayRef& p, const Segment& s) {
          saddlepoint::adagrad_step<T>(p.ptr<T>(), static_cast<const T*>(g[i]), sum + s.offset,
                                       s.rows, s.cols, h);
        });
      });
    }
    ++steps_;
  }

  py::object lr_decay() const { return hyper_object(lr_decay_); }
  void set_lr_decay(py::handle v) { lr_decay_ = hyper(v, {"lr_decay", 0.0, inf()}); }
  py::object weight_decay() const { return hyper_object(weight_decay_); }
  void set_weight_decay(py::handle v) { weight_decay_ = hyper(v, {"weight_decay", 0.0, inf()}); }
  py::object eps() const { return hyper_object(eps_); }
  void set_eps(py::handle v) { eps_ = hyper(v, {"eps", 0.0, inf(), true}); }
  bool maximize() const { return maximize_; }

 private:
  HyperValue lr_decay_, weight_decay_, eps_;
  bool maximize_ = false;
};

class RMSpropEngine : public Engine {
 public:
  RMSpropEngine(py::handle params, const py::dict& state, py::handle lr, py::handle alpha,
                py::handle eps, py::handle weight_decay, py::handle momentum,
                py::handle centered, py::handle maximize)
      : Engine(params, state, {"square_avg", "grad_avg", "momentum_buffer"}) {
    if (!buffers_.count("square_avg")) throw py::value_error("state['square_avg']: required");
    set_lr(lr);
    alpha_ = hyper(alpha, {"alpha", 0.0, 1.0});
    eps_ = hyper(eps, {"eps", 0.0, inf(), true});
    weight_decay_ = hyper(weight_decay, {"weight_decay", 0.0, inf()});
    centered_ = checked_bool(centered, "centered");
    maximize_ = checked_bool(maximize, "maximize");
    if (centered_ && !buffers_.count("grad_avg")) {
      throw py::value_error("state['grad_avg']: required when centered=True");
    }
    set_momentum(momentum);
  }

  void step(py::handle grads) {
    const auto g = checked_grads(grads);
    HyperValue scheduled;
    const HyperValue& lr = current_lr(scheduled);
    RMSpropHyper h;
    h.lr = lr.view();
    h.alpha = alpha_.view();
    h.eps = eps_.view();
    h.weight_decay = weight_decay_.view();
    h.momentum = momentum_.view();
    h.centered = centered_;
    h.maximize = maximize_;
    const bool per_row = lr.per_row || alpha_.per_row || eps_.per_row || weight_decay_.per_row ||
                         momentum_.per_row;
    const auto& segs = segments_for(per_row);
    {
      py::gil_scoped_release release;
      with_dtype(params_.items[0].dtype, [&](auto t) {
        using T = decltype(t);
        T* sq = buffer<T>("square_avg");
        T* avg = centered_ ? buffer<T>("grad_avg") : nullptr;
        T* buf = buffer<T>("momentum_buffer");
        for_each_segment(params_, segs, [&](std::size_t i, const ArrayRef& p, const Segment& s) {
          saddlepoint::rmsprop_step<T>(p.ptr<T>(), static_cast<const T*>(g[i]), sq + s.offset,
                                       avg ? avg + s.offset : nullptr,
                                       buf ? buf + s.offset : nullptr, s.rows, s.cols, h);
        });
      });
    }
    ++steps_;
  }

  py::object alpha() const { return hyper_object(alpha_); }
  void set_alpha(py::handle v) { alpha_ = hyper(v, {"alpha", 0.0, 1.0}); }
  py::object eps() const { return hyper_object(eps_); }
  void set_eps(py::handle v) { eps_ = hyper(v, {"eps", 0.0, inf(), true}); }
  py::object weight_decay() const { return hyper_object(weight_decay_); }
  void set_weight_decay(py::handle v) { weight_decay_ = hyper(v, {"weight_decay", 0.0, inf()}); }
  py::object momentum() const { return hyper_object(momentum_); }
  void set_momentum(py::handle v) {
    HyperValue m = hyper(v, {"momentum", 0.0, inf()});
    bool any = false;
    for (std::int64_t r = 0; r < m.count(); ++r) {
      any = any || m.view().at(r) != 0.0;
    }
    if (any && !buffers_.count("momentum_buffer")) {
      throw py::value_error("momentum: a non-zero momentum needs state['momentum_buffer']");
    }
    momentum_ = std::move(m);
  }
  bool centered() const { return centered_; }
  bool maximize() const { return maximize_; }

 private:
  HyperValue alpha_, eps_, weight_decay_, momentum_;
  bool centered_ = false, maximize_ = false;
};

class AdamEngine : public Engine {
 public:
  AdamEngine(py::handle params, const py::dict& state, py::handle lr, py::handle betas,
             py::handle eps, py::handle weight_decay, py::handle amsgrad, py::handle maximize,
             py::handle decoupled_weight_decay)
      : Engine(params, state, {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}) {
    if (!buffers_.count("exp_avg") || !buffers_.count("exp_avg_sq")) {
      throw py::value_error("state['exp_avg'] and state['exp_avg_sq']: required");
    }
    set_lr(lr);
    set_betas(betas);
    eps_ = hyper(eps, {"eps", 0.0, inf(), true});
    weight_decay_ = hyper(weight_decay, {"weight_decay", 0.0, inf()});
    amsgrad_ = checked_bool(amsgrad, "amsgrad");
    maximize_ = checked_bool(maximize, "maximize");
    decoupled_ = checked_bool(decoupled_weight_decay, "decoupled_weight_decay");
    if (amsgrad_ && !buffers_.count("max_exp_avg_sq")) {
      throw py::value_error("state['max_exp_avg_sq']: required when amsgrad=True");
    }
  }

  void step(py::handle grads) {
    const auto g = checked_grads(grads);
    HyperValue scheduled;
    const HyperValue& lr = current_lr(scheduled);
    AdamHyper h;
    h.lr = lr.view();
    h.beta1 = beta1_.view();
    h.beta2 = beta2_.view();
    h.eps = eps_.view();
    h.weight_decay = weight_decay_.view();
    h.amsgrad = amsgrad_;
    h.maximize = maximize_;
    h.decoupled = decoupled_;
    h.step = steps_ + 1;
    const bool per_row = lr.per_row || beta1_.per_row || beta2_.per_row || eps_.per_row ||
                         weight_decay_.per_row;
    const auto& segs = segments_for(per_row);
    {
      py::gil_scoped_release release;
      with_dtype(params_.items[0].dtype, [&](auto t) {
        using T = decltype(t);
        T* m = buffer<T>("exp_avg");
        T* v = buffer<T>("exp_avg_sq");
        T* vmax = amsgrad_ ? buffer<T>("max_exp_avg_sq") : nullptr;
        for_each_segment(params_, segs, [&](std::size_t i, const ArrayRef& p, const Segment& s) {
          saddlepoint::adam_step<T>(p.ptr<T>(), static_cast<const T*>(g[i]), m + s.offset,
                                    v + s.offset, vmax ? vmax + s.offset : nullptr, s.rows,
                                    s.cols, h);
        });
      });
    }
    ++steps_;
  }

  py::tuple betas() const { return py::make_tuple(hyper_object(beta1_), hyper_object(beta2_)); }
  void set_betas(py::handle v) {
    auto [b1, b2] = checked_betas(v, rows_);
    beta1_ = std::move(b1);
    beta2_ = std::move(b2);
  }
  py::object eps() const { return hyper_object(eps_); }
  void set_eps(py::handle v) { eps_ = hyper(v, {"eps", 0.0, inf(), true}); }
  py::object weight_decay() const { return hyper_object(weight_decay_); }
  void set_weight_decay(py::handle v) { weight_decay_ = hyper(v, {"weight_decay", 0.0, inf()}); }
  bool amsgrad() const { return amsgrad_; }
  bool maximize() const { return maximize_; }
  bool decoupled_weight_decay() const { return decoupled_; }

 private:
  HyperValue beta1_, beta2_, eps_, weight_decay_;
  bool amsgrad_ = false, maximize_ = false, decoupled_ = false;
};

// A setter taking any Python object (validation, with its messages, is the engine's).
template <typename E>
auto setter(void (E::*f)(py::handle)) {
  return [f](E& e, py::object v) { (e.*f)(v); };
}

}  // namespace

void bind_optim(py::module_& m) {
  py::class_<Engine>(m, "Engine", "Registered parameters, flat state buffers and a step count.")
      .def_property_readonly("params", &Engine::params, "The registered parameter arrays.")
      .def_property_readonly("_is_list", &Engine::is_list)
      .def("_buffers", &Engine::buffers, "The flat state buffers by name (live, not copies).")
      .def_property("steps", &Engine::steps, &Engine::set_steps, "Steps taken so far.")
      .def_property("lr", &Engine::lr, setter(&Engine::set_lr),
                    "Learning rate of the next step; set a number, per-row array or schedule.")
      .def_property_readonly("schedule", &Engine::schedule,
                             "The learning-rate schedule (callable step -> lr), or None.");

  const char* step_doc =
      "Take one step: update the registered parameters in place from `grads` (an array like "
      "the parameter, or a list like the list of parameters).";

  py::class_<SGDEngine, Engine>(m, "SGDEngine")
      .def(py::init<py::handle, const py::dict&, py::handle, py::handle, py::handle, py::handle,
                    py::handle, py::handle>(),
           py::arg("params"), py::arg("state"), py::arg("lr"), py::arg("momentum"),
           py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
           py::arg("maximize"))
      .def("step", &SGDEngine::step, py::arg("grads"), step_doc)
      .def_property("momentum", &SGDEngine::momentum, setter(&SGDEngine::set_momentum))
      .def_property("dampening", &SGDEngine::dampening, setter(&SGDEngine::set_dampening))
      .def_property("weight_decay", &SGDEngine::weight_decay,
                    setter(&SGDEngine::set_weight_decay))
      .def_property_readonly("nesterov", &SGDEngine::nesterov)
      .def_property_readonly("maximize", &SGDEngine::maximize)
      .def_property("_buffer_initialized", &SGDEngine::buffer_initialized,
                    &SGDEngine::set_buffer_initialized);

  py::class_<AdagradEngine, Engine>(m, "AdagradEngine")
      .def(py::init<py::handle, const py::dict&, py::handle, py::handle, py::handle, py::handle,
                    py::handle>(),
           py::arg("params"), py::arg("state"), py::arg("lr"), py::arg("lr_decay"),
           py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"))
      .def("step", &AdagradEngine::step, py::arg("grads"), step_doc)
      .def_property("lr_decay", &AdagradEngine::lr_decay, setter(&AdagradEngine::set_lr_decay))
      .def_property("weight_decay", &AdagradEngine::weight_decay,
                    setter(&AdagradEngine::set_weight_decay))
      .def_property("eps", &AdagradEngine::eps, setter(&AdagradEngine::set_eps))
      .def_property_readonly("maximize", &AdagradEngine::maximize);

  py::class_<RMSpropEngine, Engine>(m, "RMSpropEngine")
      .def(py::init<py::handle, const py::dict&, py::handle, py::handle, py::handle, py::handle,
                    py::handle, py::handle, py::handle>(),
           py::arg("params"), py::arg("state"), py::arg("lr"), py::arg("alpha"), py::arg("eps"),
           py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"),
           py::arg("maximize"))
      .def("step", &RMSpropEngine::step, py::arg("grads"), step_doc)
      .def_property("alpha", &RMSpropEngine::alpha, setter(&RMSpropEngine::set_alpha))
      .def_property("eps", &RMSpropEngine::eps, setter(&RMSpropEngine::set_eps))
      .def_property("weight_decay", &RMSpropEngine::weight_decay,
                    setter(&RMSpropEngine::set_weight_decay))
      .def_property("momentum", &RMSpropEngine::momentum, setter(&RMSpropEngine::set_momentum))
      .def_property_readonly("centered", &RMSpropEngine::centered)
      .def_property_readonly("maximize", &RMSpropEngine::maximize);

  py::class_<AdamEngine, Engine>(m, "AdamEngine")
      .def(py::init<py::handle, const py::dict&, py::handle, py::handle, py::handle, py::handle,
                    py::handle, py::handle, py::handle>(),
           py::arg("params"), py::arg("state"), py::arg("lr"), py::arg("betas"), py::arg("eps"),
           py::arg("weight_decay"), py::arg("amsgrad"), py::arg("maximize"),
           py::arg("decoupled_weight_decay"))
      .def("step", &AdamEngine::step, py::arg("grads"), step_doc)
      .def_property("betas", &AdamEngine::betas, setter(&AdamEngine::set_betas))
      .def_property("eps", &AdamEngine::eps, setter(&AdamEngine::set_eps))
      .def_property("weight_decay", &AdamEngine::weight_decay,
                    setter(&AdamEngine::set_weight_decay))
      .def_property_readonly("amsgrad", &AdamEngine::amsgrad)
      .def_property_readonly("maximize", &AdamEngine::maximize)
      .def_property_readonly("decoupled_weight_decay", &AdamEngine::decoupled_weight_decay);
}

}  // namespace saddlepoint::bindings
