#pragma once
// Order: FIFO per queue and priority level among first deliveries.
//
// Precisely: for two messages a and b of the same queue and priority level that were
// both delivered, if a surely became ready before b could (a's ready event precedes
// b's: a's publish ok before b's publish invoke; for a delayed message its release),
// then a's first delivery precedes b's. Redeliveries are left out: where a requeued
// message goes (front or back) is the queue's explicit redelivery policy. Messages
// whose readiness the history does not pin down (an info publish, a delayed message
// without a release event) are left out too.
//
// Checked as Elle checks isolation: a precedence graph (Boost.Graph) over the
// messages with edges "ready before" (through a chain of time nodes, so the graph
// stays linear in size) and "first delivered before"; a cycle is a violation, and
// it always contains a pair a, b with a ready before b but b delivered first.
// Witness: a's ready event, b's ready event, b's first delivery, a's first delivery.
//
// REQUIRES: validate_history(history).ok().

#include "model/history.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kOrder = "order";

Verdict check_order(const History& history);

}  // namespace mq
