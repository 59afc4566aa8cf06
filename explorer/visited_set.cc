#include "explorer/visited_set.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "base/check.h"

namespace mq::explorer {
namespace {

inline uint64_t mum(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline constexpr uint64_t kP0 = 0xa0761d6478bd642full, kP1 = 0xe7037ed1a0b428dbull,
                          kP2 = 0x8ebc6af09c88c6e3ull, kP3 = 0x589965cc75374cc3ull;

}  // namespace

uint64_t fingerprint(std::string_view b) {
  uint64_t h = mum(b.size() ^ kP0, kP1);
  size_t i = 0;
  // Two independent lanes over 32-byte blocks, so that their multiplications overlap
  // (states are about a hundred bytes: this is most of the hashing), then one lane.
  if (b.size() >= 32) {
    uint64_t h2 = h ^ kP2;
    for (; i + 32 <= b.size(); i += 32) {
      // Four word loads into registers (a 32-byte copy went through the stack).
      const uint64_t x0 = load64(b.data() + i), x1 = load64(b.data() + i + 8);
      const uint64_t x2 = load64(b.data() + i + 16), x3 = load64(b.data() + i + 24);
      h = mum(x0 ^ kP0 ^ h, x1 ^ kP1);
      h2 = mum(x2 ^ kP2 ^ h2, x3 ^ kP3);
    }
    h = mum(h ^ kP1, h2 ^ kP0);
  }
  for (; i + 16 <= b.size(); i += 16) {
    uint64_t x, y;
    std::memcpy(&x, b.data() + i, 8);
    std::memcpy(&y, b.data() + i + 8, 8);
    h = mum(x ^ kP0 ^ h, y ^ kP1);
  }
  uint64_t x = 0, y = 0;
  const size_t rest = b.size() - i;
  if (rest > 0 && b.size() >= 16) {
    // The last 16 bytes, overlapping bytes hashed above: two loads instead of byte
    // copies of variable length (which the loads after them would wait for).
    std::memcpy(&x, b.data() + b.size() - 16, 8);
    std::memcpy(&y, b.data() + b.size() - 8, 8);
  } else {
    std::memcpy(&x, b.data() + i, rest < 8 ? rest : 8);
    if (rest > 8) std::memcpy(&y, b.data() + i + 8, rest - 8);
  }
  return mum(mum(x ^ kP0 ^ h, y ^ kP1), kP0 ^ rest);
}

void VisitedSet::grow() {
  const uint64_t* old_keys = keys_;
  const uint32_t* old_index = index_;
  HugeMemory old_mapping = std::move(mapping_);
  const size_t old_capacity = capacity_;
  capacity_ = capacity_ == 0 ? 1024 : capacity_ * 2;
  mapping_ = HugeMemory(capacity_ * (sizeof(uint64_t) + (with_index_ ? sizeof(uint32_t) : 0)));
  keys_ = static_cast<uint64_t*>(mapping_.data());
  index_ = with_index_ ? reinterpret_cast<uint32_t*>(keys_ + capacity_) : nullptr;
  const size_t mask = capacity_ - 1;
  for (size_t s = 0; s < old_capacity; ++s) {
    if (old_keys[s] == 0) continue;
    size_t at = old_keys[s] & mask;
    for (size_t probe = 0; keys_[at] != 0; ++probe, at = (at + 1) & mask) MQ_CHECK(probe < capacity_);
    keys_[at] = old_keys[s];
    if (index_) index_[at] = old_index[s];
  }
}

VisitedSet::Insert VisitedSet::insert(uint64_t fp) {
  if (fp == 0) fp = 1;
  MQ_CHECK(size_ < UINT32_MAX - 1);
  if ((size_ + 1) * 4 > capacity_ * 3) grow();  // load factor <= 3/4
  const size_t mask = capacity_ - 1;
  size_t at = fp & mask;
  for (size_t probe = 0; keys_[at] != 0; ++probe, at = (at + 1) & mask) {
    MQ_CHECK(probe < capacity_);
    if (keys_[at] == fp) return {index_ ? index_[at] : 0, false};
  }
  // The index before the key: a concurrent find() that sees the key sees its index.
  if (index_)
    std::atomic_ref<uint32_t>(index_[at]).store(static_cast<uint32_t>(size_), std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(keys_[at]).store(fp, std::memory_order_release);
  return {static_cast<uint32_t>(size_++), true};
}

uint32_t VisitedSet::find(uint64_t fp) const {
  if (fp == 0) fp = 1;
  if (capacity_ == 0) return kNotFound;
  const size_t mask = capacity_ - 1;
  size_t at = fp & mask;
  for (size_t probe = 0;; ++probe, at = (at + 1) & mask) {
    MQ_CHECK(probe < capacity_);
    const uint64_t key = std::atomic_ref<uint64_t>(keys_[at]).load(std::memory_order_acquire);
    if (key == 0) return kNotFound;
    if (key == fp) return index_ ? std::atomic_ref<uint32_t>(index_[at]).load(std::memory_order_relaxed) : 0;
  }
}

void VisitedSet::find_all(const uint64_t* fps, size_t n, uint32_t* out) const {
  constexpr size_t kGroup = 32;  // misses in flight at once: more than the core tracks
  for (size_t first = 0; first < n; first += kGroup) {
    const size_t last = std::min(n, first + kGroup);
    for (size_t k = first; k < last; ++k) prefetch(fps[k]);
    for (size_t k = first; k < last; ++k) out[k] = find(fps[k]);
  }
}

}  // namespace mq::explorer
