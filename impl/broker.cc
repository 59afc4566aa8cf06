#include "impl/broker.h"

#include <algorithm>
#include <type_traits>

#include "impl/file_storage.h"
#include "impl/mem_storage.h"

namespace mq::impl {

const char* confirm_name(Confirm c) {
  switch (c) {
    case Confirm::kStored: return "stored";
    case Confirm::kDuplicate: return "duplicate";
    case Confirm::kFull: return "full";
  }
  return "?";
}

namespace {

// A timeout far beyond any test or deployment; keeps now + timeout from overflowing.
constexpr Duration kMaxTimeout = std::chrono::hours(24 * 365);
// Every consumer of the embedded broker has one session, from open() to close().
constexpr SessionId kSession = 1;

std::chrono::steady_clock::time_point deadline_after(Duration timeout) {
  return std::chrono::steady_clock::now() + std::clamp(timeout, Duration::zero(), kMaxTimeout);
}

// After these the queue holds one message fewer: a waiting publisher may go on.
bool frees_room(EffectKind kind) {
  switch (kind) {
    case EffectKind::kAcked:
    case EffectKind::kExpired:
    case EffectKind::kDeadLettered:
    case EffectKind::kLost:
    case EffectKind::kDropped: return true;
    case EffectKind::kAccepted:
    case EffectKind::kDuplicate:
    case EffectKind::kRefused:
    case EffectKind::kReleased:
    case EffectKind::kDelivered:
    case EffectKind::kRequeued:
    case EffectKind::kDeadLetterRefused:
    case EffectKind::kTimer: return false;
  }
  return false;
}

Status check_options(const BrokerOptions& o) {
  MQ_RETURN_IF_ERROR(o.config.validate());
  if (o.max_unconfirmed == 0) return invalid_argument("broker options: max_unconfirmed must be > 0");
  if (!o.data_dir.empty()) return Status();
  for (const QueueOptions& q : o.config.queues) {
    if (q.durable) return invalid_argument("queue '" + q.name + "' is durable: the broker needs a data directory");
  }
  return Status();
}

ConsumerRef who(ConsumerId c) { return ConsumerRef{c, kSession, SessionMode::kPull}; }

}  // namespace

// ---- lifecycle ----

Result<std::unique_ptr<Broker>> Broker::open(BrokerOptions options) {
  MQ_RETURN_IF_ERROR(check_options(options));
  std::unique_ptr<Broker> b(new Broker(std::move(options)));
  MQ_RETURN_IF_ERROR(b->start());
  b->start_threads();
  return b;
}

Broker::Broker(BrokerOptions options) : config_(options.config), options_(std::move(options)) {
  room_gen_.assign(config_.queues.size(), 0);
  ready_gen_.assign(config_.consumers.size(), 0);
  unconfirmed_.assign(config_.producers.size(), 0);
  for (const ConsumerOptions& c : config_.consumers) consumer_queue_.push_back(*config_.find_queue(c.queue));
}

Broker::~Broker() { close(); }

// Recovers (with a data directory) or starts empty, writes the log's first
// generation before anything is served, and attaches every consumer.
Status Broker::start() {
  Lock lk(mu_);
  ShellOptions so;
  so.config = config_;
  so.record_every_command = false;  // observe() reads only commands with effects
  if (options_.data_dir.empty()) {
    storage_ = std::make_unique<MemStorage>();
    for (size_t c = 0; c < config_.consumers.size(); ++c) so.initial_sessions.push_back({0, kSession, SessionMode::kPull});
    shell_.emplace(std::move(so));
  } else {
    auto files = FileStorage::open(options_.data_dir);
    if (!files.ok()) return files.status();
    storage_ = std::move(files).value();
    auto rec = Wal::recover(*storage_, config_, options_.wal);
    if (!rec.ok()) return rec.status();
    Effects out;
    // The broker was last known alive at the image's time; time continues from it.
    auto shell = ServerShell::recovered(std::move(so), rec->image.time_ns, rec->image, out);
    if (!shell.ok()) return shell.status();
    shell_.emplace(std::move(shell).value());
    base_ns_ = rec->image.time_ns;
    shell_->start(base_ns_);
  }
  start_ = Clock::now();
  last_ns_ = base_ns_;
  std::vector<Action> first;
  shell_->take_actions(first);
  MQ_CHECK(first.size() == 1 && std::holds_alternative<act::StartLog>(first[0]));
  auto wal = Wal::start(*storage_, options_.wal, std::get<act::StartLog>(first[0]).image);
  if (!wal.ok()) return wal.status();
  wal_.emplace(std::move(wal).value());
  shell_->log_started(now(lk), Status());
  if (!options_.data_dir.empty()) {
    for (ConsumerId c = 0; c < config_.consumers.size(); ++c) shell_->request(now(lk), next_conn_++, req::Hello{who(c)});
  }
  Callbacks cbs;
  drain(lk, cbs);
  MQ_CHECK(cbs.empty());
  return Status();
}

void Broker::start_threads() {
  started_ = true;
  commit_thread_ = std::thread([this] { commit_loop(); });
  timer_thread_ = std::thread([this] { timer_loop(); });
  for (uint32_t k = 0; k < options_.worker_threads; ++k) workers_.emplace_back([this] { worker_loop(); });
}

void Broker::close() {
  std::lock_guard<std::mutex> serial(close_mu_);
  {
    Lock lk(mu_);
    if (closed_) return;
    if (!started_) {  // open() failed: no shell, no threads; only the directory to release
      closed_ = true;
      wal_.reset();
      storage_.reset();
      return;
    }
    closing_ = true;
    changed_cv_.notify_all();
    work_cv_.notify_all();
  }
  // Workers settle what they hold before the log's final syncs.
  for (std::thread& w : workers_) {
    if (w.joinable()) w.join();
  }
  {
    Lock lk(mu_);
    // Bounded: nothing new is submitted; each commit completes or breaks the log.
    changed_cv_.wait(lk, [&] { return !broken_.ok() || (disk_jobs_.empty() && shell_->settled()); });
    stopped_ = true;
    commit_cv_.notify_all();
    timer_cv_.notify_all();
  }
  if (commit_thread_.joinable()) commit_thread_.join();
  if (timer_thread_.joinable()) timer_thread_.join();
  Lock lk(mu_);
  closed_ = true;
  wal_.reset();
  storage_.reset();  // unlocks the directory
}

// ---- driving the shell (mu_ held) ----

TimeNs Broker::now(const Lock&) {
  const TimeNs t = base_ns_ + std::chrono::duration_cast<Duration>(Clock::now() - start_).count();
  last_ns_ = std::max(last_ns_, t);
  return last_ns_;
}

Status Broker::check_open(const Lock&) const {
  if (!broken_.ok()) return broken_;
  if (closing_) return unavailable("the broker is closed");
  return Status();
}

Status Broker::check_target(ProducerId p, QueueId q) const {
  if (p >= config_.producers.size()) return not_found("unknown producer #" + std::to_string(p));
  if (q >= config_.queues.size()) return not_found("unknown queue #" + std::to_string(q));
  return Status();
}

Status Broker::check_spec(QueueId q, const MessageSpec& spec) const {
  const QueueOptions& o = config_.queues[q];
  if (spec.priority >= o.priority_levels) {
    return invalid_argument("queue '" + o.name + "', message #" + std::to_string(spec.id) + ": priority " +
                            std::to_string(spec.priority) + " out of range");
  }
  if (spec.ttl_ns < 0 || spec.delay_ns < 0) {
    return invalid_argument("queue '" + o.name + "', message #" + std::to_string(spec.id) + ": negative ttl or delay");
  }
  return Status();
}

// A peek at the core: a publish submitted now would find no room.
bool Broker::full(const Lock&, QueueId q) const {
  const QueueOptions& o = config_.queues[q];
  return o.overflow == OverflowPolicy::kRejectPublish && shell_->core().size(q) >= o.capacity;
}

ConnId Broker::submit(Lock& lk, TimeNs at, Request r) { return submit(lk, at, std::move(r), Call{}); }

ConnId Broker::submit(Lock&, TimeNs at, Request r, Call call) {
  const ConnId conn = next_conn_++;
  calls_.emplace(conn, std::move(call));
  shell_->request(at, conn, std::move(r));
  return conn;
}

Result<Response> Broker::await(Lock& lk, ConnId conn) {
  auto it = calls_.find(conn);
  MQ_CHECK(it != calls_.end());
  // Bounded by the shell: it answers every request once its outputs are released,
  // or the log breaks (and broke() wakes this).
  answered_cv_.wait(lk, [&] { return it->second.answer.has_value() || !broken_.ok(); });
  if (!it->second.answer) {
    calls_.erase(it);
    return broken_;
  }
  Response r = std::move(*it->second.answer);
  calls_.erase(it);
  return r;
}

void Broker::drain(Lock& lk, Callbacks& cbs) {
  std::vector<Action> batch;
  // Bounded: each round carries out what the shell asked since the last.
  for (size_t round = 0; shell_->has_actions(); ++round) {
    MQ_CHECK(round < (size_t{1} << 32));
    batch.clear();
    shell_->take_actions(batch);
    for (Action& a : batch) perform(lk, a, cbs);
  }
}

void Broker::perform(Lock& lk, Action& a, Callbacks& cbs) {
  std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, act::Reply>) {
          answer(lk, x, cbs);
        } else if constexpr (std::is_same_v<T, act::WriteLog>) {
          disk_jobs_.push_back(DiskJob{false, std::move(x.batch), {}});
          commit_cv_.notify_one();
        } else if constexpr (std::is_same_v<T, act::WriteCheckpoint>) {
          disk_jobs_.push_back(DiskJob{true, {}, std::move(x.image)});
          commit_cv_.notify_one();
        } else if constexpr (std::is_same_v<T, act::StartLog>) {
          MQ_CHECK_MSG(false, "the embedded broker starts its log once, in open()");
        } else if constexpr (std::is_same_v<T, act::SetTimer>) {
          timers_.push(TimerEntry{x.at_ns, ++timer_seq_, x.id});
          timer_cv_.notify_one();
        } else if constexpr (std::is_same_v<T, act::Committed>) {
          observe(x);
        } else if constexpr (std::is_same_v<T, act::Noted>) {
          // The embedded broker writes no notes.
        } else if constexpr (std::is_same_v<T, act::CommitSoon>) {
          MQ_CHECK_MSG(false, "the embedded broker's shell starts each group commit at once (no defer_commit)");
        } else {
          static_assert(std::is_same_v<T, act::Fail>);
          broke(lk, x.why, cbs);
        }
      },
      a);
}

