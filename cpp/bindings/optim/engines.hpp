// The optimizer engines: each holds its checked settings (settings.hpp), names its state
// buffers, and hands run_step the lambda that calls its kernel. The hyper-parameters an
// engine exposes are its settings' table(), named once there: bind_optim.cpp registers a
// property for each, and the list is the engine's `hyper_names`, which the Python classes
// (saddlepoint.optim) and _core.pyi are checked against (tests/test_engine_contract.py).
#pragma once

#include <utility>
#include <vector>

#include "bindings/optim/engine.hpp"
#include "bindings/optim/settings.hpp"
#include "saddlepoint/dispatch/levels.hpp"

namespace saddlepoint::bindings {

// An engine with its optimizer's settings; a setter checks the new value, and validate()
// (the rules that tie settings to each other or to the buffers) must hold afterwards, else
// the old value is put back and the error raised.
template <typename Settings>
class EngineWith : public Engine {
 public:
  using Engine::Engine;

  // The hyper-parameters it exposes, in order (settings.hpp): bind_optim.cpp registers them.
  static const std::vector<SettingEntry<Settings>>& settings_table() { return Settings::table(); }
  const Settings& settings() const { return settings_; }
  py::object get(HyperValue Settings::*member) const { return hyper_object(settings_.*member); }
  void set(HyperValue Settings::*member, const HyperSpec& range, py::handle value) {
    HyperValue checked = hyper(value, range);
    std::swap(settings_.*member, checked);
    try {
      validate();
    } catch (...) {
      std::swap(settings_.*member, checked);
      throw;
    }
  }

 protected:
  virtual void validate() const {}
  bool varies_by_row() const override { return settings_.varies_by_row(); }
  Settings settings_;
};

class SGDEngine : public EngineWith<SGDSettings> {
 public:
  SGDEngine(py::handle params, const py::dict& state, py::handle lr, py::handle momentum,
            py::handle dampening, py::handle weight_decay, py::handle nesterov,
            py::handle maximize)
      : EngineWith(params, state, {"momentum_buffer"}) {
    set_lr(lr);
    settings_ = checked_sgd_settings(momentum, dampening, weight_decay, nesterov, maximize, rows_);
    validate();
    momentum_buffer_ = buffer("momentum_buffer");
  }


  void step(py::handle grads) {
    const auto make_hyper = [&](const HyperValue& lr) {
      return make_sgd_hyper(lr, settings_, !buffer_initialized_);
    };
    if (instrumented_) {
      step_instrumented(grads, make_hyper);
    } else {
      run_step(grads, settings_.varies_by_row(), make_hyper,
               [&](auto* param, const auto* grad, const Segment& s, const SGDHyper& h) {
                 using T = std::remove_pointer_t<decltype(param)>;
                 dispatch::kernels<T>().sgd_step(param, grad, slice<T>(momentum_buffer_, s), s.rows,
                                          s.cols, h);
               });
    }
    // PyTorch creates the buffer from the first gradient that uses momentum.
    if (momentum_buffer_ && any_nonzero(settings_.momentum)) buffer_initialized_ = true;
  }

  bool buffer_initialized() const { return buffer_initialized_; }
  void set_buffer_initialized(bool v) { buffer_initialized_ = v; }

 private:
  bool instrumentable() const override { return true; }

  template <typename MakeHyper>
  void step_instrumented(py::handle grads, MakeHyper&& make_hyper) {
    const bool momentum = momentum_buffer_ && any_nonzero(settings_.momentum);
    const bool heavy_ball = momentum && !settings_.nesterov;  // the buffer is the direction
    if (!heavy_ball && direction_.is_none()) {  // plain SGD, Nesterov: nothing holds it
      direction_ = py::array(params_.items[0].array.dtype(), total_);
      std::memset(py::detail::array_proxy(direction_.ptr())->data, 0,
                  static_cast<std::size_t>(params_.items[0].array.itemsize() * total_));
    }
    void* direction = heavy_ball ? nullptr : py::detail::array_proxy(direction_.ptr())->data;
    double lr_used = 0.0;
    run_instrumented_step(
        grads, make_hyper, [&](auto* param, const auto* grad, const Segment& s, const SGDHyper& h) {
          using T = std::remove_pointer_t<decltype(param)>;
          lr_used = h.lr.at(0);
          return dispatch::kernels<T>().sgd_step_instrumented(param, grad, slice<T>(momentum_buffer_, s),
                                                   slice<T>(direction, s), s.cols, h,
                                                   has_previous_, -previous_lr_);
        });
    previous_lr_ = lr_used;
  }

  py::object direction_ = py::none();  // plain SGD's previous update (instrumented only)
  double previous_lr_ = 0.0;
  void validate() const override {
    settings_.check_nesterov();
    if (any_nonzero(settings_.momentum) && !has_buffer("momentum_buffer")) {
      throw py::value_error("momentum: a non-zero momentum needs state['momentum_buffer']");
    }
  }

  void* momentum_buffer_ = nullptr;
  bool buffer_initialized_ = false;
};

class AdagradEngine : public EngineWith<AdagradSettings> {
 public:
  AdagradEngine(py::handle params, const py::dict& state, py::handle lr, py::handle lr_decay,
                py::handle weight_decay, py::handle eps, py::handle maximize)
      : EngineWith(params, state, {"sum"}) {
    if (!has_buffer("sum")) throw py::value_error("state['sum']: required");
    set_lr(lr);
    settings_ = checked_adagrad_settings(lr_decay, weight_decay, eps, maximize, rows_);
    sum_ = buffer("sum");
  }


