#pragma once
// Message: the seed's Def. 2.2, m = (id, payload, timestamp, priority, ttl), plus
// what a real broker needs to state delivery precisely: a not-before time (delay
// queues), the number of deliveries so far, and the retry budget.

#include <cstdint>
#include <optional>
#include <string>

namespace mq {

using TimeNs = int64_t;  // virtual nanoseconds; the model never reads a clock
using MessageId = uint64_t;
using QueueId = uint32_t;     // index into Topology::queues
using ConsumerId = uint32_t;  // index into Topology::consumers
using ProducerId = uint32_t;  // index into Topology::producers
using TopicId = uint32_t;     // index into Topology::topics
using Priority = uint8_t;     // 0 is the lowest; a higher priority is delivered first

inline constexpr ConsumerId kNoConsumer = UINT32_MAX;

// What a producer sends. The broker stamps the rest.
struct MessageSpec {
  MessageId id = 0;
  std::string payload;
  Priority priority = 0;
  TimeNs ttl_ns = 0;                    // 0: never expires; else expires at acceptance + ttl_ns
  TimeNs delay_ns = 0;                  // 0: deliverable at once; else not before acceptance + delay_ns
  std::optional<uint32_t> max_retries;  // unset: the queue's default

  friend bool operator==(const MessageSpec&, const MessageSpec&) = default;
};

struct Message {
  MessageId id = 0;
  std::string payload;
  TimeNs timestamp_ns = 0;  // acceptance time (Def. 2.2's timestamp)
  Priority priority = 0;
  TimeNs ttl_ns = 0;         // 0: never expires
  TimeNs not_before_ns = 0;  // deliverable when now >= not_before_ns
  uint32_t attempts = 0;     // deliveries so far; a redelivery has attempts >= 2
  uint32_t max_retries = 0;  // deliveries allowed = 1 + max_retries

  // A message is live while now < timestamp + ttl, and expired from then on.
  bool expired_at(TimeNs now_ns) const { return ttl_ns > 0 && now_ns >= timestamp_ns + ttl_ns; }
  bool deliverable_at(TimeNs now_ns) const { return now_ns >= not_before_ns; }
  // After a failed delivery: may it be delivered again, or must it be dead-lettered?
  bool retries_left() const { return attempts <= max_retries; }

  friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace mq
