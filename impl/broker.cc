#include "impl/broker.h"

#include <algorithm>

#include "impl/file_storage.h"

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

std::chrono::steady_clock::time_point deadline_after(Duration timeout) {
  return std::chrono::steady_clock::now() + std::clamp(timeout, Duration::zero(), kMaxTimeout);
}

// After these a consumer of the queue may find something ready.
bool makes_ready(const Effect& e) {
  switch (e.kind) {
    case EffectKind::kAccepted: return e.message.not_before_ns <= e.message.timestamp_ns;
    case EffectKind::kReleased:
    case EffectKind::kRequeued: return true;
    default: return false;
  }
}

// After these the queue holds one message fewer: a waiting publisher may go on.
bool frees_room(EffectKind kind) {
  switch (kind) {
    case EffectKind::kAcked:
    case EffectKind::kExpired:
    case EffectKind::kDeadLettered:
    case EffectKind::kLost:
    case EffectKind::kDropped: return true;
    default: return false;
  }
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

}  // namespace

// ---- lifecycle ----

Result<std::unique_ptr<Broker>> Broker::open(BrokerOptions options) {
  MQ_RETURN_IF_ERROR(check_options(options));
  auto core = BrokerCore::create(options.config);
  if (!core.ok()) return core.status();
  std::unique_ptr<Broker> b(new Broker(std::move(options), std::move(core).value()));
  MQ_RETURN_IF_ERROR(b->recover_and_start());
  b->start_threads();
  return b;
}

Broker::Broker(BrokerOptions options, BrokerCore core)
    : config_(options.config), options_(std::move(options)), core_(std::move(core)) {
  for (size_t q = 0; q < config_.queues.size(); ++q) waits_.push_back(std::make_unique<QueueWaits>());
  touched_.assign(config_.queues.size(), 0);
  unconfirmed_.assign(config_.producers.size(), 0);
  for (const ConsumerOptions& c : config_.consumers) consumer_queue_.push_back(*config_.find_queue(c.queue));
}

Broker::~Broker() { close(); }

Status Broker::recover_and_start() {
  Lock lk(mu_);
  Effects& out = scratch_;
  if (!options_.data_dir.empty()) {
    auto storage = FileStorage::open(options_.data_dir);
    if (!storage.ok()) return storage.status();
    storage_ = std::move(storage).value();
    auto rec = Wal::recover(*storage_, config_, options_.wal);
    if (!rec.ok()) return rec.status();
    // The broker was last known alive at the image's time; time continues from it.
    MQ_RETURN_IF_ERROR(core_.restore(rec->image.time_ns, rec->image, out));
    // The new generation's checkpoint holds the restored state, so the records of
    // what restore() did (requeues, expiries) need not be written.
    auto wal = Wal::start(*storage_, options_.wal, core_.durable_image());
    if (!wal.ok()) return wal.status();
    wal_.emplace(std::move(wal).value());
    for (ConsumerId c = 0; c < config_.consumers.size(); ++c) MQ_CHECK(core_.attach(core_.now(), c, out).ok());
  }
  out.clear();
  deadline_ns_ = core_.next_deadline().value_or(kNoDeadline);
  base_ns_ = core_.now();
  start_ = Clock::now();
  return Status();
}

void Broker::start_threads() {
  if (wal_) commit_thread_ = std::thread([this] { commit_loop(); });
  timer_thread_ = std::thread([this] { timer_loop(); });
  for (uint32_t k = 0; k < options_.worker_threads; ++k) workers_.emplace_back([this] { worker_loop(); });
}

