#pragma once
// The in-tree pseudo-random generator and distributions. Deterministic code (model,
// properties, sim, the broker core) draws randomness only from here, never from
// std::*_distribution (whose output differs between standard libraries) or from the
// OS. Same seed => same sequence, on every platform and compiler.

#include <cstdint>
#include <string_view>

#include "base/check.h"
#include "base/fnv.h"

namespace mq {

// SplitMix64 (Steele, Lea, Flood 2014): used to expand one seed into a state and to
// derive independent sub-seeds.
inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A sub-seed for one named component of a run: each component draws from its own
// stream, so adding draws in one component does not shift the others.
inline uint64_t derive_seed(uint64_t master, std::string_view component) {
  uint64_t x = master ^ fnv1a(kFnv1aOffset, component);
  return splitmix64(x);
}

// xoshiro256** (Blackman, Vigna 2018).
class Prng {
 public:
  explicit Prng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& s : s_) s = splitmix64(x);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound), unbiased (Lemire 2019, "Fast random integer generation
  // in an interval"). REQUIRES: bound > 0.
  uint64_t uniform(uint64_t bound) {
    MQ_CHECK(bound > 0);
    __uint128_t m = static_cast<__uint128_t>(next()) * bound;
    auto low = static_cast<uint64_t>(m);
    if (low < bound) {
      const uint64_t threshold = (0 - bound) % bound;
      // Rejection loop: each round succeeds with probability >= 1/2.
      for (int round = 0; low < threshold; ++round) {
        MQ_CHECK(round < 128);
        m = static_cast<__uint128_t>(next()) * bound;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t range(int64_t lo, int64_t hi) {
    MQ_CHECK(lo <= hi);
    // Unsigned arithmetic: hi - lo may not fit in int64_t (the full range does not).
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
    const uint64_t draw = span == 0 ? next() : uniform(span);
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + draw);
  }

  // True with probability per_million / 1e6: integer arithmetic, no floating point.
  bool chance_ppm(uint32_t per_million) { return uniform(1'000'000) < per_million; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace mq
