#include "impl/effect.h"

namespace mq::impl {

const char* effect_kind_name(EffectKind kind) {
  switch (kind) {
    case EffectKind::kAccepted: return "accepted";
    case EffectKind::kDuplicate: return "duplicate";
    case EffectKind::kRefused: return "refused";
    case EffectKind::kDropped: return "dropped";
    case EffectKind::kReleased: return "released";
    case EffectKind::kDelivered: return "delivered";
    case EffectKind::kAcked: return "acked";
    case EffectKind::kRequeued: return "requeued";
    case EffectKind::kDeadLettered: return "dead-lettered";
    case EffectKind::kDeadLetterRefused: return "dead-letter-refused";
    case EffectKind::kExpired: return "expired";
    case EffectKind::kLost: return "lost";
    case EffectKind::kTimer: return "timer";
  }
  return "?";
}

std::string to_string(const Effect& e) {
  std::string s = effect_kind_name(e.kind);
  if (e.kind == EffectKind::kTimer) {
    return s + (e.deadline_ns == kNoDeadline ? " none" : " at " + std::to_string(e.deadline_ns));
  }
  s += " q" + std::to_string(e.queue);
  if (e.consumer != kNoConsumer) s += " c" + std::to_string(e.consumer);
  if (e.reason == Reason::kQueueFull) s += " (queue full)";
  if (e.reason == Reason::kDuplicateId) s += " (duplicate id)";
  const Message& m = e.message;
  s += " #" + std::to_string(m.id) + "{p" + std::to_string(m.priority) + " ts=" +
       std::to_string(m.timestamp_ns);
  if (m.ttl_ns > 0) s += " ttl=" + std::to_string(m.ttl_ns);
  if (m.not_before_ns > m.timestamp_ns) s += " nb=" + std::to_string(m.not_before_ns);
  s += " att=" + std::to_string(m.attempts) + "/" + std::to_string(1 + uint64_t{m.max_retries}) +
       " '" + std::string(m.payload_view()) + "'}";
  return s;
}

}  // namespace mq::impl
