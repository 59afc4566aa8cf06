#pragma once
// IdMap: MessageId -> uint32_t, open addressing with linear probing and
// backward-shift deletion (no tombstones, so lookups stay short however many
// erases happen). One flat array: no allocation per entry, unlike
// std::unordered_map. Capacity is a power of two and the load stays <= 1/2.
// Thread-safety: none. Values must not be kEmpty.
//
// Layout: ids are hashed in blocks of kBlock consecutive ids, each block to a
// random place, the id's low bits giving its position there. Producers mostly
// number their messages in order, so a queue of a million messages touches one
// table line per block instead of one per message (the table outgrows the caches
// long before the slots do). Ids that all share their low bits (a stride of
// kBlock or more) use one home in kBlock: linear probing then fills the block's
// other places, so their probe runs stay a few entries long.

#include <cstdint>
#include <vector>

#include "base/check.h"
#include "base/huge_pages.h"
#include "impl/message.h"

namespace mq::impl {

class IdMap {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr size_t kBlock = 8;  // 8 entries of 16 bytes: two cache lines

  // kEmpty when absent.
  uint32_t find(MessageId id) const { return slots_.empty() ? kEmpty : slots_[probe(id, block_hash(id))].value; }
  bool contains(MessageId id) const { return find(id) != kEmpty; }

  // The stored value, to change in place (never to kEmpty); null when absent.
  // Valid until the next insert or erase.
  uint32_t* find_value(MessageId id) {
    if (slots_.empty()) return nullptr;
    Entry& e = slots_[probe(id, block_hash(id))];
    return e.value == kEmpty ? nullptr : &e.value;
  }

  // REQUIRES: id absent, value != kEmpty.
  void insert(MessageId id, uint32_t value) {
    MQ_CHECK(value != kEmpty);
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(id, value, block_hash(id));
    ++size_;
  }

  // The value stored for id, inserting `if_absent` first when id is absent: one
  // probe run for a lookup that usually adds. `value` is valid until the next
  // insert or erase. REQUIRES: if_absent != kEmpty.
  struct Slot {
    uint32_t* value;
    bool inserted;
  };
  Slot find_or_insert(MessageId id, uint32_t if_absent) {
    MQ_CHECK(if_absent != kEmpty);
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const uint32_t hash = block_hash(id);
    Entry& e = slots_[probe(id, hash)];
    if (e.value != kEmpty) return {&e.value, false};
    e = Entry{id, if_absent, hash};
    ++size_;
    return {&e.value, true};
  }

  // Returns whether id was present.
  bool erase(MessageId id) {
    if (slots_.empty()) return false;
    size_t i = probe(id, block_hash(id));
    if (slots_[i].value == kEmpty) return false;
    // Backward shift: pull later members of the probe run into the hole, so that
    // every entry stays reachable from its home without tombstones.
    for (size_t j = (i + 1) & mask(), steps = 0;; j = (j + 1) & mask(), ++steps) {
      MQ_CHECK(steps <= slots_.size());
      if (slots_[j].value == kEmpty) break;
      const size_t h = home(slots_[j]);
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

 private:
  struct Entry {
    MessageId key = 0;
    uint32_t value = kEmpty;
    // block_hash(key), kept in what would be padding: erase's backward shift and
    // grow() find every entry's home without hashing again.
    uint32_t hash = 0;
  };

  size_t mask() const { return slots_.size() - 1; }
  // The block number id / kBlock goes through the splitmix64 finalizer (dense
  // block numbers must not land in one run); 32 bits of it place the block (tables
  // up to 2^35 entries), and the id's low bits the id within it.
  static uint32_t block_hash(MessageId id) {
    uint64_t z = id / kBlock + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<uint32_t>(z ^ (z >> 31));
  }
  size_t home(MessageId id, uint32_t hash) const { return (size_t{hash} * kBlock + id % kBlock) & mask(); }
  size_t home(const Entry& e) const { return home(e.key, e.hash); }
  // The one probe run: the index of id's entry, or of the empty slot that ends its
  // run (where it would go). REQUIRES: !slots_.empty().
  size_t probe(MessageId id, uint32_t hash) const {
    for (size_t i = home(id, hash), probes = 0;; i = (i + 1) & mask(), ++probes) {
      MQ_CHECK(probes <= slots_.size());  // load <= 1/2 guarantees an empty slot
      if (slots_[i].value == kEmpty || slots_[i].key == id) return i;
    }
  }
  void place(MessageId id, uint32_t value, uint32_t hash) {
    Entry& e = slots_[probe(id, hash)];
    MQ_CHECK_MSG(e.value == kEmpty, "IdMap::insert of a present id");
    e = Entry{id, value, hash};
  }
  // The new array is advised for huge pages before it is first written: a held-id
  // table of a million messages is 32 MiB of random accesses, one page fault and
  // one TLB miss per 4 KiB page otherwise.
  void grow() {
    std::vector<Entry> old = std::move(slots_);
    const size_t n = old.empty() ? 16 : old.size() * 2;
    slots_.reserve(n);
    advise_huge_pages(slots_.data(), n * sizeof(Entry));
    slots_.assign(n, Entry{});
    for (const auto& e : old) {
      if (e.value != kEmpty) place(e.key, e.value, e.hash);
    }
  }

  std::vector<Entry> slots_;
  size_t size_ = 0;
};

}  // namespace mq::impl
