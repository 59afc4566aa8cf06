#include "sim/broker_node.h"

#include <type_traits>
#include <variant>

#include "sim/translate.h"

namespace mq::sim {
namespace {

impl::BrokerCore make_core(const impl::BrokerConfig& config) {
  auto core = impl::BrokerCore::create(config);
  MQ_CHECK_MSG(core.ok(), "a validated topology makes a valid broker config");
  return std::move(core).value();
}

bool finishes(EffectKind k) {
  return k == EffectKind::kAcked || k == EffectKind::kExpired || k == EffectKind::kDeadLettered ||
         k == EffectKind::kLost;
}

uint32_t le32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (size_t k = 4; k-- > 0;) v = (v << 8) | static_cast<uint8_t>(s[at + k]);
  return v;
}

// Frame header: u32 length, u32 crc (docs/durability.md); the segment magic first.
constexpr size_t kFrameHeader = 8;
constexpr size_t kMagicBytes = 8;

}  // namespace

BrokerNode::BrokerNode(const Scenario& scenario, BrokerNodeOptions options, uint64_t disk_seed, SimQueue& queue,
                       Network& network, HistoryRecorder& recorder)
    : scenario_(scenario), options_(options), queue_(queue), network_(network), recorder_(recorder),
      disk_prng_(disk_seed), config_(to_broker_config(scenario.topology)), core_(make_core(config_)),
      session_(scenario.topology.consumers.size(), 1), last_heard_(scenario.topology.consumers.size(), 0) {
  wal_options_.segment_bytes = scenario.disk.segment_bytes;
  wal_options_.checkpoint_bytes = scenario.disk.checkpoint_bytes;
  auto wal = impl::Wal::start(disk_, wal_options_, core_->durable_image());
  MQ_CHECK_MSG(wal.ok(), "an empty simulated disk takes the first checkpoint");
  wal_.emplace(std::move(wal).value());
  if (options_.shadow) shadow_.emplace(scenario.topology);
  // Each dispatch delivers one message, so one eager round delivers at most what the
  // queues hold; one more try per queue sees that nothing is left.
  for (const auto& q : scenario.topology.queues) {
    dispatch_bound_ += q.capacity + 1;
    durable_.push_back(q.durable);
  }
  volatile_ids_.resize(durable_.size());
  queue_.push(scenario.clients.heartbeat_ns, Wake{kBrokerEndpoint, kSessionCheck, 0});
}

Endpoint BrokerNode::consumer_endpoint(ConsumerId c) const {
  return static_cast<Endpoint>(1 + scenario_.topology.producers.size() + c);
}

Status BrokerNode::run_core(const Op& op, TimeNs now, impl::Effects& out) {
  return apply_to_core(*core_, op, now, out);
}

// The time advance first (its own step), then the command at the same time. Both
// add their records to the log now; their outputs wait for the sync (emit).
Result<Effects> BrokerNode::execute(const Op& op) {
  MQ_CHECK(up_ && core_ && wal_);
  const TimeNs now = queue_.now();
  impl::Effects tick_effects;
  const Status ticked = core_->tick(now, tick_effects);
  MQ_CHECK_MSG(ticked.ok(), "virtual time never goes backwards");
  wal_->add(tick_effects);
  Result<Effects> advanced = to_model_result(ticked, tick_effects);
  ++stats_.commands;
  corrupt(advanced);
  const bool only_advance = std::holds_alternative<op::Advance>(op);
  Output tick;
  tick.lsn = wal_->added_lsn();
  tick.tick = true;
  tick.op = op::Advance{now};
  tick.at_ns = now;
  tick.result = only_advance ? advanced : std::move(advanced);
  emit(std::move(tick));
  if (only_advance) {
    start_commit();
    return advanced;
  }
  impl::Effects effects;
  const Status s = run_core(op, now, effects);
  wal_->add(effects);
  Result<Effects> result = to_model_result(s, effects);
  ++stats_.commands;
  corrupt(result);
  Output out;
  out.lsn = wal_->added_lsn();
  out.op = op;
  out.at_ns = now;
  out.result = result;
  if (result.ok()) {
    for (const auto& e : *result) {
      if (e.kind != EffectKind::kDelivered) continue;
      ++stats_.pushes;
      out.sends.emplace_back(consumer_endpoint(e.consumer), Push{session_[e.consumer], e.message});
    }
  }
  emit(std::move(out));
  start_commit();
  return result;
}

