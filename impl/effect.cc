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


}  // namespace mq::impl
