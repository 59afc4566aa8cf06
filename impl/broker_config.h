#pragma once
// BrokerConfig: the static shape of a broker core: producers, consumers, queues and
// topics, named and resolved by index. It mirrors the model's Topology field for
// field (so a test can translate one into the other) and adds what only the
// production broker has: an overflow policy and an idempotency window per queue.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "impl/message.h"

namespace mq::impl {

// Where a failed delivery goes back to in its priority level (as in the model).
enum class Redelivery : uint8_t { kBack, kFront };

enum class AckMode : uint8_t {
  kAuto,    // acknowledged when delivered (at-most-once)
  kManual,  // the consumer acks or nacks; a visibility timeout takes it back
};

// What a full queue does with one more message. The model knows only kRejectPublish.
enum class OverflowPolicy : uint8_t {
  kRejectPublish,  // refuse the new message; the producer is told (kRefused)
  // Make room by dropping the head of the lowest non-empty ready level (else the
  // oldest delayed message) and report it (kDropped). In-flight messages are never
  // dropped: if every message is in flight the new one is refused.
  kDropOldest,
};

struct QueueOptions {
  std::string name;
  uint32_t capacity = 0;         // bound on ready + delayed + in flight; must be > 0
  uint32_t priority_levels = 1;  // priorities 0 .. priority_levels-1; 1..256
  bool durable = false;          // keeps ready and delayed messages across a crash
  uint32_t max_retries = 3;      // default for messages sent without one
  TimeNs visibility_timeout_ns = 0;  // 0: an unacked delivery never times out
  std::optional<std::string> dead_letter_queue;
  Redelivery redelivery = Redelivery::kBack;
  OverflowPolicy overflow = OverflowPolicy::kRejectPublish;
  // Idempotent publish: an id accepted by this queue is recognised as a duplicate
  // while it is among the last `dedup_window_ids` ids the queue accepted and (when
  // dedup_window_ns > 0) was accepted less than dedup_window_ns ago. An id that is
  // still held (ready, delayed, in flight) is a duplicate regardless of the window.
  uint32_t dedup_window_ids = 4096;
  TimeNs dedup_window_ns = 0;  // 0: bounded by count only
};

struct ConsumerOptions {
  std::string name;
  std::string queue;      // the queue it consumes from
  uint32_t prefetch = 1;  // credit: max unacked deliveries; 0 = unlimited
  AckMode ack_mode = AckMode::kManual;
};

struct ProducerOptions {
  std::string name;
};

struct TopicOptions {
  std::string name;
  std::vector<std::string> queues;  // each published message fans out to all of them
};

struct BrokerConfig {
  std::vector<ProducerOptions> producers;
  std::vector<ConsumerOptions> consumers;
  std::vector<QueueOptions> queues;
  std::vector<TopicOptions> topics;

  // Every configuration error, named ("queue 'orders': capacity must be > 0"):
  // empty or duplicate names, capacity 0, priority_levels outside 1..256, negative
  // timeouts, an unknown, self or cyclic dead-letter queue, a consumer of an unknown
  // queue, a topic bound to an unknown queue or to one queue twice.
  Status validate() const;

  std::optional<QueueId> find_queue(const std::string& name) const;
};

}  // namespace mq::impl
