// Functional optimizer steps: validate every argument, release the GIL, run the kernel.
#include <pybind11/pybind11.h>

#include <initializer_list>
#include <optional>

#include "bindings/common.hpp"
#include "bindings/register.hpp"
#include "bindings/steps.hpp"
#include "saddlepoint/optim/optimizers.hpp"

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

// The parameters of one call: at least one array, all of one dtype (a kernel runs for one
// dtype; a float32 array stepped as float64 would read and write past its end).
ArrayList checked_params(py::handle param) {
  ArrayList P = checked_arrays(param, "param", true);
  if (P.items.empty()) {
    throw py::value_error("param: expected at least one array, got an empty list");
  }
  for (std::size_t i = 1; i < P.items.size(); ++i) {
    if (P.items[i].dtype != P.items[0].dtype) {
      throw py::type_error(P.names[i] + ": expected " + dtype_name(P.items[0].dtype) +
                           " like param[0] (one dtype per call), got " +
                           dtype_name(P.items[i].dtype));
    }
  }
  return P;
}

// `step` is keyword-only without a usable default: pybind11 would answer a missing one with
// the whole signature, so it defaults to None and is refused here with a message naming it.
std::int64_t required_step(py::handle step) {
  if (step.is_none()) {
    throw py::type_error("step: required, the 1-based number of this step (1 on the first call)");
  }
  return checked_step(step, "step");
}

std::optional<ArrayList> optional_state(py::handle obj, const char* name, const ArrayList& params) {
  if (obj.is_none()) return std::nullopt;
  ArrayList s = checked_arrays(obj, name, true);
  check_list_like(s, name, params);
  return s;
}

template <typename T>
T* at(const std::optional<ArrayList>& l, std::size_t i) {
  return l ? l->items[i].ptr<T>() : nullptr;
}

bool any_nonzero(const HyperValue& h) {
  if (!h.per_row) return h.scalar != 0.0;
  for (double v : h.values)
    if (v != 0.0) return true;
  return false;
}

bool any_varies(std::initializer_list<const HyperValue*> hs) {
  for (const HyperValue* h : hs)
    if (h->per_row) return true;
  return false;
}

void sgd_step(py::handle param, py::handle grad, py::handle momentum_buffer, py::handle lr,
              py::handle momentum, py::handle dampening, py::handle nesterov,
              py::handle weight_decay, py::handle maximize, py::handle step) {
  const ArrayList P = checked_params(param);
  const ArrayList G = checked_arrays(grad, "grad", false);
  check_list_like(G, "grad", P);
  const std::int64_t rows = hyper_rows(P);
  const HyperValue lr_ = checked_hyper(lr, {"lr", 0.0, inf()}, rows);
  const HyperValue mu = checked_hyper(momentum, {"momentum", 0.0, inf()}, rows);
  const HyperValue damp = checked_hyper(dampening, {"dampening", 0.0, 1.0}, rows);
  const HyperValue wd = checked_hyper(weight_decay, {"weight_decay", 0.0, inf()}, rows);
  const bool nest = checked_bool(nesterov, "nesterov");
  const bool maxi = checked_bool(maximize, "maximize");
  const bool uses_buffer = any_nonzero(mu);
  if (nest) {
    for (std::int64_t r = 0; r < mu.count_with(damp); ++r) {
      if (mu.view().at(r) <= 0.0 || damp.view().at(r) != 0.0) {
        throw py::value_error("nesterov: requires momentum > 0 and dampening == 0 in every row");
      }
    }
  }
  std::optional<ArrayList> B;
  std::int64_t step_ = 0;
  if (uses_buffer) {
    if (momentum_buffer.is_none()) {
      throw py::value_error("momentum_buffer: required when momentum != 0");
    }
    if (step.is_none()) {
      throw py::value_error("step: required when momentum != 0 (step 1 sets momentum_buffer to "
                            "the gradient, as torch.optim.SGD does)");
    }
    B = optional_state(momentum_buffer, "momentum_buffer", P);
    step_ = checked_step(step, "step");
  } else {
    B = optional_state(momentum_buffer, "momentum_buffer", P);
    if (!step.is_none()) step_ = checked_step(step, "step");
  }
  check_disjoint({&P, &G, B ? &*B : nullptr});

  SGDHyper h;
  h.lr = lr_.view();
  h.momentum = mu.view();
  h.dampening = damp.view();
  h.weight_decay = wd.view();
  h.nesterov = nest;
  h.maximize = maxi;
  h.first_step = step_ == 1;
  const auto segs = segments(P, any_varies({&lr_, &mu, &damp, &wd}));
  py::gil_scoped_release release;
  with_dtype(P.items[0].dtype, [&](auto t) {
    using T = decltype(t);
    for (std::size_t i = 0; i < segs.size(); ++i) {
      saddlepoint::sgd_step<T>(P.items[i].ptr<T>(), G.items[i].ptr<T>(),
                               uses_buffer ? at<T>(B, i) : nullptr, segs[i].rows, segs[i].cols, h);
    }
  });
}