void BrokerNode::corrupt(Result<Effects>& result) {
  if (options_.corrupt_step == 0 || corrupted_ || stats_.commands < options_.corrupt_step) return;
  if (!result.ok() || result->empty()) return;
  result.value()[0].message.attempts += 1;
  corrupted_ = true;
}

// ---- output commit ----

void BrokerNode::emit(Output out) {
  if (outputs_.empty() && (out.nemesis || out.lsn <= synced_lsn_)) return release(out);
  outputs_.push_back(std::move(out));
}

// The packet goes with the command executed last: now if its outputs are out, else
// when they are released.
void BrokerNode::send_after(Endpoint to, Packet packet) {
  if (outputs_.empty()) return network_.send(kBrokerEndpoint, to, std::move(packet));
  outputs_.back().sends.emplace_back(to, std::move(packet));
}

void BrokerNode::note_fault(EventF f, const std::string& node) {
  Output out;
  out.nemesis = true;
  out.fault = f;
  out.node = node;
  out.at_ns = queue_.now();
  emit(std::move(out));
}

void BrokerNode::release(Output& out) {
  released_ns_ = std::max(released_ns_, out.at_ns);
  if (out.fault) return recorder_.record_fault(*out.fault, out.node, out.at_ns);
  if (shadow_) {
    if (out.tick) {
      shadow_->advance(out.at_ns, out.result);
    } else {
      shadow_->apply(out.op, out.result);
    }
  }
  recorder_.record(out.op, out.result, out.at_ns);
  if (out.result.ok()) track(*out.result, out.at_ns);
  for (auto& [to, packet] : out.sends) network_.send(kBrokerEndpoint, to, std::move(packet));
}

void BrokerNode::release_ready() {
  while (!outputs_.empty() && (outputs_.front().nemesis || outputs_.front().lsn <= synced_lsn_)) {
    release(outputs_.front());
    outputs_.pop_front();
  }
}

// Group commit: one write in flight; it takes every record added so far.
void BrokerNode::start_commit() {
  if (writing_ || !wal_ || !up_ || wal_->added_lsn() == synced_lsn_) return;
  writing_ = wal_->take();
  const TimeNs latency = scenario_.disk.latency_ns.draw(disk_prng_);
  queue_.push(queue_.now() + latency, Wake{kBrokerEndpoint, kCommitDone, ++commit_token_});
}

void BrokerNode::finish_commit(uint64_t token) {
  if (token != commit_token_ || !writing_ || !up_) return;
  impl::Wal::Batch batch = std::move(*writing_);
  writing_.reset();
  const uint64_t bytes = batch.bytes.size();
  const uint64_t last = batch.last_lsn;
  Status s = wal_->write(std::move(batch));
  if (!s.ok()) return fail_stop(s);
  ++disk_stats_.commits;
  disk_stats_.records += last - synced_lsn_;
  disk_stats_.bytes += bytes;
  synced_lsn_ = last;
  release_ready();  // before anything else can fail: these are durable now
  // A checkpoint only when nothing waits: the core's image is then exactly the log's.
  if (wal_->checkpoint_due() && wal_->added_lsn() == synced_lsn_) {
    s = wal_->checkpoint(core_->durable_image(), synced_lsn_);
    if (!s.ok()) return fail_stop(s);
    ++disk_stats_.checkpoints;
  }
  start_commit();
}

// A write failed (the disk is full): the log cannot be trusted past its last sync,
// so the broker stops as at a crash, and stays down until the disk has space.
void BrokerNode::fail_stop(const Status& why) {
  (void)why;
  ++disk_stats_.write_failures;
  crash(CrashFaults{});
  restart_pending_ = true;
  no_space_ = true;
}

// ---- crash and recovery ----

void BrokerNode::crash(const CrashFaults& faults) {
  MQ_CHECK(up_);
  ++stats_.crashes;
  // What was not released never happened for anyone outside; fault events stay.
  for (auto& out : outputs_) {
    if (out.nemesis) release(out);
  }
  outputs_.clear();
  // Nobody outside saw anything after the last released output: the crash is recorded
  // (and the core restored) at that time, so that what the model's advance to the
  // crash would do in the queues nothing was logged for (non-durable) never happens.
  const TimeNs at = released_ns_;
  lose_unsynced(faults, at);
  core_.reset();
  wal_.reset();
  writing_.reset();
  ++commit_token_;
  timer_at_.reset();
  ++timer_token_;
  up_ = false;
  (void)restore_from_disk(at);
}

