#pragma once
// Request and Response: what clients ask the server shell (impl/server_shell.h) and
// what it answers, in impl's own types. A driver turns its transport into these: the
// daemon parses RESP (impl/resp.h), the simulator takes packets off its network.
//
// Connections and sessions. Every request comes from a connection (ConnId, chosen by
// the driver) and every response goes to one. A consumer's requests name a session;
// the newest session that names a consumer holds it: a request of a newer session
// takes the consumer over (the older session's unacked deliveries come back), a
// request of an older one is answered with an error and does nothing. The simulator's
// consumers number their sessions (a restart is a new session); the daemon uses the
// connection's id, so the newest connection that names a consumer holds it.
//
// Delivery modes. A push session gets every delivery as a Push response the moment
// it is released. A pull session gets its deliveries into an outbox (bounded by the
// consumer's prefetch credit, as the core delivers at most that many unacked) and
// takes them with Fetch, which may block up to a timeout.
//
// Thread-safety: values.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "impl/message.h"
#include "impl/queue_stats.h"

namespace mq::impl {

using ConnId = uint64_t;
using SessionId = uint64_t;

enum class SessionMode : uint8_t { kPush, kPull };

// The consumer a request speaks for, and as which session.
struct ConsumerRef {
  ConsumerId consumer = 0;
  SessionId session = 0;
  SessionMode mode = SessionMode::kPull;
};

namespace req {
struct Publish {
  ProducerId producer = 0;
  bool topic = false;
  uint32_t target = 0;  // QueueId, or TopicId when `topic`
  MessageSpec spec;
  friend bool operator==(const Publish&, const Publish&) = default;
};
// Attaches (or keeps alive) a consumer's session.
struct Hello {
  ConsumerRef who;
};
// Push session: the core pulls one message for the consumer (it arrives as a Push).
// Pull session: up to `max` deliveries from the outbox; with none there, waits up
// to block_ns (0: answers at once) for one.
struct Fetch {
  ConsumerRef who;
  uint32_t max = 1;
  TimeNs block_ns = 0;
};
// Ack, or nack (requeue, or dead-letter now).
struct Settle {
  ConsumerRef who;
  MessageId id = 0;
  bool nack = false;
  bool requeue = true;
};
struct Stats {
  QueueId queue = 0;
};
struct Info {};
// A response the driver's protocol layer made itself (PING, a syntax error, ...):
// the shell only keeps it in order with the connection's other responses.
struct Inline {
  std::string text;
};
}  // namespace req

using Request = std::variant<req::Publish, req::Hello, req::Fetch, req::Settle, req::Stats, req::Info, req::Inline>;

enum class PublishOutcome : uint8_t {
  kStored,     // accepted (for a durable queue: its record is synced)
  kDuplicate,  // the id was accepted before (idempotent publish): nothing stored
  kFull,       // not stored: the queue was full (a topic: every bound queue was)
  kRefused,    // not stored: the command was invalid (`reason` says why)
  kNoSpace,    // not stored: the broker stopped on a failed write (disk full)
};
const char* publish_outcome_name(PublishOutcome o);

struct QueueOutcome {
  QueueId queue = 0;
  PublishOutcome outcome = PublishOutcome::kStored;
};

struct Delivery {
  ConsumerId consumer = kNoConsumer;
  QueueId queue = 0;
  Message message;  // attempts >= 2 marks a redelivery
};

namespace resp {
struct Published {
  MessageId id = 0;
  bool topic = false;  // answers a topic publish
  PublishOutcome outcome = PublishOutcome::kStored;
  std::vector<QueueOutcome> queues;  // per queue reached, in binding order
  std::string reason;                // kRefused: the core's error
};
struct Settled {
  MessageId id = 0;
  bool ok = false;
  std::string reason;  // !ok: why (not in flight at this consumer any more, ...)
};
struct Attached {
  ConsumerId consumer = 0;
  SessionId session = 0;
};
struct Fetched {  // a pull session's answer to Fetch (empty: none came in time)
  std::vector<Delivery> deliveries;
};
struct Push {  // unsolicited, to a push session
  SessionId session = 0;
  Delivery delivery;
};
struct Stats {
  QueueStats stats;
};
struct Info {
  std::string text;  // "key:value" lines, as Redis's INFO
};
struct Inline {
  std::string text;
};
struct Error {
  Code code = Code::kInvalidArgument;
  std::string message;
};
}  // namespace resp

using Response = std::variant<resp::Published, resp::Settled, resp::Attached, resp::Fetched, resp::Push,
                              resp::Stats, resp::Info, resp::Inline, resp::Error>;

}  // namespace mq::impl
