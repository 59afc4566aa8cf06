#pragma once
// Packet: what travels over the simulated network between the clients and the broker
// node. A request is what mqd's command set reads (impl/request.h), so that the shapes
// of requests are stated once, for the daemon and the simulator alike; replies carry
// only what the client acts on. A consumer's requests carry its session (incremented
// at every restart, and a connection of its own) so that the broker can tell a
// restarted consumer from a late packet of its previous life.

#include <cstdint>
#include <variant>
#include <vector>

#include "base/check.h"
#include "impl/request.h"
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

// A client's connection to the broker: a producer has one (session 0), a consumer one
// per session (a restarted consumer connects anew), so that what the broker hears of
// an old connection (its close) never touches the new. These three functions are the
// only place that arithmetic is written.
constexpr impl::ConnId connection(Endpoint e, uint64_t session) {
  return impl::ConnId{e} | (impl::ConnId{session} << 32);
}
constexpr Endpoint endpoint_of(impl::ConnId conn) { return static_cast<Endpoint>(conn & 0xffff'ffffu); }
constexpr uint64_t session_of(impl::ConnId conn) { return conn >> 32; }

// A client's request, on its connection: a producer's is a Publish; a consumer's
// ConsumerRef names the session its connection is for (Stats and Info name none).
struct Request {
  impl::ConnId conn = 0;
  impl::Request request;
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

struct AckReply {
  MessageId id = 0;
  bool ok = false;  // false: the message was not in flight at this consumer any more
};

struct FetchReply {
  uint64_t session = 0;           // the consumer session the broker answered
  std::vector<Message> messages;  // empty: none came in time
};

// A consumer's connection closed (its process died; clients.close_on_crash): the
// broker detaches that session at once instead of at its timeout.
struct Close {
  impl::ConnId conn = 0;
};

struct Push {
  uint64_t session = 0;  // the consumer session the broker delivered to
  Message message;
};

using Packet = std::variant<Request, PublishReply, AckReply, Push, FetchReply, Close>;

}  // namespace mq::sim
