#pragma once
// HistoryEvent and History: what can be observed of a message queue, one step per
// event, as in Jepsen. A client operation is an `invoke` followed by its completion
// by the same process (`ok`: it happened; `fail`: it certainly did not; `info`: the
// outcome is unknown); a step the broker takes on its own (expire, requeue, push
// delivery, ...) or a fault the nemesis injects (crash, recover) is one event of type
// `ok` with no invoke. The event types are part of the specification: sim/ writes
// them, properties/ judges them, docs/history-format.md documents them (version 1).
//
// Thread-safety: none; events and histories are values.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/enum_count.h"
#include "base/status.h"
#include "model/effect.h"
#include "model/message.h"

namespace mq {

// The version written in every line ("v"). A reader takes every version from
// kOldestHistoryFormatVersion on (docs/history-format.md says what each added) and
// refuses any other.
inline constexpr int kHistoryFormatVersion = 2;
inline constexpr int kOldestHistoryFormatVersion = 1;

// The processes that never invoke: steps of the broker and injected faults.
inline constexpr std::string_view kBrokerProcess = "broker";
inline constexpr std::string_view kNemesisProcess = "nemesis";

struct HistoryEvent;

enum class EventType : uint8_t { kInvoke, kOk, kFail, kInfo };

enum class EventF : uint8_t {
  kPublish,            // a message enters `queue` (client send, or broker: dead-letter arrival)
  kDeliver,            // a message given to `consumer` (client fetch, or broker push)
  kAck,                // finished: acknowledged (client, or broker under auto-ack)
  kNack,               // client: the consumer gives it back (`requeue` or dead-letter)
  kRequeue,            // broker: a failed delivery is ready again
  kRelease,            // broker: a delayed message became deliverable
  kExpire,             // broker: finished, TTL passed
  kDeadLetter,         // broker: finished in `queue` (out of retries, or nack without requeue)
  kDeadLetterRefused,  // broker: the dead-letter queue would not take it; it is gone
  kLost,               // broker: finished, held by a non-durable queue at a crash
  kCrash,              // nemesis: the broker stops
  kRecover,            // nemesis: the broker restarts
  kAttach,             // client: a consumer connects
  kDetach,             // client: a consumer disconnects
  // Nemesis events added after version 1's first release (additive: files without
  // them read as before). They record faults; the checkers ignore them, except where
  // noted in docs/history-format.md. `node` names the client a fault is about.
  kPartition,           // `node` is cut off from the broker (both ways)
  kPartitionEnd,        // `node` is reachable again
  kClog,                // `node`'s packets are held (delayed, not lost)
  kClogEnd,             // ... until now
  kConsumerCrash,       // consumer `node` stops; it loses what it holds (its detach follows later)
  kConsumerRestart,     // consumer `node` starts a new session
  kTornWrite,           // the broker's crash tore the log write in flight
  kBitFlip,             // a bit of a synced log record flipped at rest
  kUnsyncedLost,        // the broker's crash lost log writes not yet synced (never confirmed)
  kDiskFull,            // the broker's disk is full: appends fail (ENOSPC)
  kDiskSpace,           // the disk has space again
  kCorruptionDetected,  // recovery found a corrupt log (CRC); `error` says where. The run stops.
  // Version 2.
  kRecoveryFailed,  // recovery failed, and no injected fault explains it (`error`: why). The run stops.
  kDrop,            // broker: finished, dropped by a drop-oldest queue to make room for a new message
};

// Who may write an event of each f (docs/history-format.md): a client (invoke and
// completion), the broker on its own, the nemesis. A column of f's row (event_f_rules,
// below), so a new f does not build until this is decided for it.
struct EventFRoles {
  bool client = false;
  bool broker = false;
  bool nemesis = false;
};
EventFRoles event_f_roles(EventF f);
// Whether f is one of the nemesis's fault events other than crash and recover.
bool is_fault_f(EventF f);

// The consumer operation a client's event of f reads back as (HistoryRecorder's
// consumer_op_of): none for every f a consumer does not invoke. A column of f's row,
// so that a new f (a fault, say) is decided there and nowhere else.
enum class ConsumerOpKind : uint8_t { kNone, kFetch, kAck, kNack, kAttach, kDetach };
ConsumerOpKind event_f_consumer_op(EventF f);

// What a nemesis event of f says about recovery (RecoveryChecker): a restart, a fault
// that explains a corrupt log (a flipped bit), recovery's own verdicts, or nothing.
// The same row.
enum class RecoveryRole : uint8_t { kNone, kRestart, kExplainsCorruption, kCorruptionDetected, kFailed };
RecoveryRole event_f_recovery_role(EventF f);

// How an event of f shows on a timeline (the report's): a fault at one instant (a torn
// write), the edge of a window that a later event of the same window closes (from
// "partition" to "partition-end", per node), or neither. The same row.
struct FaultSpan {
  const char* label = nullptr;  // the instant's or the window's name; null: neither
  bool instant = false;
  bool opens = false;  // a window's edge: opens it, else closes it
};
FaultSpan event_f_span(EventF f);

// Whether an event of f carries a message id: never, always, or when it is ok (a
// fetch that found nothing names no message).
enum class IdRule : uint8_t { kNever, kAlways, kWhenOk };

// Everything the format says about an f: its name in the history format, who writes
// it and the fields it needs, and what the recorder, the recovery checker and the
// report read off it. One row per f, in one exhaustive switch: a new f does not build
// until its row is written, and this row is all a new f needs in model/.
struct EventFRules {
  const char* name = nullptr;  // null: not an enumerator
  EventFRoles roles;
  bool node = false;      // names the client a fault is about
  bool consumer = false;  // names a consumer
  IdRule id = IdRule::kNever;
  ConsumerOpKind consumer_op = ConsumerOpKind::kNone;
  RecoveryRole recovery = RecoveryRole::kNone;
  FaultSpan span{};
};

// clang-format off: one row per f
constexpr EventFRules event_f_rules(EventF f) {
  using C = ConsumerOpKind;
  using R = RecoveryRole;
  constexpr IdRule kNo = IdRule::kNever;
  constexpr EventFRoles kClient{true, false, false}, kClientOrBroker{true, true, false};
  constexpr EventFRoles kBroker{false, true, false}, kNemesis{false, false, true};
  constexpr auto fault_instant = [](const char* label) { return FaultSpan{label, true, false}; };
  constexpr auto fault_opens = [](const char* window) { return FaultSpan{window, false, true}; };
  constexpr auto fault_closes = [](const char* window) { return FaultSpan{window, false, false}; };
  switch (f) {
    case EventF::kPublish: return {.name = "publish", .roles = kClientOrBroker, .id = IdRule::kAlways};
    case EventF::kDeliver: return {.name = "deliver", .roles = kClientOrBroker, .consumer = true, .id = IdRule::kWhenOk, .consumer_op = C::kFetch};
    case EventF::kAck: return {.name = "ack", .roles = kClientOrBroker, .consumer = true, .id = IdRule::kAlways, .consumer_op = C::kAck};
    case EventF::kNack: return {.name = "nack", .roles = kClient, .consumer = true, .id = IdRule::kAlways, .consumer_op = C::kNack};
    case EventF::kAttach: return {.name = "attach", .roles = kClient, .consumer = true, .id = kNo, .consumer_op = C::kAttach};
    case EventF::kDetach: return {.name = "detach", .roles = kClient, .consumer = true, .id = kNo, .consumer_op = C::kDetach};
    case EventF::kRequeue: return {.name = "requeue", .roles = kBroker, .id = IdRule::kAlways};
    case EventF::kRelease: return {.name = "release", .roles = kBroker, .id = IdRule::kAlways};
    case EventF::kExpire: return {.name = "expire", .roles = kBroker, .id = IdRule::kAlways};
    case EventF::kDeadLetter: return {.name = "dead-letter", .roles = kBroker, .id = IdRule::kAlways};
    case EventF::kDeadLetterRefused: return {.name = "dead-letter-refused", .roles = kBroker, .id = IdRule::kAlways};
    case EventF::kLost: return {.name = "lost", .roles = kBroker, .id = IdRule::kAlways};
    case EventF::kDrop: return {.name = "drop", .roles = kBroker, .id = IdRule::kAlways};
    case EventF::kCrash: return {.name = "crash", .roles = kNemesis, .id = kNo, .span = fault_opens("broker down")};
    case EventF::kRecover: return {.name = "recover", .roles = kNemesis, .id = kNo, .recovery = R::kRestart, .span = fault_closes("broker down")};
    case EventF::kTornWrite: return {.name = "torn-write", .roles = kNemesis, .id = kNo, .span = fault_instant("torn write")};
    case EventF::kBitFlip: return {.name = "bit-flip", .roles = kNemesis, .id = kNo, .recovery = R::kExplainsCorruption, .span = fault_instant("bit flip")};
    case EventF::kUnsyncedLost: return {.name = "unsynced-lost", .roles = kNemesis, .id = kNo, .span = fault_instant("unsynced lost")};
    case EventF::kDiskFull: return {.name = "disk-full", .roles = kNemesis, .id = kNo, .span = fault_opens("disk full")};
    case EventF::kDiskSpace: return {.name = "disk-space", .roles = kNemesis, .id = kNo, .span = fault_closes("disk full")};
    case EventF::kCorruptionDetected: return {.name = "corruption-detected", .roles = kNemesis, .id = kNo, .recovery = R::kCorruptionDetected, .span = fault_instant("corruption detected")};
    case EventF::kRecoveryFailed: return {.name = "recovery-failed", .roles = kNemesis, .id = kNo, .recovery = R::kFailed};
    case EventF::kPartition: return {.name = "partition", .roles = kNemesis, .node = true, .id = kNo, .span = fault_opens("partition")};
    case EventF::kPartitionEnd: return {.name = "partition-end", .roles = kNemesis, .node = true, .id = kNo, .span = fault_closes("partition")};
    case EventF::kClog: return {.name = "clog", .roles = kNemesis, .node = true, .id = kNo, .span = fault_opens("clog")};
    case EventF::kClogEnd: return {.name = "clog-end", .roles = kNemesis, .node = true, .id = kNo, .span = fault_closes("clog")};
    case EventF::kConsumerCrash: return {.name = "consumer-crash", .roles = kNemesis, .node = true, .id = kNo, .span = fault_opens("consumer down")};
    case EventF::kConsumerRestart: return {.name = "consumer-restart", .roles = kNemesis, .node = true, .id = kNo, .span = fault_closes("consumer down")};
  }
  return {};  // not an enumerator
}
// clang-format on

// The name of each f in the history format; kEventFCount is counted from it
// (base/enum_count.h).
constexpr const char* event_f_name(EventF f) { return event_f_rules(f).name; }
inline constexpr int kEventFCount = enum_count<EventF>(event_f_name);

// The history f that shows a broker step's effect on its own (a dead-letter arrival
// is a broker publish, a push a broker deliver, an auto-ack a broker ack). None for
// kRefused: only a client's failed publish shows a refusal. The one mapping between
// the model's effects and history events; effect_of_f is its inverse.
constexpr std::optional<EventF> event_f_of(EffectKind kind) {
  switch (kind) {
    case EffectKind::kAccepted: return EventF::kPublish;
    case EffectKind::kRefused: return std::nullopt;
    case EffectKind::kReleased: return EventF::kRelease;
    case EffectKind::kDelivered: return EventF::kDeliver;
    case EffectKind::kAcked: return EventF::kAck;
    case EffectKind::kRequeued: return EventF::kRequeue;
    case EffectKind::kDeadLettered: return EventF::kDeadLetter;
    case EffectKind::kDeadLetterRefused: return EventF::kDeadLetterRefused;
    case EffectKind::kExpired: return EventF::kExpire;
    case EffectKind::kLost: return EventF::kLost;
    case EffectKind::kDropped: return EventF::kDrop;
  }
  return std::nullopt;  // not an enumerator
}
std::optional<EffectKind> effect_of_f(EventF f);

// Whether the event ends its message's life in its queue: an ok event showing an
// effect that finishes_message() (model/effect.h).
bool finishes_message(const HistoryEvent& e);
// Whether a failed publish was refused as malformed (a priority above the queue's
// levels, a negative TTL or delay): its error is the refusing Status's text, which
// starts with code_name(Code::kInvalidArgument) (Status::to_string).
bool refused_as_malformed(const HistoryEvent& e);

const char* event_type_name(EventType type);
std::optional<EventType> parse_event_type(std::string_view name);
std::optional<EventF> parse_event_f(std::string_view name);

// The error a refused publish carries when the queue was full (Def. 2.3). Other
// failures carry other text (the Status of the model, a broker's error string).
inline constexpr std::string_view kErrorFull = "full";
// The error of a fetch that found nothing to take.
inline constexpr std::string_view kErrorEmpty = "empty";

// One observable step. Absent optional fields are absent in the JSON line too, so
// that write(read(x)) == x. Which fields an event must carry depends on f and type;
// check_event_shape() states it and the reader enforces it.
struct HistoryEvent {
  uint64_t index = 0;  // 0-based position in its history
  uint64_t line = 0;   // 1-based line in its file; 0 if built in memory
  std::string process;  // "p0", "c1", a Jepsen integer as text, "broker", "nemesis"
  EventType type = EventType::kOk;
  EventF f = EventF::kPublish;
  TimeNs time_ns = 0;  // virtual ns; never decreases along a history

