#pragma once
// Broker: the production shell around BrokerCore (DESIGN.md, "one deterministic
// core, several shells"). It adds what the core must not have: threads, a steady
// clock, real files, blocking waits and callbacks.
//
//   - Producers publish from any number of threads: publish() waits (up to a
//     timeout) while the queue is full, try_publish() never waits for room,
//     publish_batch() takes the lock once for many messages, publish_async()
//     returns at once and confirms later (RabbitMQ's publisher confirms), with at
//     most BrokerOptions::max_unconfirmed confirms outstanding per producer.
//   - Consumers pull with fetch()/fetch_batch() (waiting up to a timeout), then
//     ack()/nack(); or subscribe() a handler that runs on a worker pool.
//   - One commit thread appends the write-ahead log (impl/wal.h) and syncs it, a
//     whole batch per sync (group commit); one timer thread calls BrokerCore::tick
//     at the core's next deadline.
//
// Guarantees (docs/durability.md, "The broker shell"):
//   - A publish to a durable queue is confirmed (publish returns kStored, or the
//     async confirm runs) only after the sync that covers its log record. A
//     confirmed message survives close() and a crash of the process.
//   - A message of a durable queue is handed to a consumer only after its
//     delivery record is synced, so a consumer never sees a message the log could
//     forget, and a redelivery after a crash is always marked (attempts >= 2).
//   - ack/nack return before their record is synced: a crash may lose an ack, and
//     the message is then delivered again, marked as a redelivery (at-least-once).
//     close() syncs them all.
//   - kFull (publish timed out while full, or try_publish found it full) means the
//     message was not stored. An error Status from a publish means it was not
//     stored, except kIoError (the log failed: unknown, as Jepsen's `info`).
//   - Time: broker time is the steady clock's, continuing from the recovered
//     image's time (downtime does not count against TTLs, docs/durability.md).
//
// Errors (Status):
//   kInvalidArgument     priority out of range, negative ttl or delay, bad options
//                        (a durable queue without a data directory)
//   kNotFound            unknown producer, queue, topic or consumer
//   kFailedPrecondition  open(): the data directory is locked by another broker;
//                        ack/nack of a message not in flight at that consumer;
//                        subscribe() of a consumer twice, or with no worker threads
//   kUnavailable         the broker is closing or closed
//   kCorruption          open(): the write-ahead log is corrupt (wal.h)
//   kIoError             the disk failed; the broker is broken from then on
//                        (every later command fails with it): close and reopen
//
// Thread-safety: every method may be called from any thread, concurrently, except
// that the destructor must not run concurrently with any other call. Callbacks
// (ConfirmFn, Handler) run without the broker's lock held, so they may call the
// broker, with one exception: a ConfirmFn runs on the commit thread (or on the
// caller's thread when the outcome is known at once), so it must not wait for a
// confirm (publish() to a durable queue, publish_async()): that would deadlock.
// Lifetimes: the Broker owns its threads; close() (or the destructor) joins them.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "impl/broker_config.h"
#include "impl/broker_core.h"
#include "impl/storage.h"
#include "impl/wal.h"

