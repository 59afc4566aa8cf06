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

std::string to_string(const Command& c) {
  return std::visit(
      [](const auto& o) -> std::string {
        using T = std::decay_t<decltype(o)>;
        auto id = [](MessageId m) { return std::to_string(m); };
        if constexpr (std::is_same_v<T, cmd::Send>) {
          return "send(producer " + std::to_string(o.producer) + ", queue " + std::to_string(o.queue) + ", id " +
                 id(o.spec.id) + ")";
        }
        if constexpr (std::is_same_v<T, cmd::Publish>) {
          return "publish(producer " + std::to_string(o.producer) + ", topic " + std::to_string(o.topic) + ", id " +
                 id(o.spec.id) + ")";
        }
        if constexpr (std::is_same_v<T, cmd::Dispatch>) return "dispatch(queue " + std::to_string(o.queue) + ")";
        if constexpr (std::is_same_v<T, cmd::Fetch>) return "fetch(consumer " + std::to_string(o.consumer) + ")";
        if constexpr (std::is_same_v<T, cmd::Ack>) {
          return "ack(consumer " + std::to_string(o.consumer) + ", id " + id(o.id) + ")";
        }
        if constexpr (std::is_same_v<T, cmd::Nack>) {
          return "nack(consumer " + std::to_string(o.consumer) + ", id " + id(o.id) +
                 (o.requeue ? ", requeue)" : ", drop)");
        }
        if constexpr (std::is_same_v<T, cmd::Tick>) return "tick";
        if constexpr (std::is_same_v<T, cmd::Crash>) return "crash";
        if constexpr (std::is_same_v<T, cmd::Recover>) return "recover";
        if constexpr (std::is_same_v<T, cmd::Attach>) return "attach(consumer " + std::to_string(o.consumer) + ")";
        if constexpr (std::is_same_v<T, cmd::Detach>) return "detach(consumer " + std::to_string(o.consumer) + ")";
      },
      c);
}

}  // namespace mq::impl
