#pragma once
// The broker core's message: the same fields as the model's Message (the seed's
// m = (id, payload, timestamp, priority, ttl) plus not-before, attempts and retry
// budget), in impl's own types. impl/ depends on nothing of ours but base/, so the
// simulator translates between these and the model's history events.
//
// The payload is immutable and shared: a topic fan-out, a dead-letter copy and
// every effect that names the message point at one buffer instead of copying it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mq::impl {

using TimeNs = int64_t;  // the caller's clock, in nanoseconds; the core never reads one
using MessageId = uint64_t;
using QueueId = uint32_t;     // index into BrokerConfig::queues
using ConsumerId = uint32_t;  // index into BrokerConfig::consumers
using ProducerId = uint32_t;  // index into BrokerConfig::producers
using TopicId = uint32_t;     // index into BrokerConfig::topics
using Priority = uint8_t;     // 0 is the lowest; a higher priority is delivered first
using Payload = std::shared_ptr<const std::string>;

inline constexpr ConsumerId kNoConsumer = UINT32_MAX;

// What a producer sends. The core stamps the rest.
struct MessageSpec {
  MessageId id = 0;
  std::string payload;
  Priority priority = 0;
  TimeNs ttl_ns = 0;    // 0: never expires; else expires at acceptance + ttl_ns
  TimeNs delay_ns = 0;  // 0: deliverable at once; else not before acceptance + delay_ns
  std::optional<uint32_t> max_retries;  // unset: the queue's default
  friend bool operator==(const MessageSpec&, const MessageSpec&) = default;
};

struct Message {
  MessageId id = 0;
  Payload payload;           // null only in a kDuplicate effect (nothing was stored)
  TimeNs timestamp_ns = 0;   // acceptance time
  Priority priority = 0;
  TimeNs ttl_ns = 0;         // 0: never expires
  TimeNs not_before_ns = 0;  // deliverable when now >= not_before_ns
  uint32_t attempts = 0;     // deliveries so far; a redelivery has attempts >= 2
  uint32_t max_retries = 0;  // deliveries allowed = 1 + max_retries

  std::string_view payload_view() const {
    return payload ? std::string_view(*payload) : std::string_view();
  }
  // With ttl_ns > 0: live while now < this, expired from then on (as in the model;
  // the core's expired() in broker_core.cc is the one test of it).
  TimeNs expires_at_ns() const { return timestamp_ns + ttl_ns; }
  bool deliverable_at(TimeNs now_ns) const { return now_ns >= not_before_ns; }
  bool retries_left() const { return attempts <= max_retries; }
  // Equal content: the payloads' bytes, not which buffer holds them.
  bool operator==(const Message& o) const {
    return id == o.id && payload_view() == o.payload_view() && timestamp_ns == o.timestamp_ns &&
           priority == o.priority && ttl_ns == o.ttl_ns && not_before_ns == o.not_before_ns &&
           attempts == o.attempts && max_retries == o.max_retries;
  }
};

}  // namespace mq::impl