void adagrad_step(py::handle param, py::handle grad, py::handle state_sum, py::handle step,
                  py::handle lr, py::handle lr_decay, py::handle weight_decay, py::handle eps,
                  py::handle maximize) {
  const ArrayList P = checked_params(param);
  const ArrayList G = checked_arrays(grad, "grad", false);
  check_list_like(G, "grad", P);
  const ArrayList S = checked_arrays(state_sum, "state_sum", true);
  check_list_like(S, "state_sum", P);
  const std::int64_t rows = hyper_rows(P);
  AdagradHyper h;
  h.step = required_step(step);
  const HyperValue lr_ = checked_hyper(lr, {"lr", 0.0, inf()}, rows);
  const HyperValue dec = checked_hyper(lr_decay, {"lr_decay", 0.0, inf()}, rows);
  const HyperValue wd = checked_hyper(weight_decay, {"weight_decay", 0.0, inf()}, rows);
  const HyperValue eps_ = checked_hyper(eps, {"eps", 0.0, inf(), true}, rows);
  h.maximize = checked_bool(maximize, "maximize");
  check_disjoint({&P, &G, &S});
  h.lr = lr_.view();
  h.lr_decay = dec.view();
  h.weight_decay = wd.view();
  h.eps = eps_.view();
  const auto segs = segments(P, any_varies({&lr_, &dec, &wd, &eps_}));
  py::gil_scoped_release release;
  with_dtype(P.items[0].dtype, [&](auto t) {
    using T = decltype(t);
    for (std::size_t i = 0; i < segs.size(); ++i) {
      saddlepoint::adagrad_step<T>(P.items[i].ptr<T>(), G.items[i].ptr<T>(), S.items[i].ptr<T>(),
                                   segs[i].rows, segs[i].cols, h);
    }
  });
}

