#include "impl/command.h"

#include <type_traits>

namespace mq::impl {

Status run(BrokerCore& core, TimeNs now_ns, const Command& c, Effects& out) {
  return std::visit(
      [&](const auto& o) -> Status {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, cmd::Send>) return core.send(now_ns, o.producer, o.queue, o.spec, out);
        if constexpr (std::is_same_v<T, cmd::Publish>) return core.publish(now_ns, o.producer, o.topic, o.spec, out);
        if constexpr (std::is_same_v<T, cmd::Dispatch>) return core.dispatch(now_ns, o.queue, out);
        if constexpr (std::is_same_v<T, cmd::Fetch>) return core.fetch(now_ns, o.consumer, out);
        if constexpr (std::is_same_v<T, cmd::Ack>) return core.ack(now_ns, o.consumer, o.id, out);
        if constexpr (std::is_same_v<T, cmd::Nack>) return core.nack(now_ns, o.consumer, o.id, o.requeue, out);
        if constexpr (std::is_same_v<T, cmd::Tick>) return core.tick(now_ns, out);
        if constexpr (std::is_same_v<T, cmd::Crash>) return core.crash(now_ns, out);
        if constexpr (std::is_same_v<T, cmd::Recover>) return core.recover(now_ns, out);
        if constexpr (std::is_same_v<T, cmd::Attach>) return core.attach(now_ns, o.consumer, out);
        if constexpr (std::is_same_v<T, cmd::Detach>) return core.detach(now_ns, o.consumer, out);
      },
      c);
}


}  // namespace mq::impl
