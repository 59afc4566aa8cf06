#pragma once
// EventQueue: the simulator's agenda. Events are ordered by (time, seq), where seq is
// a counter bumped at every push: two events at the same virtual time run in the
// order they were scheduled, so no tie is ever broken by the heap's internals
// (DESIGN.md, determinism rule 2).
//
// Thread-safety: none; one queue per run. T is any movable event body.

#include <cstdint>
#include <algorithm>
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
    heap_.push_back(Entry{at_ns, next_seq_++, std::move(body)});
    std::push_heap(heap_.begin(), heap_.end(), Later());
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  TimeNs next_time() const { MQ_CHECK(!empty()); return heap_.front().at_ns; }
  // The earliest event; advances the queue's notion of now.
  Entry pop() {
    MQ_CHECK(!empty());
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    Entry e = std::move(heap_.back());
    heap_.pop_back();
    now_ns_ = e.at_ns;
    return e;
  }
  TimeNs now() const { return now_ns_; }

 private:
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.seq > b.seq;
    }
  };
  std::vector<Entry> heap_;  // a binary heap under Later: the earliest at the front
  uint64_t next_seq_ = 0;
  TimeNs now_ns_ = 0;
};

}  // namespace mq::sim