void rmsprop_step(py::handle param, py::handle grad, py::handle square_avg, py::handle grad_avg,
                  py::handle momentum_buffer, py::handle lr, py::handle alpha, py::handle eps,
                  py::handle weight_decay, py::handle momentum, py::handle centered,
                  py::handle maximize) {
  const ArrayList P = checked_params(param);
  const ArrayList G = checked_arrays(grad, "grad", false);
  check_list_like(G, "grad", P);
  const ArrayList V = checked_arrays(square_avg, "square_avg", true);
  check_list_like(V, "square_avg", P);
  const std::int64_t rows = hyper_rows(P);
  RMSpropHyper h;
  const HyperValue lr_ = checked_hyper(lr, {"lr", 0.0, inf()}, rows);
  const HyperValue al = checked_hyper(alpha, {"alpha", 0.0, 1.0}, rows);
  const HyperValue eps_ = checked_hyper(eps, {"eps", 0.0, inf(), true}, rows);
  const HyperValue wd = checked_hyper(weight_decay, {"weight_decay", 0.0, inf()}, rows);
  const HyperValue mu = checked_hyper(momentum, {"momentum", 0.0, inf()}, rows);
  h.centered = checked_bool(centered, "centered");
  h.maximize = checked_bool(maximize, "maximize");
  if (h.centered && grad_avg.is_none()) {
    throw py::value_error("grad_avg: required when centered=True");
  }
  const bool uses_buffer = any_nonzero(mu);
  if (uses_buffer && momentum_buffer.is_none()) {
    throw py::value_error("momentum_buffer: required when momentum != 0");
  }
  const auto A = optional_state(grad_avg, "grad_avg", P);
  const auto B = optional_state(momentum_buffer, "momentum_buffer", P);
  check_disjoint({&P, &G, &V, A ? &*A : nullptr, B ? &*B : nullptr});
  h.lr = lr_.view();
  h.alpha = al.view();
  h.eps = eps_.view();
  h.weight_decay = wd.view();
  h.momentum = mu.view();
  const auto segs = segments(P, any_varies({&lr_, &al, &eps_, &wd, &mu}));
  py::gil_scoped_release release;
  with_dtype(P.items[0].dtype, [&](auto t) {
    using T = decltype(t);
    for (std::size_t i = 0; i < segs.size(); ++i) {
      saddlepoint::rmsprop_step<T>(P.items[i].ptr<T>(), G.items[i].ptr<T>(), V.items[i].ptr<T>(),
                                   h.centered ? at<T>(A, i) : nullptr,
                                   uses_buffer ? at<T>(B, i) : nullptr, segs[i].rows,
                                   segs[i].cols, h);
    }
  });
}

void adam_step(py::handle param, py::handle grad, py::handle exp_avg, py::handle exp_avg_sq,
               py::handle max_exp_avg_sq, py::handle step, py::handle lr, py::handle betas,
               py::handle eps, py::handle weight_decay, py::handle amsgrad, py::handle maximize,
               py::handle decoupled_weight_decay) {
  const ArrayList P = checked_params(param);
  const ArrayList G = checked_arrays(grad, "grad", false);
  check_list_like(G, "grad", P);
  const ArrayList M = checked_arrays(exp_avg, "exp_avg", true);
  check_list_like(M, "exp_avg", P);
  const ArrayList V = checked_arrays(exp_avg_sq, "exp_avg_sq", true);
  check_list_like(V, "exp_avg_sq", P);
  const std::int64_t rows = hyper_rows(P);
  AdamHyper h;
  h.step = required_step(step);
  const HyperValue lr_ = checked_hyper(lr, {"lr", 0.0, inf()}, rows);
  const auto [b1, b2] = checked_betas(betas, rows);
  const HyperValue eps_ = checked_hyper(eps, {"eps", 0.0, inf(), true}, rows);
  const HyperValue wd = checked_hyper(weight_decay, {"weight_decay", 0.0, inf()}, rows);
  h.amsgrad = checked_bool(amsgrad, "amsgrad");
  h.maximize = checked_bool(maximize, "maximize");
  h.decoupled = checked_bool(decoupled_weight_decay, "decoupled_weight_decay");
  if (h.amsgrad && max_exp_avg_sq.is_none()) {
    throw py::value_error("max_exp_avg_sq: required when amsgrad=True");
  }
  const auto X = optional_state(max_exp_avg_sq, "max_exp_avg_sq", P);
  check_disjoint({&P, &G, &M, &V, X ? &*X : nullptr});
  h.lr = lr_.view();
  h.beta1 = b1.view();
  h.beta2 = b2.view();
  h.eps = eps_.view();
  h.weight_decay = wd.view();
  const auto segs = segments(P, any_varies({&lr_, &b1, &b2, &eps_, &wd}));
  py::gil_scoped_release release;
  with_dtype(P.items[0].dtype, [&](auto t) {
    using T = decltype(t);
    for (std::size_t i = 0; i < segs.size(); ++i) {
      saddlepoint::adam_step<T>(P.items[i].ptr<T>(), G.items[i].ptr<T>(), M.items[i].ptr<T>(),
                                V.items[i].ptr<T>(), h.amsgrad ? at<T>(X, i) : nullptr,
                                segs[i].rows, segs[i].cols, h);
    }
  });
}

}  // namespace