// The disk at the crash: unsynced writes are lost, except a torn prefix of the write
// in flight (torn-write fault); then maybe a bit flips in a synced record.
void BrokerNode::lose_unsynced(const CrashFaults& faults, TimeNs now) {
  const uint64_t lost = wal_->added_lsn() - synced_lsn_;
  if (lost > 0) {
    disk_stats_.unsynced_records_lost += lost;
    recorder_.record_fault(EventF::kUnsyncedLost, "", now, std::to_string(lost) + " log records not synced");
  }
  uint64_t keep = 0;
  if (faults.tear && writing_ && writing_->bytes.size() > 1) {
    // Strictly inside the first frame: no unsynced record survives whole, so what
    // recovery sees is the synced log plus a torn tail (docs/simulator.md).
    const std::string& bytes = writing_->bytes;
    const uint64_t first = std::min<uint64_t>(bytes.size(), kFrameHeader + le32(bytes, 0));
    keep = 1 + faults.tear_draw % (first - 1);
    (void)disk_.append(impl::segment_name(wal_->active_segment()), std::string_view(bytes).substr(0, keep));
    ++disk_stats_.torn_writes;
    recorder_.record_fault(EventF::kTornWrite, "", now, std::to_string(keep) + " bytes of a record");
  }
  disk_.crash(keep);
  if (faults.flip) flip_bit(faults.flip_draw, now);
}

// Flips one bit in the CRC or body of a synced frame of the newest segment that is
// not its last frame: CRC32C catches every single-bit error there, and recovery must
// report it (a flip in the last frame would look like a torn write, by design).
void BrokerNode::flip_bit(uint64_t draw, TimeNs at_ns) {
  auto names = disk_.list();
  MQ_CHECK(names.ok());
  std::string segment;
  for (const auto& n : *names) {
    if (n.starts_with("wal-")) segment = n;
  }
  if (segment.empty()) return;
  auto data = disk_.read(segment);
  MQ_CHECK(data.ok());
  std::vector<std::pair<uint64_t, uint32_t>> frames;  // offset, body length
  // Bounded: each round moves past one whole frame.
  for (uint64_t off = kMagicBytes; off + kFrameHeader <= data->size();) {
    const uint32_t length = le32(*data, off);
    if (off + kFrameHeader + length > data->size()) break;
    frames.emplace_back(off, length);
    off += kFrameHeader + length;
  }
  if (frames.size() < 2) return;
  const auto& [offset, length] = frames[draw % (frames.size() - 1)];
  const uint64_t byte = offset + 4 + (draw >> 16) % (4 + length);
  disk_.flip_bit(segment, byte, static_cast<uint8_t>((draw >> 56) % 8));
  ++disk_stats_.bit_flips;
  recorder_.record_fault(EventF::kBitFlip, "", at_ns, segment + " byte " + std::to_string(byte));
}

// Non-durable queues lose everything; the node knows what they held at the last
// released output (which is the last synced point).
Effects BrokerNode::lost_in_volatile_queues() const {
  Effects out;
  for (const auto& [key, live] : live_) {
    if (!durable_[key.first]) out.push_back(Effect{EffectKind::kLost, key.first, kNoConsumer, live.message});
  }
  return out;
}

// Wal::recover -> BrokerCore::restore(crash time), recorded as the crash. Wal::start
// (a new log generation) happens at the restart.
bool BrokerNode::restore_from_disk(TimeNs crash_ns) {
  auto recovered = impl::Wal::recover(disk_, config_, impl::WalOptions{});
  if (!recovered.ok()) {
    corruption_ = recovered.status().to_string();
    recorder_.record(op::Crash{}, Effects{}, crash_ns);
    recorder_.record_fault(EventF::kCorruptionDetected, "", crash_ns, *corruption_);
    return false;
  }
  ++disk_stats_.recoveries;
  if (recovered->torn_tail) ++disk_stats_.torn_tails_seen;
  core_.emplace(make_core(config_));
  impl::Effects effects;
  impl::DurableImage image = std::move(recovered->image);
  for (QueueId q = 0; q < durable_.size(); ++q) {
    if (!durable_[q]) image.queues[q].window = volatile_ids_[q];
  }
  const Status s = core_->restore(crash_ns, image, effects);
  MQ_CHECK_MSG(s.ok(), "a log the simulator wrote restores");
  Result<Effects> result = to_model_result(s, effects);
  for (auto& e : lost_in_volatile_queues()) result.value().push_back(std::move(e));
  if (shadow_) shadow_->crash(crash_ns, result, durable_);
  recorder_.record(op::Crash{}, result, crash_ns);
  released_ns_ = crash_ns;
  track(*result, crash_ns);
  return true;
}

