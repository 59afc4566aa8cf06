#pragma once
// QueueIds: every id a queue knows, in one table: the ids it holds (ready, delayed
// or in flight; id -> the slot that holds it) and the ids its idempotency window
// remembers (impl/dedup_window.h). A message is usually both at once, from its
// acceptance until it is finished; one entry per id for both costs one insert and
// one erase per message instead of one each in two tables, and one lookup answers
// "is this id new?".
//
// An entry lives while its id is held or remembered: release() of a remembered id
// keeps it, and the window forgetting a held id keeps it.
// Thread-safety: none. Cost: O(1) amortized per operation.

#include <cstdint>

#include "base/check.h"
#include "impl/dedup_window.h"
#include "impl/id_map.h"
#include "impl/message.h"

namespace mq::impl {

class QueueIds {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  // Slot numbers must stay below this (the table's value packs one in 31 bits).
  static constexpr uint32_t kMaxSlots = (uint32_t{1} << 31) - 2;

  QueueIds() = default;
  QueueIds(uint32_t window_ids, TimeNs window_ns) : window_(window_ids, window_ns) {}

  // How many ids are held.
  size_t held() const { return held_; }

  // The slot that holds id, kNone when id is not held.
  uint32_t slot_of(MessageId id) const {
    const uint32_t v = table_.find(id);
    return v == IdMap::kEmpty || (v & kSlotBits) == 0 ? kNone : (v & kSlotBits) - 1;
  }

  // Whether id is held, or remembered by the window at now_ns. The window forgets
  // what has aged out only when the id is not held (so exactly when the window
  // alone used to be asked: its checkpoint, durable_image(), shows when).
  bool knows(MessageId id, TimeNs now_ns) { return slot_of(id) != kNone || remembers(id, now_ns); }

  // Whether the window remembers id at now_ns (what has aged out is forgotten first).
  bool remembers(MessageId id, TimeNs now_ns) {
    window_.forget_older_than(now_ns, [this](MessageId old) { forget(old); });
    const uint32_t v = table_.find(id);
    return v != IdMap::kEmpty && (v & kRemembered) != 0;
  }

  // REQUIRES: id not held; slot < kMaxSlots.
  void hold(MessageId id, uint32_t slot) {
    MQ_CHECK(slot < kMaxSlots);
    const IdMap::Slot e = table_.find_or_insert(id, slot + 1);
    if (!e.inserted) {
      MQ_CHECK_MSG((*e.value & kSlotBits) == 0, "QueueIds::hold of a held id");
      *e.value |= slot + 1;
    }
    ++held_;
  }

  // REQUIRES: id held.
  void release(MessageId id) {
    uint32_t* v = table_.find_value(id);
    MQ_CHECK_MSG(v != nullptr && (*v & kSlotBits) != 0, "QueueIds::release of an id not held");
    *v &= kRemembered;
    if (*v == 0) MQ_CHECK(table_.erase(id));
    --held_;
  }

  // The window remembers id from now_ns on (nothing when its size is 0).
  // REQUIRES: !remembers(id, now_ns); now_ns not before the previous remember().
  void remember(MessageId id, TimeNs now_ns) {
    if (!window_.enabled()) return;
    window_.remember(id, now_ns, [this](MessageId old) { forget(old); });
    const IdMap::Slot e = table_.find_or_insert(id, kRemembered);
    if (!e.inserted) {
      MQ_CHECK_MSG((*e.value & kRemembered) == 0, "QueueIds::remember of a remembered id");
      *e.value |= kRemembered;
    }
  }

  // Calls f(id, accepted_ns) for every id the window remembers at now_ns, oldest first.
  template <typename F>
  void for_each_remembered(TimeNs now_ns, F f) const {
    window_.for_each(now_ns, f);
  }

 private:
  // An entry's value: the remembered bit, and the holding slot + 1 (0: not held).
  static constexpr uint32_t kRemembered = uint32_t{1} << 31;
  static constexpr uint32_t kSlotBits = kRemembered - 1;

  // The window let go of id.
  void forget(MessageId id) {
    uint32_t* v = table_.find_value(id);
    MQ_CHECK_MSG(v != nullptr && (*v & kRemembered) != 0,
                 "QueueIds: the window forgot an id it did not remember");
    *v &= kSlotBits;
    if (*v == 0) MQ_CHECK(table_.erase(id));
  }

  IdMap table_;
  DedupWindow window_;
  size_t held_ = 0;
};

}  // namespace mq::impl
