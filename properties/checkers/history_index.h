#pragma once
// StreamIndex: what several checkers need to know about a history before judging an
// event, kept one event at a time: which invoke a completion answers, and, per message
// (queue, id), its publish attempts with the bounds they put on acceptance time, TTL
// and delay.
//
// Lookahead. A publish's outcome (ok, fail, info) and its acceptance bounds are known
// only at its completion, and a checker judging an event needs the outcomes of the
// publishes started before it (a delivery may come before its producer hears back).
// So the index holds events back: it releases (passes to the checkers) event i only
// once every publish invoked before i has completed, or at the end of the history.
// What it holds is the events since the oldest open publish: memory proportional to
// the operations in flight. A publish open for more than kMaxLookaheadEvents events
// (a producer that never hears back) stops holding the rest: the events after it are
// released while it is still open, judged with its outcome unknown (as `info`).
//
// Time bounds. A client's publish was accepted somewhere between its invoke and its
// completion; a checker that claims a violation must hold for every acceptance time
// in that interval, so it uses the bound that favours the broker. When the broker
// stamped the acceptance (timestamp_ns, within the interval) the bounds meet.
//
// Forgetting. The index keeps the records of live messages and of the last
// kRememberFinished finished ones (so that a late duplicate is still judged against
// its publish); older finished messages are forgotten, the checkers that keep state
// per message are told (on_forget), and forgot(queue) says that an unknown id may be
// one of them. A history that finishes fewer messages than that forgets nothing.
//
// REQUIRES: the history is well formed (check_well_formed); events come in order.
// Thread-safety: none; one index per history.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/history.h"

namespace mq {

inline constexpr size_t kNoEvent = std::numeric_limits<size_t>::max();
inline constexpr TimeNs kNever = std::numeric_limits<TimeNs>::max();
// How many events the index holds back for one open publish before it gives up on
// its outcome (see above).
inline constexpr size_t kMaxLookaheadEvents = size_t{1} << 16;
// How many finished messages the index (and the checkers) still remember.
inline constexpr size_t kRememberFinished = size_t{1} << 10;

struct MessageKey {
  std::string queue;
  MessageId id = 0;
  friend auto operator<=>(const MessageKey&, const MessageKey&) = default;
};
struct MessageKeyHash {
  size_t operator()(const MessageKey& k) const {
    return std::hash<std::string>{}(k.queue) ^ (std::hash<MessageId>{}(k.id) * 0x9E3779B97F4A7C15ull);
  }
};
// REQUIRES: e.id is set.
MessageKey key_of(const HistoryEvent& e);
// "message 7 in 'orders'"
std::string describe(const MessageKey& k);

using EventPtr = std::shared_ptr<const HistoryEvent>;

// One attempt to put a message into a queue: a client's invoke and completion, or one
// broker publish (a dead-letter arrival), for which start == end.
struct PublishRecord {
  size_t start = kNoEvent;  // position of the invoke or broker publish
  size_t end = kNoEvent;    // position of the completion; kNoEvent while it has none
  EventPtr start_event;
  EventPtr end_event;       // null while it has no completion
  EventType outcome = EventType::kInfo;  // kOk, kFail, or kInfo (also while not completed)
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
  // The completion if there is one, else the start.
  const HistoryEvent& last_event() const { return end_event ? *end_event : *start_event; }
};
using PublishPtr = std::shared_ptr<const PublishRecord>;

using PublishRecords = std::vector<std::shared_ptr<PublishRecord>>;

// One event as the index releases it to the checkers.
struct Step {
  EventPtr event;
  EventPtr invoke;  // for a client's completion: its invoke; else null
  // The publish attempts of the event's message (as StreamIndex::publishes), looked
  // up once at release; null when the event has no message or the index none. Valid
  // while the step is being judged.
  const PublishRecords* records = nullptr;
  const HistoryEvent& e() const { return *event; }
  size_t pos() const { return static_cast<size_t>(event->index); }
  const PublishRecords& publishes() const;
  // The publish this event's sighting belongs to (StreamIndex::publish_before).
  PublishPtr publish_before() const;
};

class StreamIndex {
 public:
  using StepSink = std::function<void(const Step&)>;
  using ForgetSink = std::function<void(const MessageKey&)>;

  // `on_step` is called once per event, in history order, when the event is released.
  explicit StreamIndex(StepSink on_step);
  StreamIndex(const StreamIndex&) = delete;
  StreamIndex& operator=(const StreamIndex&) = delete;

  // Takes the next event; releases what no longer waits for a publish's outcome.
  void add(EventPtr e);
  // The end of the history: releases every event still held.
  void finish();

  // Called for each message forgotten (see above), after its last step.
  void on_forget(ForgetSink sink) { forget_sinks_.push_back(std::move(sink)); }

  // The publish attempts of a message, in order of their start; empty if none (or
  // forgotten). Only those started before the step being judged are final.
  const PublishRecords& publishes(const MessageKey& k) const;
  // The publish a sighting at `pos` belongs to: the latest attempt started before pos
  // that did not fail; null if there is none.
  PublishPtr publish_before(const MessageKey& k, size_t pos) const;
  // Whether a finished message of `queue` was forgotten: an id the index does not
  // know may then be one of them.
  bool forgot(const std::string& queue) const { return forgot_queues_.contains(queue); }

  size_t held() const { return buffer_.size(); }
  size_t max_held() const { return max_held_; }

 private:
  struct Entry {
    PublishRecords publishes;
    uint64_t finished_seq = 0;  // the seq of its latest finish; 0: live
  };
  struct Open {
    EventPtr invoke;
    std::shared_ptr<PublishRecord> publish;  // a publish invoke's record
  };

  void start_publish(const EventPtr& e, Open* open);
  void complete_publish(PublishRecord& r, const EventPtr& end);
  void close_publish();
  void release(bool all);
  void finished(const MessageKey& k);

  StepSink on_step_;
  std::vector<ForgetSink> forget_sinks_;
  std::deque<Step> buffer_;
  // Publish invokes in start order; the front is open (see close_publish).
  std::deque<std::shared_ptr<const PublishRecord>> open_publishes_;
  size_t open_count_ = 0;  // publish invokes not completed
  static constexpr size_t kCompactOpenPublishes = 64;
  std::map<std::string, Open> open_;  // process -> its invoke in progress (null invoke: none)
  std::unordered_map<MessageKey, Entry, MessageKeyHash> messages_;
  std::deque<std::pair<MessageKey, uint64_t>> finished_;  // oldest first
  uint64_t finish_seq_ = 0;
  std::set<std::string> forgot_queues_;
  size_t max_held_ = 0;
};

}  // namespace mq
