#pragma once
// Broker: the broker embedded in a process, a driver of the server shell
// (impl/server_shell.h) like the daemon and the simulator's broker node: the shell
// decides what is confirmed when and what a crash may undo; this class adds what an
// embedding needs around it: threads, a steady clock, real files, blocking calls and
// callbacks (DESIGN.md, "one deterministic core, one deterministic shell, several
// drivers").
//
//   - Producers publish from any number of threads: publish() waits (up to a
//     timeout) while the queue is full, try_publish() never waits for room,
//     publish_batch() submits many messages under one lock acquisition,
//     publish_async() returns at once and confirms later (RabbitMQ's publisher
//     confirms), with at most BrokerOptions::max_unconfirmed confirms outstanding
//     per producer.
//   - Consumers pull with fetch()/fetch_batch() (waiting up to a timeout), then
//     ack()/nack(); or subscribe() a handler that runs on a worker pool. Every
//     consumer is attached from open() to close() (one session each).
//   - One commit thread carries out the shell's log writes (impl/wal.h) and syncs;
//     one timer thread fires the shell's timers on the steady clock.
//
// Guarantees: the commit rules of docs/durability.md, which the shell states:
//   - A publish to a durable queue is confirmed (publish returns kStored, or the
//     async confirm runs) only after the sync that covers its log record. A
//     confirmed message survives close() and a crash of the process.
//   - A message of a durable queue is handed to a consumer only after its delivery
//     record is synced, so a consumer never sees a message the log could forget, and
//     a redelivery after a crash is always marked (attempts >= 2).
//   - ack/nack return after their record is synced, in order with every command
//     before them.
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
#include <map>
#include <optional>
#include <queue>
#include <tuple>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "impl/broker_config.h"
#include "impl/request.h"
#include "impl/server_shell.h"
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
  using Lock = std::unique_lock<std::mutex>;
  // A call waiting for the shell's answer on its own connection id.
  struct Call {
    std::optional<Response> answer;
    ConfirmFn done;  // publish_async: runs with the answer instead
    ProducerId producer = 0;
    QueueId queue = 0;
  };
  struct Subscription {
    ConsumerId consumer = 0;
    Handler handler;
  };
  struct DiskJob {
    bool checkpoint = false;
    LogBatch batch;
    DurableImage image;
  };
  struct TimerEntry {
    TimeNs at_ns = 0;
    uint64_t seq = 0;
    TimerId id;
    bool operator>(const TimerEntry& o) const { return std::tie(at_ns, seq) > std::tie(o.at_ns, o.seq); }
  };
  using Callbacks = std::vector<std::pair<ConfirmFn, Result<Confirm>>>;

  explicit Broker(BrokerOptions options);
  Status start();
  void start_threads();

  // All of these REQUIRE mu_ held (the Lock& says so).
  TimeNs now(const Lock& lk);
  Status check_open(const Lock& lk) const;
  Status check_target(ProducerId p, QueueId q) const;
  Status check_spec(QueueId q, const MessageSpec& spec) const;
  bool full(const Lock& lk, QueueId q) const;
  // Hands the shell a request at time `at` (now(lk), read once for a batch).
  ConnId submit(Lock& lk, TimeNs at, Request r);
  ConnId submit(Lock& lk, TimeNs at, Request r, Call call);
  // Waits for the answer to `conn` (never longer than the shell takes to release it).
  Result<Response> await(Lock& lk, ConnId conn);
  // Carries out the shell's actions; async confirms due go to `cbs`, to run unlocked.
  void drain(Lock& lk, Callbacks& cbs);
  void perform(Lock& lk, Action& a, Callbacks& cbs);
  void answer(Lock& lk, act::Reply& r, Callbacks& cbs);
  void observe(const act::Committed& c);
  void broke(Lock& lk, const Status& why, Callbacks& cbs);
  void run_callbacks(Lock& lk, Callbacks& cbs);
  Result<Confirm> confirm_of(const Response& r) const;
  Result<Confirm> publish_one(ProducerId p, QueueId q, MessageSpec spec, std::optional<Clock::time_point> deadline);
  Result<std::vector<Delivery>> fetch_now(Lock& lk, ConsumerId c, size_t max);
  Status settle(ConsumerId c, MessageId id, Disposition d);

  void commit_loop();
  void timer_loop();
  void worker_loop();

  const BrokerConfig config_;
  const BrokerOptions options_;
  std::vector<QueueId> consumer_queue_;  // [ConsumerId]
  std::unique_ptr<Storage> storage_;

  mutable std::mutex mu_;  // guards everything below
  std::optional<ServerShell> shell_;
  std::optional<Wal> wal_;  // the commit thread's once started
  Clock::time_point start_;
  TimeNs base_ns_ = 0, last_ns_ = 0;
  bool closing_ = false;  // refuses publish and fetch
  bool stopped_ = false;  // the threads drain and stop
  bool closed_ = false;
  bool started_ = false;  // start() succeeded: there is a shell to settle and threads to join
  Status broken_;         // the log's failure, if any
  ConnId next_conn_ = 1;
  std::map<ConnId, Call> calls_;
  std::deque<DiskJob> disk_jobs_;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  uint64_t timer_seq_ = 0;
  std::vector<uint64_t> room_gen_, ready_gen_;  // [QueueId], [ConsumerId]: bumped on a change
  std::vector<uint32_t> unconfirmed_;           // [ProducerId]
  std::deque<Subscription> subs_;  // a deque: a worker calls a handler unlocked
  size_t next_sub_ = 0;
  std::condition_variable answered_cv_, changed_cv_, commit_cv_, timer_cv_, work_cv_;

  std::mutex close_mu_;  // serializes close()
  std::thread commit_thread_, timer_thread_;
  std::vector<std::thread> workers_;
};

}  // namespace mq::impl
