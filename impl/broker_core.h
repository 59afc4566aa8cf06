#pragma once
// BrokerCore: the production broker's logic as a single-threaded, sans-IO,
// deterministic state machine. It takes commands together with the current time
// and returns effects; it reads no clock, opens no file, starts no thread, draws no
// randomness. The production shell and the simulator both drive this one class.
//
// Semantics: exactly the model's (model/model.h), which is the specification:
// bounded queues with priority levels, delay, TTL (expired iff now >= timestamp +
// ttl; only messages not in flight expire), auto and manual ack, nack with requeue
// or dead-letter, visibility-timeout redelivery, max retries then the dead-letter
// queue, round-robin dispatch with prefetch credit, topic fan-out, crash and
// recovery. Time advances like the model's advance(): every intermediate time at
// which something is due is visited in increasing order, so one advance to t equals
// any sequence of smaller advances ending at t. At each such time the effects come
// in the model's order: visibility timeouts (queue by queue, in delivery order;
// reversed under front redelivery), then releases (in acceptance order), then
// expiries (ready levels from the lowest, head first, then delayed messages in
// acceptance order). A failed delivery (nack with requeue, visibility timeout,
// detach, durable crash) of a message past its TTL ends as kExpired alone, whatever
// its retries; kRequeued and kDeadLettered of a failed delivery name the holder.
//
// Where it differs from the model, on purpose:
// - Idempotent publish. The model answers a duplicate id with kAlreadyExists and
//   remembers every id forever. The core remembers the ids a queue accepted in a
//   bounded window (QueueOptions::dedup_window_*) plus every id it still holds, and
//   answers a duplicate with ok and one kDuplicate effect per queue that has the id,
//   storing nothing. Within the window the two agree exactly: model kAlreadyExists
//   <=> core ok with only kDuplicate effects. (Like the model, a topic publish is
//   checked queue by queue in binding order, and the first problem found decides.)
// - Overflow: OverflowPolicy::kDropOldest (the model only rejects).
// - Time: every command carries now_ns. A command first advances time exactly as
//   tick(now_ns) would (its effects come first in `out`), then does its own work.
// - Timers: a kTimer effect reports the earliest pending deadline whenever it
//   changes, so the shell needs to call tick() only then.
//
// Errors (Status; the command changes nothing, but any time advance it carried has
// happened and its effects are in `out`):
//   kInvalidArgument     now_ns before the current time; priority out of range;
//                        negative ttl or delay
//   kNotFound            unknown producer, queue, consumer or topic
//   kFailedPrecondition  ack/nack of a message not in flight at that consumer; fetch
//                        by a detached consumer; attach of an attached one, detach of
//                        a detached one; crash while down; recover while up
//   kUnavailable         any command but tick, crash and recover while down
//
// Cost: send, publish per queue, fetch, dispatch, ack and nack are O(1) amortized
// plus O(log n) per timer armed (TTL, delay, visibility timeout: a binary heap
// with lazy deletion). No per-message allocation beyond the shared payload: slots
// live in a pool, queues are intrusive lists, and each queue's held ids and
// idempotency window share one open-addressing table (impl/queue_ids.h).
//
// Storage seam: every change of a message's place goes through accept(),
// place_ready(), deliver(), take() and finish() in broker_core.cc, and each such
// change of a durable queue is an effect with `persist` set (impl/effect.h): the
// record the shell appends to the write-ahead log before it confirms anything.
//
// Thread-safety: none; the shell serializes calls. BrokerCore is movable, and
// copyable (the simulator crashes a copy beside its recovery: sim/crash_twin.h).

#include <array>
#include <variant>
#include <optional>
#include <vector>

#include "base/check.h"
#include "base/status.h"
#include "impl/broker_config.h"
#include "impl/credit_ring.h"
#include "impl/durable_image.h"
#include "impl/effect.h"
#include "impl/message.h"
#include "impl/queue_ids.h"
#include "impl/queue_stats.h"

namespace mq::impl {

class BrokerCore {
 public:
  // One time advance visits at most this many distinct due times (as in the model;
  // each visit fires a timer, so the bound is never reached in practice).
  static constexpr size_t kMaxTimerRounds = size_t{1} << 32;

