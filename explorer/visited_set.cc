#include "explorer/visited_set.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

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

// Slots for n states at a load of 3/4 at most (a power of two).
size_t slots_for(uint64_t n) {
  size_t slots = 1024;
  while (slots / 4 * 3 < n) slots *= 2;
  return slots;
}

// The most states address space is reserved for up front (6 GiB of addresses with
// indices, no memory): a larger hint would only take address space a process limit
// (ulimit -v) may not have.
inline constexpr uint64_t kMaxReservedStates = uint64_t{1} << 28;

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

VisitedSet::VisitedSet(bool with_index, uint64_t expected_states) : with_index_(with_index) {
  reserve(slots_for(std::min(expected_states, kMaxReservedStates)));
}

void VisitedSet::reserve(size_t max_capacity) {
  keys_memory_ = HugeRegion(max_capacity * sizeof(uint64_t));
  index_memory_ = with_index_ ? HugeRegion(max_capacity * sizeof(uint32_t)) : HugeRegion();
  keys_ = static_cast<uint64_t*>(keys_memory_.data());
  index_ = with_index_ ? static_cast<uint32_t*>(index_memory_.data()) : nullptr;
}

void VisitedSet::commit() {
  keys_memory_.commit(capacity_ * sizeof(uint64_t));
  if (with_index_) index_memory_.commit(capacity_ * sizeof(uint32_t));
}

void VisitedSet::place(uint64_t key, uint32_t index) {
  const size_t mask = capacity_ - 1;
  size_t at = key & mask;
  for (size_t probe = 0; keys_[at] != 0; ++probe, at = (at + 1) & mask) MQ_CHECK(probe < capacity_);
  keys_[at] = key;
  if (index_) index_[at] = index;
}

bool VisitedSet::same_slots(const VisitedSet& o) const {
  if (capacity_ != o.capacity_ || size_ != o.size_ || with_index_ != o.with_index_) return false;
  if (capacity_ == 0) return true;
  if (std::memcmp(keys_, o.keys_, capacity_ * sizeof(uint64_t)) != 0) return false;
  return !index_ || std::memcmp(index_, o.index_, capacity_ * sizeof(uint32_t)) == 0;
}

void VisitedSet::make_room(size_t more, size_t threads) {
  MQ_CHECK(threads >= 1);
  // Bounded: each round doubles the table, and a table of 2^64 slots holds anything.
  for (int round = 0; round < 64 && !fits(more); ++round) grow(threads);
  MQ_CHECK(fits(more));
}

void VisitedSet::grow(size_t threads) {
  const size_t old_capacity = capacity_;
  capacity_ = capacity_ == 0 ? 1024 : capacity_ * 2;
  if (capacity_ * sizeof(uint64_t) <= keys_memory_.max_bytes()) {
    commit();
    if (old_capacity > 0) rehash_in_place(old_capacity, threads);
    return;
  }
  // Past the reservation: a new one, and every key copied over.
  HugeRegion old_keys_memory = std::move(keys_memory_), old_index_memory = std::move(index_memory_);
  const uint64_t* old_keys = keys_;
  const uint32_t* old_index = index_;
  reserve(capacity_ * 8);
  commit();
  for (size_t s = 0; s < old_capacity; ++s)
    if (old_keys[s] != 0) place(old_keys[s], old_index ? old_index[s] : 0);
}

// The table has just doubled from `old_capacity` slots; the new half is empty. Each
// key is taken out of its slot and placed again for the new mask, by ordinary linear
// probing, visiting the old slots in the order s+1, s+2, ... around the old table,
// where slot s is the first empty one. Keys are placed only in empty slots and never
// taken out again; the danger is a key placed beyond an old slot not yet visited
// (still full), which a later visit empties. It cannot happen:
//  - A key's new home is its old home h, or h + old_capacity in the upper half.
//  - Old slots s+1 .. old_capacity-1 first. A key at i with new home h: h..i is a
//    run of occupied slots (linear probing) without the empty s, so h..i-1 were
//    visited before i and i was just emptied: the key lands in h..i. A key bound for
//    the upper half passes only placed keys (no old key is there). None of them wraps
//    past the table's end: if one did, the slots from some y to the end would all be
//    taken, by keys of this phase whose new homes are >= y, and the key itself is one
//    more; when y is in the upper half those came from old slots y-C .. C-1, fewer
//    than the 2C - y + 1 keys needed (C the old capacity); when y is in the lower
//    half, the 2C - y > C keys needed are more than the old table held.
//  - Then old slots 0 .. s-1, a run of occupied slots (s is the first empty). A key at
//    j passes slots visited already, or placed keys in the upper half, and may wrap
//    to slot 0: then 0..j-1 are visited and j was just emptied, so it lands by j.
// The runs do not meet: a run's keys land in its own slots in the lower half and, in
// the upper half, in its slots moved up by old_capacity (its keys whose homes are x or
// later number at most its slots from x on, so linear probing from those homes never
// passes its end moved up), and only the last run wraps. So stretches of whole runs,
// cut at empty slots, can be rehashed on threads of their own, each in the order above:
// every key lands where the one-thread rehash puts it.
void VisitedSet::rehash_in_place(size_t old_capacity, size_t threads) {
  size_t s = 0;
  for (; keys_[s] != 0; ++s) MQ_CHECK(s + 1 < old_capacity);  // a load of 3/4 leaves empty slots
  // Too small a table to be worth a thread.
  constexpr size_t kSlotsPerThread = size_t{1} << 16;
  threads = std::max<size_t>(1, std::min(threads, old_capacity / kSlotsPerThread));
  // Cuts, as steps after s: each at an empty slot, so that every stretch is whole runs.
  std::vector<size_t> cuts{1};
  for (size_t t = 1; t < threads; ++t) {
    size_t step = std::max(cuts.back(), t * old_capacity / threads);
    while (step < old_capacity && keys_[(s + step) & (old_capacity - 1)] != 0) ++step;  // bounded: step grows
    if (step < old_capacity) cuts.push_back(step);
  }
  cuts.push_back(old_capacity);
  std::vector<std::thread> helpers;
  for (size_t k = 1; k + 1 < cuts.size(); ++k)
    helpers.emplace_back([this, s, from = cuts[k], to = cuts[k + 1]] { rehash_slots(s + from, s + to); });
  rehash_slots(s + cuts[0], s + cuts[1]);
  for (auto& h : helpers) h.join();
}

void VisitedSet::rehash_slots(size_t first, size_t last) {
  const size_t old_mask = capacity_ / 2 - 1;
  for (size_t at = first; at < last; ++at) {
    const size_t i = at & old_mask;
    const uint64_t key = keys_[i];
    if (key == 0) continue;
    keys_[i] = 0;
    place(key, index_ ? index_[i] : 0);
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
