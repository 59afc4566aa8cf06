#pragma once
// VisitedSet: the explorer's set of states seen, by 64-bit fingerprint (hash
// compaction, as SPIN's -DHC). Each state costs one fingerprint in an open-addressing
// table (and, when the caller needs to name old states, as the liveness graph does,
// its index), plus its parent and the transition that led to it, kept by the caller:
// about 20-30 bytes per state however large the state is. Full states are kept only
// for the breadth-first frontier; any other state is rebuilt by replaying its path
// from the initial state.
//
// The table lives in huge-page memory (huge_memory.h): lookups land at random, and
// 2 MiB pages spare most TLB misses and page faults. It doubles in place, in address
// space reserved for the number of states the caller expects, so that a doubling
// holds the new table only, not the old one beside it (grow() in visited_set.cc
// argues why the in-place rehash is right); past that number, a doubling moves the
// table to a reservation eight times as large.
//
// Two different states with the same fingerprint would make the search skip the
// second one. With n states the chance of any such collision is about n^2 / 2^65:
// 3e-6 for ten million states. The explorer reports it with its result.
//
// Thread-safety: find() and prefetch() may run on many threads at once, also while one
// thread inserts, as long as that insert does not grow the table (fits() said so
// before): a find() then sees a fingerprint inserted concurrently or not, and if it
// sees it, it sees its index too. Anything else needs exclusive access.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "explorer/huge_memory.h"

namespace mq::explorer {

class VisitedSet {
 public:
  struct Insert {
    uint32_t index;  // in order of first insertion, from 0
    bool inserted;   // false: seen before
  };
  static constexpr uint32_t kNotFound = UINT32_MAX;

  // `with_index`: remember each state's index (find and insert report it); without,
  // they report 0 for every state seen, and a slot is 8 bytes instead of 12.
  // `expected_states`: how many states the address space is reserved for (a hint:
  // more fit, at the cost of one copy).
  explicit VisitedSet(bool with_index = true, uint64_t expected_states = uint64_t{1} << 20);
  VisitedSet(const VisitedSet&) = delete;
  VisitedSet& operator=(const VisitedSet&) = delete;

  // REQUIRES: fewer than 2^32 - 1 states.
  Insert insert(uint64_t fingerprint);
  // The index of a fingerprint inserted before (0 without indices), or kNotFound.
  uint32_t find(uint64_t fingerprint) const;
  // find() of each of `n` fingerprints, into `out`. Faster than n find()s: the table
  // slots are fetched a group at a time by prefetches issued back to back, so that the
  // cache and TLB misses overlap (a prefetch among other work stalls the core until
  // its address is translated; a run of them does not wait for each other).
  void find_all(const uint64_t* fingerprints, size_t n, uint32_t* out) const;
  void prefetch(uint64_t fingerprint) const {
    if (capacity_ != 0) __builtin_prefetch(&keys_[slot_of(fingerprint)]);
  }
  // Whether `more` inserts fit without growing the table.
  bool fits(size_t more) const { return (size_ + more) * 4 <= capacity_ * 3; }
  // Grows the table until fits(more), each doubling's rehash shared by up to `threads`
  // threads (so is the kernel's zeroing of the new half, which they touch); the table
  // is the one insert() would have grown, slot for slot.
  // REQUIRES: threads >= 1.
  void make_room(size_t more, size_t threads);
  size_t size() const { return size_; }
  // Whether every slot of the two tables holds the same key and index (for tests: the
  // layout is a function of the inserts, however many threads grew the table).
  bool same_slots(const VisitedSet& other) const;
  uint64_t memory_bytes() const { return keys_memory_.size() + index_memory_.size(); }

 private:
  size_t slot_of(uint64_t fp) const { return (fp == 0 ? 1 : fp) & (capacity_ - 1); }
  void grow(size_t threads = 1);
  void reserve(size_t max_capacity);  // new regions for up to max_capacity slots, empty
  void commit();                      // the regions' first capacity_ slots
  void rehash_in_place(size_t old_capacity, size_t threads);
  void rehash_slots(size_t first, size_t last);  // old slots [first, last), in order
  void place(uint64_t key, uint32_t index);  // REQUIRES: key absent, room for it

  // Parallel arrays (no padding). A key of 0 marks an empty slot; fingerprint 0 is
  // mapped to 1, which merges two of 2^64 values.
  bool with_index_;
  uint64_t* keys_ = nullptr;
  uint32_t* index_ = nullptr;  // null without indices
  HugeRegion keys_memory_, index_memory_;
  size_t capacity_ = 0;
  // On a cache line of its own: inserts write it, and finds on other threads read the
  // fields above at every lookup; on one line, every insert would take that line from
  // the readers' caches.
  alignas(64) size_t size_ = 0;
};

// A 64-bit fingerprint of a byte string (wyhash-style 128-bit multiply mixing).
uint64_t fingerprint(std::string_view bytes);

}  // namespace mq::explorer