  // Validates the config. Initially: time 0, up, every consumer attached.
  static Result<BrokerCore> create(BrokerConfig config);

  const BrokerConfig& config() const { return config_; }
  TimeNs now() const { return now_ns_; }
  bool up() const { return up_; }

  // Every command appends its effects to `out` (which it never clears).
  Status send(TimeNs now_ns, ProducerId p, QueueId q, MessageSpec spec, Effects& out);
  Status publish(TimeNs now_ns, ProducerId p, TopicId t, MessageSpec spec, Effects& out);
  // The head of the highest non-empty level to the next attached consumer with
  // credit, round-robin. Nothing (and ok) when nothing is ready or nobody has credit.
  Status dispatch(TimeNs now_ns, QueueId q, Effects& out);
  // Consumer c pulls one message; nothing (and ok) if none is ready or c has no credit.
  Status fetch(TimeNs now_ns, ConsumerId c, Effects& out);
  Status ack(TimeNs now_ns, ConsumerId c, MessageId id, Effects& out);
  Status nack(TimeNs now_ns, ConsumerId c, MessageId id, bool requeue, Effects& out);
  // Time passes: visibility timeouts fire, delays release, TTLs expire, at each due
  // time up to now_ns in turn. Allowed while down.
  Status tick(TimeNs now_ns, Effects& out);
  // Non-durable queues lose all they hold (kLost); durable ones keep ready and delayed
  // messages and take in-flight ones back as failed deliveries; all consumers detach.
  Status crash(TimeNs now_ns, Effects& out);
  Status recover(TimeNs now_ns, Effects& out);
  // Recovery from the write-ahead log: the core takes `image` (durable queues only)
  // as its state at image.time_ns, lets time run to crash_ns (timers fire as in
  // tick), then crashes exactly as crash() does (in-flight messages come back as
  // failed deliveries, dead-letter copies in non-durable queues are lost, every
  // consumer detaches) and recovers. So the result is the model's state after
  // crash() at crash_ns and recover(). Effects are reported (with persist set) as by
  // any command. The shell passes crash_ns = image.time_ns (the last time it knows
  // the broker was alive); a simulator passes the time of the crash it injected.
  // REQUIRES: a fresh core (no command yet).
  // Errors: kFailedPrecondition if the core is not fresh, or the image does not fit
  // the config (a message in a non-durable or unknown queue, a priority out of
  // range, a duplicate id, a holder that does not consume the queue, more messages
  // than the capacity); kInvalidArgument if crash_ns < image.time_ns.
  Status restore(TimeNs crash_ns, const DurableImage& image, Effects& out);
  Status attach(TimeNs now_ns, ConsumerId c, Effects& out);
  // Its unacked deliveries end as failed attempts (requeued or dead-lettered).
  Status detach(TimeNs now_ns, ConsumerId c, Effects& out);

  // REQUIRES: q < config().queues.size().
  QueueStats stats(QueueId q) const;
  // Something is ready and a consumer is attached: dispatch() may deliver (eager
  // dispatch asks this before each try, so it must cost nothing).
  // REQUIRES: q < config().queues.size().
  bool dispatchable(QueueId q) const {
    MQ_CHECK(q < queues_.size());
    const QueueRt& qr = queues_[q];
    return qr.counters.consumer_count > 0 && (qr.nonempty[0] | qr.nonempty[1] | qr.nonempty[2] | qr.nonempty[3]) != 0;
  }
  // What capacity bounds (ready + delayed + in flight), without building stats().
  // REQUIRES: q < config().queues.size().
  uint64_t size(QueueId q) const {
    MQ_CHECK(q < queues_.size());
    return queues_[q].ids.held();
  }
  // REQUIRES: c < config().consumers.size().
  uint32_t unacked(ConsumerId c) const;
  bool attached(ConsumerId c) const;
  // The earliest time at which tick() has something to do, if any.
  std::optional<TimeNs> next_deadline() const;
  // What the durable queues hold now, for a checkpoint of the write-ahead log: each
  // window's ids as it would answer now (ids aged out but not yet forgotten are left
  // out), so two cores that answer alike give the same image.
  DurableImage durable_image() const;

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  // kTaken: out of every list but still held (between take() and finish() or a new place).
  enum class Place : uint8_t { kFree, kTaken, kReady, kDelayed, kInFlight };
  enum class Fate : uint8_t { kAcked, kExpired, kDeadLettered, kLost, kDropped };
  // Declared in the order tick() handles them.
  enum class TimerKind : uint8_t { kVisibility, kRelease, kExpiry };

