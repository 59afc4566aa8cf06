// Tests for QueueIds (impl/queue_ids.h): the held ids and the idempotency window in
// one table behave exactly as a plain map of held ids beside a plain window of
// remembered ids, whatever the interleaving; and IdMap's block layout keeps every
// id reachable through erases, including ids that share their low bits.

#include "impl/queue_ids.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <map>
#include <utility>

namespace mq::impl {
namespace {

// The reference: what QueueIds replaced, written the obvious way.
struct Reference {
  uint32_t max_ids;
  TimeNs max_age_ns;
  std::map<MessageId, uint32_t> held;
  std::deque<std::pair<MessageId, TimeNs>> window;

  void forget_aged(TimeNs now_ns) {
    if (max_age_ns <= 0) return;
    while (!window.empty() && window.front().second + max_age_ns <= now_ns) window.pop_front();
  }
  bool remembers(MessageId id, TimeNs now_ns) {
    forget_aged(now_ns);
    for (const auto& [w, at] : window) {
      if (w == id) return true;
    }
    return false;
  }
  bool knows(MessageId id, TimeNs now_ns) { return held.contains(id) || remembers(id, now_ns); }
  void remember(MessageId id, TimeNs now_ns) {
    if (max_ids == 0) return;
    forget_aged(now_ns);
    if (window.size() == max_ids) window.pop_front();
    window.emplace_back(id, now_ns);
  }
};

TEST(QueueIds, HeldAndRememberedShareAnEntry) {
  QueueIds ids(2, 0);
  ids.hold(7, 3);
  ids.remember(7, 0);
  EXPECT_EQ(ids.slot_of(7), 3u);
  ids.release(7);
  EXPECT_EQ(ids.slot_of(7), QueueIds::kNone);
  EXPECT_TRUE(ids.knows(7, 0));  // still remembered
  ids.remember(8, 0);
  ids.remember(9, 0);  // the window forgets 7
  EXPECT_FALSE(ids.knows(7, 0));
  EXPECT_EQ(ids.held(), 0u);
}

TEST(QueueIds, AHeldIdOutlivesItsWindowEntry) {
  QueueIds ids(1, 0);
  ids.hold(1, 0);
  ids.remember(1, 0);
  ids.remember(2, 0);  // forgets 1, which stays held
  EXPECT_EQ(ids.slot_of(1), 0u);
  EXPECT_TRUE(ids.knows(1, 0));
}

TEST(QueueIds, IdsSharingTheirLowBitsStayReachable) {
  // A stride of a whole block: every id has the same position within its block.
  QueueIds ids(0, 0);
  for (MessageId k = 0; k < 5000; ++k) ids.hold(k * 64, static_cast<uint32_t>(k));
  for (MessageId k = 0; k < 5000; k += 2) ids.release(k * 64);
  for (MessageId k = 0; k < 5000; ++k) {
    EXPECT_EQ(ids.slot_of(k * 64), k % 2 == 0 ? QueueIds::kNone : static_cast<uint32_t>(k));
  }
  EXPECT_EQ(ids.held(), 2500u);
}

// Random interleavings of hold, release, remember and lookups over a small id
// space (so that ids collide, come back, age out and are resent), against the
// reference.
RC_GTEST_PROP(QueueIds, BehavesAsAHeldMapBesideAWindow, ()) {
  const auto max_ids = *rc::gen::inRange<uint32_t>(0, 6);
  const auto max_age = *rc::gen::inRange<TimeNs>(0, 5);
  QueueIds ids(max_ids, max_age);
  Reference ref{max_ids, max_age, {}, {}};
  TimeNs now = 0;
  const auto steps = *rc::gen::inRange(0, 200);
  for (int step = 0; step < steps; ++step) {
    now += *rc::gen::inRange<TimeNs>(0, 2);
    const auto id = *rc::gen::inRange<MessageId>(0, 24);
    switch (*rc::gen::inRange(0, 4)) {
      case 0:  // accept: a new id is held and remembered
        if (ref.knows(id, now)) {
          RC_ASSERT(ids.knows(id, now));
          break;
        }
        RC_ASSERT(!ids.knows(id, now));
        ids.hold(id, static_cast<uint32_t>(step));
        ref.held[id] = static_cast<uint32_t>(step);
        ids.remember(id, now);
        ref.remember(id, now);
        break;
      case 1:  // finish
        if (!ref.held.contains(id)) break;
        ids.release(id);
        ref.held.erase(id);
        break;
      case 2:  // a lookup by slot
        RC_ASSERT(ids.slot_of(id) == (ref.held.contains(id) ? ref.held[id] : QueueIds::kNone));
        break;
      case 3:  // the window alone (restore asks it)
        RC_ASSERT(ids.remembers(id, now) == ref.remembers(id, now));
        break;
    }
    RC_ASSERT(ids.held() == ref.held.size());
    // The list a checkpoint takes: what the window remembers now, aged ids left out
    // whether or not the window has been asked since they aged.
    std::deque<std::pair<MessageId, TimeNs>> window;
    ids.for_each_remembered(now, [&](MessageId w, TimeNs at) { window.emplace_back(w, at); });
    Reference aged_out = ref;
    aged_out.forget_aged(now);
    RC_ASSERT(window == aged_out.window);
  }
}

}  // namespace
}  // namespace mq::impl