void Broker::answer(Lock&, act::Reply& r, Callbacks& cbs) {
  auto it = calls_.find(r.to);
  if (it == calls_.end()) return;  // nobody waits (the attaches of open())
  if (it->second.done) {
    cbs.emplace_back(std::move(it->second.done), confirm_of(r.response));
    --unconfirmed_[it->second.producer];
    calls_.erase(it);
    changed_cv_.notify_all();
    return;
  }
  it->second.answer = std::move(r.response);
  answered_cv_.notify_all();
}

// Wakes whoever waits for what a released command changed.
void Broker::observe(const act::Committed& c) {
  bool changed = false;
  for (const Effect& e : c.effects) {
    if (e.kind == EffectKind::kTimer) continue;
    if (frees_room(e.kind)) ++room_gen_[e.queue], changed = true;
    if (e.kind == EffectKind::kDelivered) ++ready_gen_[e.consumer], changed = true;
  }
  if (!changed) return;
  changed_cv_.notify_all();
  work_cv_.notify_all();
}

// The log failed: the shell dropped what it had not released; every caller waiting
// for it learns the outcome is unknown.
void Broker::broke(Lock&, const Status& why, Callbacks& cbs) {
  if (broken_.ok()) broken_ = why;
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.done && !it->second.answer) {
      cbs.emplace_back(std::move(it->second.done), broken_);
      --unconfirmed_[it->second.producer];
      it = calls_.erase(it);
    } else {
      ++it;
    }
  }
  answered_cv_.notify_all();
  changed_cv_.notify_all();
  work_cv_.notify_all();
}