namespace mq::impl {

using Duration = std::chrono::nanoseconds;

struct BrokerOptions {
  BrokerConfig config;
  // The data directory (FileStorage: created if missing, locked while open).
  // Empty: nothing on disk, and every queue must be non-durable.
  std::string data_dir;
  WalOptions wal;
  uint32_t worker_threads = 0;     // the pool that runs subscribe() handlers
  uint32_t max_unconfirmed = 64;   // publish_async: outstanding confirms per producer; > 0
};

// What became of one publish to one queue.
enum class Confirm : uint8_t {
  kStored,     // accepted (and, for a durable queue, synced)
  kDuplicate,  // the id was accepted before (idempotent publish): confirmed again, nothing stored
  kFull,       // not stored: the queue was full (until the timeout, for publish)
};
const char* confirm_name(Confirm c);

struct Delivery {
  ConsumerId consumer = kNoConsumer;
  QueueId queue = 0;
  Message message;  // attempts >= 2 marks a redelivery
};

// What a subscribed handler decides about a delivery (ignored for auto-ack consumers).
enum class Disposition : uint8_t {
  kAck,
  kRequeue,  // nack, requeue (dead-lettered once its retries are spent)
  kReject,   // nack without requeue: dead-lettered now
};

using ConfirmFn = std::function<void(Result<Confirm>)>;
using Handler = std::function<Disposition(const Delivery&)>;

class Broker {
 public:
  // Opens the data directory, recovers the log (BrokerCore::restore at the
  // image's time), starts a new log generation, attaches every consumer and
  // starts the threads. Errors: kInvalidArgument (options), kFailedPrecondition
  // (directory locked), kCorruption, kIoError.
  static Result<std::unique_ptr<Broker>> open(BrokerOptions options);
  // Calls close().
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Clean shutdown; idempotent. New publishes and fetches fail with kUnavailable
  // (and waiting ones wake with it); running handlers finish and settle; every
  // record added (confirms, acks) is synced and every pending confirm delivered;
  // then the threads stop and the directory is unlocked. Unacked deliveries stay
  // in the log as in flight and come back as redeliveries at the next open().
  void close();

  // Waits while the queue is full (reject-publish overflow), up to `timeout`, then
  // waits for the sync (not bounded by the timeout: the outcome is then decided).
  Result<Confirm> publish(ProducerId p, QueueId q, MessageSpec spec, Duration timeout);
  // Never waits for room (but does wait for the sync of a durable queue).
  Result<Confirm> try_publish(ProducerId p, QueueId q, MessageSpec spec);
  // Publishes specs in order under one lock acquisition per run of room, waiting
  // for room as publish() does, and for one sync at the end. Returns how many were
  // confirmed (stored or duplicate): that prefix of specs; the rest were not
  // stored (the queue stayed full until the timeout). Payloads are moved out.
  // Every spec is validated before any is published.
  Result<size_t> publish_batch(ProducerId p, QueueId q, std::span<MessageSpec> specs, Duration timeout);
  // Fans out to every queue bound to topic t (no waiting for room); one Confirm per
  // bound queue, in binding order.
  Result<std::vector<Confirm>> publish_topic(ProducerId p, TopicId t, MessageSpec spec);
  // Returns once the message is accepted or refused (no waiting for room); waits
  // only while producer p has max_unconfirmed confirms outstanding. `done` runs
  // exactly once if the returned Status is ok: with kStored/kDuplicate after the
  // sync, kFull at once, or the log's error. Not called if an error is returned.
  Status publish_async(ProducerId p, QueueId q, MessageSpec spec, ConfirmFn done);

  // Waits up to `timeout` for a message for consumer c (ready, and c has credit).
  // nullopt: none came in time.
  Result<std::optional<Delivery>> fetch(ConsumerId c, Duration timeout);
  // Up to `max` messages (bounded by c's credit); waits up to `timeout` only while
  // there are none. Empty: none came in time.
  Result<std::vector<Delivery>> fetch_batch(ConsumerId c, size_t max, Duration timeout);
  Status ack(ConsumerId c, MessageId id);
  Status ack_batch(ConsumerId c, std::span<const MessageId> ids);
  Status nack(ConsumerId c, MessageId id, bool requeue);

  // From then on the worker pool fetches for c and runs `handler` on each
  // delivery, then settles it as the handler says. Until close().
  Status subscribe(ConsumerId c, Handler handler);

