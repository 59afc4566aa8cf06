#pragma once
// Completeness (liveness, repaired): every delivery is eventually acked, or, when it
// fails, redelivered while retries are left and then dead-lettered; once faults
// healed and the consumers drained the queues, nothing stays ready or in flight.
//
// Precisely, per message (queue, id) from its acceptance (publish ok, a broker
// publish, or its first sighting after an `info` publish) until it finishes (ack ok,
// expire, dead-letter or lost):
//  (1) policy: a message nacked with requeue=false is not requeued afterwards (it is
//      dead-lettered). Witness: the nack and the requeue.
//  (2) budget: with R the message's max_retries, the one its publish carries
//      (`max_retries`, on the ok or else on its invoke; a broker publish carries
//      the dead-letter queue's), else, with CompletenessOptions::queue_retry_budget,
//      its queue's (for older histories without the field; otherwise not judged):
//      no delivery has attempts > 1 + R; a failed delivery with
//      attempts <= R is requeued, not dead-lettered (unless nacked with
//      requeue=false); one with attempts > R is dead-lettered, not requeued.
//      Witness: the delivery and the requeue or dead-letter (or the delivery alone).
//  (3) complete (only with CompletenessOptions::complete: the history ran to
//      quiescence after faults healed): no message is still held at the end, whether
//      ready, delayed, in flight, or given back (nack, detach, crash) without the
//      broker's requeue or dead-letter. Witness: the stuck message's last delivery
//      and what failed it, if it was delivered; else its acceptance.
//
// Incremental: add() takes the history one event at a time and keeps state only for
// messages still held, so memory is proportional to messages in flight or ready.
// REQUIRES: the history is well formed (check_well_formed).

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "model/topology.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kCompleteness = history_check_name(HistoryCheck::kCompleteness);

struct CompletenessOptions {
  bool complete = false;            // judge (3)
  bool queue_retry_budget = false;  // judge (2) with the queue's max_retries where a publish has none
};

class CompletenessChecker {
 public:
  // REQUIRES: `topology` outlives the checker.
  CompletenessChecker(const Topology& topology, CompletenessOptions options);

  // Takes the next event. After the first violation the rest is ignored.
  void add(const HistoryEvent& e);
  // The same, sharing the event instead of copying it where the checker keeps it.
  void add(const EventPtr& e);
  Verdict finish() const;

 private:
  enum class State : uint8_t { kHeld, kInFlight, kGivenBack };
  struct Tracked {
    EventPtr accepted;    // the event that made it live
    EventPtr delivery;    // its last delivery; null if none
    EventPtr given_back;  // what failed that delivery; null if nothing
    State state = State::kHeld;
    bool nack_no_requeue = false;
    std::optional<uint32_t> max_retries;     // its publish's own, if the history says
  };

  void violation(std::string message, std::vector<HistoryEvent> witness);
  // R of (2) for `t` in `queue`; nullopt: not judged.
  std::optional<uint32_t> budget(const Tracked& t, const std::string& queue) const;
  static std::string budget_source(const Tracked& t, const std::string& queue);
  Tracked* find_or_accept(const EventPtr& e);
  void on_message_event(const EventPtr& e);
  void on_deliver(const EventPtr& ptr, Tracked& t);
  void on_requeue(const HistoryEvent& e, Tracked& t);
  void on_dead_letter(const HistoryEvent& e, Tracked& t);
  void give_back(const EventPtr& e, const std::string& only_consumer);

  const Topology& topology_;
  CompletenessOptions options_;
  std::unordered_map<MessageKey, Tracked, MessageKeyHash> held_;
  std::map<std::string, uint32_t> open_budgets_;  // process -> max_retries of its open publish invoke
  bool budgeted_ = false;                         // some message carried its own max_retries
  uint64_t finished_ = 0;
  std::optional<Verdict> violation_;
};

Verdict check_completeness(const History& history, const Topology& topology,
                           const CompletenessOptions& options = {});

}  // namespace mq
