#pragma once
// DurableImage: what a broker's durable queues hold at one moment, in a form that
// survives a crash: every ready message in its level's order, every delayed message
// in acceptance order, every in-flight message in delivery order with its holder,
// and the ids each queue's idempotency window remembers. The write-ahead log
// rebuilds one by replay (impl/wal.h), BrokerCore::restore() takes one back, and
// BrokerCore::durable_image() produces one for a checkpoint.
//
// Non-durable queues have an empty QueueImage: they lose everything at a crash.

#include <cstdint>
#include <vector>

#include "impl/message.h"

namespace mq::impl {

struct InFlightImage {
  Message message;                  // attempts counts the delivery that is in flight
  ConsumerId holder = kNoConsumer;  // the consumer it was delivered to
  TimeNs delivered_ns = 0;          // when: the visibility timeout runs from here
};

struct WindowEntry {
  MessageId id = 0;
  TimeNs accepted_ns = 0;
  bool operator==(const WindowEntry&) const = default;
};

struct QueueImage {
  std::vector<std::vector<Message>> ready;  // [priority], head first; may be shorter than the levels
  std::vector<Message> delayed;             // acceptance order
  std::vector<InFlightImage> in_flight;     // delivery order
  std::vector<WindowEntry> window;          // acceptance order, oldest first

  size_t size() const {
    size_t n = delayed.size() + in_flight.size();
    for (const auto& level : ready) n += level.size();
    return n;
  }
};

struct DurableImage {
  TimeNs time_ns = 0;              // the broker's time when the image was taken
  std::vector<QueueImage> queues;  // [QueueId]
};

}  // namespace mq::impl
