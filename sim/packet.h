#pragma once
// Packet: what travels over the simulated network between the clients and the broker
// node. Requests carry what the broker needs to run the command; replies carry only
// what the client acts on. A consumer's requests carry its session (incremented at
// every restart) so that the broker can tell a restarted consumer from a late packet
// of its previous life.

#include <cstdint>
#include <variant>
#include <vector>

#include "base/check.h"
#include "model/message.h"

namespace mq::sim {

// Network addresses: 0 is the broker, then the producers, then the consumers. The
// two functions below are the only place that arithmetic is written.
using Endpoint = uint32_t;
inline constexpr Endpoint kBrokerEndpoint = 0;
constexpr Endpoint producer_endpoint(ProducerId p) { return 1 + p; }
constexpr Endpoint consumer_endpoint(size_t producers, ConsumerId c) {
  return static_cast<Endpoint>(1 + producers + c);
}
// Every client endpoint is in 1 .. client_endpoints(producers, consumers).
constexpr Endpoint client_endpoints(size_t producers, size_t consumers) {
  return static_cast<Endpoint>(producers + consumers);
}
// The inverse: which client a client endpoint is. REQUIRES: e >= 1.
struct ClientAt {
  bool producer = false;  // else a consumer
  uint32_t index = 0;     // its ProducerId or ConsumerId
};
constexpr ClientAt client_at(size_t producers, Endpoint e) {
  MQ_CHECK(e >= 1);
  return e <= producers ? ClientAt{true, e - 1} : ClientAt{false, static_cast<uint32_t>(e - 1 - producers)};
}

struct PublishRequest {
  ProducerId producer = 0;
  bool topic = false;
  uint32_t target = 0;  // QueueId or TopicId
  MessageSpec spec;
  uint32_t attempt = 1;  // 1 for the first send; resends keep the id
};

enum class PublishOutcome : uint8_t {
  kAccepted,   // stored by every target queue
  kDuplicate,  // the id was accepted before: stored once, confirmed again
  kFull,       // refused by a full queue: the producer backs off and resends
  kError,      // any other error: the producer gives the message up
  kNoSpace,    // the broker's disk is full: nothing stored; the producer backs off and resends
};

struct PublishReply {
  MessageId id = 0;
  PublishOutcome outcome = PublishOutcome::kAccepted;
};

struct AckRequest {
  ConsumerId consumer = 0;
  uint64_t session = 0;
  MessageId id = 0;
  bool nack = false;
  bool requeue = true;  // nack only
};

struct AckReply {
  MessageId id = 0;
  bool ok = false;  // false: the message was not in flight at this consumer any more
};

// A consumer's heartbeat; a new session, or a consumer the broker detached, attaches.
struct Hello {
  ConsumerId consumer = 0;
  uint64_t session = 0;
};

// A consumer pulls. A push session's fetch asks for one message, which comes back as
// a Push. A pull session's (clients.pull_consumers) takes up to `max` deliveries
// waiting for it, waiting up to block_ns for one (0: answered at once): a FetchReply.
struct FetchRequest {
  ConsumerId consumer = 0;
  uint64_t session = 0;
  uint32_t max = 1;
  TimeNs block_ns = 0;
};

struct FetchReply {
  uint64_t session = 0;           // the consumer session the broker answered
  std::vector<Message> messages;  // empty: none came in time
};

// A consumer's connection closed (its process died; clients.close_on_crash): the
// broker detaches that session at once instead of at its timeout.
struct Close {
  ConsumerId consumer = 0;
  uint64_t session = 0;
};

// A consumer asks for its queue's statistics (STATS) or the broker's INFO; the answer
// is for people, so the broker's reply is not sent back over the network.
struct StatsRequest {
  ConsumerId consumer = 0;
  uint64_t session = 0;
  bool info = false;
};

struct Push {
  uint64_t session = 0;  // the consumer session the broker delivered to
  Message message;
};

using Packet = std::variant<PublishRequest, PublishReply, AckRequest, AckReply, Hello, Push, FetchRequest,
                            FetchReply, Close, StatsRequest>;

}  // namespace mq::sim
