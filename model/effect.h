#pragma once
// Effect: one observable consequence of an operation on the model. Every operation
// returns the list of its effects in the order they happened; histories, the
// properties and the comparison with the broker are all written over effects.

#include <cstdint>
#include <string>
#include <vector>

#include "model/message.h"

namespace mq {

enum class EffectKind : uint8_t {
  kAccepted,           // the queue took the message (send, publish, dead-letter arrival)
  kRefused,            // the queue was full: the producer is told, nothing is stored
  kReleased,           // a delayed message became deliverable
  kDelivered,          // given to `consumer`; message.attempts counts this delivery
  kAcked,              // finished: acknowledged (manually, or at delivery under auto-ack)
  kRequeued,           // a failed delivery put back to ready
  kDeadLettered,       // finished here; see the kAccepted or kDeadLetterRefused that follows
  kDeadLetterRefused,  // the dead-letter queue was full or had the id: nowhere to go
  kExpired,            // finished: TTL passed
  kLost,               // finished: held by a non-durable queue at a crash
  kDropped,            // finished: a drop-oldest queue dropped it to make room (Overflow)
};
const char* effect_kind_name(EffectKind kind);

// Whether the effect ends the message's life in its queue: the id is done there
// (docs/properties.md, no-loss). The one statement of it: the simulator, the
// checkers and the model's properties all ask here.
constexpr bool finishes_message(EffectKind kind) {
  switch (kind) {
    case EffectKind::kAcked:
    case EffectKind::kDeadLettered:
    case EffectKind::kExpired:
    case EffectKind::kLost:
    case EffectKind::kDropped:
      return true;
    case EffectKind::kAccepted:
    case EffectKind::kRefused:
    case EffectKind::kReleased:
    case EffectKind::kDelivered:
    case EffectKind::kRequeued:
    case EffectKind::kDeadLetterRefused:
      return false;
  }
  return false;  // not an enumerator
}

// What an effect does to the FIFO property's order (docs/properties.md, Thm. 2:
// within a queue and a priority level, messages are first delivered in the order
// they became ready). The one statement of it: the model's properties and the
// explorer's packed space both switch over the role, not over every effect.
enum class ReadyOrderRole : uint8_t {
  kArrives,        // accepted: ready now, unless delayed (its kReleased makes it ready)
  kBecomesReady,   // released from its delay
  kDelivered,      // a first attempt must be the oldest never delivered; it leaves the order
  kLeaves,         // finished without a delivery to come (expired, lost, dropped)
  kNone,           // delivered before, or never ready: not in the order
};
constexpr ReadyOrderRole ready_order_role(EffectKind kind) {
  switch (kind) {
    case EffectKind::kAccepted: return ReadyOrderRole::kArrives;
    case EffectKind::kReleased: return ReadyOrderRole::kBecomesReady;
    case EffectKind::kDelivered: return ReadyOrderRole::kDelivered;
    case EffectKind::kExpired:
    case EffectKind::kLost:
    case EffectKind::kDropped:
      return ReadyOrderRole::kLeaves;
    case EffectKind::kRefused:
    case EffectKind::kAcked:
    case EffectKind::kRequeued:
    case EffectKind::kDeadLettered:
    case EffectKind::kDeadLetterRefused:
      return ReadyOrderRole::kNone;
  }
  return ReadyOrderRole::kNone;  // not an enumerator
}

struct Effect {
  EffectKind kind = EffectKind::kAccepted;
  QueueId queue = 0;
  ConsumerId consumer = kNoConsumer;  // for kDelivered, kAcked, kRequeued after a delivery
  Message message;                    // the message as it is after the effect

  friend bool operator==(const Effect&, const Effect&) = default;
};

using Effects = std::vector<Effect>;

std::string to_string(const Effect& e);

}  // namespace mq
