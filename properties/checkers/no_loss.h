#pragma once
// No-loss (delivery reliability, repaired): a message the broker confirmed is not
// lost, except by a crash of a non-durable queue; a refused one never appears.
//
// Precisely:
//  (1) refused: if every publish of (queue, id) failed, no event after the first of
//      them (delivery, ack, requeue, expire, ...) shows (queue, id).
//      Witness: the fail and the event showing the message.
//  (2) lost: a `lost` event only in a non-durable queue and only while the broker is
//      down (between a crash and its recover). Witness: the message's acceptance and
//      the lost event (durable), or the lost event (broker up).
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

#include "model/history.h"
#include "model/topology.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kNoLoss = "no-loss";

struct NoLossOptions {
  bool complete = false;  // the history ends quiescent: everything must have ended
};

Verdict check_no_loss(const History& history, const Topology& topology, const NoLossOptions& options = {});

}  // namespace mq
