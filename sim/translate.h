#pragma once
// Translation between the model's types (which histories and the shadow speak) and
// BrokerCore's (impl/ depends on nothing of ours, so the simulator does the mapping).
//
// to_model_result() is where the core's answers are put in the model's terms:
//  - kTimer effects exist only in the core (the node acts on next_deadline()); dropped.
//  - A duplicate id: the core answers ok with only kDuplicate effects (idempotent
//    publish), the model fails with kAlreadyExists; the core's answer becomes that
//    failure, so the history records the resend as a publish that stored nothing.
//  - kDropped (drop-oldest overflow) is the model's kDropped (Topology: overflow).
//  - kRefused / kDeadLetterRefused lose the core's reason.
//
// Thread-safety: pure functions.

#include "base/status.h"
#include "impl/broker_config.h"
#include "impl/broker_core.h"
#include "impl/effect.h"
#include "model/effect.h"
#include "model/op.h"
#include "model/topology.h"

namespace mq::sim {

// The core's configuration for a topology: the same shapes, overflow policies and
// idempotency windows; a window without a count bound (the model's default) is one
// larger than any run.
impl::BrokerConfig to_broker_config(const Topology& topology);
impl::MessageSpec to_core(const MessageSpec& spec);
MessageSpec to_model(const impl::MessageSpec& spec);
Message to_model(const impl::Message& m);
// The model's operations and the core's commands, one for one. An Advance is a Tick
// (its time is the command's); a Tick at at_ns is an Advance to at_ns.
impl::Command to_core(const Op& op);
Op to_model(const impl::Command& c, TimeNs at_ns);
// Runs one model operation as the core's command at time `now` (an Advance ticks
// the core to its own time instead).
Status apply_to_core(impl::BrokerCore& core, const Op& op, TimeNs now, impl::Effects& out);
// `status` and `effects` as one command of the core returned them.
Result<Effects> to_model_result(const Status& status, const impl::Effects& effects);

}  // namespace mq::sim
