// Each optimizer's hyper-parameters other than lr, named once in its settings' table(): the
// table checks the constructor's arguments (checked_settings), fills the kernel's *Hyper
// (hyper_of), tells whether any varies by row, and is the list of properties an engine
// exposes (bind_optim.cpp registers one per entry; its names are `hyper_names`). The
// functional kernels (bind_kernels.cpp) and the optimizer engines (engines.hpp) both go
// through the checked_*_settings and make_*_hyper here, so they accept, refuse and compute
// alike.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <utility>
#include <vector>

#include "bindings/common.hpp"
#include "bindings/steps.hpp"
#include "saddlepoint/optim/hyper.hpp"

namespace saddlepoint::bindings {

// One hyper-parameter: a float (its member in the settings, the kernel Hyper's member it
// becomes, its range; settable), a switch (its members and name; fixed at construction), or
// only a name, for one the engine registers itself (Adam's betas, a pair).
template <typename Settings>
struct SettingEntry {
  using KernelHyper = typename Settings::KernelHyper;
  const char* name;
  HyperValue Settings::*value = nullptr;
  Hyper KernelHyper::*hyper = nullptr;
  const HyperSpec* range = nullptr;
  bool Settings::*flag = nullptr;
  bool KernelHyper::*hyper_flag = nullptr;
};

template <typename Settings>
SettingEntry<Settings> float_setting(HyperValue Settings::*value,
                                     Hyper Settings::KernelHyper::*hyper,
                                     const HyperSpec& range) {
  return {range.name, value, hyper, &range, nullptr, nullptr};
}

template <typename Settings>
SettingEntry<Settings> flag_setting(const char* name, bool Settings::*flag,
                                    bool Settings::KernelHyper::*hyper_flag) {
  return {name, nullptr, nullptr, nullptr, flag, hyper_flag};
}

// The settings from the arguments named by the table's entries, in the table's order.
template <typename Settings>
Settings checked_settings(std::initializer_list<py::handle> args, std::int64_t rows) {
  Settings s;
  auto arg = args.begin();
  for (const auto& entry : Settings::table()) {
    if (!entry.value && !entry.flag) continue;
    if (arg == args.end()) throw std::logic_error("checked_settings: too few arguments");
    if (entry.value) {
      s.*entry.value = checked_hyper(*arg++, *entry.range, rows);
    } else {
      s.*entry.flag = checked_bool(*arg++, entry.name);
    }
  }
  if (arg != args.end()) throw std::logic_error("checked_settings: too many arguments");
  return s;
}

// The kernel's hyper-parameters: lr and every table entry (views of the settings' values).
template <typename Settings>
typename Settings::KernelHyper hyper_of(const HyperValue& lr, const Settings& s) {
  typename Settings::KernelHyper h;
  h.lr = lr.view();
  for (const auto& entry : Settings::table()) {
    if (entry.value) h.*entry.hyper = (s.*entry.value).view();
    if (entry.flag) h.*entry.hyper_flag = s.*entry.flag;
  }
  return h;
}

template <typename Settings>
bool any_per_row(const Settings& s) {
  for (const auto& entry : Settings::table()) {
    if (entry.value && (s.*entry.value).per_row) return true;
  }
  return false;
}

inline bool any_nonzero(const HyperValue& h) {
  for (std::int64_t r = 0; r < h.count(); ++r) {
    if (h.view().at(r) != 0.0) return true;
  }
  return false;
}

// ---- SGD ----

struct SGDSettings {
  using KernelHyper = SGDHyper;
  HyperValue momentum, dampening, weight_decay;
  bool nesterov = false, maximize = false;

  static const std::vector<SettingEntry<SGDSettings>>& table() {
    static const std::vector<SettingEntry<SGDSettings>> entries = {
        float_setting(&SGDSettings::momentum, &SGDHyper::momentum, ranges::momentum),
        float_setting(&SGDSettings::dampening, &SGDHyper::dampening, ranges::dampening),
        float_setting(&SGDSettings::weight_decay, &SGDHyper::weight_decay, ranges::weight_decay),
        flag_setting("nesterov", &SGDSettings::nesterov, &SGDHyper::nesterov),
        flag_setting("maximize", &SGDSettings::maximize, &SGDHyper::maximize)};
    return entries;
  }
  bool varies_by_row() const { return any_per_row(*this); }
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
  auto s = checked_settings<SGDSettings>({momentum, dampening, weight_decay, nesterov, maximize},
                                         rows);
  s.check_nesterov();
  return s;
}

// first_step: the momentum buffer is set to the gradient (torch.optim.SGD creates it then).
inline SGDHyper make_sgd_hyper(const HyperValue& lr, const SGDSettings& s, bool first_step) {
  SGDHyper h = hyper_of(lr, s);
  h.first_step = first_step;
  return h;
}

// ---- Adagrad ----

struct AdagradSettings {
  using KernelHyper = AdagradHyper;
  HyperValue lr_decay, weight_decay, eps;
  bool maximize = false;