void Broker::close() {
  std::lock_guard<std::mutex> serial(close_mu_);
  {
    Lock lk(mu_);
    if (closed_) return;
    closing_ = true;
    wake_all(lk);
  }
  // Workers settle what they hold before the commit thread's final drain.
  for (std::thread& w : workers_) {
    if (w.joinable()) w.join();
  }
  {
    Lock lk(mu_);
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

// ---- helpers (mu_ held) ----

TimeNs Broker::now(const Lock&) const {
  const TimeNs t = base_ns_ + std::chrono::duration_cast<Duration>(Clock::now() - start_).count();
  return std::max(t, core_.now());
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

bool Broker::full(const Lock&, QueueId q) const {
  const QueueOptions& o = config_.queues[q];
  return o.overflow == OverflowPolicy::kRejectPublish && core_.size(q) >= o.capacity;
}

uint64_t Broker::durable_lsn(const Lock&, QueueId q) const {
  return config_.queues[q].durable ? wal_->added_lsn() : 0;
}

bool Broker::wait_room(Lock& lk, QueueId q, Clock::time_point deadline) {
  QueueWaits& w = *waits_[q];
  ++w.room_waiters;
  const bool ok = w.room.wait_until(lk, deadline, [&] { return closing_ || !broken_.ok() || !full(lk, q); });
  --w.room_waiters;
  return ok;
}

bool Broker::wait_ready(Lock& lk, QueueId q, Clock::time_point deadline) {
  QueueWaits& w = *waits_[q];
  const uint64_t seen = w.ready_gen;
  ++w.ready_waiters;
  const bool ok = w.ready.wait_until(lk, deadline, [&] { return closing_ || !broken_.ok() || w.ready_gen != seen; });
  --w.ready_waiters;
  return ok;
}

void Broker::wake_all(const Lock&) {
  for (auto& w : waits_) {
    w->room.notify_all();
    w->ready.notify_all();
  }
  synced_cv_.notify_all();
  confirm_cv_.notify_all();
  work_cv_.notify_all();
  timer_cv_.notify_all();
}

// Wakes each queue's waiters once per command, not once per effect: a batch of a
// thousand publishes makes one notify.
uint64_t Broker::absorb(Lock& lk, Effects& out) {
  bool persist = false;
  for (const Effect& e : out) {
    persist |= e.persist;
    if (e.kind == EffectKind::kTimer) {
      if (e.deadline_ns < deadline_ns_) timer_cv_.notify_one();
      deadline_ns_ = e.deadline_ns;
      continue;
    }
    const uint8_t bits = (makes_ready(e) ? 1 : 0) | (frees_room(e.kind) ? 2 : 0);
    if (bits == 0) continue;
    if (touched_[e.queue] == 0) touched_list_.push_back(e.queue);
    touched_[e.queue] |= bits;
  }
  for (QueueId q : touched_list_) wake(lk, q, touched_[q]), touched_[q] = 0;
  touched_list_.clear();
  if (!persist) return 0;
  const uint64_t lsn = wal_->add(out);
  if (commit_idle_) commit_cv_.notify_one();
  return lsn;
}

void Broker::wake(const Lock&, QueueId q, uint8_t bits) {
  QueueWaits& w = *waits_[q];
  if (bits & 1) {
    ++w.ready_gen;
    if (w.ready_waiters > 0) w.ready.notify_all();
    if (w.subscribers > 0 && idle_workers_ > 0) work_cv_.notify_one();
  }
  if ((bits & 2) && w.room_waiters > 0) w.room.notify_all();
}

Status Broker::wait_synced(Lock& lk, uint64_t lsn) {
  if (lsn <= synced_lsn_) return Status();
  ++sync_waiters_;
  synced_cv_.wait(lk, [&] { return synced_lsn_ >= lsn || !broken_.ok(); });
  --sync_waiters_;
  return synced_lsn_ >= lsn ? Status() : broken_;
}

}  // namespace mq::impl

// ---- publishing ----

namespace mq::impl {

Result<Confirm> Broker::send_locked(Lock& lk, ProducerId p, QueueId q, MessageSpec spec) {
  Effects& out = scratch_;
  out.clear();
  const Status s = core_.send(now(lk), p, q, std::move(spec), out);
  Confirm c = Confirm::kStored;
  // kRefused and kDuplicate come only from the send itself (a time advance before
  // it produces neither).
  for (const Effect& e : out) {
    if (e.kind == EffectKind::kRefused) c = Confirm::kFull;
    if (e.kind == EffectKind::kDuplicate) c = Confirm::kDuplicate;
  }
  absorb(lk, out);
  out.clear();
  if (!s.ok()) return s;
  return c;
}

Result<Confirm> Broker::publish_one(ProducerId p, QueueId q, MessageSpec spec,
                                    std::optional<Clock::time_point> deadline) {
  MQ_RETURN_IF_ERROR(check_target(p, q));
  MQ_RETURN_IF_ERROR(check_spec(q, spec));
  Lock lk(mu_);
  MQ_RETURN_IF_ERROR(check_open(lk));
  if (deadline && full(lk, q)) {
    // Still full after the wait: the send below is refused and says kFull.
    wait_room(lk, q, *deadline);
    MQ_RETURN_IF_ERROR(check_open(lk));
  }
  auto c = send_locked(lk, p, q, std::move(spec));
  if (!c.ok() || *c == Confirm::kFull) return c;
  // A duplicate waits too: the original's record may not be synced yet.
  MQ_RETURN_IF_ERROR(wait_synced(lk, durable_lsn(lk, q)));
  return c;
}

Result<Confirm> Broker::publish(ProducerId p, QueueId q, MessageSpec spec, Duration timeout) {
  return publish_one(p, q, std::move(spec), deadline_after(timeout));
}

Result<Confirm> Broker::try_publish(ProducerId p, QueueId q, MessageSpec spec) {
  return publish_one(p, q, std::move(spec), std::nullopt);
}

// Publishes specs[done..] while the queue has room; returns how many it took.
size_t Broker::send_run(Lock& lk, ProducerId p, QueueId q, std::span<MessageSpec> specs) {
  Effects& out = scratch_;
  out.clear();
  const TimeNs t = now(lk);
  size_t n = 0;
  for (; n < specs.size() && !full(lk, q); ++n) {
    const size_t before = out.size();
    MQ_CHECK(core_.send(t, p, q, std::move(specs[n]), out).ok());  // checked: up, known, valid
    const bool refused = std::any_of(out.begin() + static_cast<ptrdiff_t>(before), out.end(),
                                     [](const Effect& e) { return e.kind == EffectKind::kRefused; });
    if (refused) break;  // drop-oldest with everything in flight
  }
  absorb(lk, out);
  out.clear();
  return n;
}

Result<size_t> Broker::publish_batch(ProducerId p, QueueId q, std::span<MessageSpec> specs, Duration timeout) {
  MQ_RETURN_IF_ERROR(check_target(p, q));
  for (const MessageSpec& s : specs) MQ_RETURN_IF_ERROR(check_spec(q, s));
  const auto deadline = deadline_after(timeout);
  Lock lk(mu_);
  size_t done = 0;
  // Bounded by the deadline: a round publishes at least one message or waits for room.
  while (done < specs.size() && check_open(lk).ok()) {
    if (full(lk, q)) {
      if (!wait_room(lk, q, deadline)) break;
      continue;
    }
    const size_t n = send_run(lk, p, q, specs.subspan(done));
    done += n;
    if (n == 0) break;
  }
  if (done == 0) MQ_RETURN_IF_ERROR(check_open(lk));
  MQ_RETURN_IF_ERROR(wait_synced(lk, durable_lsn(lk, q)));
  return done;
}

Result<std::vector<Confirm>> Broker::publish_topic(ProducerId p, TopicId t, MessageSpec spec) {
  if (t >= config_.topics.size()) return not_found("unknown topic #" + std::to_string(t));
  std::vector<QueueId> bound;
  for (const std::string& name : config_.topics[t].queues) bound.push_back(*config_.find_queue(name));
  for (QueueId q : bound) MQ_RETURN_IF_ERROR(check_spec(q, spec));
  Lock lk(mu_);
  MQ_RETURN_IF_ERROR(check_open(lk));
  Effects& out = scratch_;
  out.clear();
  const Status s = core_.publish(now(lk), p, t, std::move(spec), out);
  std::vector<Confirm> confirms(bound.size(), Confirm::kStored);
  for (const Effect& e : out) {
    const auto at = static_cast<size_t>(std::find(bound.begin(), bound.end(), e.queue) - bound.begin());
    if (at == bound.size()) continue;
    if (e.kind == EffectKind::kRefused) confirms[at] = Confirm::kFull;
    if (e.kind == EffectKind::kDuplicate) confirms[at] = Confirm::kDuplicate;
  }
  absorb(lk, out);
  out.clear();
  if (!s.ok()) return s;
  uint64_t lsn = 0;
  for (QueueId q : bound) lsn = std::max(lsn, durable_lsn(lk, q));
  MQ_RETURN_IF_ERROR(wait_synced(lk, lsn));
  return confirms;
}

Status Broker::publish_async(ProducerId p, QueueId q, MessageSpec spec, ConfirmFn done) {
  MQ_RETURN_IF_ERROR(check_target(p, q));
  MQ_RETURN_IF_ERROR(check_spec(q, spec));
  Lock lk(mu_);
  if (unconfirmed_[p] >= options_.max_unconfirmed) {
    ++confirm_waiters_;
    confirm_cv_.wait(lk, [&] { return unconfirmed_[p] < options_.max_unconfirmed || closing_ || !broken_.ok(); });
    --confirm_waiters_;
  }
  MQ_RETURN_IF_ERROR(check_open(lk));
  auto c = send_locked(lk, p, q, std::move(spec));
  if (!c.ok()) return c.status();
  const uint64_t lsn = durable_lsn(lk, q);
  if (*c == Confirm::kFull || lsn <= synced_lsn_) {
    lk.unlock();
    done(*c);
    return Status();
  }
  ++unconfirmed_[p];
  confirms_.push_back(PendingConfirm{lsn, p, *c, std::move(done)});
  return Status();
}

}  // namespace mq::impl

// ---- consuming ----

namespace mq::impl {

Result<std::optional<Delivery>> Broker::fetch_locked(Lock& lk, TimeNs t, ConsumerId c, uint64_t& lsn) {
  Effects& out = scratch_;
  out.clear();
  const Status s = core_.fetch(t, c, out);
  absorb(lk, out);  // before the message is moved out: the log record needs it
  std::optional<Delivery> d;
  for (Effect& e : out) {
    if (e.kind == EffectKind::kDelivered) d = Delivery{c, e.queue, std::move(e.message)};
  }
  out.clear();
  if (!s.ok()) return s;
  if (d) lsn = std::max(lsn, durable_lsn(lk, d->queue));
  return d;
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
  std::vector<Delivery> got;
  got.reserve(std::min<size_t>(max, 1024));
  uint64_t lsn = 0;
  // Bounded by the deadline: each round delivers, or waits for a new ready message.
  for (;;) {
    MQ_RETURN_IF_ERROR(check_open(lk));
    const TimeNs t = now(lk);  // one clock read per batch
    for (size_t k = 0; k < max; ++k) {
      auto d = fetch_locked(lk, t, c, lsn);
      if (!d.ok()) return d.status();
      if (!d->has_value()) break;
      got.push_back(std::move(**d));
    }
    if (!got.empty() || max == 0) break;
    if (!wait_ready(lk, consumer_queue_[c], deadline)) return got;
  }
  // A consumer sees only what the log cannot forget (see the header).
  MQ_RETURN_IF_ERROR(wait_synced(lk, lsn));
  return got;
}

Status Broker::settle_locked(Lock& lk, TimeNs t, ConsumerId c, MessageId id, Disposition d) {
  if (!broken_.ok()) return broken_;
  if (stopped_) return unavailable("the broker is closed");
  Effects& out = scratch_;
  out.clear();
  const Status s = d == Disposition::kAck ? core_.ack(t, c, id, out)
                                          : core_.nack(t, c, id, d == Disposition::kRequeue, out);
  absorb(lk, out);
  out.clear();
  return s;
}

Status Broker::ack(ConsumerId c, MessageId id) {
  Lock lk(mu_);
  return settle_locked(lk, now(lk), c, id, Disposition::kAck);
}

Status Broker::ack_batch(ConsumerId c, std::span<const MessageId> ids) {
  Lock lk(mu_);
  const TimeNs t = now(lk);
  for (MessageId id : ids) MQ_RETURN_IF_ERROR(settle_locked(lk, t, c, id, Disposition::kAck));
  return Status();
}

Status Broker::nack(ConsumerId c, MessageId id, bool requeue) {
  Lock lk(mu_);
  return settle_locked(lk, now(lk), c, id, requeue ? Disposition::kRequeue : Disposition::kReject);
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
  waits_[consumer_queue_[c]]->subscribers++;
  work_cv_.notify_all();
  return Status();
}

QueueStats Broker::stats(QueueId q) {
  MQ_CHECK(q < config_.queues.size());
  Lock lk(mu_);
  return core_.stats(q);
}

}  // namespace mq::impl

// ---- threads ----

namespace mq::impl {

// Group commit: every record added while the previous sync ran goes in the next.
void Broker::commit_loop() {
  Lock lk(mu_);
  // Bounded: it ends once stopped and drained; close() stops it.
  for (;;) {
    while (wal_->added_lsn() == taken_lsn_ && !stopped_) {
      commit_idle_ = true;
      commit_cv_.wait(lk);
      commit_idle_ = false;
    }
    if (wal_->added_lsn() == taken_lsn_) return;  // stopped and drained
    const bool checkpoint = wal_->checkpoint_due();
    Wal::Batch batch = wal_->take();
    const uint64_t lsn = batch.last_lsn;
    taken_lsn_ = lsn;
    // A checkpoint's image includes the records just taken, which are then dropped.
    std::optional<DurableImage> image;
    if (checkpoint) image = core_.durable_image();
    lk.unlock();
    const Status s = image ? wal_->checkpoint(*image, lsn) : wal_->write(std::move(batch));
    lk.lock();
    finish_commit(lk, s, lsn);
  }
}

void Broker::finish_commit(Lock& lk, const Status& s, uint64_t lsn) {
  if (s.ok()) {
    synced_lsn_ = std::max(synced_lsn_, lsn);
  } else if (broken_.ok()) {
    broken_ = s;
    wake_all(lk);
  }
  if (sync_waiters_ > 0) synced_cv_.notify_all();
  std::vector<PendingConfirm> due;
  while (!confirms_.empty() && (confirms_.front().lsn <= synced_lsn_ || !broken_.ok())) {
    due.push_back(std::move(confirms_.front()));
    confirms_.pop_front();
    --unconfirmed_[due.back().producer];
  }
  if (due.empty()) return;
  if (confirm_waiters_ > 0) confirm_cv_.notify_all();
  const uint64_t synced = synced_lsn_;
  const Status broken = broken_;
  lk.unlock();
  for (PendingConfirm& c : due) {
    c.done(c.lsn <= synced ? Result<Confirm>(c.confirm) : Result<Confirm>(broken));
  }
  lk.lock();
}

void Broker::timer_loop() {
  Lock lk(mu_);
  Effects out;
  // Bounded: it ends at close(); each round waits or fires due timers.
  while (!closing_) {
    if (deadline_ns_ == kNoDeadline) {
      timer_cv_.wait(lk);
      continue;
    }
    const auto wake_at = start_ + Duration(deadline_ns_ - base_ns_);
    if (Clock::now() < wake_at) {
      timer_cv_.wait_until(lk, wake_at);
      continue;
    }
    out.clear();
    MQ_CHECK(core_.tick(now(lk), out).ok());
    absorb(lk, out);
    deadline_ns_ = core_.next_deadline().value_or(kNoDeadline);
  }
}

void Broker::worker_loop() {
  Lock lk(mu_);
  // Bounded: it ends at close(); each round handles one delivery or waits.
  while (!closing_ && broken_.ok()) {
    uint64_t lsn = 0;
    auto work = next_work(lk, lsn);
    if (!work) {
      ++idle_workers_;
      work_cv_.wait(lk);
      --idle_workers_;
      continue;
    }
    if (!wait_synced(lk, lsn).ok()) return;
    const Subscription& sub = subs_[work->first];  // a deque: stable while others subscribe
    lk.unlock();
    const Disposition d = sub.handler(work->second);
    lk.lock();
    const ConsumerId c = work->second.consumer;
    if (config_.consumers[c].ack_mode == AckMode::kManual) {
      // It may fail (the visibility timeout took the message back): nothing to do.
      (void)settle_locked(lk, now(lk), c, work->second.message.id, d);
    }
  }
}

// Round-robin over the subscriptions: the first that gets a message.
std::optional<std::pair<size_t, Delivery>> Broker::next_work(Lock& lk, uint64_t& lsn) {
  for (size_t k = 0; k < subs_.size(); ++k) {
    const size_t at = (next_sub_ + k) % subs_.size();
    auto d = fetch_locked(lk, now(lk), subs_[at].consumer, lsn);
    if (d.ok() && d->has_value()) {
      next_sub_ = at + 1;
      return std::make_pair(at, std::move(**d));
    }
  }
  return std::nullopt;
}

}  // namespace mq::impl
