// Shared by the optimizer headers: includes and the weight-decay switch.
// The conventions of every step are in saddlepoint/optimizers.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "saddlepoint/hyper.hpp"
#include "saddlepoint/rows.hpp"

namespace saddlepoint {

enum class WeightDecay { none, coupled, decoupled };

}  // namespace saddlepoint