  static const std::vector<SettingEntry<AdagradSettings>>& table() {
    static const std::vector<SettingEntry<AdagradSettings>> entries = {
        float_setting(&AdagradSettings::lr_decay, &AdagradHyper::lr_decay, ranges::lr_decay),
        float_setting(&AdagradSettings::weight_decay, &AdagradHyper::weight_decay,
                      ranges::weight_decay),
        float_setting(&AdagradSettings::eps, &AdagradHyper::eps, ranges::eps),
        flag_setting("maximize", &AdagradSettings::maximize, &AdagradHyper::maximize)};
    return entries;
  }
  bool varies_by_row() const { return any_per_row(*this); }
};

inline AdagradSettings checked_adagrad_settings(py::handle lr_decay, py::handle weight_decay,
                                                py::handle eps, py::handle maximize,
                                                std::int64_t rows) {
  return checked_settings<AdagradSettings>({lr_decay, weight_decay, eps, maximize}, rows);
}

inline AdagradHyper make_adagrad_hyper(const HyperValue& lr, const AdagradSettings& s,
                                       std::int64_t step) {
  AdagradHyper h = hyper_of(lr, s);
  h.step = step;
  return h;
}

// ---- RMSprop ----

struct RMSpropSettings {
  using KernelHyper = RMSpropHyper;
  HyperValue alpha, eps, weight_decay, momentum;
  bool centered = false, maximize = false;

  static const std::vector<SettingEntry<RMSpropSettings>>& table() {
    static const std::vector<SettingEntry<RMSpropSettings>> entries = {
        float_setting(&RMSpropSettings::alpha, &RMSpropHyper::alpha, ranges::alpha),
        float_setting(&RMSpropSettings::eps, &RMSpropHyper::eps, ranges::eps),
        float_setting(&RMSpropSettings::weight_decay, &RMSpropHyper::weight_decay,
                      ranges::weight_decay),
        float_setting(&RMSpropSettings::momentum, &RMSpropHyper::momentum, ranges::momentum),
        flag_setting("centered", &RMSpropSettings::centered, &RMSpropHyper::centered),
        flag_setting("maximize", &RMSpropSettings::maximize, &RMSpropHyper::maximize)};
    return entries;
  }
  bool varies_by_row() const { return any_per_row(*this); }
};

inline RMSpropSettings checked_rmsprop_settings(py::handle alpha, py::handle eps,
                                                py::handle weight_decay, py::handle momentum,
                                                py::handle centered, py::handle maximize,
                                                std::int64_t rows) {
  return checked_settings<RMSpropSettings>(
      {alpha, eps, weight_decay, momentum, centered, maximize}, rows);
}

inline RMSpropHyper make_rmsprop_hyper(const HyperValue& lr, const RMSpropSettings& s) {
  return hyper_of(lr, s);
}

// ---- Adam / AdamW ----

struct AdamSettings {
  using KernelHyper = AdamHyper;
  HyperValue beta1, beta2, eps, weight_decay;
  bool amsgrad = false, maximize = false, decoupled_weight_decay = false;

  // betas is a pair, checked and registered apart (checked_betas; the engine's betas());
  // decoupled_weight_decay is what makes AdamW, not a setting of either.
  static const std::vector<SettingEntry<AdamSettings>>& table() {
    static const std::vector<SettingEntry<AdamSettings>> entries = {
        {"betas"},
        float_setting(&AdamSettings::eps, &AdamHyper::eps, ranges::eps),
        float_setting(&AdamSettings::weight_decay, &AdamHyper::weight_decay,
                      ranges::weight_decay),
        flag_setting("amsgrad", &AdamSettings::amsgrad, &AdamHyper::amsgrad),
        flag_setting("maximize", &AdamSettings::maximize, &AdamHyper::maximize)};
    return entries;
  }
  bool varies_by_row() const { return any_per_row(*this) || beta1.per_row || beta2.per_row; }
};

inline AdamSettings checked_adam_settings(py::handle betas, py::handle eps,
                                          py::handle weight_decay, py::handle amsgrad,
                                          py::handle maximize, py::handle decoupled_weight_decay,
                                          std::int64_t rows) {
  auto [beta1, beta2] = checked_betas(betas, rows);  // first, as the arguments come
  auto s = checked_settings<AdamSettings>({eps, weight_decay, amsgrad, maximize}, rows);
  s.beta1 = std::move(beta1);
  s.beta2 = std::move(beta2);
  s.decoupled_weight_decay = checked_bool(decoupled_weight_decay, "decoupled_weight_decay");
  return s;
}

inline AdamHyper make_adam_hyper(const HyperValue& lr, const AdamSettings& s, std::int64_t step) {
  AdamHyper h = hyper_of(lr, s);
  h.beta1 = s.beta1.view();
  h.beta2 = s.beta2.view();
  h.decoupled = s.decoupled_weight_decay;
  h.step = step;
  return h;
}

}  // namespace saddlepoint::bindings
