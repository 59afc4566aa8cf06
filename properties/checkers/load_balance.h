#pragma once
// Load balance: under round-robin dispatch, the consumers of a queue that were ready
// get about the same number of pushes.
//
// Precisely, per queue q, a window is a maximal stretch of the history in which the
// set of attached consumers of q does not change (it ends at an attach or detach of
// one of them, a crash or a recover). Within a window, a consumer of q is eligible
// while it has had credit (attached, broker up, unacked < prefetch) at every push
// delivery from q so far. Among the eligible consumers, the counts of push
// deliveries (deliver ok by the broker; a client's fetch is not dispatch) differ by
// at most epsilon(q) = 1 + the prefetch window, the largest prefetch of q's
// consumers (an unlimited prefetch counts as 1). Exact round-robin keeps the
// difference at 1; the window allows a broker to fill one consumer's prefetch
// at a time. Witness: the event opening the window, and the window's pushes to the
// most and the least served consumer.
//
// REQUIRES: validate_history(history).ok() and check_well_formed.

#include <cstdint>

#include "model/history.h"
#include "model/topology.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kLoadBalance = "load-balance";

// The epsilon of a queue, as stated above. REQUIRES: q < topology.queues.size().
uint32_t load_balance_epsilon(const Topology& topology, QueueId q);

Verdict check_load_balance(const History& history, const Topology& topology);

}  // namespace mq
