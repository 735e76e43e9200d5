// Functional optimizer steps: validate every argument, release the GIL, run the kernel.
#include <pybind11/pybind11.h>

#include <initializer_list>
#include <optional>
#include <type_traits>

#include "bindings/common.hpp"
#include "bindings/fast_function.hpp"
#include "bindings/register.hpp"
#include "bindings/optim/settings.hpp"
#include "bindings/steps.hpp"
#include "saddlepoint/dispatch/levels.hpp"

namespace py = pybind11;

namespace saddlepoint::bindings {

namespace {

void check_disjoint(std::initializer_list<const ArrayList*> lists) {
  std::vector<std::pair<const ArrayRef*, const std::string*>> all;
  for (const ArrayList* l : lists) {
    if (!l) continue;
    for (std::size_t i = 0; i < l->items.size(); ++i) all.emplace_back(&l->items[i], &l->names[i]);
  }
  check_no_overlap(all);
}

// The parameters and gradients of one call: at least one parameter, all of one dtype (a kernel
// runs for one dtype; a float32 array stepped as float64 would read and write past its end),
// and a gradient like each.
struct ParamsAndGrads {
  ArrayList params, grads;
  std::int64_t rows = -1;  // rows for per-row hyper-parameters, or -1 (see hyper_rows)

  ParamsAndGrads(py::handle param, py::handle grad)
      : params(checked_arrays(param, "param", true)), grads() {
    if (params.items.empty()) {
      throw py::value_error("param: expected at least one array, got an empty list");
    }
    for (std::size_t i = 1; i < params.items.size(); ++i) {
      if (params.items[i].dtype != params.items[0].dtype) {
        throw py::type_error(params.names[i] + ": expected " + dtype_name(params.items[0].dtype) +
                             " like param[0] (one dtype per call), got " +
                             dtype_name(params.items[i].dtype));
      }
    }
    grads = checked_arrays(grad, "grad", false);
    check_list_like(grads, "grad", params);
    rows = hyper_rows(params);
  }

  DType dtype() const { return params.items[0].dtype; }

  // A state array the kernel updates in place, like the parameters.
  ArrayList state(py::handle obj, const char* name) const {
    ArrayList s = checked_arrays(obj, name, true);
    check_list_like(s, name, params);
    return s;
  }
  std::optional<ArrayList> optional_state(py::handle obj, const char* name) const {
    if (obj.is_none()) return std::nullopt;
    return state(obj, name);
  }