void Broker::run_callbacks(Lock& lk, Callbacks& cbs) {
  if (cbs.empty()) return;
  lk.unlock();
  for (auto& [fn, result] : cbs) fn(std::move(result));
  cbs.clear();
  lk.lock();
}

Result<Confirm> Broker::confirm_of(const Response& r) const {
  if (const auto* p = std::get_if<resp::Published>(&r)) {
    switch (p->outcome) {
      case PublishOutcome::kStored: return Confirm::kStored;
      case PublishOutcome::kDuplicate: return Confirm::kDuplicate;
      case PublishOutcome::kFull: return Confirm::kFull;
      case PublishOutcome::kRefused: return invalid_argument(p->reason);
      case PublishOutcome::kNoSpace: return broken_.ok() ? io_error(p->reason) : broken_;
    }
  }
  if (const auto* e = std::get_if<resp::Error>(&r)) return Status(e->code, e->message);
  return failed_precondition("unexpected answer to a publish");
}

}  // namespace mq::impl

// ---- publishing ----

namespace mq::impl {

Result<Confirm> Broker::publish_one(ProducerId p, QueueId q, MessageSpec spec,
                                    std::optional<Clock::time_point> deadline) {
  MQ_RETURN_IF_ERROR(check_target(p, q));
  MQ_RETURN_IF_ERROR(check_spec(q, spec));
  Lock lk(mu_);
  // Bounded by the deadline: each round publishes, or waits for room to be freed.
  for (;;) {
    MQ_RETURN_IF_ERROR(check_open(lk));
    const uint64_t gen = room_gen_[q];
    Callbacks cbs;
    const ConnId conn = submit(lk, now(lk), req::Publish{p, false, q, spec});
    drain(lk, cbs);
    run_callbacks(lk, cbs);
    auto r = await(lk, conn);
    if (!r.ok()) return r.status();
    auto c = confirm_of(*r);
    if (!c.ok() || *c != Confirm::kFull || !deadline) return c;
    const bool room = changed_cv_.wait_until(lk, *deadline, [&] {
      return room_gen_[q] != gen || closing_ || !broken_.ok();
    });
    if (!room) return Confirm::kFull;
  }
}

Result<Confirm> Broker::publish(ProducerId p, QueueId q, MessageSpec spec, Duration timeout) {
  return publish_one(p, q, std::move(spec), deadline_after(timeout));
}

Result<Confirm> Broker::try_publish(ProducerId p, QueueId q, MessageSpec spec) {
  return publish_one(p, q, std::move(spec), std::nullopt);
}

// Runs of publishes submitted under one lock acquisition while the queue has room
// (a peek at the core says so, and a submitted publish runs at once); the run's
// confirms come after one sync.
Result<size_t> Broker::publish_batch(ProducerId p, QueueId q, std::span<MessageSpec> specs, Duration timeout) {
  MQ_RETURN_IF_ERROR(check_target(p, q));
  for (const MessageSpec& s : specs) MQ_RETURN_IF_ERROR(check_spec(q, s));
  const auto deadline = deadline_after(timeout);
  // Under drop-oldest a publish can be refused with room (everything in flight):
  // one at a time, so that what is confirmed stays a prefix.
  const bool one_at_a_time = config_.queues[q].overflow != OverflowPolicy::kRejectPublish;
  Lock lk(mu_);
  size_t done = 0;
  // Bounded by the deadline: a round confirms at least one message or waits for room.
  while (done < specs.size()) {
    const Status open = check_open(lk);
    if (!open.ok()) {
      if (done == 0) return open;
      break;
    }
    const uint64_t gen = room_gen_[q];
    std::vector<ConnId> conns;
    const TimeNs at = now(lk);  // one clock reading for the run, submitted at one instant
    for (size_t k = done; k < specs.size() && !full(lk, q); ++k) {
      conns.push_back(submit(lk, at, req::Publish{p, false, q, std::move(specs[k])}));
      if (one_at_a_time) break;
    }
    Callbacks cbs;
    drain(lk, cbs);
    run_callbacks(lk, cbs);
    size_t confirmed = 0;
    bool prefix = true;  // every answer so far a confirm
    Status error;
    for (ConnId conn : conns) {
      auto r = await(lk, conn);
      auto c = r.ok() ? confirm_of(*r) : Result<Confirm>(r.status());
      if (!c.ok() && error.ok()) error = c.status();
      prefix = prefix && c.ok() && *c != Confirm::kFull;
      if (prefix) ++confirmed;
    }
    done += confirmed;
    if (!error.ok()) {
      if (done == 0) return error;
      break;
    }
    if (confirmed < conns.size()) break;  // refused with room: the run ends there
    if (!conns.empty()) continue;
    if (!changed_cv_.wait_until(lk, deadline, [&] { return room_gen_[q] != gen || closing_ || !broken_.ok(); })) {
      break;
    }
  }
  return done;
}

Result<std::vector<Confirm>> Broker::publish_topic(ProducerId p, TopicId t, MessageSpec spec) {
  if (t >= config_.topics.size()) return not_found("unknown topic #" + std::to_string(t));
  if (p >= config_.producers.size()) return not_found("unknown producer #" + std::to_string(p));
  std::vector<QueueId> bound;
  for (const std::string& name : config_.topics[t].queues) bound.push_back(*config_.find_queue(name));
  for (QueueId q : bound) MQ_RETURN_IF_ERROR(check_spec(q, spec));
  Lock lk(mu_);
  MQ_RETURN_IF_ERROR(check_open(lk));
  Callbacks cbs;
  const ConnId conn = submit(lk, now(lk), req::Publish{p, true, t, std::move(spec)});
  drain(lk, cbs);
  run_callbacks(lk, cbs);
  auto r = await(lk, conn);
  if (!r.ok()) return r.status();
  const auto* pub = std::get_if<resp::Published>(&*r);
  if (pub == nullptr || pub->outcome == PublishOutcome::kRefused || pub->outcome == PublishOutcome::kNoSpace) {
    return confirm_of(*r).status();
  }
  std::vector<Confirm> confirms(bound.size(), Confirm::kStored);
  for (const QueueOutcome& o : pub->queues) {
    const auto at = static_cast<size_t>(std::find(bound.begin(), bound.end(), o.queue) - bound.begin());
    if (at == bound.size()) continue;
    if (o.outcome == PublishOutcome::kFull) confirms[at] = Confirm::kFull;
    if (o.outcome == PublishOutcome::kDuplicate) confirms[at] = Confirm::kDuplicate;
  }
  return confirms;
}

Status Broker::publish_async(ProducerId p, QueueId q, MessageSpec spec, ConfirmFn done) {
  MQ_RETURN_IF_ERROR(check_target(p, q));
  MQ_RETURN_IF_ERROR(check_spec(q, spec));
  Lock lk(mu_);
  changed_cv_.wait(lk, [&] { return unconfirmed_[p] < options_.max_unconfirmed || closing_ || !broken_.ok(); });
  MQ_RETURN_IF_ERROR(check_open(lk));
  ++unconfirmed_[p];
  Callbacks cbs;
  submit(lk, now(lk), req::Publish{p, false, q, std::move(spec)}, Call{std::nullopt, std::move(done), p, q});
  drain(lk, cbs);
  run_callbacks(lk, cbs);
  return Status();
}

}  // namespace mq::impl

