#include "sim/translate.h"

#include <type_traits>
#include <variant>

namespace mq::sim {
namespace {

EffectKind to_model(impl::EffectKind k) {
  switch (k) {
    case impl::EffectKind::kAccepted: return EffectKind::kAccepted;
    case impl::EffectKind::kRefused: return EffectKind::kRefused;
    case impl::EffectKind::kReleased: return EffectKind::kReleased;
    case impl::EffectKind::kDelivered: return EffectKind::kDelivered;
    case impl::EffectKind::kAcked: return EffectKind::kAcked;
    case impl::EffectKind::kRequeued: return EffectKind::kRequeued;
    case impl::EffectKind::kDeadLettered: return EffectKind::kDeadLettered;
    case impl::EffectKind::kDeadLetterRefused: return EffectKind::kDeadLetterRefused;
    case impl::EffectKind::kExpired: return EffectKind::kExpired;
    case impl::EffectKind::kLost: return EffectKind::kLost;
    case impl::EffectKind::kDuplicate:
    case impl::EffectKind::kDropped:
    case impl::EffectKind::kTimer: break;
  }
  MQ_CHECK_MSG(false, "core effect kind without a model counterpart");
  return EffectKind::kAccepted;
}

}  // namespace

impl::BrokerConfig to_broker_config(const Topology& t) {
  // Larger than any workload the scenario reader accepts (10^7 messages).
  constexpr uint32_t kDedupWindowIds = 1u << 24;
  impl::BrokerConfig c;
  for (const auto& p : t.producers) c.producers.push_back({p.name});
  for (const auto& q : t.queues) {
    impl::QueueOptions o;
    o.name = q.name;
    o.capacity = q.capacity;
    o.priority_levels = q.priority_levels;
    o.durable = q.durable;
    o.max_retries = q.max_retries;
    o.visibility_timeout_ns = q.visibility_timeout_ns;
    o.dead_letter_queue = q.dead_letter_queue;
    o.redelivery = q.redelivery == Redelivery::kFront ? impl::Redelivery::kFront : impl::Redelivery::kBack;
    o.overflow = impl::OverflowPolicy::kRejectPublish;
    o.dedup_window_ids = kDedupWindowIds;
    c.queues.push_back(std::move(o));
  }
  for (const auto& k : t.consumers) {
    c.consumers.push_back({k.name, k.queue, k.prefetch,
                           k.ack_mode == AckMode::kAuto ? impl::AckMode::kAuto : impl::AckMode::kManual});
  }
  for (const auto& tp : t.topics) c.topics.push_back({tp.name, tp.queues});
  return c;
}

impl::MessageSpec to_core(const MessageSpec& s) {
  return impl::MessageSpec{s.id, s.payload, s.priority, s.ttl_ns, s.delay_ns, s.max_retries};
}

Message to_model(const impl::Message& m) {
  return Message{m.id, std::string(m.payload_view()), m.timestamp_ns, m.priority, m.ttl_ns,
                 m.not_before_ns, m.attempts, m.max_retries};
}

Result<Effects> to_model_result(const Status& status, const impl::Effects& effects) {
  if (!status.ok()) return status;
  Effects out;
  bool duplicate = false;
  for (const auto& e : effects) {
    if (e.kind == impl::EffectKind::kTimer) continue;
    if (e.kind == impl::EffectKind::kDuplicate) {
      duplicate = true;
      continue;
    }
    out.push_back(Effect{to_model(e.kind), e.queue, e.consumer, to_model(e.message)});
  }
  if (duplicate) {
    MQ_CHECK_MSG(out.empty(), "a duplicate publish stores nothing");
    return already_exists("duplicate message id (idempotent publish: confirmed again, nothing stored)");
  }
  return out;
}

Status apply_to_core(impl::BrokerCore& core, const Op& op, TimeNs now, impl::Effects& out) {
  return std::visit(
      [&](const auto& o) -> Status {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, op::Send>) return core.send(now, o.producer, o.queue, to_core(o.spec), out);
        if constexpr (std::is_same_v<T, op::Publish>) return core.publish(now, o.producer, o.topic, to_core(o.spec), out);
        if constexpr (std::is_same_v<T, op::Dispatch>) return core.dispatch(now, o.queue, out);
        if constexpr (std::is_same_v<T, op::Fetch>) return core.fetch(now, o.consumer, out);
        if constexpr (std::is_same_v<T, op::Ack>) return core.ack(now, o.consumer, o.id, out);
        if constexpr (std::is_same_v<T, op::Nack>) return core.nack(now, o.consumer, o.id, o.requeue, out);
        if constexpr (std::is_same_v<T, op::Advance>) return core.tick(o.now_ns, out);
        if constexpr (std::is_same_v<T, op::Crash>) return core.crash(now, out);
        if constexpr (std::is_same_v<T, op::Recover>) return core.recover(now, out);
        if constexpr (std::is_same_v<T, op::Attach>) return core.attach(now, o.consumer, out);
        if constexpr (std::is_same_v<T, op::Detach>) return core.detach(now, o.consumer, out);
      },
      op);
}

}  // namespace mq::sim
