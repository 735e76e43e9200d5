// Each optimizer's hyper-parameters other than lr, checked once and turned into the kernel's
// *Hyper by one make_*_hyper: the functional kernels (bind_kernels.cpp) and the optimizer
// engines (engines.hpp) both go through these, so they accept, refuse and compute alike.
#pragma once

#include <cstdint>

#include "bindings/common.hpp"
#include "bindings/steps.hpp"
#include "saddlepoint/optim/optimizers.hpp"

namespace saddlepoint::bindings {

inline bool any_nonzero(const HyperValue& h) {
  for (std::int64_t r = 0; r < h.count(); ++r) {
    if (h.view().at(r) != 0.0) return true;
  }
  return false;
}

// ---- SGD ----

struct SGDSettings {
  HyperValue momentum, dampening, weight_decay;
  bool nesterov = false, maximize = false;

  bool varies_by_row() const {
    return momentum.per_row || dampening.per_row || weight_decay.per_row;
  }
  // PyTorch's Nesterov needs a momentum to look ahead with and no dampening of it.
  void check_nesterov() const {
    if (!nesterov) return;
    for (std::int64_t r = 0; r < momentum.count_with(dampening); ++r) {
      if (momentum.view().at(r) <= 0.0 || dampening.view().at(r) != 0.0) {
        throw py::value_error(std::string("nesterov: requires momentum > 0 and dampening == 0") +
                              (momentum.per_row || dampening.per_row ? " in every row" : ""));
      }
    }
  }
};

inline SGDSettings checked_sgd_settings(py::handle momentum, py::handle dampening,
                                        py::handle weight_decay, py::handle nesterov,
                                        py::handle maximize, std::int64_t rows) {
  SGDSettings s;
  s.momentum = checked_hyper(momentum, ranges::momentum, rows);
  s.dampening = checked_hyper(dampening, ranges::dampening, rows);
  s.weight_decay = checked_hyper(weight_decay, ranges::weight_decay, rows);
  s.nesterov = checked_bool(nesterov, "nesterov");
  s.maximize = checked_bool(maximize, "maximize");
  s.check_nesterov();
  return s;
}

// first_step: the momentum buffer is set to the gradient (torch.optim.SGD creates it then).
inline SGDHyper make_sgd_hyper(const HyperValue& lr, const SGDSettings& s, bool first_step) {
  SGDHyper h;
  h.lr = lr.view();
  h.momentum = s.momentum.view();
  h.dampening = s.dampening.view();
  h.weight_decay = s.weight_decay.view();
  h.nesterov = s.nesterov;
  h.maximize = s.maximize;
  h.first_step = first_step;
  return h;
}

// ---- Adagrad ----

struct AdagradSettings {
  HyperValue lr_decay, weight_decay, eps;
  bool maximize = false;

  bool varies_by_row() const { return lr_decay.per_row || weight_decay.per_row || eps.per_row; }
};

inline AdagradSettings checked_adagrad_settings(py::handle lr_decay, py::handle weight_decay,
                                                py::handle eps, py::handle maximize,
                                                std::int64_t rows) {
  AdagradSettings s;
  s.lr_decay = checked_hyper(lr_decay, ranges::lr_decay, rows);
  s.weight_decay = checked_hyper(weight_decay, ranges::weight_decay, rows);
  s.eps = checked_hyper(eps, ranges::eps, rows);
  s.maximize = checked_bool(maximize, "maximize");
  return s;
}

inline AdagradHyper make_adagrad_hyper(const HyperValue& lr, const AdagradSettings& s,
                                       std::int64_t step) {
  AdagradHyper h;
  h.lr = lr.view();
  h.lr_decay = s.lr_decay.view();
  h.weight_decay = s.weight_decay.view();
  h.eps = s.eps.view();
  h.maximize = s.maximize;
  h.step = step;
  return h;
}

// ---- RMSprop ----

struct RMSpropSettings {
  HyperValue alpha, eps, weight_decay, momentum;
  bool centered = false, maximize = false;

  bool varies_by_row() const {
    return alpha.per_row || eps.per_row || weight_decay.per_row || momentum.per_row;
  }
};

inline RMSpropSettings checked_rmsprop_settings(py::handle alpha, py::handle eps,
                                                py::handle weight_decay, py::handle momentum,
                                                py::handle centered, py::handle maximize,
                                                std::int64_t rows) {
  RMSpropSettings s;
  s.alpha = checked_hyper(alpha, ranges::alpha, rows);
  s.eps = checked_hyper(eps, ranges::eps, rows);
  s.weight_decay = checked_hyper(weight_decay, ranges::weight_decay, rows);
  s.momentum = checked_hyper(momentum, ranges::momentum, rows);
  s.centered = checked_bool(centered, "centered");
  s.maximize = checked_bool(maximize, "maximize");
  return s;
}

inline RMSpropHyper make_rmsprop_hyper(const HyperValue& lr, const RMSpropSettings& s) {
  RMSpropHyper h;
  h.lr = lr.view();
  h.alpha = s.alpha.view();
  h.eps = s.eps.view();
  h.weight_decay = s.weight_decay.view();
  h.momentum = s.momentum.view();
  h.centered = s.centered;
  h.maximize = s.maximize;
  return h;
}

// ---- Adam / AdamW ----

struct AdamSettings {
  HyperValue beta1, beta2, eps, weight_decay;
  bool amsgrad = false, maximize = false, decoupled_weight_decay = false;

  bool varies_by_row() const {
    return beta1.per_row || beta2.per_row || eps.per_row || weight_decay.per_row;
  }
};

inline AdamSettings checked_adam_settings(py::handle betas, py::handle eps,
                                          py::handle weight_decay, py::handle amsgrad,
                                          py::handle maximize, py::handle decoupled_weight_decay,
                                          std::int64_t rows) {
  AdamSettings s;
  std::tie(s.beta1, s.beta2) = checked_betas(betas, rows);
  s.eps = checked_hyper(eps, ranges::eps, rows);
  s.weight_decay = checked_hyper(weight_decay, ranges::weight_decay, rows);
  s.amsgrad = checked_bool(amsgrad, "amsgrad");
  s.maximize = checked_bool(maximize, "maximize");
  s.decoupled_weight_decay = checked_bool(decoupled_weight_decay, "decoupled_weight_decay");
  return s;
}

inline AdamHyper make_adam_hyper(const HyperValue& lr, const AdamSettings& s, std::int64_t step) {
  AdamHyper h;
  h.lr = lr.view();
  h.beta1 = s.beta1.view();
  h.beta2 = s.beta2.view();
  h.eps = s.eps.view();
  h.weight_decay = s.weight_decay.view();
  h.amsgrad = s.amsgrad;
  h.maximize = s.maximize;
  h.decoupled = s.decoupled_weight_decay;
  h.step = step;
  return h;
}

}  // namespace saddlepoint::bindings
