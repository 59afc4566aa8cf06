#pragma once
// Command: every command BrokerCore takes, as data, in impl's own types. The server
// shell (impl/server_shell.h) runs commands through run() and reports each one it
// released, with its outcome, so that a driver can record exactly what the core did
// (the simulator turns these into history events; impl/ never sees the model).
//
// The kinds are the model's operations one for one (model/op.h); sim/translate.h maps
// between the two.
//
// Thread-safety: values; run() as the core's own commands.

#include <string>
#include <variant>

#include "base/status.h"
#include "impl/broker_core.h"
#include "impl/message.h"

namespace mq::impl {

namespace cmd {
struct Send {
  ProducerId producer = 0;
  QueueId queue = 0;
  MessageSpec spec;
};
struct Publish {
  ProducerId producer = 0;
  TopicId topic = 0;
  MessageSpec spec;
};
struct Dispatch {
  QueueId queue = 0;
};
struct Fetch {
  ConsumerId consumer = 0;
};
struct Ack {
  ConsumerId consumer = 0;
  MessageId id = 0;
};
struct Nack {
  ConsumerId consumer = 0;
  MessageId id = 0;
  bool requeue = true;
};
struct Tick {  // time passes to the command's time
};
struct Crash {};
struct Recover {};
struct Attach {
  ConsumerId consumer = 0;
};
struct Detach {
  ConsumerId consumer = 0;
};
}  // namespace cmd

using Command = std::variant<cmd::Send, cmd::Publish, cmd::Dispatch, cmd::Fetch, cmd::Ack, cmd::Nack, cmd::Tick,
                             cmd::Crash, cmd::Recover, cmd::Attach, cmd::Detach>;

// Runs `c` on `core` at `now_ns` (a Tick ticks to now_ns). The spec of a send or
// publish is copied: the command stays whole for the record.
Status run(BrokerCore& core, TimeNs now_ns, const Command& c, Effects& out);

}  // namespace mq::impl
