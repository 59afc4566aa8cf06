#pragma once
// ModelState: the dynamic part of the model, a plain value. Copyable, comparable,
// hashable and printable, so that the explorer can store and deduplicate states and
// a failing test can print one.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/message.h"

namespace mq {

// Where a message ended. Every accepted message is in exactly one place: ready,
// delayed, in flight, or finished with one of these fates.
enum class Fate : uint8_t {
  kAcked,
  kExpired,       // its TTL passed while it was not in flight
  kDeadLettered,  // nacked without requeue, or out of retries
  kLost,          // held by a non-durable queue when the broker crashed
  kDropped,       // dropped by a drop-oldest queue to make room for a new message
};
const char* fate_name(Fate fate);

struct InFlight {
  Message message;
  ConsumerId consumer = kNoConsumer;
  TimeNs deadline_ns = 0;  // visibility timeout; 0 = none

  friend bool operator==(const InFlight&, const InFlight&) = default;
};

struct Finished {
  MessageId id = 0;
  Fate fate = Fate::kAcked;

  friend bool operator==(const Finished&, const Finished&) = default;
};

// An id a windowed queue accepted (Topology: dedup_window_*), and when.
struct WindowEntry {
  MessageId id = 0;
  TimeNs accepted_ns = 0;

  friend bool operator==(const WindowEntry&, const WindowEntry&) = default;
};

// Counts that cannot be derived from the places above.
struct QueueCounters {
  uint64_t accepted = 0;             // by send, publish, or dead-letter arrival
  uint64_t refused = 0;              // send or publish refused: queue full
  uint64_t deliveries = 0;           // every delivery, first or not
  uint64_t redeliveries = 0;         // deliveries with attempts >= 2
  uint64_t dead_letter_refused = 0;  // dead-lettered here, refused by the dead-letter queue

  friend bool operator==(const QueueCounters&, const QueueCounters&) = default;
};

struct QueueState {
  // [priority level], head (index 0) delivered first. Vectors, not deques: a state is
  // copied on every step of a search, and an empty libstdc++ deque allocates.
  std::vector<std::vector<Message>> ready;
  std::vector<Message> delayed;     // not yet deliverable, in acceptance order
  std::vector<InFlight> in_flight;  // in delivery order
  std::vector<Finished> finished;   // in the order they finished
  // Windowed queues only (empty otherwise): the ids accepted, oldest first, at most
  // dedup_window_ids of them and none older than dedup_window_ns (pruned at each
  // acceptance; an entry's age is checked again when it is read).
  std::vector<WindowEntry> window;
  uint32_t rr_cursor = 0;           // index into the queue's consumers: who is next
  QueueCounters counters;

  size_t size() const;  // ready + delayed + in flight: what capacity bounds
  size_t ready_count() const;

  friend bool operator==(const QueueState&, const QueueState&) = default;
};

struct ModelState {
  TimeNs now_ns = 0;
  bool up = true;                  // false between a crash and its recovery
  std::vector<QueueState> queues;  // [QueueId]
  std::vector<uint8_t> attached;   // [ConsumerId]: 1 if connected

  friend bool operator==(const ModelState&, const ModelState&) = default;
};

uint64_t hash_state(const ModelState& state);
std::string to_string(const Message& m);
std::string to_string(const ModelState& state);

struct ModelStateHash {
  size_t operator()(const ModelState& s) const { return static_cast<size_t>(hash_state(s)); }
};

}  // namespace mq
