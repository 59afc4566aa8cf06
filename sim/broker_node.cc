#include "sim/broker_node.h"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "sim/crash_twin.h"
#include "sim/translate.h"

namespace mq::sim {
namespace {

// Files in the data directory that are not the log's, with names one character off
// a segment's, as an operator's copy or an editor's backup would leave them: the log
// must neither read nor remove them (impl::segment_number). Every run starts with
// them; each recovery checks they are still there, unchanged.
const std::vector<std::pair<std::string, std::string>>& stray_files() {
  static const std::vector<std::pair<std::string, std::string>> kFiles = {
      {"wal-0000000000000001.log.bak", "an editor's backup"},
      {"xal-0000000000000001.log", "a prefix one letter off"},
      {"wal-0000000000000001.lag", "a suffix one letter off"},
      {"wal-000000000000000x.log", "a letter for a digit"},
      {"wal-00000000000000-1.log", "a sign for a digit"},
  };
  return kFiles;
}

void add(impl::ShellStats& a, const impl::ShellStats& b) {
  a.commands += b.commands;
  a.pushes += b.pushes;
  a.publishes += b.publishes;
  a.duplicates += b.duplicates;
  a.refusals += b.refusals;
  a.acks += b.acks;
  a.nacks += b.nacks;
  a.stale_acks += b.stale_acks;
  a.session_detaches += b.session_detaches;
  a.crashes += b.crashes;
  a.fetches += b.fetches;
  a.fetched += b.fetched;
  a.stale_requests += b.stale_requests;
  a.commits += b.commits;
  a.checkpoints += b.checkpoints;
  a.write_failures += b.write_failures;
  for (size_t k = 0; k < a.handled.size(); ++k) a.handled[k] += b.handled[k];
  for (size_t k = 0; k < a.executed.size(); ++k) a.executed[k] += b.executed[k];
}

PublishOutcome to_packet(impl::PublishOutcome o) {
  switch (o) {
    case impl::PublishOutcome::kStored: return PublishOutcome::kAccepted;
    case impl::PublishOutcome::kDuplicate: return PublishOutcome::kDuplicate;
    case impl::PublishOutcome::kFull: return PublishOutcome::kFull;
    case impl::PublishOutcome::kRefused: return PublishOutcome::kError;
    case impl::PublishOutcome::kNoSpace: return PublishOutcome::kNoSpace;
  }
  MQ_CHECK_MSG(false, "unknown publish outcome");
  return PublishOutcome::kError;
}

}  // namespace

impl::ShellOptions BrokerNode::shell_options(const Scenario& scenario) {
  impl::ShellOptions o;
  o.config = to_broker_config(scenario.topology);
  o.checkpoint_bytes = scenario.disk.checkpoint_bytes;
  o.commit_delay_ns = scenario.disk.commit_delay_ns;
  o.session_timeout_ns = scenario.clients.session_timeout_ns;
  o.session_check_ns = scenario.clients.heartbeat_ns;
  o.defer_commit = scenario.disk.defer_commit;
  // Every consumer starts attached, in its first session, on its own endpoint.
  const size_t producers = scenario.topology.producers.size();
  for (ConsumerId c = 0; c < scenario.topology.consumers.size(); ++c) {
    const auto mode = scenario.clients.pulls(c) ? impl::SessionMode::kPull : impl::SessionMode::kPush;
    const impl::ConnId conn = connection(sim::consumer_endpoint(producers, c), 1);
    // A RESP session is its connection (RespCommands): its number at the shell too.
    const bool resp = scenario.clients.resp && scenario.clients.pulls(c);
    o.initial_sessions.push_back(impl::InitialSession{conn, resp ? conn : 1, mode});
  }
  return o;
}

BrokerNode::BrokerNode(const Scenario& scenario, BrokerNodeOptions options, uint64_t disk_seed, SimQueue& queue,
                       Network& network, HistoryRecorder& recorder)
    : scenario_(scenario), options_(options), queue_(queue), network_(network), recorder_(recorder),
      disk_prng_(disk_seed), config_(to_broker_config(scenario.topology)), shell_(shell_options(scenario)) {
  wal_options_.segment_bytes = scenario.disk.segment_bytes;
  for (const auto& q : scenario.topology.queues) durable_.push_back(q.durable);
  volatile_ids_.resize(durable_.size());
  if (options_.shadow) shadow_.emplace(scenario.topology);
  if (scenario.clients.resp) {
    resp_.emplace(config_, scenario.clients.resp_noise_ppm, derive_seed(disk_seed, "resp"),
                  scenario.clients.resp_hostile_ppm, derive_seed(disk_seed, "hostile"));
  }
  for (const auto& [name, content] : stray_files()) disk_.put(name, content);
  drain();
  MQ_CHECK_MSG(shell_.up(), "an empty simulated disk takes the first checkpoint");
  first_start_done_ = true;
}

RespStats BrokerNode::resp_stats() const {
  if (!resp_) return {};
  return RespStats{resp_->noise_sent(), resp_->hostile_sent(), resp_->hostile_closed()};
}

bool BrokerNode::speaks_resp(impl::ConnId conn) const {
  if (!resp_) return false;
  const ClientAt who = client_at(scenario_.topology.producers.size(), endpoint_of(conn));
  return who.producer || scenario_.clients.pulls(who.index);
}

// ---- carrying out the shell's actions ----

// In order; an action that calls back into the shell (a checkpoint, a log start, a
// failure) is the last of its batch, so what it causes comes after it.
void BrokerNode::drain() {
  std::vector<impl::Action> batch;
  // Bounded: every round carries out what the shell asked since the last; the shell
  // asks more only when called back, which a batch's last action at most does.
  for (size_t round = 0; shell_.has_actions(); ++round) {
    MQ_CHECK(round < (size_t{1} << 32));
    batch.clear();
    shell_.take_actions(batch);
    for (size_t k = 0; k < batch.size(); ++k) perform(batch[k], k + 1 == batch.size());
  }
}

void BrokerNode::perform(impl::Action& a, bool last) {
  std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, impl::act::Reply>) {
          send(x);
        } else if constexpr (std::is_same_v<T, impl::act::WriteLog>) {
          write_log(std::move(x.batch));
        } else if constexpr (std::is_same_v<T, impl::act::WriteCheckpoint>) {
          MQ_CHECK(last && wal_);
          const Status s = wal_->checkpoint(x.image);
          if (s.ok()) ++disk_stats_.checkpoints;
          shell_.synced(queue_.now(), s);
        } else if constexpr (std::is_same_v<T, impl::act::StartLog>) {
          MQ_CHECK(last);
          if (!first_start_done_ || scenario_.disk.start_latency_ns == 0) return start_log(x.image);
          starting_ = std::move(x.image);
          queue_.push(queue_.now() + scenario_.disk.start_latency_ns, Wake{kBrokerEndpoint, kStartDone, ++start_token_});
        } else if constexpr (std::is_same_v<T, impl::act::SetTimer>) {
          const uint32_t what = static_cast<uint32_t>(x.id.kind) | (generation_ << kGenerationShift);
          // A time already past (a recovered shell's first session check counts from
          // the crash) fires now, as an expired timer does.
          queue_.push(std::max(x.at_ns, queue_.now()), Wake{kBrokerEndpoint, what, x.id.token});
        } else if constexpr (std::is_same_v<T, impl::act::Committed>) {
          record(x);
        } else if constexpr (std::is_same_v<T, impl::act::Noted>) {
          const Fault f = faults_.at(x.note);
          faults_.erase(x.note);
          recorder_.record_fault(f.f, f.node, x.at_ns, f.detail);
        } else if constexpr (std::is_same_v<T, impl::act::CommitSoon>) {
          // The requests already waiting at this instant come first (the agenda orders
          // same-time events by when they were pushed), as in mqd's event loop.
          queue_.push(queue_.now(), Wake{kBrokerEndpoint, kCommitSoon, ++commit_soon_token_});
        } else {
          static_assert(std::is_same_v<T, impl::act::Fail>);
          MQ_CHECK(last);
          // The log cannot be trusted past its last sync: the broker stops as at a
          // crash, and stays down until the disk has space.
          ++disk_stats_.write_failures;
          crash_now(CrashFaults{}, false);
          restart_pending_ = true;
        }
      },
      a);
}

