#pragma once
// Model: the executable specification of MQ = (P, C, Q, M, A). Small and obviously
// right: plain containers, linear scans, no I/O, no clock (time is an input), no
// randomness. Every choice the origin document leaves open is made here, once, and
// documented in docs/model.md.
//
// Semantics in brief:
// - send/publish: accepted iff the queue holds fewer than `capacity` messages (ready +
//   delayed + in flight); otherwise kRefused, and nothing is stored (Def. 2.3). A
//   drop-oldest queue (Overflow::kDropOldest) that is full first drops the head of its
//   lowest non-empty ready level, else its oldest delayed message (kDropped), and
//   refuses only when everything it holds is in flight.
// - a duplicate id (one the queue holds, or finished within its idempotency window,
//   Topology: dedup_window_*; by default every id ever accepted) is kAlreadyExists.
// - dispatch: the head of the highest non-empty priority level goes to the next
//   attached consumer with credit, in round-robin order from the queue's cursor.
// - a delivery that fails (nack with requeue, visibility timeout, consumer detach,
//   broker crash) is requeued while retries are left, else dead-lettered.
// - advance(now): visits, in order, every time up to `now` at which something is due;
//   at each, visibility timeouts fire, then delays release, then TTLs expire. So one
//   advance(t) equals any sequence of smaller advances that ends at t. Only messages
//   not in flight expire; a failed delivery past its TTL expires instead of coming
//   back. Afterwards no ready or delayed message is expired, every delayed message
//   has not_before > now, every deadline is > now.
// - crash: non-durable queues lose everything they hold; durable queues keep ready
//   and delayed messages and take in-flight ones back as failed deliveries; every
//   consumer is detached and round-robin restarts from the first consumer.
//
// Thread-safety: none; a Model is a value. Errors: every operation returns a Status
// error and leaves the state unchanged on bad input (unknown ids, duplicate message
// id, priority out of range, ack of a message not in flight, time going backwards,
// any operation but advance and recover while the broker is down).

#include <memory>
#include <vector>

#include "base/status.h"
#include "model/effect.h"
#include "model/op.h"
#include "model/state.h"
#include "model/topology.h"

namespace mq {

// The seed's QueueStats (name, size, capacity, consumer_count) and the counts a
// broker operator needs.
struct QueueStats {
  std::string name;
  uint64_t size = 0;
  uint64_t capacity = 0;
  uint64_t consumer_count = 0;  // attached consumers
  uint64_t ready = 0, delayed = 0, in_flight = 0;
  uint64_t accepted = 0, refused = 0, deliveries = 0, redeliveries = 0;
  uint64_t acked = 0, expired = 0, dead_lettered = 0, lost = 0, dead_letter_refused = 0, dropped = 0;

  friend bool operator==(const QueueStats&, const QueueStats&) = default;
};

// Topology plus the indices resolved from it once.
struct Wiring {
  Topology topology;
  std::vector<QueueId> queue_of_consumer;                   // [ConsumerId]
  std::vector<std::vector<ConsumerId>> consumers_of_queue;  // [QueueId], round-robin order
  std::vector<std::vector<QueueId>> queues_of_topic;        // [TopicId]
  std::vector<std::optional<QueueId>> dead_letter_of;       // [QueueId]
};

class Model {
 public:
  // advance() visits at most this many distinct due times (each visit finishes or
  // moves at least one message, so the bound is never reached in practice).
  static constexpr size_t kMaxTimerRounds = size_t{1} << 32;

  // Validates the topology; the initial state has empty queues, every consumer
  // attached, time 0, broker up.
  static Result<Model> create(Topology topology);
  // Resumes from a state of a model with the same wiring (the explorer does this).
  Model(std::shared_ptr<const Wiring> wiring, ModelState state);

  const Topology& topology() const { return wiring_->topology; }
  const std::shared_ptr<const Wiring>& wiring() const { return wiring_; }
  const ModelState& state() const { return state_; }
  TimeNs now() const { return state_.now_ns; }

  Result<Effects> apply(const Op& op);

  Result<Effects> send(ProducerId p, QueueId q, const MessageSpec& spec);
  Result<Effects> publish(ProducerId p, TopicId t, const MessageSpec& spec);
  Result<Effects> dispatch(QueueId q);
  Result<Effects> fetch(ConsumerId c);
  Result<Effects> ack(ConsumerId c, MessageId id);
  Result<Effects> nack(ConsumerId c, MessageId id, bool requeue);
  Result<Effects> advance(TimeNs now_ns);
  Result<Effects> crash();
  Result<Effects> recover();
  Result<Effects> attach(ConsumerId c);
  Result<Effects> detach(ConsumerId c);

  QueueStats stats(QueueId q) const;
  // Unacked deliveries of a consumer, and whether it may take one more.
  uint32_t unacked(ConsumerId c) const;
  bool has_credit(ConsumerId c) const;
  // The earliest time after now at which something happens by itself (a delay ends,
  // a TTL runs out, a visibility timeout fires), if any.
  std::optional<TimeNs> next_event_time() const;
  // The priority level dispatch would take from next, if any message is ready.
  std::optional<Priority> top_ready_level(QueueId q) const;
  // Why queue q would not take `spec` now: InvalidArgument when it is malformed for q
  // (a priority above q's levels, a negative TTL or delay), AlreadyExists when q holds
  // or remembers its id; ok otherwise (room is not asked). REQUIRES: q is a queue.
  Status check_spec(QueueId q, const MessageSpec& spec) const;

 private:
  Model(std::shared_ptr<const Wiring> wiring);

  Status check_queue(QueueId q) const;
  Status check_consumer(ConsumerId c) const;
  Status check_producer(ProducerId p) const;
  Status check_up() const;
  bool holds_id(QueueId q, MessageId id) const;
  bool in_window(QueueId q, MessageId id) const;
  bool make_room(QueueId q, Effects& out);
  bool drop_oldest(QueueId q, Effects& out);

  void enqueue(QueueId q, Message m, Effects& out);
  void remember(QueueId q, MessageId id);
  void deliver(QueueId q, ConsumerId c, Effects& out);
  void finish(QueueId q, const Message& m, Fate fate, Effects& out);
  void place_ready(QueueId q, Message m, Effects& out);
  void fail_delivery(QueueId q, Message m, ConsumerId holder, Effects& out);
  void dead_letter(QueueId q, const Message& m, Effects& out);
  std::optional<InFlight> take_in_flight(ConsumerId c, MessageId id);
  void fire_due_timers(Effects& out);
  void return_in_flight(QueueId q, bool only_expired_deadlines, ConsumerId only_consumer, Effects& out);

  std::shared_ptr<const Wiring> wiring_;
  ModelState state_;
};

}  // namespace mq
