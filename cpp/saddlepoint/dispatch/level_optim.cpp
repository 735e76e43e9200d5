// One level's optimizer steps and Monitor instruments (see level.cpp).
#include "saddlepoint/dispatch/level_parts.hpp"
#include "saddlepoint/monitor/instrumented.hpp"
#include "saddlepoint/monitor/step_sums.hpp"
#include "saddlepoint/optim/optimizers.hpp"

namespace saddlepoint::dispatch {
SADDLEPOINT_ISA_BEGIN

namespace {
template <typename T>
void fill(KernelSet<T>& k) {
  k.sgd_step = &saddlepoint::sgd_step<T>;
  k.adagrad_step = &saddlepoint::adagrad_step<T>;
  k.rmsprop_step = &saddlepoint::rmsprop_step<T>;
  k.adam_step = &saddlepoint::adam_step<T>;
  k.sgd_step_instrumented = &monitor::sgd_step_instrumented<T>;
  k.adam_step_instrumented = &monitor::adam_step_instrumented<T>;
  k.observe_params = &monitor::observe_params<T>;
  k.observe_gradient = &monitor::observe_gradient<T>;
}

double adam_neg_step_size(const AdamHyper& h) { return adam_row<double>(h, 0).neg_step_size; }
}  // namespace

void add_optim_kernels(Level& level) {
  level.adam_neg_step_size = &adam_neg_step_size;
  fill(level.f32);
  fill(level.f64);
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint::dispatch
