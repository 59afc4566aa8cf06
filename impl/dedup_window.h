#pragma once
// DedupWindow: the ids a queue accepted recently, so that a producer that resends
// after a timeout is confirmed again instead of enqueuing a second copy. Bounded:
// it remembers at most `max_ids` ids, each for at most `max_age_ns` (0: no age
// bound), instead of an ever-growing set of every id ever seen.
// Thread-safety: none. Cost: O(1) amortized per operation.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "impl/id_map.h"
#include "impl/message.h"

namespace mq::impl {

class DedupWindow {
 public:
  DedupWindow() = default;
  DedupWindow(uint32_t max_ids, TimeNs max_age_ns) : max_ids_(max_ids), max_age_ns_(max_age_ns) {}

  // Whether id was remembered at time now. Forgets what has aged out first.
  bool contains(MessageId id, TimeNs now_ns) {
    forget_older_than(now_ns);
    return members_.contains(id);
  }

  // REQUIRES: !contains(id, now_ns); now_ns not before the previous remember().
  void remember(MessageId id, TimeNs now_ns) {
    if (max_ids_ == 0) return;
    forget_older_than(now_ns);
    if (count_ == max_ids_) pop_oldest();
    if (count_ == ring_.size()) grow();
    const size_t tail = wrap(head_ + count_);
    ring_[tail] = Entry{id, now_ns};
    ++count_;
    members_.insert(id, 1);
  }

  size_t size() const { return count_; }

  // Calls f(id, accepted_ns) for every remembered id, oldest first (for a
  // checkpoint; some may have aged out but not yet been forgotten).
  template <typename F>
  void for_each(F f) const {
    for (size_t k = 0; k < count_; ++k) {
      const Entry& e = ring_[wrap(head_ + k)];
      f(e.id, e.accepted_ns);
    }
  }

 private:
  struct Entry {
    MessageId id = 0;
    TimeNs accepted_ns = 0;
  };

  void forget_older_than(TimeNs now_ns) {
    if (max_age_ns_ <= 0) return;
    // Entries are in acceptance order, so the aged ones form a prefix; the loop is
    // bounded by the count.
    while (count_ > 0 && ring_[head_].accepted_ns + max_age_ns_ <= now_ns) pop_oldest();
  }
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
  void pop_oldest() {
    MQ_CHECK(count_ > 0);
    MQ_CHECK(members_.erase(ring_[head_].id));
    head_ = wrap(head_ + 1);
    --count_;
  }

  uint32_t max_ids_ = 0;
  TimeNs max_age_ns_ = 0;
  std::vector<Entry> ring_;
  size_t head_ = 0;
  size_t count_ = 0;
  IdMap members_;
};

}  // namespace mq::impl
