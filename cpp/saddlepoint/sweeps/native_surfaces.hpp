// Value and gradient of the built-in loss surfaces, for the native sweep loop.
//
// The reference definitions are the NumPy ones in python/saddlepoint/surfaces.py; these are the
// same formulas re-expressed per point so that a sweep can evaluate them inside its run loop
// (tests/test_sweep_native_surfaces.py holds the two equal to rounding). Each surface is a
// small struct with `T operator()(const T* x, T* g) const` returning f(x) and writing grad f(x),
// and `kDim`: the dimension when fixed at compile time (0: `dim` is set at run time). Only
// +, -, *, / and libm calls appear: with -ffp-contract=off a point's result is the same in a
// SIMD lane as in a scalar loop, which keeps sweeps independent of how runs are grouped.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "saddlepoint/sweeps/surface_ids.hpp"

namespace saddlepoint::surfaces {
SADDLEPOINT_ISA_BEGIN

// sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2   (scipy.optimize.rosen, any n >= 2)
struct Rosenbrock {
  static constexpr int kDim = 0;
  int dim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    T f = T(0);
    for (int i = 0; i < dim; ++i) g[i] = T(0);
    for (int i = 0; i + 1 < dim; ++i) {
      const T r = x[i + 1] - x[i] * x[i];
      const T s = T(1) - x[i];
      f = f + T(100) * r * r + s * s;
      g[i] = g[i] - T(400) * x[i] * r - T(2) * s;
      g[i + 1] = g[i + 1] + T(200) * r;
    }
    return f;
  }
};

// The 2-D Rosenbrock with the dimension fixed at compile time (the common, fast case).
struct Rosenbrock2 {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T r = x[1] - x[0] * x[0];
    const T s = T(1) - x[0];
    g[0] = T(0) - T(400) * x[0] * r - T(2) * s;
    g[1] = T(0) + T(200) * r;
    return T(0) + T(100) * r * r + s * s;
  }
};

// (x^2 + y - 11)^2 + (x + y^2 - 7)^2
struct Himmelblau {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T a = x[0] * x[0] + x[1] - T(11);
    const T b = x[0] + x[1] * x[1] - T(7);
    g[0] = T(4) * x[0] * a + T(2) * b;
    g[1] = T(2) * a + T(4) * x[1] * b;
    return a * a + b * b;
  }
};

// (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2
struct Beale {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T y = x[1], y2 = y * y, y3 = y2 * y;
    const T a = T(1.5) - x[0] + x[0] * y;
    const T b = T(2.25) - x[0] + x[0] * y2;
    const T c = T(2.625) - x[0] + x[0] * y3;
    g[0] = T(2) * a * (y - T(1)) + T(2) * b * (y2 - T(1)) + T(2) * c * (y3 - T(1));
    g[1] = T(2) * a * x[0] + T(4) * b * x[0] * y + T(6) * c * x[0] * y2;
    return a * a + b * b + c * c;
  }
};

// (x + 2y - 7)^2 + (2x + y - 5)^2
struct Booth {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T a = x[0] + T(2) * x[1] - T(7);
    const T b = T(2) * x[0] + x[1] - T(5);
    g[0] = T(2) * a + T(4) * b;
    g[1] = T(4) * a + T(2) * b;
    return a * a + b * b;
  }
};

// (4 - 2.1 x^2 + x^4/3) x^2 + xy + (-4 + 4 y^2) y^2
struct SixHumpCamel {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T u = x[0], v = x[1], u2 = u * u, v2 = v * v;
    g[0] = T(8) * u - T(8.4) * u2 * u + T(2) * u2 * u2 * u + v;
    g[1] = u - T(8) * v + T(16) * v2 * v;
    return (T(4) - T(2.1) * u2 + u2 * u2 / T(3)) * u2 + u * v + (T(-4) + T(4) * v2) * v2;
  }
};

// 2x^2 - 1.05 x^4 + x^6/6 + xy + y^2
struct ThreeHumpCamel {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T u = x[0], v = x[1], u2 = u * u;
    g[0] = T(4) * u - T(4.2) * u2 * u + u2 * u2 * u + v;
    g[1] = u + T(2) * v;
    return T(2) * u2 - T(1.05) * u2 * u2 + u2 * u2 * u2 / T(6) + u * v + v * v;
  }
};

// [1 + (x+y+1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)]
//   * [30 + (2x-3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)]
struct GoldsteinPrice {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T u = x[0], v = x[1];
    const T s = u + v + T(1);
    const T p = T(19) - T(14) * u + T(3) * u * u - T(14) * v + T(6) * u * v + T(3) * v * v;
    const T d = T(2) * u - T(3) * v;
    const T q = T(18) - T(32) * u + T(12) * u * u + T(48) * v - T(36) * u * v + T(27) * v * v;
    const T a = T(1) + s * s * p;
    const T b = T(30) + d * d * q;
    const T da_du = T(2) * s * p + s * s * (T(-14) + T(6) * u + T(6) * v);
    const T da_dv = T(2) * s * p + s * s * (T(-14) + T(6) * u + T(6) * v);
    const T db_du = T(4) * d * q + d * d * (T(-32) + T(24) * u - T(36) * v);
    const T db_dv = T(-6) * d * q + d * d * (T(48) - T(36) * u + T(54) * v);
    g[0] = da_du * b + a * db_du;
    g[1] = da_dv * b + a * db_dv;
    return a * b;
  }
};

