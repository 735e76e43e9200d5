// Scalar helpers of the steps: beta**step as torch.optim forms it, a per-thread table of bias
// corrections, and torch.lerp's formula. Level code (saddlepoint/isa.hpp), shared by the kernels
// and the native sweeps so that every path rounds alike.
#pragma once

#include "saddlepoint/isa.hpp"  // first: it names this level's namespaces

#include <cmath>
#include <cstdint>
#include <cstring>

namespace saddlepoint {
SADDLEPOINT_ISA_BEGIN

// beta**step as Python's float pow and torch.optim compute it (the bias corrections are formed
// in double precision and then cast to the parameter's dtype). Every path (kernels, optimizer
// objects, native sweeps) goes through this one function, so they agree bit for bit.
inline double step_power(double beta, std::int64_t step) {
  return std::pow(beta, static_cast<double>(step));
}

// 1 - beta**step, remembered per thread in a table keyed by (the bits of beta, step): rows of a
// sweep share a few betas, so pow runs once per distinct pair and call rather than once per
// row. A value is a pure function of its key, so a hit gives exactly what step_power would.
class BiasCorrections {
 public:
  // From either of the key's two slots, else computed and stored in one that holds no key of
  // this step; when both do (rare), in a small overflow list, so that two keys sharing slots
  // never evict each other row after row.
  double operator()(double beta, std::int64_t step) {
    const std::uint64_t bits = bits_of(beta);
    const std::uint64_t h = hash(bits, step);
    Entry& a = slots_[h >> (64 - kLogSlots)];
    Entry& b = slots_[(h >> (64 - 2 * kLogSlots)) & ((1u << kLogSlots) - 1)];
    if (a.bits == bits && a.step == step) return a.value;
    if (b.bits == bits && b.step == step) return b.value;
    for (const Entry& o : overflow_) {
      if (o.bits == bits && o.step == step) return o.value;
    }
    Entry& e = a.step != step ? a : b.step != step ? b : overflow_[next_overflow_++ % kOverflow];
    e = {bits, step, 1.0 - step_power(beta, step)};
    return e.value;
  }

  // This thread's table (one TLS look-up per call: take the reference once per block).
  static BiasCorrections& local() {
    thread_local BiasCorrections table;
    return table;
  }

 private:
  static constexpr int kLogSlots = 7;
  static constexpr int kOverflow = 8;
  // A zeroed entry is the pair (+0.0, step 0), whose value 1 - 0.0**0 is indeed 0.
  struct Entry {
    std::uint64_t bits = 0;
    std::int64_t step = 0;
    double value = 0.0;
  };

  static std::uint64_t bits_of(double v) {
    std::uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
  }
  static std::uint64_t hash(std::uint64_t bits, std::int64_t step) {
    const std::uint64_t key = bits ^ (static_cast<std::uint64_t>(step) * 0x9E3779B97F4A7C15u);
    return key * 0xFF51AFD7ED558CCDu;
  }

  Entry slots_[1 << kLogSlots];
  Entry overflow_[kOverflow];
  unsigned next_overflow_ = 0;
};

// torch.lerp's formula: the branch keeps the result exact at both ends of the weight range.
template <typename T>
inline T lerp(T start, T end, T weight, T one_minus_weight, bool low_weight) {
  return low_weight ? start + weight * (end - start) : end - (end - start) * one_minus_weight;
}

SADDLEPOINT_ISA_END
}  // namespace saddlepoint
