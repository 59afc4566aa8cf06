#pragma once
// VisitedSet: the explorer's set of states seen, by 64-bit fingerprint (hash
// compaction, as SPIN's -DHC). Each state costs one fingerprint and one index in an
// open-addressing table, plus its parent and the transition that led to it, kept by
// the caller: about 25 bytes per state however large the state is. Full states are
// kept only for the breadth-first frontier; any other state is rebuilt by replaying
// its path from the initial state.
//
// Two different states with the same fingerprint would make the search skip the
// second one. With n states the chance of any such collision is about n^2 / 2^65:
// 3e-6 for ten million states. The explorer reports it with its result.
//
// Thread-safety: find() may run on many threads at once while nobody inserts.

#include <cstdint>
#include <string_view>
#include <vector>

namespace mq {

class VisitedSet {
 public:
  struct Insert {
    uint32_t index;  // in order of first insertion, from 0
    bool inserted;   // false: seen before
  };

  static constexpr uint32_t kNotFound = UINT32_MAX;
  // REQUIRES: fewer than 2^32 - 1 states.
  Insert insert(uint64_t fingerprint);
  // The index of a fingerprint inserted before, or kNotFound.
  uint32_t find(uint64_t fingerprint) const;
  void prefetch(uint64_t fingerprint) const {
    if (!keys_.empty()) __builtin_prefetch(&keys_[(fingerprint == 0 ? 1 : fingerprint) & (keys_.size() - 1)]);
  }
  size_t size() const { return size_; }
  uint64_t memory_bytes() const {
    return keys_.capacity() * sizeof(uint64_t) + index_.capacity() * sizeof(uint32_t);
  }

 private:
  void grow();

  // Parallel arrays (no padding). A key of 0 marks an empty slot; fingerprint 0 is
  // mapped to 1, which merges two of 2^64 values.
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> index_;
  size_t size_ = 0;
};

// A 64-bit fingerprint of a byte string (wyhash-style 128-bit multiply mixing).
uint64_t fingerprint(std::string_view bytes);

}  // namespace mq
