// The kernels of one instruction-set level, as a table of plain function pointers: the only
// way the bindings (compiled for the baseline) reach code compiled for a higher level. Shared
// by both sides, so it holds declarations and plain data only.
#pragma once

#include <cstdint>

#include "saddlepoint/linalg/stack_check.hpp"
#include "saddlepoint/monitor/sums.hpp"
#include "saddlepoint/optim/hyper.hpp"
#include "saddlepoint/sweeps/surface_ids.hpp"
#include "saddlepoint/sweeps/sweep_types.hpp"

namespace saddlepoint::dispatch {

using Index = std::int64_t;

// Entry points of one element type; the arguments are those of the kernel templates of the same
// name (optim/*.hpp, monitor/*.hpp, linalg/eigh.hpp, sweeps/sweep.hpp), documented there.
template <typename T>
struct KernelSet {
  // fused optimizer steps over a (rows, cols) parameter array
  void (*sgd_step)(T* p, const T* g, T* buf, Index rows, Index cols, const SGDHyper& h);
  void (*adagrad_step)(T* p, const T* g, T* sum, Index rows, Index cols, const AdagradHyper& h);
  void (*rmsprop_step)(T* p, const T* g, T* square_avg, T* grad_avg, T* buf, Index rows,
                       Index cols, const RMSpropHyper& h);
  void (*adam_step)(T* p, const T* g, T* m, T* v, T* vmax, Index rows, Index cols,
                    const AdamHyper& h);

  // the Monitor's instruments: inside the step, or in one pass beside a foreign step
  monitor::StepSums (*sgd_step_instrumented)(T* p, const T* g, T* buf, T* direction, Index n,
                                             const SGDHyper& h, bool has_prev,
                                             double prev_neg_lr);
  monitor::StepSums (*adam_step_instrumented)(T* p, const T* g, T* m, T* v, T* vmax, Index n,
                                              const AdamHyper& h, bool has_prev,
                                              double prev_neg_step);
  monitor::StepSums (*observe_params)(const T* grad, const T* theta, T* last_theta,
                                      T* direction, const T* initial, Index n);
  monitor::StepSums (*observe_gradient)(const T* grad, T* buffer, T* direction,
                                        T* displacement, Index n, double lr, double momentum,
                                        bool first);

  // batched symmetric eigensolvers over a C-contiguous stack of `count` n x n matrices
  StackCheck (*check_stack)(const T* a, Index count, Index n, double rtol, bool check_symmetry);
  void (*eigh_stack)(const T* a, Index count, Index n, T* w, T* v, bool symmetrize);
  // eigenvalue counts above tol and below -tol, tol = max(atol, rtol ||a||_F) (linalg/inertia.hpp)
  void (*inertia_stack)(const T* a, Index count, Index n, bool symmetrize, double rtol,
                        double atol, Index* positive, Index* negative, double* tol);

  // native sweeps on the built-in surfaces
  void (*native_sweep)(surfaces::SurfaceId id, int dim, const double* matrix, Index runs,
                       Index steps, const SweepHyper& h, const SweepOut<T>& out);
  void (*surface_value_grad)(surfaces::SurfaceId id, int dim, const double* matrix, const T* x,
                             Index points, T* values, T* grads);
};

// One compiled level: its kernels for both element types, and what Eigen vectorizes with there.
struct Level {
  const char* eigen_simd = "";
  // -lr/bc1 of an Adam step (row 0), in double, as the instrumented step forms it: the scale
  // of the previous update direction it reads on the next step.
  double (*adam_neg_step_size)(const AdamHyper& h) = nullptr;
  KernelSet<float> f32{};
  KernelSet<double> f64{};
};

}  // namespace saddlepoint::dispatch