// 10 n + sum_i x_i^2 - 10 cos(2 pi x_i)
struct Rastrigin {
  static constexpr int kDim = 0;
  int dim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T two_pi = T(2.0 * 3.14159265358979323846);
    T f = T(10) * T(dim);
    for (int i = 0; i < dim; ++i) {
      const T w = two_pi * x[i];
      f = f + (x[i] * x[i] - T(10) * std::cos(w));
      g[i] = T(2) * x[i] + T(10) * two_pi * std::sin(w);
    }
    return f;
  }
};

// sum_i (x_i^4 - 16 x_i^2 + 5 x_i) / 2
struct StyblinskiTang {
  static constexpr int kDim = 0;
  int dim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    T f = T(0);
    for (int i = 0; i < dim; ++i) {
      const T u = x[i], u2 = u * u;
      f = f + (u2 * u2 - T(16) * u2 + T(5) * u);
      g[i] = T(2) * u2 * u - T(16) * u + T(2.5);
    }
    return f / T(2);
  }
};

// x^T A x / 2 with A symmetric (quadratic(A), ill_conditioned(condition)); a: row-major dim^2.
struct Quadratic {
  static constexpr int kDim = 0;
  int dim = 2;
  const double* a = nullptr;
  template <typename T>
  T operator()(const T* x, T* g) const {
    T f = T(0);
    for (int i = 0; i < dim; ++i) {
      T gi = T(0);
      for (int j = 0; j < dim; ++j) gi = gi + T(a[i * dim + j]) * x[j];
      g[i] = gi;
      f = f + x[i] * gi;
    }
    return f / T(2);
  }
};

// x^2 - y^2: the textbook saddle at the origin.
struct Saddle {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    g[0] = T(2) * x[0];
    g[1] = T(-2) * x[1];
    return x[0] * x[0] - x[1] * x[1];
  }
};

// x^3 - 3 x y^2: a degenerate saddle (three valleys) at the origin.
struct MonkeySaddle {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T u = x[0], v = x[1];
    g[0] = T(3) * u * u - T(3) * v * v;
    g[1] = T(-6) * u * v;
    return u * u * u - T(3) * u * v * v;
  }
};

// The lecture's "worst network ever" y = w1 w2 x on one example (x = 1, target 1):
// L = (1 - w1 w2)^2, a saddle at the origin and a valley of minima w1 w2 = 1.
struct TinyNetwork {
  static constexpr int kDim = 2;
  template <typename T>
  T operator()(const T* x, T* g) const {
    const T r = T(1) - x[0] * x[1];
    g[0] = T(-2) * r * x[1];
    g[1] = T(-2) * r * x[0];
    return r * r;
  }
};


// Calls f(surface) with the surface struct for `id`; dim and the matrix a (quadratic only)
// were validated by the caller.
template <typename F>
void with_surface(SurfaceId id, int dim, const double* a, F&& f) {
  switch (id) {
    case SurfaceId::rosenbrock:
      if (dim == 2) {
        f(Rosenbrock2{});
      } else {
        f(Rosenbrock{dim});
      }
      break;
    case SurfaceId::himmelblau: f(Himmelblau{}); break;
    case SurfaceId::beale: f(Beale{}); break;
    case SurfaceId::booth: f(Booth{}); break;
    case SurfaceId::six_hump_camel: f(SixHumpCamel{}); break;
    case SurfaceId::three_hump_camel: f(ThreeHumpCamel{}); break;
    case SurfaceId::goldstein_price: f(GoldsteinPrice{}); break;
    case SurfaceId::rastrigin: f(Rastrigin{dim}); break;
    case SurfaceId::styblinski_tang: f(StyblinskiTang{dim}); break;
    case SurfaceId::quadratic: f(Quadratic{dim, a}); break;
    case SurfaceId::saddle: f(Saddle{}); break;
    case SurfaceId::monkey_saddle: f(MonkeySaddle{}); break;
    case SurfaceId::tiny_network: f(TinyNetwork{}); break;
  }
}

// Value and gradient at `points` points x (points, dim), for tests against the NumPy definitions.
template <typename T>
void surface_value_grad(SurfaceId id, int dim, const double* a, const T* x, std::int64_t points,
                        T* values, T* grads) {
  with_surface(id, dim, a, [&](const auto& s) {
    for (std::int64_t i = 0; i < points; ++i) values[i] = s(x + i * dim, grads + i * dim);
  });
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint::surfaces
