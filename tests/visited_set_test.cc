// The explorer's visited set: every fingerprint inserted is found with its index of
// first insertion, across the table's doublings, and a second insert of a fingerprint
// reports it seen; and the contract the parallel search relies on: finds on other
// threads while one thread inserts without growing the table see each fingerprint
// either not yet or with its index (also under the thread sanitizer: .ci/run).
#include "explorer/visited_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "base/prng.h"

namespace mq::explorer {
namespace {

inline constexpr uint32_t kKeys = 200'000;  // nine doublings from the first table (1024 slots)

std::vector<uint64_t> random_keys(uint64_t seed) {
  Prng prng(seed);
  std::vector<uint64_t> keys(kKeys);
  for (auto& k : keys) k = prng.next();
  return keys;
}

void expect_all_found(const VisitedSet& set, const std::vector<uint64_t>& keys, bool with_index) {
  for (uint32_t i = 0; i < keys.size(); ++i) ASSERT_EQ(set.find(keys[i]), with_index ? i : 0) << "key " << i;
  std::vector<uint32_t> found(keys.size());
  set.find_all(keys.data(), keys.size(), found.data());
  for (uint32_t i = 0; i < keys.size(); ++i) ASSERT_EQ(found[i], with_index ? i : 0) << "key " << i;
}

// Inserts every key, checking each is new with the next index, then that each is
// found; a second insert of some reports them seen, and keys never inserted (a clash
// with `keys` has a chance of about 2^-36) are not found.
void expect_a_set(const std::vector<uint64_t>& keys, bool with_index, uint64_t expected_states) {
  VisitedSet set(with_index, expected_states);
  uint64_t bytes = set.memory_bytes();
  for (uint32_t i = 0; i < keys.size(); ++i) {
    const auto r = set.insert(keys[i]);
    ASSERT_TRUE(r.inserted) << "key " << i;
    ASSERT_EQ(r.index, i);  // a new state's number, with indices or without
    if (set.memory_bytes() == bytes) continue;
    // Just doubled: every key so far is found now, before later inserts could fill a
    // hole the rehash left in a run.
    bytes = set.memory_bytes();
    for (uint32_t k = 0; k <= i; ++k) ASSERT_EQ(set.find(keys[k]), with_index ? k : 0) << "key " << k << " of " << i + 1;
  }
  EXPECT_EQ(set.size(), keys.size());
  EXPECT_GE(set.memory_bytes(), keys.size() * 4 / 3 * 8);  // a load of 3/4 at most
  expect_all_found(set, keys, with_index);
  for (uint32_t i = 0; i < keys.size(); i += 97) {
    const auto again = set.insert(keys[i]);
    EXPECT_FALSE(again.inserted);
    EXPECT_EQ(again.index, with_index ? i : 0);
  }
  EXPECT_EQ(set.size(), keys.size());
  const auto others = random_keys(8);
  for (uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(set.find(others[i]), VisitedSet::kNotFound);
}

// Doubling in place (the default reservation holds them all) and, with a reservation
// for 1000 states, by moving the table to a larger one.
TEST(VisitedSet, EveryKeyFoundWithItsIndexAfterDoublings) {
  const auto keys = random_keys(7);
  for (const bool with_index : {true, false})
    for (const uint64_t expected : {uint64_t{1} << 20, uint64_t{1000}}) {
      SCOPED_TRACE(testing::Message() << "with_index " << with_index << ", expected_states " << expected);
      expect_a_set(keys, with_index, expected);
    }
}

// The in-place rehash's hard case: runs of occupied slots that wrap from the table's
// last slot to its first, which the rehash must visit in the right order (it starts
// after an empty slot), with some of their keys moving to the new upper half and some
// not. One key in eight has the low j bits of its fingerprint all ones, j from 10 to
// 16 in turn: in a table of 2^j slots, those keys' home is the last slot, and bit j,
// which says whether a doubling moves them, is drawn.
TEST(VisitedSet, RunsThatWrapAroundTheTableSurviveDoublingInPlace) {
  auto keys = random_keys(11);
  for (size_t i = 0; i < keys.size(); i += 8) keys[i] |= (uint64_t{1} << (10 + i / 8 % 7)) - 1;
  for (const bool with_index : {true, false}) {
    SCOPED_TRACE(testing::Message() << "with_index " << with_index);
    expect_a_set(keys, with_index, uint64_t{1} << 20);
  }
}

// The parallel search's pattern: expanders find while the merger inserts a chunk that
// fits() said needs no growth; a chunk that does not fit is inserted alone.
TEST(VisitedSet, FindsBesideAnInsertThatDoesNotGrowSeeAKeyNotYetOrWithItsIndex) {
  const auto keys = random_keys(9);
  constexpr uint32_t kBatch = 2048;
  VisitedSet set;
  int concurrent_batches = 0;
  for (uint32_t first = 0; first < keys.size(); first += kBatch) {
    const uint32_t last = std::min<uint32_t>(first + kBatch, keys.size());
    auto insert_batch = [&] {
      for (uint32_t i = first; i < last; ++i) ASSERT_EQ(set.insert(keys[i]).index, i);
    };
    if (!set.fits(last - first)) {
      insert_batch();
      continue;
    }
    ++concurrent_batches;
    std::vector<uint32_t> early(first), racing(last - first);
    std::thread reader([&] {
      for (uint32_t i = 0; i < first; i += 7) early[i] = set.find(keys[i]);
      set.find_all(keys.data() + first, last - first, racing.data());
    });
    insert_batch();
    reader.join();
    for (uint32_t i = 0; i < first; i += 7) ASSERT_EQ(early[i], i) << "inserted before the batch";
    for (uint32_t i = first; i < last; ++i) {
      const uint32_t seen = racing[i - first];
      ASSERT_TRUE(seen == VisitedSet::kNotFound || seen == i) << "key " << i << " seen as " << seen;
    }
  }
  EXPECT_GT(concurrent_batches, 50);
  expect_all_found(set, keys, true);
}

// make_room's doubling on several threads cuts the table into stretches of whole runs
// and rehashes each on its own thread: the table must be the one a single thread
// grows, slot for slot (every key found with its index, and the same slot for each:
// the probe lengths agree). Tables of 2^17 slots and more are cut (2^16 per thread);
// keys with the low bits all ones make runs that wrap around the table's end, and
// crowds of keys with one home a little before each place where 2, 3 or 4 threads
// would cut if they did not look for an empty slot make long runs across those places
// (a rehash cut there puts keys elsewhere, which this test fails on).
TEST(VisitedSet, ADoublingOnSeveralThreadsGivesTheTableOfOne) {
  constexpr uint64_t kSlots = uint64_t{1} << 18;
  auto keys = random_keys(13);
  keys.resize(196'000);  // a table of 2^18 slots, 608 keys short of its load of 3/4
  for (size_t i = 0; i < keys.size(); i += 256) keys[i] |= kSlots - 1;
  const uint64_t cuts[] = {kSlots / 4, kSlots / 3, kSlots / 2, kSlots * 2 / 3, kSlots * 3 / 4};
  for (size_t c = 0; c < std::size(cuts); ++c)
    for (size_t k = 0; k < 100; ++k) {
      uint64_t& key = keys[1 + 16 * (c * 100 + k)];  // not one of the wrapping keys
      key = (key & ~(kSlots - 1)) | (cuts[c] - 50);
    }
  VisitedSet one;
  for (const uint64_t k : keys) one.insert(k);
  ASSERT_FALSE(one.fits(2'000));
  one.make_room(2'000, 1);
  for (const size_t threads : {size_t{2}, size_t{3}, size_t{8}}) {
    SCOPED_TRACE(testing::Message() << threads << " threads");
    VisitedSet many;
    for (const uint64_t k : keys) many.insert(k);
    many.make_room(2'000, threads);
    ASSERT_TRUE(many.fits(2'000));
    ASSERT_EQ(one.memory_bytes(), many.memory_bytes());
    expect_all_found(many, keys, true);
    EXPECT_TRUE(many.same_slots(one));
  }
}

// Fingerprint 0 marks an empty slot, so it is stored as 1: the two are one state.
TEST(VisitedSet, ZeroAndOneAreOneFingerprint) {
  VisitedSet set;
  EXPECT_TRUE(set.insert(0).inserted);
  EXPECT_FALSE(set.insert(1).inserted);
  EXPECT_EQ(set.find(1), 0u);
}

}  // namespace
}  // namespace mq::explorer