  struct List {
    uint32_t head = kNil, tail = kNil, size = 0;
  };
  struct Slot {
    Message message;
    // The order within its place, which is all a slot needs of it: ready, the
    // position within its level (front pushes go negative); delayed, the acceptance
    // order; in flight, the delivery order. One field for the three keeps the slot
    // (and so the memory a queued message costs) smaller.
    int64_t order = 0;
    TimeNs delivered_ns = 0;  // for in-flight messages
    uint32_t prev = kNil, next = kNil;
    uint32_t gen = 0;  // bumped at every change of place: a timer armed earlier is stale
    QueueId queue = 0;
    ConsumerId consumer = kNoConsumer;
    Place place = Place::kFree;
  };
  struct Timer {
    TimeNs at_ns = 0;
    uint64_t order = 0;  // arming order: no ties in the heap
    uint32_t slot = 0, gen = 0;
    TimerKind kind = TimerKind::kExpiry;
  };
  struct DueTimer {  // a timer that fired, with the key that puts it in the model's order
    uint8_t phase = 0;
    QueueId queue = 0;
    int64_t k1 = 0, k2 = 0, k3 = 0;
    Timer timer;
  };
  struct QueueRt {
    std::vector<List> levels;           // [priority]
    std::array<uint64_t, 4> nonempty{};  // bit p: levels[p] is non-empty
    List delayed;                       // acceptance order
    QueueIds ids;                       // id -> slot for every message held; the idempotency window
    CreditRing credit;                  // over `ring` positions
    std::vector<ConsumerId> ring;       // consumers in round-robin order
    std::optional<QueueId> dead_letter;
    uint32_t cursor = 0;
    uint64_t in_flight = 0;
    int64_t back_pos = 0, front_pos = 0;
    QueueStats counters;                // the counting fields only
  };
  struct ConsumerRt {
    QueueId queue = 0;
    uint32_t ring_pos = 0;
    bool attached = true;
    uint32_t unacked = 0;
    List in_flight;  // delivery order
  };

  explicit BrokerCore(BrokerConfig config);

  // Input checks, in the model's order.
  Status advance(TimeNs now_ns, Effects& out);
  // Inline: every command makes two or three of these, and they pass (the errors
  // are built out of line, in down_error() and unknown()).
  Status check_up() const { return up_ ? Status() : down_error(); }
  Status check_producer(ProducerId p) const {
    return p < config_.producers.size() ? Status() : unknown("producer", p);
  }
  Status check_queue(QueueId q) const { return q < queues_.size() ? Status() : unknown("queue", q); }
  Status check_consumer(ConsumerId c) const {
    return c < consumers_.size() ? Status() : unknown("consumer", c);
  }
  static Status down_error();
  static Status unknown(const char* what, uint32_t index);
  // ok, kAlreadyExists (the id is held or remembered), or an invalid-argument error.
  Status check_spec(QueueId q, const MessageSpec& spec);
  // A command's checks in order, the first failure deciding.
  Status check_send(ProducerId p, QueueId q, const MessageSpec& spec);
  Status check_fetch(ConsumerId c) const;
  Status check_in_flight(ConsumerId c, MessageId id, const char* verb, uint32_t& slot) const;
  bool holds_id(QueueId q, MessageId id);

  // Message mechanics: the storage seam (see the header comment).
  Message stamp(QueueId q, const MessageSpec& spec, Payload payload) const;
  void send_one(QueueId q, Message m, Effects& out);
  bool make_room(QueueId q, Effects& out);
  void accept(QueueId q, Message m, Effects& out);
  void place_ready(uint32_t s, Effects& out);
  void deliver(QueueId q, ConsumerId c, Effects& out);
  void take(uint32_t s);
  void finish(uint32_t s, Fate fate, ConsumerId c, Effects& out);
  void fail_delivery(uint32_t s, ConsumerId c, Effects& out);
  void dead_letter(uint32_t s, ConsumerId c, Effects& out);
  void return_in_flight(std::vector<uint32_t>& slots, bool front, Effects& out);

