// Shared by the optimizer headers: includes, the weight-decay switch, and with_flags.
// The conventions of every step are in saddlepoint/optim/optimizers.hpp.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "saddlepoint/optim/hyper.hpp"
#include "saddlepoint/optim/row_block.hpp"
#include "saddlepoint/optim/scalars.hpp"
#include "saddlepoint/optim/rows.hpp"

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

enum class WeightDecay { none, coupled, decoupled };

// The decay of a row: none, or Adam's coupled / AdamW's decoupled form.
constexpr WeightDecay weight_decay_kind(bool decays, bool decoupled) {
  return !decays ? WeightDecay::none : decoupled ? WeightDecay::decoupled : WeightDecay::coupled;
}

// f(std::bool_constant<b>...) for the run-time flags b...: each element loop is instantiated
// per combination, so that its body is branch-free and vectorizes. The element loops are the
// place an instrumented variant (reductions in the same pass) would take one more parameter.
template <typename F>
void with_flags(F&& f) {
  f();
}
template <typename F, typename... Flags>
void with_flags(F&& f, bool first, Flags... rest) {
  if (first) {
    with_flags([&](auto... later) { f(std::true_type{}, later...); }, rest...);
  } else {
    with_flags([&](auto... later) { f(std::false_type{}, later...); }, rest...);
  }
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