// Responses become the packets the simulated clients speak; the rest are dropped.
void BrokerNode::send(impl::act::Reply& r) {
  if (RespRoute::is_hostile(r.to)) {
    // mqd closes the connection once its last answer is written: at this instant, after
    // what the shell is doing now.
    if (resp_->answer_hostile(r.to, r.response)) queue_.push(queue_.now(), Wake{kBrokerEndpoint, kHostileClose, r.to});
    return;
  }
  const Endpoint to = endpoint_of(r.to);
  if (speaks_resp(r.to)) {
    const auto* p = std::get_if<impl::resp::Published>(&r.response);
    if (p != nullptr && p->outcome == impl::PublishOutcome::kNoSpace) ++disk_stats_.no_space_replies;
    if (auto packet = resp_->answer(r.to, r.response)) network_.send(kBrokerEndpoint, to, std::move(*packet));
    return;
  }
  std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, impl::resp::Published>) {
          if (x.outcome == impl::PublishOutcome::kNoSpace) ++disk_stats_.no_space_replies;
          network_.send(kBrokerEndpoint, to, PublishReply{x.id, to_packet(x.outcome)});
        } else if constexpr (std::is_same_v<T, impl::resp::Settled>) {
          network_.send(kBrokerEndpoint, to, AckReply{x.id, x.ok});
        } else if constexpr (std::is_same_v<T, impl::resp::Push>) {
          network_.send(kBrokerEndpoint, to, Push{x.session, to_model(x.delivery.message)});
        } else if constexpr (std::is_same_v<T, impl::resp::Fetched>) {
          const ClientAt who = client_at(scenario_.topology.producers.size(), to);
          if (who.producer || !scenario_.clients.pulls(who.index))
            return;  // a push session's: nothing to say
          FetchReply reply{session_of(r.to), {}};
          for (const auto& d : x.deliveries) reply.messages.push_back(to_model(d.message));
          network_.send(kBrokerEndpoint, to, std::move(reply));
        } else {
          // Dropped: an attach's answer, STATS and INFO answers (load, not acted on),
          // and errors (an older session's request, the broker starting): the client
          // waits for what it asked and, as for a lost reply, times out.
          static_assert(std::is_same_v<T, impl::resp::Attached> || std::is_same_v<T, impl::resp::Stats> ||
                        std::is_same_v<T, impl::resp::Info> || std::is_same_v<T, impl::resp::Inline> ||
                        std::is_same_v<T, impl::resp::Error>);
        }
      },
      r.response);
}

