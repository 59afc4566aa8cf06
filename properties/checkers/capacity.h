#pragma once
// Capacity (the seed's Def. 2.3, enqueue fails iff full): a queue never holds more than
// its capacity, and refuses a publish only when full.
//
// Precisely, replaying the history (QueueReplay): size(q) = messages accepted and not
// yet finished (ack ok, expire, dead-letter, lost). (1) After every event,
// size(q) <= capacity(q). (2) A publish fail with error "full" happens only when
// size(q) + pending(q) >= capacity(q), pending counting the other publishes to q that
// may have been accepted unseen (open or info). Acceptance is placed at the publish's
// completion, the latest it can be, so (1) never blames a broker for a publish it
// may not have taken yet, and (2) gives it every publish it may have taken.
// A drop-oldest queue (Overflow::kDropOldest) makes room instead of refusing: (1) a
// client's publish ok may take it to capacity + 1 if the queue's next event is the
// drop that makes room (the recorder writes it right after the completion); (2) it
// refuses only when, besides being full, it holds no message it could drop (none
// surely ready or delayed and unexpired); (3) it drops only when full (size +
// pending >= capacity before the drop).
// Witness: (1) the acceptance events of the capacity + 1 messages held at once, or
// the acceptance and the queue's next event that is not a drop; (2) the refused
// publish's invoke and fail, and the droppable message's readiness; (3) the drop.
//
// REQUIRES: validate_history(history).ok() and every queue of the history in the
// topology (check_well_formed).

#include <map>
#include <optional>
#include <string>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "model/topology.h"
#include "properties/checkers/queue_replay.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kCapacity = history_check_name(HistoryCheck::kCapacity);

// Streaming: before(step) judges a step against the state it happened in, the shared
// QueueReplay then applies it, after(step) judges the state it left.
class CapacityChecker {
 public:
  // REQUIRES: `replay` and `topology` outlive the checker.
  CapacityChecker(const QueueReplay& replay, const Topology& topology)
      : replay_(replay), topology_(topology) {}
  void before(const Step& step);
  void after(const Step& step);
  Verdict finish() const;

 private:
  const QueueReplay& replay_;
  const Topology& topology_;
  void judge_refusal(const Step& step, const QueueConfig& queue);
  void judge_drop(const HistoryEvent& e, const QueueConfig& queue);
  std::optional<Verdict> violation_;
  uint64_t refusals_ = 0, drops_ = 0;
  // Drop-oldest queues at capacity + 1 after a client's publish ok: that event.
  std::map<std::string, EventPtr> owes_drop_;
};

Verdict check_capacity(const History& history, const Topology& topology);

}  // namespace mq
