// The built-in surfaces a native sweep carries, by id and name (shared by the kernels and bindings).
#pragma once

#include <string>
#include <vector>

namespace saddlepoint::surfaces {

// The names a native sweep accepts, in the order of `SurfaceId`.
enum class SurfaceId {
  rosenbrock,
  himmelblau,
  beale,
  booth,
  six_hump_camel,
  three_hump_camel,
  goldstein_price,
  rastrigin,
  styblinski_tang,
  quadratic,
  saddle,
  monkey_saddle,
  tiny_network,
};

inline const std::vector<std::string>& native_surface_names() {
  static const std::vector<std::string> names = {
      "rosenbrock",      "himmelblau", "beale",           "booth",     "six_hump_camel",
      "three_hump_camel", "goldstein_price", "rastrigin", "styblinski_tang", "quadratic",
      "saddle",          "monkey_saddle", "tiny_network"};
  return names;
}

}  // namespace saddlepoint::surfaces
