#pragma once
// QueueStats: what BrokerCore reports about one queue. The fields up to
// dead_letter_refused mean exactly what the model's QueueStats fields of the same
// name mean (the comparison test checks them after every step); `duplicates` and
// `dropped` count what only the broker does (idempotent publish, drop-oldest).

#include <cstdint>
#include <string>

namespace mq::impl {

struct QueueStats {
  std::string name;
  uint64_t size = 0;  // ready + delayed + in flight: what capacity bounds
  uint64_t capacity = 0;
  uint64_t consumer_count = 0;  // attached consumers
  uint64_t ready = 0, delayed = 0, in_flight = 0;
  uint64_t accepted = 0, refused = 0, deliveries = 0, redeliveries = 0;
  uint64_t acked = 0, expired = 0, dead_lettered = 0, lost = 0, dead_letter_refused = 0;
  uint64_t duplicates = 0;  // publishes confirmed again by the idempotency window
  uint64_t dropped = 0;     // messages dropped by the drop-oldest overflow policy

  friend bool operator==(const QueueStats&, const QueueStats&) = default;
};

}  // namespace mq::impl
