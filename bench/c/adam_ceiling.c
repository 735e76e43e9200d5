/* The ceiling for an in-place Adam step (bench/adam_ceiling.py): a loop that reads p, g, m and
   v and writes p, m and v, as Adam does, with the least arithmetic that keeps every load and
   store (one add each). Every input of an element is loaded before any store (NumPy's large
   arrays alias modulo 4 KiB: ../shared/PERFORMANCE.md). Built by the bench script with the
   compiler flags of the package's native build. */
#include <stddef.h>

void adam_ceiling_f32(float *restrict p, const float *restrict g, float *restrict m,
                      float *restrict v, ptrdiff_t n, int threads) {
#pragma omp parallel for simd schedule(static) num_threads(threads) if (parallel : threads > 1)
  for (ptrdiff_t i = 0; i < n; ++i) {
    const float pi = p[i], gi = g[i], mi = m[i], vi = v[i];
    m[i] = mi + gi;
    v[i] = vi + gi;
    p[i] = pi + gi;
  }
}

void adam_ceiling_f64(double *restrict p, const double *restrict g, double *restrict m,
                      double *restrict v, ptrdiff_t n, int threads) {
#pragma omp parallel for simd schedule(static) num_threads(threads) if (parallel : threads > 1)
  for (ptrdiff_t i = 0; i < n; ++i) {
    const double pi = p[i], gi = g[i], mi = m[i], vi = v[i];
    m[i] = mi + gi;
    v[i] = vi + gi;
    p[i] = pi + gi;
  }
}
