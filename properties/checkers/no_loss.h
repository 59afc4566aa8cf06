#pragma once
// No-loss (delivery reliability, repaired): a message the broker confirmed is not
// lost, except by a crash of a non-durable queue; a refused one never appears.
//
// Precisely:
//  (1) refused: no event (delivery, ack, requeue, expire, ...) shows (queue, id)
//      when every publish of (queue, id) started before it failed (and there was one).
//      Witness: the fail and the event showing the message.
//  (2) lost: a `lost` event only in a non-durable queue and only while the broker is
//      down (between a crash and its recover). Witness: the message's acceptance and
//      the lost event (durable), or the lost event (broker up). A `drop` only in a
//      queue whose overflow is drop-oldest (capacity judges that it was full then).
//  (3) empty: a fetch answered "empty" (deliver fail) by an attached consumer with
//      credit, while a message of its queue was surely ready since before the fetch
//      was invoked: the broker no longer has a message it confirmed.
//      Witness: the event that made the message ready, and the fetch's invoke and fail.
//  (4) complete (only with NoLossOptions::complete, for a history that ends after the
//      faults healed and the consumers drained every queue): every accepted message
//      ended, by ack, expiry, dead-letter or (non-durable) loss. Witness: the
//      acceptance of the first message still held.
// `info` publishes may go either way: they are judged only once seen.
//
// REQUIRES: validate_history(history).ok() and check_well_formed.

#include <optional>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "model/topology.h"
#include "properties/checkers/queue_replay.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kNoLoss = history_check_name(HistoryCheck::kNoLoss);

struct NoLossOptions {
  bool complete = false;  // the history ends quiescent: everything must have ended
};

// Streaming: before(step) judges a step against the state it happened in, the shared
// QueueReplay then applies it, after(step) judges the state it left.
class NoLossChecker {
 public:
  // REQUIRES: `replay` and `topology` outlive the checker.
  NoLossChecker(const QueueReplay& replay, const Topology& topology)
      : replay_(replay), topology_(topology) {}
  void before(const Step& step);
  void after(const Step& step);
  Verdict finish() const;
  void set_options(const NoLossOptions& o) { options_ = o; }

 private:
  const QueueReplay& replay_;
  const Topology& topology_;
  std::optional<Verdict> violation_;
  NoLossOptions options_;
};

Verdict check_no_loss(const History& history, const Topology& topology, const NoLossOptions& options = {});

}  // namespace mq
