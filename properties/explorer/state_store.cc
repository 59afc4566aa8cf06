#include "properties/explorer/state_store.h"

#include <cstring>

#include "base/bytes.h"
#include "base/check.h"

namespace mq {

uint64_t hash_bytes(std::string_view b) {
  // 8 bytes at a time, each word mixed with a multiply and xor-shift (as in
  // splitmix64's finalizer); good enough spread for a power-of-two table.
  uint64_t h = 0x9E3779B97F4A7C15ull ^ b.size();
  size_t i = 0;
  for (; i + 8 <= b.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, b.data() + i, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, b.data() + i, b.size() - i);
  h = (h ^ tail) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

// A record is: varint identity size, then the state's bytes.
std::pair<size_t, std::string_view> StateStore::record(uint32_t index) const {
  const std::string_view rec(arena_.data() + offset_[index], offset_[index + 1] - offset_[index]);
  ByteReader r(rec);
  const uint64_t identity_size = r.u();
  return {identity_size, rec.substr(varint_size(identity_size))};
}

std::string_view StateStore::bytes(uint32_t index) const { return record(index).second; }

std::string_view StateStore::identity(uint32_t index) const {
  const auto [identity_size, all] = record(index);
  return all.substr(0, identity_size);
}

void StateStore::grow() {
  std::vector<uint32_t> old;
  old.swap(table_);
  table_.assign(old.empty() ? 1024 : old.size() * 2, 0);
  const size_t mask = table_.size() - 1;
  for (uint32_t slot : old) {
    if (slot == 0) continue;
    size_t at = hash_bytes(identity(slot - 1)) & mask;
    for (size_t probe = 0; table_[at] != 0; ++probe, at = (at + 1) & mask) MQ_CHECK(probe < table_.size());
    table_[at] = slot;
  }
}

StateStore::Insert StateStore::insert(std::string_view bytes_in, size_t identity_size, uint32_t parent, uint16_t via) {
  MQ_CHECK(identity_size <= bytes_in.size());
  MQ_CHECK(parent_.size() < UINT32_MAX - 1);
  if ((parent_.size() + 1) * 2 > table_.size()) grow();  // load factor <= 1/2
  const std::string_view key = bytes_in.substr(0, identity_size);
  const size_t mask = table_.size() - 1;
  size_t at = hash_bytes(key) & mask;
  for (size_t probe = 0; table_[at] != 0; ++probe, at = (at + 1) & mask) {
    MQ_CHECK(probe < table_.size());
    if (identity(table_[at] - 1) == key) return {table_[at] - 1, false};
  }
  if (offset_.empty()) offset_.push_back(0);
  ByteWriter w(arena_);
  w.u(identity_size);
  arena_.append(bytes_in);
  offset_.push_back(arena_.size());
  const auto index = static_cast<uint32_t>(parent_.size());
  parent_.push_back(parent);
  via_.push_back(via);
  table_[at] = index + 1;
  return {index, true};
}

uint64_t StateStore::memory_bytes() const {
  return arena_.capacity() + offset_.capacity() * sizeof(uint64_t) + parent_.capacity() * sizeof(uint32_t) +
         via_.capacity() * sizeof(uint16_t) + table_.capacity() * sizeof(uint32_t);
}

}  // namespace mq
