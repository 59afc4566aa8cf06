#pragma once
// IdMap: MessageId -> uint32_t, open addressing with linear probing and
// backward-shift deletion (no tombstones, so lookups stay short however many
// erases happen). One flat array: no allocation per entry, unlike
// std::unordered_map. Capacity is a power of two and the load stays <= 1/2.
// Thread-safety: none. Values must not be kEmpty.

#include <cstdint>
#include <vector>

#include "base/check.h"
#include "impl/message.h"

namespace mq::impl {

class IdMap {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // kEmpty when absent.
  uint32_t find(MessageId id) const {
    if (slots_.empty()) return kEmpty;
    for (size_t i = home(id), probes = 0;; i = (i + 1) & mask(), ++probes) {
      MQ_CHECK(probes <= slots_.size());  // load <= 1/2 guarantees an empty slot
      if (slots_[i].value == kEmpty) return kEmpty;
      if (slots_[i].key == id) return slots_[i].value;
    }
  }
  bool contains(MessageId id) const { return find(id) != kEmpty; }

  // REQUIRES: id absent, value != kEmpty.
  void insert(MessageId id, uint32_t value) {
    MQ_CHECK(value != kEmpty);
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(id, value);
    ++size_;
  }

  // Returns whether id was present.
  bool erase(MessageId id) {
    if (slots_.empty()) return false;
    size_t i = home(id);
    for (size_t probes = 0;; i = (i + 1) & mask(), ++probes) {
      MQ_CHECK(probes <= slots_.size());
      if (slots_[i].value == kEmpty) return false;
      if (slots_[i].key == id) break;
    }
    // Backward shift: pull later members of the probe run into the hole, so that
    // every entry stays reachable from its home without tombstones.
    for (size_t j = (i + 1) & mask(), steps = 0;; j = (j + 1) & mask(), ++steps) {
      MQ_CHECK(steps <= slots_.size());
      if (slots_[j].value == kEmpty) break;
      const size_t h = home(slots_[j].key);
      // Move j into i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].value = kEmpty;
    --size_;
    return true;
  }

  void clear() {
    for (auto& s : slots_) s.value = kEmpty;
    size_ = 0;
  }

 private:
  struct Entry {
    MessageId key = 0;
    uint32_t value = kEmpty;
  };

  size_t mask() const { return slots_.size() - 1; }
  size_t home(MessageId id) const {
    uint64_t z = id + 0x9E3779B97F4A7C15ull;  // splitmix64 finalizer: ids are often dense
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<size_t>(z ^ (z >> 31)) & mask();
  }
  void place(MessageId id, uint32_t value) {
    for (size_t i = home(id), probes = 0;; i = (i + 1) & mask(), ++probes) {
      MQ_CHECK(probes <= slots_.size());
      if (slots_[i].value == kEmpty) {
        slots_[i] = Entry{id, value};
        return;
      }
      MQ_CHECK_MSG(slots_[i].key != id, "IdMap::insert of a present id");
    }
  }
  void grow() {
    std::vector<Entry> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Entry{});
    for (const auto& e : old) {
      if (e.value != kEmpty) place(e.key, e.value);
    }
  }

  std::vector<Entry> slots_;
  size_t size_ = 0;
};

}  // namespace mq::impl