  // Timers.
  void arm(uint32_t s, TimerKind kind, TimeNs at_ns);
  void arm_restored(uint32_t s, TimerKind kind, TimeNs at_ns);
  bool live(const Timer& t) const { return slots_[t.slot].gen == t.gen; }
  void collect_due(TimeNs now_ns);
  void fire(const Timer& t, Effects& out);
  void purge_stale_top();
  void report_deadline(Effects& out);

  // Slot pool and intrusive lists.
  uint32_t alloc_slot();
  void grow_slots();
  void free_slot(uint32_t s);
  List& list_of(const Slot& slot);
  void push_back(List& l, uint32_t s);
  void push_front(List& l, uint32_t s);
  void unlink(List& l, uint32_t s);
  std::optional<Priority> top_level(const QueueRt& qr) const;
  std::optional<Priority> bottom_level(const QueueRt& qr) const;
  void set_level_bit(QueueRt& qr, Priority p);
  void update_credit(ConsumerId c);
  std::vector<uint32_t> in_flight_of_queue(QueueId q) const;

  Status finish_command(Status status, Effects& out);
  void emit(Effects& out, Effect e) const;
  void crash_now(Effects& out);
  Status check_image(const DurableImage& image) const;
  void restore_queue(QueueId q, const QueueImage& image);

  BrokerConfig config_;
  std::vector<std::vector<QueueId>> topic_queues_;  // [TopicId]
  std::vector<QueueRt> queues_;
  std::vector<ConsumerRt> consumers_;
  std::vector<Slot> slots_;
  uint32_t free_head_ = kNil;
  uint32_t slots_in_use_ = 0;
  std::vector<Timer> heap_;  // min-heap on (at_ns, order); stale entries skipped lazily
  std::vector<DueTimer> due_;  // scratch for tick(), kept to avoid reallocating
  uint64_t timer_order_ = 0;
  uint64_t accept_seq_ = 0;
  uint64_t delivery_seq_ = 0;
  TimeNs now_ns_ = 0;
  TimeNs reported_deadline_ns_ = kNoDeadline;
  bool up_ = true;
};

// ---- Command: every command BrokerCore takes, as data ----
// The server shell (impl/server_shell.h) runs commands through run() and reports each
// one it released, with its outcome, so that a driver can record exactly what the
// core did (the simulator turns these into history events; impl/ never sees the
// model). The kinds are the model's operations one for one (model/op.h); the
// simulator's sim/translate.h maps between the two. Stated beside the methods they
// call, so that a new command is one header and one source file.

namespace cmd {
struct Send {
  ProducerId producer = 0;
  QueueId queue = 0;
  MessageSpec spec;
};
struct Publish {
  ProducerId producer = 0;
  TopicId topic = 0;
  MessageSpec spec;
};
struct Dispatch {
  QueueId queue = 0;
};
struct Fetch {
  ConsumerId consumer = 0;
};
struct Ack {
  ConsumerId consumer = 0;
  MessageId id = 0;
};
struct Nack {
  ConsumerId consumer = 0;
  MessageId id = 0;
  bool requeue = true;
};
struct Tick {  // time passes to the command's time
};
struct Crash {};
struct Recover {};
struct Attach {
  ConsumerId consumer = 0;
};
struct Detach {
  ConsumerId consumer = 0;
};
}  // namespace cmd

using Command = std::variant<cmd::Send, cmd::Publish, cmd::Dispatch, cmd::Fetch, cmd::Ack, cmd::Nack, cmd::Tick,
                             cmd::Crash, cmd::Recover, cmd::Attach, cmd::Detach>;

// Runs `c` on `core` at `now_ns` (a Tick ticks to now_ns). The spec of a send or
// publish is copied: the command stays whole for the record.
Status run(BrokerCore& core, TimeNs now_ns, const Command& c, Effects& out);

}  // namespace mq::impl