  void step(py::handle grads) {
    run_step(
        grads, settings_.varies_by_row(),
        [&](const HyperValue& lr) { return make_adagrad_hyper(lr, settings_, steps_ + 1); },
        [&](auto* param, const auto* grad, const Segment& s, const AdagradHyper& h) {
          using T = std::remove_pointer_t<decltype(param)>;
          dispatch::kernels<T>().adagrad_step(param, grad, slice<T>(sum_, s), s.rows, s.cols, h);
        });
  }

 private:
  void* sum_ = nullptr;
};

class RMSpropEngine : public EngineWith<RMSpropSettings> {
 public:
  RMSpropEngine(py::handle params, const py::dict& state, py::handle lr, py::handle alpha,
                py::handle eps, py::handle weight_decay, py::handle momentum,
                py::handle centered, py::handle maximize)
      : EngineWith(params, state, {"square_avg", "grad_avg", "momentum_buffer"}) {
    if (!has_buffer("square_avg")) throw py::value_error("state['square_avg']: required");
    set_lr(lr);
    settings_ = checked_rmsprop_settings(alpha, eps, weight_decay, momentum, centered, maximize,
                                         rows_);
    if (settings_.centered && !has_buffer("grad_avg")) {
      throw py::value_error("state['grad_avg']: required when centered=True");
    }
    validate();
    square_avg_ = buffer("square_avg");
    grad_avg_ = settings_.centered ? buffer("grad_avg") : nullptr;
    momentum_buffer_ = buffer("momentum_buffer");
  }


  void step(py::handle grads) {
    run_step(
        grads, settings_.varies_by_row(),
        [&](const HyperValue& lr) { return make_rmsprop_hyper(lr, settings_); },
        [&](auto* param, const auto* grad, const Segment& s, const RMSpropHyper& h) {
          using T = std::remove_pointer_t<decltype(param)>;
          dispatch::kernels<T>().rmsprop_step(param, grad, slice<T>(square_avg_, s),
                                       slice<T>(grad_avg_, s), slice<T>(momentum_buffer_, s),
                                       s.rows, s.cols, h);
        });
  }

 private:
  void validate() const override {
    if (any_nonzero(settings_.momentum) && !has_buffer("momentum_buffer")) {
      throw py::value_error("momentum: a non-zero momentum needs state['momentum_buffer']");
    }
  }

  void *square_avg_ = nullptr, *grad_avg_ = nullptr, *momentum_buffer_ = nullptr;
};

class AdamEngine : public EngineWith<AdamSettings> {
 public:
  AdamEngine(py::handle params, const py::dict& state, py::handle lr, py::handle betas,
             py::handle eps, py::handle weight_decay, py::handle amsgrad, py::handle maximize,
             py::handle decoupled_weight_decay)
      : EngineWith(params, state, {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}) {
    if (!has_buffer("exp_avg") || !has_buffer("exp_avg_sq")) {
      throw py::value_error("state['exp_avg'] and state['exp_avg_sq']: required");
    }
    set_lr(lr);
    settings_ = checked_adam_settings(betas, eps, weight_decay, amsgrad, maximize,
                                      decoupled_weight_decay, rows_);
    if (settings_.amsgrad && !has_buffer("max_exp_avg_sq")) {
      throw py::value_error("state['max_exp_avg_sq']: required when amsgrad=True");
    }
    exp_avg_ = buffer("exp_avg");
    exp_avg_sq_ = buffer("exp_avg_sq");
    max_exp_avg_sq_ = settings_.amsgrad ? buffer("max_exp_avg_sq") : nullptr;
  }


  void step(py::handle grads) {
    const auto make_hyper = [&](const HyperValue& lr) {
      return make_adam_hyper(lr, settings_, steps_ + 1);
    };
    if (instrumented_) {
      step_instrumented(grads, make_hyper);
      return;
    }
    run_step(grads, settings_.varies_by_row(), make_hyper,
             [&](auto* param, const auto* grad, const Segment& s, const AdamHyper& h) {
               using T = std::remove_pointer_t<decltype(param)>;
               dispatch::kernels<T>().adam_step(param, grad, slice<T>(exp_avg_, s),
                                         slice<T>(exp_avg_sq_, s), slice<T>(max_exp_avg_sq_, s),
                                         s.rows, s.cols, h);
             });
  }

  py::tuple betas() const {
    return py::make_tuple(hyper_object(settings_.beta1), hyper_object(settings_.beta2));
  }
  void set_betas(py::handle v) { std::tie(settings_.beta1, settings_.beta2) = checked_betas(v, rows_); }

 private:
  bool instrumentable() const override { return true; }

  template <typename MakeHyper>
  void step_instrumented(py::handle grads, MakeHyper&& make_hyper) {
    double neg_step = 0.0;
    run_instrumented_step(
        grads, make_hyper,
        [&](auto* param, const auto* grad, const Segment& s, const AdamHyper& h) {
          using T = std::remove_pointer_t<decltype(param)>;
          neg_step = dispatch::active_level().adam_neg_step_size(h);
          return dispatch::kernels<T>().adam_step_instrumented(
              param, grad, slice<T>(exp_avg_, s), slice<T>(exp_avg_sq_, s),
              slice<T>(max_exp_avg_sq_, s), s.cols, h, has_previous_, previous_neg_step_);
        });
    previous_neg_step_ = neg_step;  // scales the next step's previous direction
  }

  double previous_neg_step_ = 0.0;
  void *exp_avg_ = nullptr, *exp_avg_sq_ = nullptr, *max_exp_avg_sq_ = nullptr;
};

}  // namespace saddlepoint::bindings
