#pragma once
// DedupWindow: which ids a queue accepted recently, in acceptance order, so that a
// producer that resends after a timeout is confirmed again instead of enqueuing a
// second copy. Bounded: it remembers at most `max_ids` ids, each for at most
// `max_age_ns` (0: no age bound), instead of an ever-growing set of every id ever
// seen. It keeps the order and the bounds only; membership lives in the queue's one
// id table (impl/queue_ids.h), told of every id the window lets go through a
// `forget(id)` callback.
// Thread-safety: none. Cost: O(1) amortized per operation.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/check.h"
#include "impl/message.h"

namespace mq::impl {

class DedupWindow {
 public:
  DedupWindow() = default;
  DedupWindow(uint32_t max_ids, TimeNs max_age_ns) : max_ids_(max_ids), max_age_ns_(max_age_ns) {}

  // Whether remember() keeps anything (a window of 0 ids remembers nothing).
  bool enabled() const { return max_ids_ > 0; }

  // Lets go of every id that has aged out by now_ns, oldest first.
  template <typename Forget>
  void forget_older_than(TimeNs now_ns, Forget forget) {
    // Entries are in acceptance order, so the aged ones form a prefix; the loop is
    // bounded by the count.
    while (count_ > 0 && aged(ring_[head_], now_ns)) pop_oldest(forget);
  }

  // Appends id, letting go of what aged out and, when full, of the oldest id.
  // REQUIRES: enabled(); id not remembered; now_ns not before the previous remember().
  template <typename Forget>
  void remember(MessageId id, TimeNs now_ns, Forget forget) {
    MQ_CHECK(enabled());
    // Acceptance order is time order: forget_older_than() relies on it.
    MQ_CHECK(count_ == 0 || ring_[wrap(head_ + count_ - 1)].accepted_ns <= now_ns);
    forget_older_than(now_ns, forget);
    if (count_ == max_ids_) pop_oldest(forget);
    if (count_ == ring_.size()) grow();
    ring_[wrap(head_ + count_)] = Entry{id, now_ns};
    ++count_;
  }

  // Calls f(id, accepted_ns) for every id remembered at now_ns, oldest first (for a
  // checkpoint). Ids that have aged out by now_ns but are not forgotten yet (the
  // window forgets when it is asked) are left out: they can no longer make a publish
  // a duplicate, so two windows that answer alike give the same list.
  template <typename F>
  void for_each(TimeNs now_ns, F f) const {
    for (size_t k = 0; k < count_; ++k) {
      const Entry& e = ring_[wrap(head_ + k)];
      if (!aged(e, now_ns)) f(e.id, e.accepted_ns);
    }
  }

 private:
  struct Entry {
    MessageId id = 0;
    TimeNs accepted_ns = 0;
  };

  // The age bound, stated once: an id is remembered while now < accepted + max_age.
  bool aged(const Entry& e, TimeNs now_ns) const { return max_age_ns_ > 0 && e.accepted_ns + max_age_ns_ <= now_ns; }
  // Doubles the ring (up to max_ids_), laying the entries out from index 0: memory
  // follows use, and the copy is amortized over the entries that filled the ring.
  void grow() {
    const size_t bigger = std::min<size_t>(max_ids_, std::max<size_t>(16, ring_.size() * 2));
    std::vector<Entry> next(bigger);
    for (size_t k = 0; k < count_; ++k) next[k] = ring_[wrap(head_ + k)];
    ring_ = std::move(next);
    head_ = 0;
  }
  // i mod the ring size, for i < 2 * size: a compare instead of a division (hot:
  // every accepted message remembers one id and, once full, forgets one).
  size_t wrap(size_t i) const { return i >= ring_.size() ? i - ring_.size() : i; }
  template <typename Forget>
  void pop_oldest(Forget& forget) {
    MQ_CHECK(count_ > 0);
    const MessageId id = ring_[head_].id;
    head_ = wrap(head_ + 1);
    --count_;
    forget(id);
  }

  uint32_t max_ids_ = 0;
  TimeNs max_age_ns_ = 0;
  std::vector<Entry> ring_;
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace mq::impl
