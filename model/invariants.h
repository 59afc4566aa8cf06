#pragma once
// check_invariants: every fact about a ModelState that holds in every reachable
// state, whatever the operations were. The RapidCheck suites call it after every
// step; the explorer calls it on every state it visits.

#include "base/status.h"
#include "model/model.h"

namespace mq {

// ok, or the first invariant that fails, with the queue, message or consumer it
// fails for. Invariants checked:
//  shape       one QueueState per queue, one ready level per priority, one flag per consumer;
//  capacity    size (ready + delayed + in flight) <= capacity;
//  uniqueness  a message id appears in at most one place of a queue;
//  conservation accepted == ready + delayed + in flight + finished;
//  ready       deliverable now, not expired, at the level of its priority, retries left;
//  delayed     not deliverable yet, not expired, retries left;
//  in flight   at an attached manual-ack consumer of this queue, attempts >= 1, its
//              deadline is set iff the queue has a visibility timeout and lies in the future;
//  credit      no consumer holds more unacked deliveries than its prefetch;
//  down        while the broker is down nothing is in flight and no consumer is attached;
//  counters    redeliveries <= deliveries; acked <= deliveries; cursor within the ring.
Status check_invariants(const Model& model);

// MQ_CHECKs check_invariants, printing the state on failure.
void assert_invariants(const Model& model);

}  // namespace mq