void BrokerNode::record(impl::act::Committed& c) {
  const Op op = to_model(c.command, c.at_ns);
  Result<Effects> result = to_model_result(c.status, c.effects);
  if (!std::holds_alternative<impl::cmd::Recover>(c.command)) {
    ++released_commands_;
    corrupt(result);
  }
  if (shadow_) {
    if (std::holds_alternative<impl::cmd::Tick>(c.command)) {
      shadow_->advance(c.at_ns, result);
    } else {
      shadow_->apply(op, result);
    }
  }
  recorder_.record(op, result, c.at_ns);
  if (result.ok()) track(*result, c.at_ns);
}

void BrokerNode::corrupt(Result<Effects>& result) {
  if (options_.corrupt_step == 0 || corrupted_ || released_commands_ < options_.corrupt_step) return;
  if (!result.ok() || result->empty()) return;
  result.value()[0].message.attempts += 1;
  corrupted_ = true;
}

void BrokerNode::write_log(impl::LogBatch batch) {
  MQ_CHECK(!writing_);
  writing_ = std::move(batch);
  const TimeNs latency = scenario_.disk.latency_ns.draw(disk_prng_);
  queue_.push(queue_.now() + latency, Wake{kBrokerEndpoint, kCommitDone, ++commit_token_});
}

