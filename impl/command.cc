#include "impl/command.h"

#include "base/overloaded.h"

namespace mq::impl {

Status run(BrokerCore& core, TimeNs now_ns, const Command& c, Effects& out) {
  return std::visit(
      Overloaded{
          [&](const cmd::Send& o) { return core.send(now_ns, o.producer, o.queue, o.spec, out); },
          [&](const cmd::Publish& o) { return core.publish(now_ns, o.producer, o.topic, o.spec, out); },
          [&](const cmd::Dispatch& o) { return core.dispatch(now_ns, o.queue, out); },
          [&](const cmd::Fetch& o) { return core.fetch(now_ns, o.consumer, out); },
          [&](const cmd::Ack& o) { return core.ack(now_ns, o.consumer, o.id, out); },
          [&](const cmd::Nack& o) { return core.nack(now_ns, o.consumer, o.id, o.requeue, out); },
          [&](const cmd::Tick&) { return core.tick(now_ns, out); },
          [&](const cmd::Crash&) { return core.crash(now_ns, out); },
          [&](const cmd::Recover&) { return core.recover(now_ns, out); },
          [&](const cmd::Attach& o) { return core.attach(now_ns, o.consumer, out); },
          [&](const cmd::Detach& o) { return core.detach(now_ns, o.consumer, out); },
      },
      c);
}

}  // namespace mq::impl
