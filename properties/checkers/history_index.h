#pragma once
// HistoryIndex: what several checkers need to know about a history before judging
// it: which completion answers which invoke, and, per message (queue, id), its publish
// attempts with the bounds they put on acceptance time, TTL and delay.
//
// Time bounds. A client's publish was accepted somewhere between its invoke and its
// completion; a checker that claims a violation must hold for every acceptance time
// in that interval, so it uses the bound that favours the broker. When the broker
// stamped the acceptance (timestamp_ns, within the interval) the bounds meet.
//
// REQUIRES: the history is valid (validate_history); the index keeps a reference to
// it, which must outlive the index.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "model/history.h"

namespace mq {

inline constexpr size_t kNoEvent = std::numeric_limits<size_t>::max();
inline constexpr TimeNs kNever = std::numeric_limits<TimeNs>::max();

struct MessageKey {
  std::string queue;
  MessageId id = 0;
  friend auto operator<=>(const MessageKey&, const MessageKey&) = default;
};
// REQUIRES: e.id is set.
MessageKey key_of(const HistoryEvent& e);
// "message 7 in 'orders'"
std::string describe(const MessageKey& k);

// One attempt to put a message into a queue: a client's invoke and completion, or one
// broker publish (a dead-letter arrival), for which start == end.
struct PublishRecord {
  size_t start = kNoEvent;  // position of the invoke or broker publish
  size_t end = kNoEvent;    // position of the completion; kNoEvent if it never came
  EventType outcome = EventType::kInfo;  // kOk, kFail, or kInfo (also when never completed)
  std::string payload;
  Priority priority = 0;
  TimeNs ttl_ns = 0;
  TimeNs delay_ns = 0;
  TimeNs accepted_lo_ns = 0;       // earliest possible acceptance
  TimeNs accepted_hi_ns = kNever;  // latest possible; kNever unless ok
  // Derived bounds; kNever where unbounded.
  TimeNs expires_lo_ns() const;       // the earliest it may expire (kNever: no TTL)
  TimeNs expires_hi_ns() const;       // by then it has certainly expired
  TimeNs deliverable_lo_ns() const;   // not deliverable before this
  TimeNs deliverable_hi_ns() const;   // certainly deliverable from this on
  bool delayed() const { return delay_ns > 0; }
  bool may_exist() const { return outcome != EventType::kFail; }
};

class HistoryIndex {
 public:
  explicit HistoryIndex(const History& history);

  const History& history() const { return history_; }
  const HistoryEvent& at(size_t pos) const { return history_.events[pos]; }
  size_t size() const { return history_.events.size(); }

  // The completion of an invoke, or the invoke of a completion; kNoEvent for an
  // invoke never completed and for broker and nemesis events.
  size_t partner(size_t pos) const { return partner_[pos]; }

  // The publish attempts of a message, in order of their start; empty if none.
  const std::vector<PublishRecord>& publishes(const MessageKey& k) const;
  // The publish a sighting at `pos` belongs to: the latest attempt started before pos
  // that did not fail; nullptr if there is none.
  const PublishRecord* publish_before(const MessageKey& k, size_t pos) const;
  const std::map<MessageKey, std::vector<PublishRecord>>& all_publishes() const { return publishes_; }

 private:
  void add_publish(size_t start);

  const History& history_;
  std::vector<size_t> partner_;
  std::map<MessageKey, std::vector<PublishRecord>> publishes_;
};

}  // namespace mq
