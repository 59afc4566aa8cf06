#pragma once
// EventQueue: the simulator's agenda. Events are ordered by (time, seq), where seq is
// a counter bumped at every push: two events at the same virtual time run in the
// order they were scheduled, so no tie is ever broken by the heap's internals
// (DESIGN.md, determinism rule 2).
//
// Layout: the heap orders small keys (time, seq, slot); the bodies stay in a slot
// array and move twice (in at push, out at pop), never while the heap sifts. A body
// is a packet with its message (a few hundred bytes, a string inside): moving it at
// every level of the heap was a tenth of a simulated run (docs/performance.md).
// Freed slots are reused, so the array's size is the most events ever pending.
//
// Thread-safety: none; one queue per run. T is any movable, default-constructible
// event body.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/check.h"
#include "model/message.h"

namespace mq::sim {

template <typename T>
class EventQueue {
 public:
  // More pending events than this means a runaway feedback loop (every event
  // scheduling two), never a legitimate run: fail loudly rather than eat memory.
  static constexpr size_t kMaxPending = size_t{1} << 22;

  struct Entry {
    TimeNs at_ns = 0;
    uint64_t seq = 0;
    T body;
  };

  // REQUIRES: at_ns >= the time of the last popped event (no scheduling into the past).
  void push(TimeNs at_ns, T body) {
    MQ_CHECK(at_ns >= now_ns_);
    MQ_CHECK_MSG(heap_.size() < kMaxPending, "event queue over its bound: runaway scheduling");
    uint32_t slot = 0;
    if (free_.empty()) {
      slot = static_cast<uint32_t>(bodies_.size());
      bodies_.push_back(std::move(body));
    } else {
      slot = free_.back();
      free_.pop_back();
      bodies_[slot] = std::move(body);
    }
    heap_.push_back(Key{at_ns, next_seq_++, slot});
    std::push_heap(heap_.begin(), heap_.end(), Later());
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  TimeNs next_time() const { MQ_CHECK(!empty()); return heap_.front().at_ns; }
  // The earliest event; advances the queue's notion of now.
  Entry pop() {
    MQ_CHECK(!empty());
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    const Key k = heap_.back();
    heap_.pop_back();
    now_ns_ = k.at_ns;
    free_.push_back(k.slot);
    return Entry{k.at_ns, k.seq, std::move(bodies_[k.slot])};
  }
  TimeNs now() const { return now_ns_; }

 private:
  struct Key {
    TimeNs at_ns = 0;
    uint64_t seq = 0;
    uint32_t slot = 0;  // index into bodies_
  };
  struct Later {
    bool operator()(const Key& a, const Key& b) const {
      return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.seq > b.seq;
    }
  };
  std::vector<Key> heap_;        // a binary heap under Later: the earliest at the front
  std::vector<T> bodies_;        // [slot]; a popped slot holds a moved-from body until reused
  std::vector<uint32_t> free_;   // slots popped and not yet reused
  uint64_t next_seq_ = 0;
  TimeNs now_ns_ = 0;
};

}  // namespace mq::sim