  QueueStats stats(QueueId q);
  const BrokerConfig& config() const { return config_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct QueueWaits {
    std::condition_variable ready, room;
    uint64_t ready_gen = 0;  // bumped whenever something may have become ready
    uint32_t ready_waiters = 0, room_waiters = 0, subscribers = 0;
  };
  struct PendingConfirm {
    uint64_t lsn = 0;
    ProducerId producer = 0;
    Confirm confirm = Confirm::kStored;
    ConfirmFn done;
  };
  struct Subscription {
    ConsumerId consumer = 0;
    Handler handler;
  };
  using Lock = std::unique_lock<std::mutex>;

  Broker(BrokerOptions options, BrokerCore core);
  Status recover_and_start();
  void start_threads();

  // All of these REQUIRE mu_ held (the Lock& says so).
  TimeNs now(const Lock& lk) const;
  Status check_open(const Lock& lk) const;
  Status check_target(ProducerId p, QueueId q) const;
  Status check_spec(QueueId q, const MessageSpec& spec) const;
  bool full(const Lock& lk, QueueId q) const;
  // The LSN to see synced before confirming anything about queue q (0: not durable).
  uint64_t durable_lsn(const Lock& lk, QueueId q) const;
  // false: the deadline passed first.
  bool wait_room(Lock& lk, QueueId q, Clock::time_point deadline);
  bool wait_ready(Lock& lk, QueueId q, Clock::time_point deadline);
  void wake(const Lock& lk, QueueId q, uint8_t bits);
  void wake_all(const Lock& lk);
  // Carries out a command's effects: log records, timer, wakeups. Returns the
  // log's LSN after the records were added (0: the command persisted nothing).
  uint64_t absorb(Lock& lk, Effects& out);
  Status wait_synced(Lock& lk, uint64_t lsn);
  Result<Confirm> send_locked(Lock& lk, ProducerId p, QueueId q, MessageSpec spec);
  size_t send_run(Lock& lk, ProducerId p, QueueId q, std::span<MessageSpec> specs);
  Result<Confirm> publish_one(ProducerId p, QueueId q, MessageSpec spec, std::optional<Clock::time_point> deadline);
  // t: now(lk), read once per batch.
  Result<std::optional<Delivery>> fetch_locked(Lock& lk, TimeNs t, ConsumerId c, uint64_t& lsn);
  Status settle_locked(Lock& lk, TimeNs t, ConsumerId c, MessageId id, Disposition d);

  void commit_loop();
  void finish_commit(Lock& lk, const Status& s, uint64_t lsn);
  void timer_loop();
  void worker_loop();
  std::optional<std::pair<size_t, Delivery>> next_work(Lock& lk, uint64_t& lsn);

  const BrokerConfig config_;
  const BrokerOptions options_;
  std::vector<QueueId> consumer_queue_;  // [ConsumerId]
  std::unique_ptr<Storage> storage_;  // null without a data directory

  mutable std::mutex mu_;  // guards everything below
  BrokerCore core_;
  std::optional<Wal> wal_;  // add/take under mu_; write/checkpoint on the commit thread only
  Effects scratch_;
  std::vector<uint8_t> touched_;       // [QueueId] absorb()'s wakeup bits
  std::vector<QueueId> touched_list_;
  Clock::time_point start_;
  TimeNs base_ns_ = 0;  // broker time at start_
  TimeNs deadline_ns_ = kNoDeadline;
  bool closing_ = false;  // refuses publish and fetch
  bool stopped_ = false;  // refuses everything (the commit thread drains and stops)
  bool closed_ = false;
  Status broken_;         // the log's failure, if any
  uint64_t taken_lsn_ = 0, synced_lsn_ = 0;
  bool commit_idle_ = false;
  uint32_t sync_waiters_ = 0, idle_workers_ = 0, confirm_waiters_ = 0;
  std::vector<std::unique_ptr<QueueWaits>> waits_;  // [QueueId]
  std::vector<uint32_t> unconfirmed_;               // [ProducerId]
  std::deque<PendingConfirm> confirms_;             // in LSN order
  std::deque<Subscription> subs_;  // a deque: a worker calls a handler unlocked
  size_t next_sub_ = 0;
  std::condition_variable commit_cv_, synced_cv_, timer_cv_, work_cv_, confirm_cv_;

  std::mutex close_mu_;  // serializes close()
  std::thread commit_thread_, timer_thread_;
  std::vector<std::thread> workers_;
};

}  // namespace mq::impl