bool BrokerNode::recover() {
  if (up_ || corruption_ || !core_) return false;
  if (!wal_) {
    auto wal = impl::Wal::start(disk_, wal_options_, core_->durable_image());
    if (!wal.ok()) {
      restart_pending_ = true;
      no_space_ = true;
      return false;
    }
    wal_.emplace(std::move(wal).value());
    synced_lsn_ = wal_->added_lsn();
  }
  up_ = true;
  no_space_ = false;
  restart_pending_ = false;
  (void)execute(op::Advance{queue_.now()});
  // The restored core is up already (restore recovers); the model recovers here.
  Output out;
  out.nemesis = true;  // the restart happened, whatever becomes of the records before it
  out.op = op::Recover{};
  out.lsn = wal_->added_lsn();
  out.at_ns = queue_.now();
  emit(std::move(out));
  // Sessions start over: every consumer was detached, and each attaches again with
  // its next packet. Silence is measured from now, not from before the crash.
  for (auto& t : last_heard_) t = queue_.now();
  dispatch_all();
  arm_timer();
  return true;
}

void BrokerNode::disk_full(uint64_t slack_bytes) {
  ++disk_stats_.disk_full;
  disk_is_full_ = true;
  disk_.set_space_limit(disk_.used_bytes() + slack_bytes);
  note_fault(EventF::kDiskFull, "");
}

void BrokerNode::disk_space() {
  if (!disk_is_full_) return;
  disk_is_full_ = false;
  disk_.set_space_limit(std::nullopt);
  note_fault(EventF::kDiskSpace, "");
  if (restart_pending_ && !up_) (void)recover();
}

// ---- the world around the core ----

void BrokerNode::track(const Effects& effects, TimeNs at_ns) {
  for (const auto& e : effects) {
    const auto key = std::make_pair(e.queue, e.message.id);
    if (e.kind == EffectKind::kAccepted && !durable_[e.queue]) volatile_ids_[e.queue].push_back({e.message.id, at_ns});
    if (finishes(e.kind)) {
      live_.erase(key);
    } else if (e.kind != EffectKind::kRefused && e.kind != EffectKind::kDeadLetterRefused) {
      live_[key] = Live{e.kind, e.consumer, at_ns, e.message};
    }
  }
}

void BrokerNode::dispatch_all() {
  if (!up_) return;
  const auto& queues = scenario_.topology.queues;
  uint64_t rounds = 0;
  for (QueueId q = 0; q < queues.size(); ++q) {
    for (;;) {
      MQ_CHECK_MSG(++rounds <= dispatch_bound_, "eager dispatch over its bound");
      const impl::QueueStats st = core_->stats(q);
      if (st.ready == 0 || st.consumer_count == 0) break;
      Result<Effects> r = execute(op::Dispatch{q});
      bool delivered = false;
      for (const auto& e : r.ok() ? *r : Effects{}) delivered = delivered || e.kind == EffectKind::kDelivered;
      if (!delivered) break;
    }
  }
}

void BrokerNode::arm_timer() {
  if (!up_) return;
  const std::optional<TimeNs> deadline = core_->next_deadline();
  if (!deadline) return;
  if (timer_at_ && *timer_at_ <= *deadline) return;  // an earlier wake is set; it re-arms
  timer_at_ = std::max(*deadline, queue_.now());
  queue_.push(*timer_at_, Wake{kBrokerEndpoint, kTimer, ++timer_token_});
}

void BrokerNode::wake(uint32_t what, uint64_t token) {
  if (what == kCommitDone) return finish_commit(token);
  if (what == kSessionCheck) {
    queue_.push(queue_.now() + scenario_.clients.heartbeat_ns, Wake{kBrokerEndpoint, kSessionCheck, 0});
    if (up_) check_sessions();
  } else {
    MQ_CHECK(what == kTimer);
    if (token != timer_token_) return;  // superseded by an earlier wake
    timer_at_.reset();
    if (!up_) return;  // recover() ticks and re-arms
    (void)execute(op::Advance{queue_.now()});
  }
  dispatch_all();
  arm_timer();
}

void BrokerNode::check_sessions() {
  const TimeNs now = queue_.now();
  for (ConsumerId c = 0; c < session_.size(); ++c) {
    if (!core_->attached(c) || now - last_heard_[c] <= scenario_.clients.session_timeout_ns) continue;
    ++stats_.session_detaches;
    (void)execute(op::Detach{c});
  }
}

