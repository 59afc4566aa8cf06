#pragma once
// FNV-1a (Fowler, Noll, Vo), 64 bits: the one byte-string hash of the project. It
// names sub-seeds (base/prng.h), fingerprints histories (sim/simulator.h) and mixes
// model states (model/state.cc). Not for hostile keys: it is not keyed.

#include <cstdint>
#include <string_view>

namespace mq {

inline constexpr uint64_t kFnv1aOffset = 0xCBF29CE484222325ull;
inline constexpr uint64_t kFnv1aPrime = 0x100000001B3ull;

// The hash so far, `h`, extended by the bytes of `s`.
constexpr uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * kFnv1aPrime;
  return h;
}
// One more 64-bit word (already mixed by the caller), as one FNV-1a step.
constexpr uint64_t fnv1a_word(uint64_t h, uint64_t word) { return (h ^ word) * kFnv1aPrime; }

}  // namespace mq
