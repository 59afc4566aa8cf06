#pragma once
// Priority: a message of priority p is never delivered while a message of a higher
// priority is ready in the same queue.
//
// Precisely, replaying the history (QueueReplay): at each deliver ok from queue q of
// a message of priority p (its publish's priority), no other live message of q with
// priority > p is surely ready: placed ready (accepted, released or requeued, not in
// flight, not given back without word of where), past its latest possible not-before
// time and before its earliest possible expiry. Witness: the event that made the
// higher message ready (its publish ok, release or requeue), and the delivery.
//
// REQUIRES: validate_history(history).ok().

#include <optional>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "model/topology.h"
#include "properties/checkers/queue_replay.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kPriority = history_check_name(HistoryCheck::kPriority);

// Streaming: before(step) judges a step against the state it happened in, the shared
// QueueReplay then applies it, after(step) judges the state it left.
class PriorityChecker {
 public:
  // REQUIRES: `replay` outlives the checker. The topology is not needed: the
  // parameter is there because drive_replayed builds every replayed checker alike.
  PriorityChecker(const QueueReplay& replay, const Topology& /*topology*/) : replay_(replay) {}
  void before(const Step& step);
  void after(const Step& step);
  Verdict finish() const;

 private:
  const QueueReplay& replay_;
  std::optional<Verdict> violation_;
  uint64_t judged_ = 0;
};

Verdict check_priority(const History& history, const Topology& topology);

}  // namespace mq
