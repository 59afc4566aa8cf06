#pragma once
// Integrity: every delivered message was published, into the queue it is delivered
// from, with the same id and payload.
//
// Precisely: for each deliver ok of (queue, id) at position i there is a publish of
// (queue, id) started before i that did not fail (ok, info, or never completed: the
// broker may deliver before the producer hears back), and one of those carries the
// delivered payload. Witness: the delivery alone (never published); the refused
// publish and the delivery (only a failed publish); the latest candidate publish and
// the delivery (payload differs).
//
// REQUIRES: validate_history(history).ok().

#include "model/history.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kIntegrity = "integrity";

Verdict check_integrity(const History& history);

}  // namespace mq