  // Release the GIL and run `kernel(param, grad, segment, i)` on every array, with T its dtype.
  template <typename Kernel>
  void step(bool varies_by_row, Kernel&& kernel) const {
    const auto segs = segments(params, varies_by_row);
    step_segments(dtype(), segs, true, [&](auto zero, std::size_t i) {
      using T = decltype(zero);
      kernel(params.items[i].ptr<T>(), grads.items[i].ptr<T>(), segs[i], i);
    });
  }
};

// `step` is keyword-only without a usable default: pybind11 would answer a missing one with
// the whole signature, so it defaults to None and is refused here with a message naming it.
std::int64_t required_step(py::handle step) {
  if (step.is_none()) {
    throw py::type_error("step: required, the 1-based number of this step (1 on the first call)");
  }
  return checked_step(step, "step");
}

// Item i of an optional list of state arrays, or null when the state is not used.
template <typename T>
T* item(const std::optional<ArrayList>& l, std::size_t i) {
  return l ? l->items[i].ptr<T>() : nullptr;
}

void sgd_step(py::handle param, py::handle grad, py::handle momentum_buffer, py::handle lr,
              py::handle momentum, py::handle dampening, py::handle nesterov,
              py::handle weight_decay, py::handle maximize, py::handle step) {
  const ParamsAndGrads call(param, grad);
  const HyperValue lr_value = checked_hyper(lr, ranges::lr, call.rows);
  const SGDSettings settings =
      checked_sgd_settings(momentum, dampening, weight_decay, nesterov, maximize, call.rows);
  const bool uses_buffer = any_nonzero(settings.momentum);
  std::int64_t step_number = 0;
  if (uses_buffer) {
    if (momentum_buffer.is_none()) {
      throw py::value_error("momentum_buffer: required when momentum != 0");
    }
    if (step.is_none()) {
      throw py::value_error("step: required when momentum != 0 (step 1 sets momentum_buffer to "
                            "the gradient, as torch.optim.SGD does)");
    }
  }
  const auto buffers = call.optional_state(momentum_buffer, "momentum_buffer");
  if (!step.is_none()) step_number = checked_step(step, "step");
  check_disjoint({&call.params, &call.grads, buffers ? &*buffers : nullptr});
  const SGDHyper h = make_sgd_hyper(lr_value, settings, step_number == 1);
  call.step(lr_value.per_row || settings.varies_by_row(),
            [&](auto* p, const auto* g, const Segment& s, std::size_t i) {
              using T = std::remove_pointer_t<decltype(p)>;
              dispatch::kernels<T>().sgd_step(p, g, uses_buffer ? item<T>(buffers, i) : nullptr, s.rows,
                                       s.cols, h);
            });
}

void adagrad_step(py::handle param, py::handle grad, py::handle state_sum, py::handle step,
                  py::handle lr, py::handle lr_decay, py::handle weight_decay, py::handle eps,
                  py::handle maximize) {
  const ParamsAndGrads call(param, grad);
  const ArrayList sums = call.state(state_sum, "state_sum");
  const std::int64_t step_number = required_step(step);
  const HyperValue lr_value = checked_hyper(lr, ranges::lr, call.rows);
  const AdagradSettings settings =
      checked_adagrad_settings(lr_decay, weight_decay, eps, maximize, call.rows);
  check_disjoint({&call.params, &call.grads, &sums});
  const AdagradHyper h = make_adagrad_hyper(lr_value, settings, step_number);
  call.step(lr_value.per_row || settings.varies_by_row(),
            [&](auto* p, const auto* g, const Segment& s, std::size_t i) {
              using T = std::remove_pointer_t<decltype(p)>;
              dispatch::kernels<T>().adagrad_step(p, g, sums.items[i].ptr<T>(), s.rows, s.cols, h);
            });
}

void rmsprop_step(py::handle param, py::handle grad, py::handle square_avg, py::handle grad_avg,
                  py::handle momentum_buffer, py::handle lr, py::handle alpha, py::handle eps,
                  py::handle weight_decay, py::handle momentum, py::handle centered,
                  py::handle maximize) {
  const ParamsAndGrads call(param, grad);
  const ArrayList square_avgs = call.state(square_avg, "square_avg");
  const HyperValue lr_value = checked_hyper(lr, ranges::lr, call.rows);
  const RMSpropSettings settings = checked_rmsprop_settings(alpha, eps, weight_decay, momentum,
                                                            centered, maximize, call.rows);
  if (settings.centered && grad_avg.is_none()) {
    throw py::value_error("grad_avg: required when centered=True");
  }
  const bool uses_buffer = any_nonzero(settings.momentum);
  if (uses_buffer && momentum_buffer.is_none()) {
    throw py::value_error("momentum_buffer: required when momentum != 0");
  }
  const auto grad_avgs = call.optional_state(grad_avg, "grad_avg");
  const auto buffers = call.optional_state(momentum_buffer, "momentum_buffer");
  check_disjoint({&call.params, &call.grads, &square_avgs, grad_avgs ? &*grad_avgs : nullptr,
                  buffers ? &*buffers : nullptr});
  const RMSpropHyper h = make_rmsprop_hyper(lr_value, settings);
  call.step(lr_value.per_row || settings.varies_by_row(),
            [&](auto* p, const auto* g, const Segment& s, std::size_t i) {
              using T = std::remove_pointer_t<decltype(p)>;
              dispatch::kernels<T>().rmsprop_step(p, g, square_avgs.items[i].ptr<T>(),
                                           settings.centered ? item<T>(grad_avgs, i) : nullptr,
                                           uses_buffer ? item<T>(buffers, i) : nullptr, s.rows,
                                           s.cols, h);
            });
}

void adam_step(py::handle param, py::handle grad, py::handle exp_avg, py::handle exp_avg_sq,
               py::handle max_exp_avg_sq, py::handle step, py::handle lr, py::handle betas,
               py::handle eps, py::handle weight_decay, py::handle amsgrad, py::handle maximize,
               py::handle decoupled_weight_decay) {
  const ParamsAndGrads call(param, grad);
  const ArrayList exp_avgs = call.state(exp_avg, "exp_avg");
  const ArrayList exp_avg_sqs = call.state(exp_avg_sq, "exp_avg_sq");
  const std::int64_t step_number = required_step(step);
  const HyperValue lr_value = checked_hyper(lr, ranges::lr, call.rows);
  const AdamSettings settings = checked_adam_settings(betas, eps, weight_decay, amsgrad, maximize,
                                                      decoupled_weight_decay, call.rows);
  if (settings.amsgrad && max_exp_avg_sq.is_none()) {
    throw py::value_error("max_exp_avg_sq: required when amsgrad=True");
  }
  const auto max_exp_avg_sqs = call.optional_state(max_exp_avg_sq, "max_exp_avg_sq");
  check_disjoint({&call.params, &call.grads, &exp_avgs, &exp_avg_sqs,
                  max_exp_avg_sqs ? &*max_exp_avg_sqs : nullptr});
  const AdamHyper h = make_adam_hyper(lr_value, settings, step_number);
  call.step(lr_value.per_row || settings.varies_by_row(),
            [&](auto* p, const auto* g, const Segment& s, std::size_t i) {
              using T = std::remove_pointer_t<decltype(p)>;
              dispatch::kernels<T>().adam_step(p, g, exp_avgs.items[i].ptr<T>(),
                                        exp_avg_sqs.items[i].ptr<T>(),
                                        settings.amsgrad ? item<T>(max_exp_avg_sqs, i) : nullptr,
                                        s.rows, s.cols, h);
            });
}

}  // namespace

void bind_kernels(py::module_& m) {
  const py::object none = py::none();

  def_fast<0>(
      m, "sgd_step", 3,
      {{"param", py::object()},
       {"grad", py::object()},
       {"momentum_buffer", none},
       {"lr", py::object()},
       {"momentum", py::float_(0.0)},
       {"dampening", py::float_(0.0)},
       {"nesterov", py::bool_(false)},
       {"weight_decay", py::float_(0.0)},
       {"maximize", py::bool_(false)},
       {"step", none}},
      [](const py::handle* a) {
        sgd_step(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
      },
      R"doc(One SGD step in place, as torch.optim.SGD (single-tensor path).

g = -grad if maximize else grad;  g += weight_decay * param
buf = g on step 1, else momentum * buf + (1 - dampening) * g
g = g + momentum * buf (nesterov) or buf;  param -= lr * g

param, grad, momentum_buffer: one C-contiguous float32/float64 array each, or lists of them.
Float hyper-parameters: a number, or one value per row of a 2-D param. step (1-based) is
required when momentum != 0.)doc");

  def_fast<1>(
      m, "adagrad_step", 3,
      {{"param", py::object()},
       {"grad", py::object()},
       {"state_sum", py::object()},
       {"step", none},
       {"lr", py::float_(0.01)},
       {"lr_decay", py::float_(0.0)},
       {"weight_decay", py::float_(0.0)},
       {"eps", py::float_(1e-10)},
       {"maximize", py::bool_(false)}},
      [](const py::handle* a) {
        adagrad_step(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
      },
      R"doc(One Adagrad step in place, as torch.optim.Adagrad.

g = ±grad + weight_decay * param;  clr = lr / (1 + (step - 1) * lr_decay)
state_sum += g * g;  param -= clr * g / (sqrt(state_sum) + eps)   (eps outside the root))doc");

  def_fast<2>(
      m, "rmsprop_step", 5,
      {{"param", py::object()},
       {"grad", py::object()},
       {"square_avg", py::object()},
       {"grad_avg", none},
       {"momentum_buffer", none},
       {"lr", py::float_(0.01)},
       {"alpha", py::float_(0.99)},
       {"eps", py::float_(1e-8)},
       {"weight_decay", py::float_(0.0)},
       {"momentum", py::float_(0.0)},
       {"centered", py::bool_(false)},
       {"maximize", py::bool_(false)}},
      [](const py::handle* a) {
        rmsprop_step(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]);
      },
      R"doc(One RMSprop step in place, as torch.optim.RMSprop.

g = ±grad + weight_decay * param;  square_avg = alpha * square_avg + (1 - alpha) * g * g
centered: grad_avg = lerp(grad_avg, g, 1 - alpha), d = sqrt(square_avg - grad_avg**2) + eps
otherwise d = sqrt(square_avg) + eps
momentum > 0: buf = momentum * buf + g / d, param -= lr * buf;  else param -= lr * g / d)doc");

  def_fast<3>(
      m, "adam_step", 5,
      {{"param", py::object()},
       {"grad", py::object()},
       {"exp_avg", py::object()},
       {"exp_avg_sq", py::object()},
       {"max_exp_avg_sq", none},
       {"step", none},
       {"lr", py::float_(1e-3)},
       {"betas", py::make_tuple(0.9, 0.999)},
       {"eps", py::float_(1e-8)},
       {"weight_decay", py::float_(0.0)},
       {"amsgrad", py::bool_(false)},
       {"maximize", py::bool_(false)},
       {"decoupled_weight_decay", py::bool_(false)}},
      [](const py::handle* a) {
        adam_step(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12]);
      },
      R"doc(One Adam (or AdamW) step in place, as torch.optim.Adam / AdamW.

Adam: g = ±grad + weight_decay * param;  AdamW: param *= 1 - lr * weight_decay, g = ±grad
exp_avg = lerp(exp_avg, g, 1 - beta1);  exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
amsgrad: max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq), used in place of exp_avg_sq
param -= (lr / bc1) * exp_avg / (sqrt(exp_avg_sq) / sqrt(bc2) + eps),  bc_i = 1 - beta_i**step
step is the 1-based number of this step (Kingma & Ba 2015; Loshchilov & Hutter 2019).)doc");

}

}  // namespace saddlepoint::bindings
