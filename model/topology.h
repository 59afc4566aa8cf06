#pragma once
// Topology: the static part of MQ = (P, C, Q, M, A): which producers, consumers,
// queues and topics exist and how they are configured. It does not change while the
// model runs, so the explorer keeps one copy and stores only ModelState per state.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/message.h"

namespace mq {

// Where a message whose delivery failed goes back to in its priority level. The seed
// puts a retried message at the back, which breaks FIFO; RabbitMQ puts it near the
// front. Both are explicit choices here.
enum class Redelivery : uint8_t { kBack, kFront };

// The acknowledgment mechanisms A of the five-tuple.
enum class AckMode : uint8_t {
  kAuto,    // a delivery is acknowledged when it is made (at-most-once)
  kManual,  // the consumer acks or nacks; a visibility timeout takes it back
};

// What a full queue does with one more message. The origin document refuses it
// (Def. 2.3); drop-oldest is what RabbitMQ's x-overflow=drop-head does.
enum class Overflow : uint8_t {
  kReject,      // refuse the new message (kRefused)
  kDropOldest,  // drop the head of the lowest non-empty ready level, else the oldest
                // delayed message (kDropped), then accept; refuse only when every
                // message held is in flight
};

struct QueueConfig {
  std::string name;
  uint32_t capacity = 0;                         // bound on ready + delayed + in-flight; must be > 0
  uint32_t priority_levels = 1;                  // priorities 0 .. priority_levels-1; 1..256
  bool durable = false;                          // survives a broker crash
  uint32_t max_retries = 3;                      // default for messages sent without one
  TimeNs visibility_timeout_ns = 0;              // 0: an unacked delivery never times out
  std::optional<std::string> dead_letter_queue;  // where exhausted messages go
  Redelivery redelivery = Redelivery::kBack;
  Overflow overflow = Overflow::kReject;
  // Idempotent publish. An id the queue holds is always a duplicate. An id it
  // finished is one while it is among the last `dedup_window_ids` ids the queue
  // accepted (0: no count bound) and was accepted less than `dedup_window_ns` ago
  // (0: no age bound); with both 0 (the default) the queue remembers every id for
  // ever. Past the window a resent id is a new message (at-least-once, as in Kafka's
  // bounded idempotence).
  uint32_t dedup_window_ids = 0;
  TimeNs dedup_window_ns = 0;
  bool windowed() const { return dedup_window_ids > 0 || dedup_window_ns > 0; }
};

struct ConsumerConfig {
  std::string name;
  std::string queue;      // the queue it consumes from
  uint32_t prefetch = 1;  // credit: max unacked deliveries; 0 = unlimited
  AckMode ack_mode = AckMode::kManual;
};

struct ProducerConfig {
  std::string name;
};

// A topic fans each published message out to every bound queue (the seed's event bus).
struct TopicConfig {
  std::string name;
  std::vector<std::string> queues;
};

struct Topology {
  std::vector<ProducerConfig> producers;
  std::vector<ConsumerConfig> consumers;
  std::vector<QueueConfig> queues;
  std::vector<TopicConfig> topics;

  // Every configuration error, named: "queue 'orders': capacity must be > 0".
  Status validate() const;

  std::optional<QueueId> find_queue(std::string_view name) const;
  std::optional<ConsumerId> find_consumer(std::string_view name) const;
  std::optional<ProducerId> find_producer(std::string_view name) const;
  std::optional<TopicId> find_topic(std::string_view name) const;

  // Resolved after validate(): the queue a consumer reads, a queue's consumers in
  // round-robin order, a topic's bound queues, a queue's dead-letter queue.
  QueueId queue_of(ConsumerId c) const;
  std::vector<ConsumerId> consumers_of(QueueId q) const;
  std::vector<QueueId> queues_of(TopicId t) const;
  std::optional<QueueId> dead_letter_of(QueueId q) const;
};

}  // namespace mq
