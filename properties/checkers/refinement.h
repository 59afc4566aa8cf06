#pragma once
// Refinement: every output of the implementation is one the model (mq::Model) allows.
//
// The checker replays the history's inputs into the model, in history order: time
// (Model::advance to each event's time), publishes (applied at their completion, or
// at the first sighting of the message if that comes first; a completion that
// carries the broker's acceptance stamp `timestamp_ns`, earlier than the completion
// and not before the last time the checker has judged, is applied at that time, so
// the message's TTL and delay run from its acceptance and what fell due in between
// comes after it), fetches, acks, nacks, attaches and detaches (at their ok),
// crashes and recovers. It then checks each
// output against what the model did:
//  - accept/refuse: a publish ok must be accepted, a publish failed "full" refused;
//  - which message to which consumer: a fetch ok must deliver that message (same id,
//    payload and attempts), a fetch failed "empty" must find nothing; a broker push
//    (deliver by `broker`) must be what Model::dispatch gives, to the same consumer;
//  - broker-side events (requeue, release, expire, dead-letter, the dead-letter
//    queue's publish, dead-letter-refused, lost, auto-ack) must each match an effect
//    the model owes (produced by an earlier step and not yet seen). With
//    RefinementOptions::complete, nothing may be owed at the end.
// A `fail` with any other error than "full"/"empty" is an operation that did not
// happen: nothing is applied.
//
// Where the history does not determine the input (DESIGN.md rule 5), the checker
// holds a set of candidate model states and accepts any member:
//  - an `info` (or never completed) publish may have been accepted at its completion,
//    later, or never; a publish ok may have been taken after another publish of the
//    same queue whose outcome was still open; an `info` ack, nack, fetch, attach or
//    detach happened or did not;
//  - a message whose publish does not carry its own max_retries (older histories):
//    at each failed delivery the budget is either exhausted (dead-letter) or not
//    (requeue), unless RefinementOptions::queue_retry_budget says such a message has
//    its queue's; a publish with `max_retries` is sent to the model with it;
//  - after a crash, recover, attach or detach, the first push of a queue may go to any
//    consumer with credit (round-robin restarts where the broker chooses).
// The set holds at most kMaxRefinementCandidates states (deduplicated); beyond that
// the checker keeps the first ones, and if they all die it says the history was not
// judged from there (inconclusive) instead of claiming a violation.
//
// Witness of a violation: the first event no candidate allows, and the previous
// event about the same message (or the event that made the model owe the missing
// effect). Memory: the candidate states (each the model's live messages, plus the
// finished ids described at kKeepFinishedIds), kRememberFinished finished ids per
// queue, and one event per live message.
//
// REQUIRES: the history is well formed (check_well_formed); topology.validate().ok().

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "model/model.h"
#include "model/topology.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kRefinement = history_check_name(HistoryCheck::kRefinement);
inline constexpr size_t kMaxRefinementCandidates = 64;
// Reused ids. The model keeps every finished id (to refuse a reused one); the checker
// bounds that memory. It keeps, per queue, the ids of the latest kRememberFinished
// (history_index.h: 1,024) messages the history shows finished (ack ok, expire,
// dead-letter, lost) in a hash set, and refuses a publish of one of them as the
// model would: a reused id is caught whenever fewer than kRememberFinished messages
// of its queue finished between the first message's finish and the reuse (the
// retention bound every streaming checker shares). The model's own finished lists
// are cut, in batches of kPruneBatch, to what that set does not cover (finishes a
// candidate took from an `info` ack), at most the latest kKeepFinishedIds per queue;
// a dead-letter queue keeps its latest kKeepFinishedIds, since the model reads them
// to refuse a dead-letter arrival (dead-letter-refused) of an id it finished.
inline constexpr size_t kKeepFinishedIds = 256;
inline constexpr uint64_t kPruneBatch = 64;

struct RefinementOptions {
  bool complete = false;            // nothing may be owed at the end
  bool queue_retry_budget = false;  // every message has its queue's max_retries
};

class RefinementChecker {
 public:
  RefinementChecker(const Topology& topology, RefinementOptions options);
  ~RefinementChecker();
  RefinementChecker(RefinementChecker&&) noexcept;

  // Takes the next event. After a violation (or an inconclusive stop) the rest is ignored.
  void add(const HistoryEvent& e);
  // The same, sharing the event instead of copying it where the checker keeps it.
  void add(const EventPtr& e);
  Verdict finish() const;

  size_t candidates() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

Verdict check_refinement(const History& history, const Topology& topology, const RefinementOptions& options = {});

}  // namespace mq
