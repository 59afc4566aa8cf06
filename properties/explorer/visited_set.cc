#include "properties/explorer/visited_set.h"

#include <cstring>

#include "base/check.h"

namespace mq {
namespace {

inline uint64_t mum(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline constexpr uint64_t kP0 = 0xa0761d6478bd642full, kP1 = 0xe7037ed1a0b428dbull;

}  // namespace

uint64_t fingerprint(std::string_view b) {
  uint64_t h = mum(b.size() ^ kP0, kP1);
  size_t i = 0;
  for (; i + 16 <= b.size(); i += 16) {
    uint64_t x, y;
    std::memcpy(&x, b.data() + i, 8);
    std::memcpy(&y, b.data() + i + 8, 8);
    h = mum(x ^ kP0 ^ h, y ^ kP1);
  }
  uint64_t x = 0, y = 0;
  const size_t rest = b.size() - i;
  std::memcpy(&x, b.data() + i, rest < 8 ? rest : 8);
  if (rest > 8) std::memcpy(&y, b.data() + i + 8, rest - 8);
  return mum(mum(x ^ kP0 ^ h, y ^ kP1), kP0 ^ rest);
}

void VisitedSet::grow() {
  std::vector<uint64_t> old_keys;
  std::vector<uint32_t> old_index;
  old_keys.swap(keys_);
  old_index.swap(index_);
  const size_t capacity = old_keys.empty() ? 1024 : old_keys.size() * 2;
  keys_.assign(capacity, 0);
  index_.assign(capacity, 0);
  const size_t mask = capacity - 1;
  for (size_t s = 0; s < old_keys.size(); ++s) {
    if (old_keys[s] == 0) continue;
    size_t at = old_keys[s] & mask;
    for (size_t probe = 0; keys_[at] != 0; ++probe, at = (at + 1) & mask) MQ_CHECK(probe < capacity);
    keys_[at] = old_keys[s];
    index_[at] = old_index[s];
  }
}

VisitedSet::Insert VisitedSet::insert(uint64_t fp) {
  if (fp == 0) fp = 1;
  MQ_CHECK(size_ < UINT32_MAX - 1);
  if ((size_ + 1) * 4 > keys_.size() * 3) grow();  // load factor <= 3/4
  const size_t mask = keys_.size() - 1;
  size_t at = fp & mask;
  for (size_t probe = 0; keys_[at] != 0; ++probe, at = (at + 1) & mask) {
    MQ_CHECK(probe < keys_.size());
    if (keys_[at] == fp) return {index_[at], false};
  }
  keys_[at] = fp;
  index_[at] = static_cast<uint32_t>(size_);
  return {static_cast<uint32_t>(size_++), true};
}

uint32_t VisitedSet::find(uint64_t fp) const {
  if (fp == 0) fp = 1;
  if (keys_.empty()) return kNotFound;
  const size_t mask = keys_.size() - 1;
  size_t at = fp & mask;
  for (size_t probe = 0; keys_[at] != 0; ++probe, at = (at + 1) & mask) {
    MQ_CHECK(probe < keys_.size());
    if (keys_[at] == fp) return index_[at];
  }
  return kNotFound;
}

}  // namespace mq