  std::string queue;     // empty for crash and recover
  std::string consumer;  // deliver, ack, nack, requeue (who held it), attach, detach
  std::string error;     // why a fail or info happened: kErrorFull, kErrorEmpty, ...
  std::string node;      // fault events: the client the fault is about
  // A topic publish (version 2): each of its per-queue publish events names the
  // topic and every queue bound to it when it was published, so that a checker sees
  // a bound queue the publish never reached.
  std::string topic;
  std::vector<std::string> bound;

  // The message, as the event knows it.
  std::optional<MessageId> id;
  std::optional<std::string> payload;
  std::optional<Priority> priority;
  std::optional<TimeNs> ttl_ns;         // 0: never expires
  std::optional<TimeNs> delay_ns;       // what the producer asked for
  std::optional<uint32_t> max_retries;  // publish: the message's own retry budget (absent: unknown)
  std::optional<TimeNs> timestamp_ns;   // acceptance time, stamped by the broker
  std::optional<TimeNs> not_before_ns;  // stamped by the broker
  std::optional<uint32_t> attempts;     // deliveries so far, this one included
  std::optional<bool> requeue;          // nack: requeue (true) or dead-letter (false)

  bool is_client() const { return process != kBrokerProcess && process != kNemesisProcess; }

  friend bool operator==(const HistoryEvent&, const HistoryEvent&) = default;
};

struct History {
  std::string source;  // file name, or a label for an in-memory history
  std::vector<HistoryEvent> events;

