#pragma once
// Effect: one consequence of a command given to BrokerCore, for the shell to carry
// out or report: confirm or refuse a publish (with the reason), hand a message to a
// consumer, arm the timer. Effects come in the order they happened. The kinds from
// kAccepted to kLost mean what the model's EffectKind of the same name means; the
// others exist only in the broker (idempotent publish, drop-oldest, timers).

#include <cstdint>
#include <string>
#include <vector>

#include "impl/message.h"

namespace mq::impl {

enum class EffectKind : uint8_t {
  kAccepted,           // the queue took the message: confirm to the producer
  kDuplicate,          // the id was accepted before (idempotency window): confirm again, nothing stored
  kRefused,            // not stored; `reason` says why (queue full)
  kDropped,            // drop-oldest overflow removed this message to make room
  kReleased,           // a delayed message became deliverable
  kDelivered,          // hand the message to `consumer`; attempts counts this delivery
  kAcked,              // finished: acknowledged (by the consumer, or at delivery under auto-ack)
  kRequeued,           // a failed delivery went back to ready
  kDeadLettered,       // finished here; a kAccepted or kDeadLetterRefused follows
  kDeadLetterRefused,  // the dead-letter queue was full or already had the id
  kExpired,            // finished: TTL passed while not in flight
  kLost,               // finished: held by a non-durable queue when the broker crashed
  kTimer,              // the earliest pending deadline changed: call tick() at deadline_ns
};
const char* effect_kind_name(EffectKind kind);

enum class Reason : uint8_t {
  kNone,
  kQueueFull,    // kRefused, kDeadLetterRefused
  kDuplicateId,  // kDeadLetterRefused: the dead-letter queue already had the id
};

inline constexpr TimeNs kNoDeadline = INT64_MAX;

struct Effect {
  EffectKind kind = EffectKind::kAccepted;
  QueueId queue = 0;
  ConsumerId consumer = kNoConsumer;  // kDelivered, kAcked; the first effect of a failed delivery
  Reason reason = Reason::kNone;
  TimeNs deadline_ns = kNoDeadline;   // kTimer only; kNoDeadline: nothing pending
  Message message;                    // the message as it is after the effect (not for kTimer)
  // A storage record: the effect changed what a durable queue holds (accepted,
  // released, delivered, requeued, or finished it), so the shell must append its
  // record to the write-ahead log (impl/wal.h) and sync it before it confirms the
  // command to anyone (a durable publish is confirmed only after that sync).
  bool persist = false;
  TimeNs time_ns = 0;  // the core's time when it happened (an advance visits several)
};

using Effects = std::vector<Effect>;

}  // namespace mq::impl
