// Shared by the optimizer headers: includes and the weight-decay switch.
// The conventions of every step are in saddlepoint/optim/optimizers.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "saddlepoint/optim/hyper.hpp"
#include "saddlepoint/optim/rows.hpp"

namespace saddlepoint {

enum class WeightDecay { none, coupled, decoupled };

}  // namespace saddlepoint