void BrokerNode::finish_commit(uint64_t token) {
  if (token != commit_token_ || !writing_) return;  // the write died with a crash
  impl::LogBatch batch = std::move(*writing_);
  writing_.reset();
  const uint64_t bytes = batch.bytes.size();
  const uint64_t last = batch.last_lsn;
  const Status s = wal_->write(std::move(batch));
  if (s.ok()) {
    ++disk_stats_.commits;
    disk_stats_.records += last - synced_lsn_;
    disk_stats_.bytes += bytes;
    synced_lsn_ = last;
  }
  shell_.synced(queue_.now(), s);
  drain();
}

void BrokerNode::start_log(const impl::DurableImage& image) {
  auto wal = impl::Wal::start(disk_, wal_options_, image);
  if (wal.ok()) {
    wal_.emplace(std::move(wal).value());
    synced_lsn_ = 0;
  }
  shell_.log_started(queue_.now(), wal.status());
}

// ---- crash and recovery ----

void BrokerNode::crash(const CrashFaults& faults) {
  MQ_CHECK(shell_.up());
  crash_now(faults, scenario_.disk.restart_fresh);
}

void BrokerNode::crash_now(const CrashFaults& faults, bool fresh) {
  const uint64_t unsynced = shell_.added_lsn() - shell_.synced_lsn();
  // Nothing separates the core from its log: its crash in memory must be what
  // recovery rebuilds (sim/crash_twin.h).
  std::optional<impl::BrokerCore> twin;
  if (unsynced == 0 && shell_.has_core() && shell_.core().up() && shell_.core().now() == shell_.released_ns()) {
    twin = shell_.core();
  }
  shell_.crash();
  if (resp_) resp_->crashed();
  drain();  // the fault events that waited come out first
  // Nobody outside saw anything after the last released output: the crash is recorded
  // (and the core restored) at that time, so that what the model's advance to the
  // crash would do in the queues nothing was logged for (non-durable) never happens.
  const TimeNs at = shell_.released_ns();
  lose_unsynced(faults, at, unsynced);
  wal_.reset();
  writing_.reset();
  ++commit_token_;
  ++commit_soon_token_;
  ++start_token_;
  starting_.reset();
  (void)restore_from_disk(at, fresh, std::move(twin));
}

// The disk at the crash: unsynced writes are lost, except a torn prefix of the write
// in flight (torn-write fault); then maybe a bit flips in a synced record.
void BrokerNode::lose_unsynced(const CrashFaults& faults, TimeNs now, uint64_t unsynced) {
  if (unsynced > 0) {
    disk_stats_.unsynced_records_lost += unsynced;
    recorder_.record_fault(EventF::kUnsyncedLost, "", now, std::to_string(unsynced) + " log records not synced");
  }
  uint64_t keep = 0;
  if (faults.tear && writing_ && writing_->bytes.size() > 1) {
    // Anywhere strictly inside the write: inside any of its frames or between two,
    // so that whole records of an unconfirmed write may survive, which recovery must
    // not apply (docs/simulator.md). With the draw's top bit, the kept length reads
    // back as zeros: a file system may extend a file before its data reaches the
    // disk, and recovery must take a zero-filled tail for a torn one too.
    const std::string& bytes = writing_->bytes;
    keep = 1 + faults.tear_draw % (bytes.size() - 1);
    const bool zeros = (faults.tear_draw >> 63) != 0;
    const std::string kept = zeros ? std::string(keep, '\0') : bytes.substr(0, keep);
    (void)disk_.append(impl::segment_name(wal_->active_segment()), kept);
    ++disk_stats_.torn_writes;
    recorder_.record_fault(EventF::kTornWrite, "", now,
                           std::to_string(keep) + " of the " + std::to_string(bytes.size()) + " bytes of a write" +
                               (zeros ? ", read back as zeros" : ""));
  }
  disk_.crash(keep);
  if (faults.flip) flip_bit(faults.flip_draw, now);
  if (options_.inconsistent_log && disk_stats_.recoveries == 0) append_inconsistent_record();
}

