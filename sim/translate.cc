#include "sim/translate.h"

#include <variant>

#include "base/overloaded.h"

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
    case impl::EffectKind::kDropped:
      return EffectKind::kDropped;
    case impl::EffectKind::kDuplicate:
    case impl::EffectKind::kTimer: break;
  }
  MQ_CHECK_MSG(false, "core effect kind without a model counterpart");
  return EffectKind::kAccepted;
}

}  // namespace

impl::BrokerConfig to_broker_config(const Topology& t) {
  // A queue without a count bound: larger than any workload the scenario reader
  // accepts (10^7 messages), so that it never forgets an id by count.
  constexpr uint32_t kUnboundedWindowIds = 1u << 24;
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
    o.overflow = q.overflow == Overflow::kDropOldest ? impl::OverflowPolicy::kDropOldest
                                                     : impl::OverflowPolicy::kRejectPublish;
    o.dedup_window_ids = q.dedup_window_ids > 0 ? q.dedup_window_ids : kUnboundedWindowIds;
    o.dedup_window_ns = q.dedup_window_ns;
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

MessageSpec to_model(const impl::MessageSpec& s) {
  return MessageSpec{s.id, s.payload, s.priority, s.ttl_ns, s.delay_ns, s.max_retries};
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

impl::Command to_core(const Op& op) {
  return std::visit(
      Overloaded{
          [](const op::Send& o) -> impl::Command { return impl::cmd::Send{o.producer, o.queue, to_core(o.spec)}; },
          [](const op::Publish& o) -> impl::Command {
            return impl::cmd::Publish{o.producer, o.topic, to_core(o.spec)};
          },
          [](const op::Dispatch& o) -> impl::Command { return impl::cmd::Dispatch{o.queue}; },
          [](const op::Fetch& o) -> impl::Command { return impl::cmd::Fetch{o.consumer}; },
          [](const op::Ack& o) -> impl::Command { return impl::cmd::Ack{o.consumer, o.id}; },
          [](const op::Nack& o) -> impl::Command { return impl::cmd::Nack{o.consumer, o.id, o.requeue}; },
          [](const op::Advance&) -> impl::Command { return impl::cmd::Tick{}; },
          [](const op::Crash&) -> impl::Command { return impl::cmd::Crash{}; },
          [](const op::Recover&) -> impl::Command { return impl::cmd::Recover{}; },
          [](const op::Attach& o) -> impl::Command { return impl::cmd::Attach{o.consumer}; },
          [](const op::Detach& o) -> impl::Command { return impl::cmd::Detach{o.consumer}; },
      },
      op);
}

Op to_model(const impl::Command& c, TimeNs at_ns) {
  return std::visit(
      Overloaded{
          [](const impl::cmd::Send& o) -> Op { return op::Send{o.producer, o.queue, to_model(o.spec)}; },
          [](const impl::cmd::Publish& o) -> Op { return op::Publish{o.producer, o.topic, to_model(o.spec)}; },
          [](const impl::cmd::Dispatch& o) -> Op { return op::Dispatch{o.queue}; },
          [](const impl::cmd::Fetch& o) -> Op { return op::Fetch{o.consumer}; },
          [](const impl::cmd::Ack& o) -> Op { return op::Ack{o.consumer, o.id}; },
          [](const impl::cmd::Nack& o) -> Op { return op::Nack{o.consumer, o.id, o.requeue}; },
          [&](const impl::cmd::Tick&) -> Op { return op::Advance{at_ns}; },
          [](const impl::cmd::Crash&) -> Op { return op::Crash{}; },
          [](const impl::cmd::Recover&) -> Op { return op::Recover{}; },
          [](const impl::cmd::Attach& o) -> Op { return op::Attach{o.consumer}; },
          [](const impl::cmd::Detach& o) -> Op { return op::Detach{o.consumer}; },
      },
      c);
}

Status apply_to_core(impl::BrokerCore& core, const Op& op, TimeNs now, impl::Effects& out) {
  const auto* advance = std::get_if<op::Advance>(&op);
  return impl::run(core, advance ? advance->now_ns : now, to_core(op), out);
}

}  // namespace mq::sim
