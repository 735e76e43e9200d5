// Fused optimizer steps with torch.optim's single-tensor semantics (PyTorch 2.x).
//
// Each step reads every array once and writes it once. Pointers are C-contiguous, of the
// same length and not aliased: the binding layer validated all of that before calling.
// Scalars are formed in double precision and cast to T, as PyTorch casts a Python float
// hyper-parameter to the tensor's dtype; the element arithmetic then runs in T, in
// PyTorch's order of operations (addcmul as (value*a)*b, addcdiv as (value*a)/b, lerp with
// torch's two-sided formula). Every element loads all its inputs before it stores anything:
// NumPy's large arrays alias modulo 4 KiB, and stores ahead of loads cost 1.6x there.
//
// One header per method under saddlepoint/optim/; each has the contiguous path (one row, or
// rows long enough for their own SIMD loop) and the short-row path for many runs with per-row
// hyper-parameters (described in adam.hpp). The per-element functions (sgd_element, ...) are
// shared with the native sweeps (sweep.hpp), so every path does the same arithmetic.
#pragma once

#include "saddlepoint/optim/adagrad.hpp"
#include "saddlepoint/optim/adam.hpp"
#include "saddlepoint/optim/rmsprop.hpp"
#include "saddlepoint/optim/sgd.hpp"