std::string BrokerNode::newest_segment() {
  auto names = disk_.list();
  MQ_CHECK(names.ok());
  std::optional<uint64_t> newest;
  for (const auto& n : *names) {
    if (const auto k = impl::segment_number(n); k && (!newest || *k > *newest)) newest = k;
  }
  return newest ? impl::segment_name(*newest) : std::string();
}

// The test hook: a record with a valid frame and CRC whose content the log cannot
// explain (the release of a message that no queue holds), at the end of the newest
// segment, where a broker bug would have written it.
void BrokerNode::append_inconsistent_record() {
  const std::string segment = newest_segment();
  const auto q = std::find(durable_.begin(), durable_.end(), true);
  if (segment.empty() || q == durable_.end()) return;
  impl::WalRecord r;
  r.type = impl::RecordType::kRelease;
  r.queue = static_cast<QueueId>(q - durable_.begin());
  r.id = UINT64_MAX;  // no producer draws this id
  r.ends_write = true;  // a whole write, as the broker writes them
  std::string frame;
  impl::encode_record(r, frame);
  MQ_CHECK(disk_.append(segment, frame).ok());
  MQ_CHECK(disk_.sync(segment).ok());
}

// Flips one bit of the newest segment, all of it synced by now: one time in four in
// its header (the segment magic), else in a frame that is not its last: in its length,
// CRC or body. Recovery must report it: the magic is compared whole; CRC32C catches
// every single-bit error in the CRC or the body, and in the length too, where a longer
// length would otherwise read as a torn write at the log's tail (a flip in the last
// frame does look like a torn write, by design). The header's share is read off the
// draw's top two bits; a flip they do not send to the header takes its frame, byte and
// bit from the draw as it always did, so it lands where it always landed.
void BrokerNode::flip_bit(uint64_t draw, TimeNs at_ns) {
  const std::string segment = newest_segment();
  if (segment.empty()) return;
  auto data = disk_.read(segment);
  MQ_CHECK(data.ok());
  std::vector<std::pair<uint64_t, uint32_t>> frames;  // offset, body length
  // Bounded: each round moves past one whole frame.
  // The log's frame layout (impl/wal_record.h): the segment magic, then frames of a
  // u32 length, a u32 CRC and the body.
  for (uint64_t off = impl::kSegmentMagic.size(); off + impl::kFrameHeaderBytes <= data->size();) {
    const uint32_t length = impl::le32(*data, off);
    if (off + impl::kFrameHeaderBytes + length > data->size()) break;
    frames.emplace_back(off, length);
    off += impl::kFrameHeaderBytes + length;
  }
  if (frames.size() < 2) return;
  const bool header = (draw >> 62) == 0;
  const auto& [offset, length] =
      header ? std::pair<uint64_t, uint32_t>{0, 0} : frames[draw % (frames.size() - 1)];
  const uint64_t byte = header ? (draw >> 16) % impl::kSegmentMagic.size()
                               : offset + (draw >> 16) % (impl::kFrameHeaderBytes + length);
  disk_.flip_bit(segment, byte, static_cast<uint8_t>((draw >> 56) % 8));
  flips_.push_back(Flip{segment, offset});
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

// Wal::recover -> ServerShell::restore (the crash time), recorded as the crash.
// ServerShell::start (a new log generation) happens at the restart.
bool BrokerNode::restore_from_disk(TimeNs crash_ns, bool fresh, std::optional<impl::BrokerCore> twin) {
  for (const auto& [name, content] : stray_files()) {
    if (auto kept = disk_.read(name); !kept.ok() || *kept != content) {
      fail_recovery(crash_ns, "the log removed or changed '" + name + "', a file that is not its own");
      return false;
    }
  }
  impl::CorruptionReport problem;
  auto recovered = impl::Wal::recover(disk_, config_, impl::WalOptions{}, &problem);
  if (!recovered.ok()) {
    const bool corrupt = recovered.status().code() == Code::kCorruption;
    take_out_of_service(crash_ns, recovered.status().to_string(), corrupt && flip_explains(problem));
    return false;
  }
  ++disk_stats_.recoveries;
  if (recovered->torn_tail) ++disk_stats_.torn_tails_seen;
  impl::DurableImage image = std::move(recovered->image);
  for (QueueId q = 0; q < durable_.size(); ++q) {
    if (!durable_[q]) image.queues[q].window = volatile_ids_[q];
  }
  impl::Effects effects;
  const Status s = fresh ? start_fresh(crash_ns, image, effects) : shell_.restore(crash_ns, image, effects);
  if (!s.ok()) {
    // A flipped bit never gets this far (the CRC catches it): the log holds what the
    // broker wrote, and the core refuses it.
    take_out_of_service(crash_ns, "the recovered log does not fit the broker: " + s.to_string(), false);
    return false;
  }
  Result<Effects> result = to_model_result(s, effects);
  for (auto& e : lost_in_volatile_queues()) result.value().push_back(std::move(e));
  if (shadow_) shadow_->crash(crash_ns, result, durable_);
  recorder_.record(op::Crash{}, result, crash_ns);
  track(*result, crash_ns);
  if (twin) {
    ++disk_stats_.crash_twins;
    if (auto why = crash_twin_disagreement(std::move(*twin), crash_ns, shell_.core(), *result)) {
      fail_recovery(crash_ns, *why);
      return false;
    }
  }
  return true;
}

// A new process: a new shell recovered from the image; the old one's timers are
// ignored from now on (their wakes carry its generation).
Status BrokerNode::start_fresh(TimeNs crash_ns, const impl::DurableImage& image, impl::Effects& out) {
  auto shell = impl::ServerShell::recovered(shell_options(scenario_), crash_ns, image, out);
  if (!shell.ok()) return shell.status();
  MQ_CHECK(!shell_.has_actions());
  add(earlier_shells_, shell_.stats());
  shell_ = std::move(shell).value();
  ++generation_;
  drain();
  return Status();
}

BrokerNodeStats BrokerNode::stats() const {
  BrokerNodeStats s = earlier_shells_;
  add(s, shell_.stats());
  return s;
}

// Whether a bit this run flipped explains the problem recovery stopped at: a checksum
// failure at the very frame the bit was flipped in, or a bad magic (a framing error at
// byte 0, the only one there) in the segment whose header it was flipped in.
bool BrokerNode::flip_explains(const impl::CorruptionReport& problem) const {
  const bool header = problem.kind == impl::CorruptionKind::kFraming && problem.offset == 0;
  if (problem.kind != impl::CorruptionKind::kChecksum && !header) return false;
  return std::any_of(flips_.begin(), flips_.end(),
                     [&](const Flip& f) { return f.segment == problem.file && f.frame_offset == problem.offset; });
}

void BrokerNode::take_out_of_service(TimeNs crash_ns, const std::string& why, bool explained) {
  recorder_.record(op::Crash{}, Effects{}, crash_ns);
  if (explained) {
    corruption_ = why;
    recorder_.record_fault(EventF::kCorruptionDetected, "", crash_ns, why);
  } else {
    fail_recovery(crash_ns, why);
  }
}

void BrokerNode::fail_recovery(TimeNs crash_ns, const std::string& why) {
  recovery_failure_ = why;
  recorder_.record_fault(EventF::kRecoveryFailed, "", crash_ns, why);
}

bool BrokerNode::recover() {
  if (shell_.up() || starting_ || out_of_service() || !shell_.has_core()) return false;
  shell_.start(queue_.now());
  drain();
  restart_pending_ = !shell_.up() && !starting_;
  return shell_.up();
}

void BrokerNode::disk_full(uint64_t slack_bytes) {
  ++disk_stats_.disk_full;
  disk_is_full_ = true;
  disk_.set_space_limit(disk_.used_bytes() + slack_bytes);
  note_fault(EventF::kDiskFull, "");
}

void BrokerNode::disk_failing() {
  ++disk_stats_.disk_full;
  disk_is_full_ = true;
  disk_.fail_syncs(UINT32_MAX);
  note_fault(EventF::kDiskFull, "", "syncs fail (EIO)");
}

void BrokerNode::disk_space() {
  if (!disk_is_full_) return;
  disk_is_full_ = false;
  disk_.set_space_limit(std::nullopt);
  disk_.fail_syncs(0);
  note_fault(EventF::kDiskSpace, "");
  if (restart_pending_ && !shell_.up()) (void)recover();
}

void BrokerNode::note_fault(EventF f, const std::string& node, const std::string& detail) {
  faults_[++next_note_] = Fault{f, node, detail};
  shell_.note(queue_.now(), next_note_);
  drain();
}

// ---- the world around the shell ----

void BrokerNode::track(const Effects& effects, TimeNs at_ns) {
  for (const auto& e : effects) {
    const auto key = std::make_pair(e.queue, e.message.id);
    if (e.kind == EffectKind::kAccepted && !durable_[e.queue]) volatile_ids_[e.queue].push_back({e.message.id, at_ns});
    if (finishes_message(e.kind)) {
      live_.erase(key);
    } else if (e.kind != EffectKind::kRefused && e.kind != EffectKind::kDeadLetterRefused) {
      live_[key] = Live{e.kind, e.consumer, at_ns, e.message};
    }
  }
}

void BrokerNode::wake(uint32_t what, uint64_t token) {
  if (what == kCommitDone) return finish_commit(token);
  if (what == kStartDone) {
    if (token != start_token_ || !starting_) return;  // a crash or fail-stop came first
    const impl::DurableImage image = std::move(*starting_);
    starting_.reset();
    start_log(image);
    drain();
    restart_pending_ = !shell_.up();  // a start that failed (no space) retries at disk_space()
    return;
  }
  if (what == kHostileClose) {
    if (!resp_->take_closing(token)) return;  // a crash came first: that shell is gone
    shell_.closed(queue_.now(), token);
    drain();
    return;
  }
  if (what == kCommitSoon) {
    if (token != commit_soon_token_) return;  // the shell crashed since it asked
    shell_.commit_now(queue_.now());
    return drain();
  }
  if (what >> kGenerationShift != generation_) return;  // set by a shell that is gone
  const auto kind = static_cast<impl::TimerKind>(what & ((1u << kGenerationShift) - 1));
  shell_.timer(queue_.now(), impl::TimerId{kind, token});
  drain();
}

void BrokerNode::receive(const Packet& packet) {
  const TimeNs now = queue_.now();
  if (shell_.state() == impl::ServerShell::State::kStarting) ++disk_stats_.requests_while_starting;
  if (const auto* close = std::get_if<Close>(&packet)) {
    shell_.closed(now, close->conn);
    if (speaks_resp(close->conn)) resp_->closed(close->conn);
    return drain();
  }
  const auto* r = std::get_if<Request>(&packet);
  MQ_CHECK_MSG(r != nullptr, "the broker receives requests and closes only");
  if (!speaks_resp(r->conn)) {
    shell_.request(now, r->conn, r->request);
  } else if (shell_.state() != impl::ServerShell::State::kDown && !resp_->is_closed(r->conn)) {
    // A dead process reads nothing (and answers nothing: the route must not wait),
    // and nothing is read off a closed connection.
    if (auto h = resp_->hostile()) {
      for (impl::Request& x : h->requests) shell_.request(now, h->conn, std::move(x));
    }
    if (auto noise = resp_->noise(r->conn)) shell_.request(now, r->conn, std::move(*noise));
    impl::Request read = resp_->request(r->conn, r->request);
    MQ_CHECK_MSG(RespRoute::same_meaning(read, r->request),
                 "mqd reads off the connection what the client meant (sim/resp_route.h)");
    shell_.request(now, r->conn, std::move(read));
  }
  drain();
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