void bind_kernels(py::module_& m) {
  m.def("sgd_step", &sgd_step, py::arg("param"), py::arg("grad"),
        py::arg("momentum_buffer") = py::none(), py::kw_only(), py::arg("lr"),
        py::arg("momentum") = 0.0, py::arg("dampening") = 0.0, py::arg("nesterov") = false,
        py::arg("weight_decay") = 0.0, py::arg("maximize") = false, py::arg("step") = py::none(),
        R"doc(One SGD step in place, as torch.optim.SGD (single-tensor path).

g = -grad if maximize else grad;  g += weight_decay * param
buf = g on step 1, else momentum * buf + (1 - dampening) * g
g = g + momentum * buf (nesterov) or buf;  param -= lr * g

param, grad, momentum_buffer: one C-contiguous float32/float64 array each, or lists of them.
Float hyper-parameters: a number, or one value per row of a 2-D param. step (1-based) is
required when momentum != 0.)doc");

  m.def("adagrad_step", &adagrad_step, py::arg("param"), py::arg("grad"), py::arg("state_sum"),
        py::kw_only(), py::arg("step") = py::none(), py::arg("lr") = 0.01, py::arg("lr_decay") = 0.0,
        py::arg("weight_decay") = 0.0, py::arg("eps") = 1e-10, py::arg("maximize") = false,
        R"doc(One Adagrad step in place, as torch.optim.Adagrad.

g = ±grad + weight_decay * param;  clr = lr / (1 + (step - 1) * lr_decay)
state_sum += g * g;  param -= clr * g / (sqrt(state_sum) + eps)   (eps outside the root))doc");

  m.def("rmsprop_step", &rmsprop_step, py::arg("param"), py::arg("grad"), py::arg("square_avg"),
        py::arg("grad_avg") = py::none(), py::arg("momentum_buffer") = py::none(), py::kw_only(),
        py::arg("lr") = 0.01, py::arg("alpha") = 0.99, py::arg("eps") = 1e-8,
        py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0, py::arg("centered") = false,
        py::arg("maximize") = false,
        R"doc(One RMSprop step in place, as torch.optim.RMSprop.

g = ±grad + weight_decay * param;  square_avg = alpha * square_avg + (1 - alpha) * g * g
centered: grad_avg = lerp(grad_avg, g, 1 - alpha), d = sqrt(square_avg - grad_avg**2) + eps
otherwise d = sqrt(square_avg) + eps
momentum > 0: buf = momentum * buf + g / d, param -= lr * buf;  else param -= lr * g / d)doc");

  m.def("adam_step", &adam_step, py::arg("param"), py::arg("grad"), py::arg("exp_avg"),
        py::arg("exp_avg_sq"), py::arg("max_exp_avg_sq") = py::none(), py::kw_only(),
        py::arg("step") = py::none(), py::arg("lr") = 1e-3, py::arg("betas") = py::make_tuple(0.9, 0.999),
        py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.0, py::arg("amsgrad") = false,
        py::arg("maximize") = false, py::arg("decoupled_weight_decay") = false,
        R"doc(One Adam (or AdamW) step in place, as torch.optim.Adam / AdamW.

Adam: g = ±grad + weight_decay * param;  AdamW: param *= 1 - lr * weight_decay, g = ±grad
exp_avg = lerp(exp_avg, g, 1 - beta1);  exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
amsgrad: max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq), used in place of exp_avg_sq
param -= (lr / bc1) * exp_avg / (sqrt(exp_avg_sq) / sqrt(bc2) + eps),  bc_i = 1 - beta_i**step
step is the 1-based number of this step (Kingma & Ba 2015; Loshchilov & Hutter 2019).)doc");
}

}  // namespace saddlepoint::bindings