  friend bool operator==(const History&, const History&) = default;
};

// "line 12" for an event read from a file, else "event #11".
std::string where(const HistoryEvent& e);
// One line for a person: "line 12 c0 ok deliver queue=orders id=7 attempts=1 ...".
std::string to_string(const HistoryEvent& e);

// The fields an event of its f and type must carry, and the values they may take.
// Errors name the field: "field 'id': required for publish". Rules:
//  - client events (any process but broker and nemesis) carry every type; broker
//    events are publish, deliver, ack, requeue, release, expire, dead-letter,
//    dead-letter-refused, lost; nemesis events are crash and recover; both only ok;
//  - every f but crash and recover needs `queue`; deliver, ack, nack, attach and
//    detach need `consumer`;
//  - publish needs id and payload; a completed deliver (ok) needs id, payload and
//    attempts >= 1; ack, nack and the broker's message events need id; nack needs
//    requeue; times and durations are >= 0.
Status check_event_shape(const HistoryEvent& e);

// Checks a history event by event, as a reader does: each event's shape, indices
// 0, 1, 2, ..., time never decreasing, and invocations paired: a process completes
// only what it invoked (same f), invokes again only after its completion, and
// never completes without an invoke. An invoke left open at the end is allowed (its
// outcome is unknown, as with `info`).
class HistoryValidator {
 public:
  // Takes the next event of the history. Errors name the event (where()) and the
  // field; after an error the validator must not be fed further.
  Status add(const HistoryEvent& e);

 private:
  struct Open {
    EventF f;
    std::string at;  // where() of the invoke
  };
  uint64_t next_index_ = 0;
  std::optional<TimeNs> last_time_ns_;
  std::map<std::string, Open> open_;  // process -> its invoke in progress
};

Status validate_history(const History& history);

}  // namespace mq
