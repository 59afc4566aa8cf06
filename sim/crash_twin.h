#pragma once
// The core's crash in memory against the broker's recovery from its log.
//
// BrokerCore::crash() and recover() are the crash that trace replay (sim/trace_replay.h)
// and the core's model tests stand on: durable queues keep what they hold and take
// their in-flight messages back as failed deliveries, non-durable queues lose
// everything, every consumer detaches. The broker itself never runs them: it
// restarts from its write-ahead log (Wal::recover, then BrokerCore::restore). The
// two must be the same crash. At a crash where nothing separates the running core
// from its log (every record it asked for is synced, and it ran nothing after its
// last released output), the node keeps a copy of the core (the twin); after
// recovery the twin crashes and recovers in memory at the crash time, and the two
// cores must agree:
//  - on what the durable queues hold (BrokerCore::durable_image(): every ready and
//    delayed message with its fields, in order, and the ids each idempotency window
//    remembers; after a crash nothing is in flight);
//  - on how much every queue holds (the non-durable ones: nothing) and on what every
//    consumer has unacked (nothing);
//  - on the crash's effects in the model's terms, the requeued deliveries and the
//    losses of the non-durable queues (which recovery reports from the node's own
//    record of what they held), as a multiset: their order is the core's walk over
//    its lists on one side and the node's map on the other.
//
// This checks recovery without the model: with the shadow off (`--no-shadow`) a
// recovery that loses, invents or alters a message is still caught, as is a core
// crash that trace replay would replay wrongly.

#include <optional>
#include <string>

#include "impl/broker_core.h"
#include "model/effect.h"

namespace mq::sim {

// What the twin and the restored core disagree on, first difference only; nothing
// when they agree. `twin` is the core as it was just before the crash;
// `restored_effects` is what recovery reported for the crash (model terms).
// REQUIRES: twin.up(); twin.now() == at_ns; restored.now() == at_ns.
std::optional<std::string> crash_twin_disagreement(impl::BrokerCore twin, TimeNs at_ns,
                                                   const impl::BrokerCore& restored,
                                                   const Effects& restored_effects);

}  // namespace mq::sim