// ok: the packet belongs to the consumer's current session, which is attached now.
bool BrokerNode::admit(ConsumerId c, uint64_t session) {
  MQ_CHECK(c < session_.size());
  if (session < session_[c]) return false;  // a late packet of an earlier life
  if (session > session_[c]) {
    if (core_->attached(c)) (void)execute(op::Detach{c});
    session_[c] = session;
  }
  last_heard_[c] = queue_.now();
  if (!core_->attached(c)) {
    const Result<Effects> r = execute(op::Attach{c});
    MQ_CHECK_MSG(r.ok(), "attach of a detached consumer while up");
  }
  return true;
}

void BrokerNode::on_publish(const PublishRequest& r) {
  ++stats_.publishes;
  const Op op = r.topic ? Op(op::Publish{r.producer, r.target, r.spec}) : Op(op::Send{r.producer, r.target, r.spec});
  const Result<Effects> result = execute(op);
  PublishReply reply{r.spec.id, PublishOutcome::kAccepted};
  if (!result.ok()) {
    const bool dup = result.status().code() == Code::kAlreadyExists;
    stats_.duplicates += dup ? 1 : 0;
    reply.outcome = dup ? PublishOutcome::kDuplicate : PublishOutcome::kError;
  } else {
    bool accepted = false, refused = false;
    for (const auto& e : *result) {
      accepted = accepted || e.kind == EffectKind::kAccepted;
      refused = refused || e.kind == EffectKind::kRefused;
    }
    // A topic publish some queues took and others refused is done: a resend would
    // be a duplicate everywhere (the id is checked queue by queue).
    if (refused && !accepted) {
      reply.outcome = PublishOutcome::kFull;
      ++stats_.refusals;
    }
  }
  send_after(producer_endpoint(r.producer), reply);
}

void BrokerNode::on_ack(const AckRequest& r) {
  if (!admit(r.consumer, r.session)) return;
  const Op op = r.nack ? Op(op::Nack{r.consumer, r.id, r.requeue}) : Op(op::Ack{r.consumer, r.id});
  const Result<Effects> result = execute(op);
  if (r.nack) ++stats_.nacks; else ++stats_.acks;
  if (!result.ok()) ++stats_.stale_acks;
  send_after(consumer_endpoint(r.consumer), AckReply{r.id, result.ok()});
}

// The delivery, if any, goes back as a push (execute sends it with the command).
void BrokerNode::on_fetch(const FetchRequest& r) {
  if (!admit(r.consumer, r.session)) return;
  ++stats_.fetches;
  const Result<Effects> result = execute(op::Fetch{r.consumer});
  if (result.ok() && !result->empty() && result->front().kind == EffectKind::kDelivered) ++stats_.fetched;
}

void BrokerNode::receive(const Packet& packet) {
  if (!up_) {
    // A crashed process reads nothing; one stopped for a full disk says so.
    const auto* p = std::get_if<PublishRequest>(&packet);
    if (no_space_ && p != nullptr) {
      ++disk_stats_.no_space_replies;
      network_.send(kBrokerEndpoint, producer_endpoint(p->producer), PublishReply{p->spec.id, PublishOutcome::kNoSpace});
    }
    return;
  }
  if (const auto* p = std::get_if<PublishRequest>(&packet)) {
    on_publish(*p);
  } else if (const auto* a = std::get_if<AckRequest>(&packet)) {
    on_ack(*a);
  } else if (const auto* h = std::get_if<Hello>(&packet)) {
    (void)admit(h->consumer, h->session);
  } else if (const auto* f = std::get_if<FetchRequest>(&packet)) {
    on_fetch(*f);
  } else {
    MQ_CHECK_MSG(false, "the broker receives requests only");
  }
  dispatch_all();
  arm_timer();
}

std::vector<std::string> BrokerNode::describe_live(size_t limit) const {
  std::vector<std::string> out;
  for (const auto& [key, live] : live_) {
    if (out.size() >= limit) break;
    std::string s = "message " + std::to_string(key.second) + " in '" + scenario_.topology.queues[key.first].name +
                    "': last " + effect_kind_name(live.last);
    if (live.consumer != kNoConsumer) s += " (consumer '" + scenario_.topology.consumers[live.consumer].name + "')";
    out.push_back(s + " at " + std::to_string(live.since_ns) + " ns");
  }
  return out;
}

}  // namespace mq::sim