// ---- consuming ----

namespace mq::impl {

// What the consumer's outbox holds now, up to max (the shell answers once the
// outputs before the request are out).
Result<std::vector<Delivery>> Broker::fetch_now(Lock& lk, ConsumerId c, size_t max) {
  Callbacks cbs;
  const auto n = static_cast<uint32_t>(std::min<size_t>(max, UINT32_MAX));
  const ConnId conn = submit(lk, now(lk), req::Fetch{who(c), n, 0});
  drain(lk, cbs);
  run_callbacks(lk, cbs);
  auto r = await(lk, conn);
  if (!r.ok()) return r.status();
  if (auto* f = std::get_if<resp::Fetched>(&*r)) return std::move(f->deliveries);
  if (const auto* e = std::get_if<resp::Error>(&*r)) return Status(e->code, e->message);
  return failed_precondition("unexpected answer to a fetch");
}

Result<std::optional<Delivery>> Broker::fetch(ConsumerId c, Duration timeout) {
  auto batch = fetch_batch(c, 1, timeout);
  if (!batch.ok()) return batch.status();
  if (batch->empty()) return std::optional<Delivery>();
  return std::optional<Delivery>(std::move(batch.value().front()));
}

Result<std::vector<Delivery>> Broker::fetch_batch(ConsumerId c, size_t max, Duration timeout) {
  if (c >= config_.consumers.size()) return not_found("unknown consumer #" + std::to_string(c));
  const auto deadline = deadline_after(timeout);
  Lock lk(mu_);
  // Bounded by the deadline: each round takes deliveries, or waits for one to be made.
  for (;;) {
    MQ_RETURN_IF_ERROR(check_open(lk));
    if (max == 0) return std::vector<Delivery>();
    const uint64_t gen = ready_gen_[c];
    auto got = fetch_now(lk, c, max);
    if (!got.ok() || !got->empty()) return got;
    const bool delivered = changed_cv_.wait_until(lk, deadline, [&] {
      return ready_gen_[c] != gen || closing_ || !broken_.ok();
    });
    if (!delivered) return std::vector<Delivery>();
  }
}

Status Broker::settle(ConsumerId c, MessageId id, Disposition d) {
  if (c >= config_.consumers.size()) return not_found("unknown consumer #" + std::to_string(c));
  Lock lk(mu_);
  if (!broken_.ok()) return broken_;
  if (stopped_) return unavailable("the broker is closed");
  Callbacks cbs;
  const ConnId conn =
      submit(lk, now(lk), req::Settle{who(c), id, d != Disposition::kAck, d == Disposition::kRequeue});
  drain(lk, cbs);
  run_callbacks(lk, cbs);
  auto r = await(lk, conn);
  if (!r.ok()) return r.status();
  if (const auto* s = std::get_if<resp::Settled>(&*r)) return s->ok ? Status() : failed_precondition(s->reason);
  if (const auto* e = std::get_if<resp::Error>(&*r)) return Status(e->code, e->message);
  return failed_precondition("unexpected answer to an ack");
}

Status Broker::ack(ConsumerId c, MessageId id) { return settle(c, id, Disposition::kAck); }

Status Broker::ack_batch(ConsumerId c, std::span<const MessageId> ids) {
  if (c >= config_.consumers.size()) return not_found("unknown consumer #" + std::to_string(c));
  Lock lk(mu_);
  if (!broken_.ok()) return broken_;
  if (stopped_) return unavailable("the broker is closed");
  std::vector<ConnId> conns;
  const TimeNs at = now(lk);  // one clock reading for the batch
  for (MessageId id : ids) conns.push_back(submit(lk, at, req::Settle{who(c), id, false, true}));
  Callbacks cbs;
  drain(lk, cbs);
  run_callbacks(lk, cbs);
  Status first;
  for (ConnId conn : conns) {
    auto r = await(lk, conn);
    Status s = r.status();
    if (r.ok()) {
      const auto* settled = std::get_if<resp::Settled>(&*r);
      s = settled != nullptr && settled->ok ? Status() : failed_precondition(settled ? settled->reason : "ack");
    }
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status Broker::nack(ConsumerId c, MessageId id, bool requeue) {
  return settle(c, id, requeue ? Disposition::kRequeue : Disposition::kReject);
}

Status Broker::subscribe(ConsumerId c, Handler handler) {
  if (c >= config_.consumers.size()) return not_found("unknown consumer #" + std::to_string(c));
  if (options_.worker_threads == 0) return failed_precondition("subscribe: the broker has no worker threads");
  Lock lk(mu_);
  MQ_RETURN_IF_ERROR(check_open(lk));
  for (const Subscription& s : subs_) {
    if (s.consumer == c) {
      return failed_precondition("subscribe: consumer '" + config_.consumers[c].name + "' is subscribed");
    }
  }
  subs_.push_back(Subscription{c, std::move(handler)});
  work_cv_.notify_all();
  return Status();
}

QueueStats Broker::stats(QueueId q) {
  MQ_CHECK(q < config_.queues.size());
  Lock lk(mu_);
  return shell_->core().stats(q);
}

}  // namespace mq::impl

// ---- threads ----

namespace mq::impl {

// The shell's log writes, one at a time, outside the lock.
void Broker::commit_loop() {
  Lock lk(mu_);
  // Bounded: it ends once stopped and drained; close() stops it.
  for (;;) {
    commit_cv_.wait(lk, [&] { return stopped_ || !disk_jobs_.empty(); });
    if (disk_jobs_.empty()) return;
    DiskJob job = std::move(disk_jobs_.front());
    disk_jobs_.pop_front();
    lk.unlock();
    const Status s = job.checkpoint ? wal_->checkpoint(job.image) : wal_->write(std::move(job.batch));
    lk.lock();
    shell_->synced(now(lk), s);
    Callbacks cbs;
    drain(lk, cbs);
    changed_cv_.notify_all();  // close() waits for the log to settle
    run_callbacks(lk, cbs);
  }
}

void Broker::timer_loop() {
  Lock lk(mu_);
  // Bounded: it ends at close(); each round waits or fires due timers.
  while (!stopped_) {
    if (timers_.empty()) {
      timer_cv_.wait(lk);
      continue;
    }
    const auto wake_at = start_ + Duration(timers_.top().at_ns - base_ns_);
    if (Clock::now() < wake_at) {
      timer_cv_.wait_until(lk, wake_at);
      continue;
    }
    const TimeNs t = now(lk);
    // Bounded by the heap: each round pops one.
    while (!timers_.empty() && timers_.top().at_ns <= t) {
      const TimerId id = timers_.top().id;
      timers_.pop();
      shell_->timer(t, id);
    }
    Callbacks cbs;
    drain(lk, cbs);
    run_callbacks(lk, cbs);
  }
}

void Broker::worker_loop() {
  Lock lk(mu_);
  // Bounded: it ends at close(); each round handles one delivery or waits.
  while (!closing_ && broken_.ok()) {
    uint64_t seen = 0;
    for (uint64_t g : ready_gen_) seen += g;
    std::optional<std::pair<size_t, Delivery>> work;
    // Round-robin over the subscriptions: the first with a delivery waiting.
    for (size_t k = 0; k < subs_.size() && !work; ++k) {
      const size_t at = (next_sub_ + k) % subs_.size();
      auto got = fetch_now(lk, subs_[at].consumer, 1);
      if (got.ok() && !got->empty()) {
        next_sub_ = at + 1;
        work.emplace(at, std::move(got->front()));
      }
    }
    if (!work) {
      work_cv_.wait(lk, [&] {
        uint64_t now_seen = 0;
        for (uint64_t g : ready_gen_) now_seen += g;
        return now_seen != seen || closing_ || !broken_.ok();
      });
      continue;
    }
    const Subscription& sub = subs_[work->first];  // a deque: stable while others subscribe
    lk.unlock();
    const Disposition d = sub.handler(work->second);
    const ConsumerId c = work->second.consumer;
    // It may fail (the visibility timeout took the message back): nothing to do.
    if (config_.consumers[c].ack_mode == AckMode::kManual) (void)settle(c, work->second.message.id, d);
    lk.lock();
  }
}

}  // namespace mq::impl
