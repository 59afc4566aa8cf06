#include "impl/server_shell.h"

#include <algorithm>
#include <type_traits>

#include "base/overloaded.h"

namespace mq::impl {

const char* state_name(ServerShell::State s) {
  switch (s) {
    case ServerShell::State::kStarting: return "starting";
    case ServerShell::State::kUp: return "up";
    case ServerShell::State::kDown: return "down";
    case ServerShell::State::kFailed: return "failed";
  }
  return "?";
}

const char* publish_outcome_name(PublishOutcome o) {
  switch (o) {
    case PublishOutcome::kStored: return "stored";
    case PublishOutcome::kDuplicate: return "duplicate";
    case PublishOutcome::kFull: return "full";
    case PublishOutcome::kRefused: return "refused";
    case PublishOutcome::kNoSpace: return "no-space";
  }
  return "?";
}

namespace {

BrokerCore make_core(const BrokerConfig& config) {
  auto core = BrokerCore::create(config);
  MQ_CHECK_MSG(core.ok(), "the server shell takes a valid broker config");
  return std::move(core).value();
}

// After these a message some consumer held is no longer its to fetch.
bool takes_back(EffectKind k) {
  switch (k) {
    case EffectKind::kRequeued:
    case EffectKind::kDeadLettered:
    case EffectKind::kExpired:
    case EffectKind::kLost:
    case EffectKind::kAcked: return true;
    case EffectKind::kAccepted:
    case EffectKind::kDuplicate:
    case EffectKind::kRefused:
    case EffectKind::kDropped:
    case EffectKind::kReleased:
    case EffectKind::kDelivered:
    case EffectKind::kDeadLetterRefused:
    case EffectKind::kTimer: return false;
  }
  return false;
}

}  // namespace

// ---- construction ----

ServerShell::ServerShell(ShellOptions options, BrokerCore core, State state)
    : options_(std::move(options)), core_(std::move(core)), state_(state) {
  sessions_.resize(options_.config.consumers.size());
  for (const ConsumerOptions& c : options_.config.consumers) {
    const std::optional<QueueId> q = options_.config.find_queue(c.queue);
    MQ_CHECK_MSG(q.has_value(), "a consumer of a configured queue (BrokerConfig::validate)");
    queue_of_consumer_.push_back(*q);
  }
  // Each dispatch delivers one message, so one eager round delivers at most what the
  // queues hold; one more try per queue sees that nothing is left.
  for (const QueueOptions& q : options_.config.queues) dispatch_bound_ += uint64_t{q.capacity} + 1;
  MQ_CHECK(options_.session_timeout_ns >= 0 && options_.commit_delay_ns >= 0);
  MQ_CHECK_MSG(options_.session_timeout_ns == 0 || options_.session_check_ns > 0,
               "sessions that time out need a check interval");
}

ServerShell::ServerShell(ShellOptions options) : ServerShell(options, make_core(options.config), State::kStarting) {
  MQ_CHECK_MSG(options_.initial_sessions.size() == sessions_.size(),
               "a fresh shell starts with every consumer attached: each needs a session");
  for (size_t c = 0; c < sessions_.size(); ++c) {
    const InitialSession& i = options_.initial_sessions[c];
    sessions_[c] = Session{i.session, i.conn, i.mode, true, 0, {}, std::nullopt};
  }
  if (options_.session_timeout_ns > 0) set_timer(options_.session_check_ns, TimerKind::kSessionCheck, 0);
  actions_.emplace_back(act::StartLog{core_->durable_image()});
}

Result<ServerShell> ServerShell::recovered(ShellOptions options, TimeNs crash_ns, const DurableImage& image,
                                           Effects& out) {
  auto created = BrokerCore::create(options.config);
  if (!created.ok()) return created.status();
  BrokerCore core = std::move(created).value();
  MQ_RETURN_IF_ERROR(core.restore(crash_ns, image, out));
  ServerShell shell(std::move(options), std::move(core), State::kDown);
  shell.fresh_start_ = false;
  shell.released_ns_ = crash_ns;
  if (shell.options_.session_timeout_ns > 0) {
    shell.set_timer(crash_ns + shell.options_.session_check_ns, TimerKind::kSessionCheck, 0);
  }
  return shell;
}

const BrokerCore& ServerShell::core() const {
  MQ_CHECK(core_.has_value());
  return *core_;
}

void ServerShell::take_actions(std::vector<Action>& out) {
  MQ_CHECK(out.empty());
  out.swap(actions_);  // the driver's vector comes back empty, with its capacity
}

// ---- lifecycle ----

void ServerShell::log_started(TimeNs now, const Status& s) {
  MQ_CHECK(state_ == State::kStarting && core_);
  if (!s.ok()) {
    // The new generation could not be written (the disk is full): still stopped.
    ++stats_.write_failures;
    state_ = State::kFailed;
    return;
  }
  log_ = LogBuffer();
  synced_lsn_ = 0;
  bytes_since_checkpoint_ = 0;
  state_ = State::kUp;
  if (fresh_start_) {
    fresh_start_ = false;
    return;
  }
  (void)execute(now, cmd::Tick{});
  // The restored core is up already (restore recovers); the record says so here.
  // It waits for no sync: the restart happened, whatever becomes of what came before.
  Output out;
  out.note = true;
  out.committed = act::Committed{cmd::Recover{}, Status(), {}, now};
  out.lsn = log_.added_lsn();
  out.at_ns = now;
  emit(std::move(out), now);
  // Silence is measured from now, not from before the crash.
  for (auto& session : sessions_) {
    if (session) session->last_heard_ns = now;
  }
  dispatch_all(now);
  arm_timer(now);
}

void ServerShell::crash() {
  MQ_CHECK(state_ != State::kDown);
  ++stats_.crashes;
  drop_unreleased();
  core_.reset();
  log_ = LogBuffer();
  writing_.reset();
  delay_armed_ = false;
  commit_wanted_ = false;
  ++delay_token_;
  timer_at_.reset();
  ++timer_token_;
  if (state_ != State::kFailed) state_ = State::kDown;
}

Status ServerShell::restore(TimeNs crash_ns, const DurableImage& image, Effects& out) {
  MQ_CHECK((state_ == State::kDown || state_ == State::kFailed) && !core_);
  BrokerCore core = make_core(options_.config);
  MQ_RETURN_IF_ERROR(core.restore(crash_ns, image, out));
  core_.emplace(std::move(core));
  released_ns_ = crash_ns;
  return Status();
}

void ServerShell::start(TimeNs now) {
  MQ_CHECK((state_ == State::kDown || state_ == State::kFailed) && core_);
  (void)now;
  state_ = State::kStarting;
  actions_.emplace_back(act::StartLog{core_->durable_image()});
}

// What was not released never happened for anyone outside; notes stay.
void ServerShell::drop_unreleased() {
  for (Output& out : outputs_) {
    if (!out.note) continue;
    out.sends.clear();
    release(out, out.at_ns);
  }
  outputs_.clear();
  conns_.clear();
  resume_.clear();
  for (auto& s : sessions_) {
    if (!s) continue;
    s->outbox.clear();
    s->parked.reset();
  }
}

void ServerShell::note(TimeNs now, uint64_t note) {
  Output out;
  out.note = true;
  out.note_id = note;
  out.at_ns = now;
  emit(std::move(out), now);
}

// ---- requests ----

void ServerShell::request(TimeNs now, ConnId from, Request r) {
  switch (state_) {
    case State::kDown: return;  // a dead process reads nothing
    case State::kStarting:
      return reply(from, resp::Error{Code::kUnavailable, "the broker is starting (recovering its log)"});
    case State::kFailed: return refuse_while_failed(from, r);
    case State::kUp: break;
  }
  // Behind a blocking fetch, or behind requests that waited for one: in order.
  if (auto it = conns_.find(from); it != conns_.end() && (it->second.blocked || !it->second.backlog.empty())) {
    it->second.backlog.push_back(std::move(r));
    return;
  }
  handle(now, from, r);
  after_input(now);
}

void ServerShell::refuse_while_failed(ConnId from, const Request& r) {
  if (const auto* p = std::get_if<req::Publish>(&r)) {
    resp::Published out;
    out.id = p->spec.id;
    out.topic = p->topic;
    out.outcome = PublishOutcome::kNoSpace;
    out.reason = "the broker stopped on a failed write; nothing was stored";
    return reply(from, std::move(out));
  }
  if (const auto* i = std::get_if<req::Inline>(&r)) return reply(from, resp::Inline{i->text});
  reply(from, resp::Error{Code::kUnavailable, "the broker stopped on a failed write (disk full or failing)"});
}

// Ids out of range are the driver's or the client's mistake: an error, never a crash.
std::optional<std::string> ServerShell::check_ids(const Request& r) const {
  const BrokerConfig& c = options_.config;
  auto consumer = [&](const ConsumerRef& w) -> std::optional<std::string> {
    if (w.consumer < c.consumers.size()) return std::nullopt;
    return "unknown consumer #" + std::to_string(w.consumer);
  };
  using Why = std::optional<std::string>;
  return std::visit(
      Overloaded{
          [&](const req::Publish& x) -> Why {
            if (x.producer >= c.producers.size()) return "unknown producer #" + std::to_string(x.producer);
            if (x.topic && x.target >= c.topics.size()) return "unknown topic #" + std::to_string(x.target);
            if (!x.topic && x.target >= c.queues.size()) return "unknown queue #" + std::to_string(x.target);
            return std::nullopt;
          },
          [&](const req::Stats& x) -> Why {
            if (x.queue >= c.queues.size()) return "unknown queue #" + std::to_string(x.queue);
            return std::nullopt;
          },
          [&](const req::Hello& x) -> Why { return consumer(x.who); },
          [&](const req::Fetch& x) -> Why { return consumer(x.who); },
          [&](const req::Settle& x) -> Why { return consumer(x.who); },
          [](const req::Info&) -> Why { return std::nullopt; },    // names nothing
          [](const req::Inline&) -> Why { return std::nullopt; },  // the protocol layer's own answer
      },
      r);
}

void ServerShell::handle(TimeNs now, ConnId from, Request& r) {
  ++stats_.handled[r.index()];
  if (auto bad = check_ids(r)) return send_after(SendResponse{from, resp::Error{Code::kNotFound, *bad}}, now);
  std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, req::Publish>) {
          on_publish(now, from, x);
        } else if constexpr (std::is_same_v<T, req::Hello>) {
          on_hello(now, from, x);
        } else if constexpr (std::is_same_v<T, req::Fetch>) {
          on_fetch(now, from, x);
        } else if constexpr (std::is_same_v<T, req::Settle>) {
          on_settle(now, from, x);
        } else if constexpr (std::is_same_v<T, req::Stats>) {
          send_after(SendResponse{from, resp::Stats{core_->stats(x.queue)}}, now);
        } else if constexpr (std::is_same_v<T, req::Info>) {
          send_after(SendResponse{from, resp::Info{info_text()}}, now);
        } else {
          static_assert(std::is_same_v<T, req::Inline>);
          send_after(SendResponse{from, resp::Inline{std::move(x.text)}}, now);
        }
      },
      r);
}

void ServerShell::on_publish(TimeNs now, ConnId from, req::Publish& r) {
  ++stats_.publishes;
  const MessageId id = r.spec.id;
  Command c = r.topic ? Command(cmd::Publish{r.producer, r.target, std::move(r.spec)})
                      : Command(cmd::Send{r.producer, r.target, std::move(r.spec)});
  Ran ran = execute(now, std::move(c));
  resp::Published out;
  out.id = id;
  out.topic = r.topic;
  out.queues = std::move(ran.queues);
  if (!ran.status.ok()) {
    out.outcome = PublishOutcome::kRefused;
    out.reason = ran.status.to_string();
  } else if (ran.duplicate) {
    out.outcome = PublishOutcome::kDuplicate;
    ++stats_.duplicates;
  } else if (ran.refused && !ran.accepted) {
    // A topic publish some queues took and others refused is done: a resend would be
    // a duplicate everywhere (the id is checked queue by queue).
    out.outcome = PublishOutcome::kFull;
    ++stats_.refusals;
  }
  send_after(SendResponse{from, std::move(out)}, now);
}

void ServerShell::on_hello(TimeNs now, ConnId from, const req::Hello& r) {
  if (!admit(now, from, r.who)) return;
  send_after(SendResponse{from, resp::Attached{r.who.consumer, r.who.session}}, now);
}

// A push session's fetch runs the core's fetch (its delivery goes out as a push); a
// pull session's is answered from its outbox when the outputs before it are out.
void ServerShell::on_fetch(TimeNs now, ConnId from, const req::Fetch& r) {
  if (!admit(now, from, r.who)) return;
  ++stats_.fetches;
  if (r.who.mode == SessionMode::kPush) {
    const Ran ran = execute(now, cmd::Fetch{r.who.consumer});
    if (ran.status.ok() && ran.delivered) ++stats_.fetched;
  } else {
    // What the consumer's credit allows is delivered before the answer is made, so
    // a first fetch (which attached the consumer) finds its deliveries there.
    dispatch_all(now);
    if (r.block_ns > 0) conns_[from].blocked = true;  // until answered: later requests would overtake it
  }
  send_after(AnswerFetch{from, r.who, std::max<uint32_t>(r.max, 1), r.block_ns, now}, now);
}

void ServerShell::on_settle(TimeNs now, ConnId from, const req::Settle& r) {
  if (!admit(now, from, r.who)) return;
  const ConsumerId c = r.who.consumer;
  const Ran ran = execute(now, r.nack ? Command(cmd::Nack{c, r.id, r.requeue}) : Command(cmd::Ack{c, r.id}));
  ++(r.nack ? stats_.nacks : stats_.acks);
  if (!ran.status.ok()) ++stats_.stale_acks;
  send_after(SendResponse{from, resp::Settled{r.id, ran.status.ok(), ran.status.ok() ? "" : ran.status.message()}},
             now);
}

// ok: the request belongs to the consumer's current session, which is attached now.
// Else it was answered with an error.
bool ServerShell::admit(TimeNs now, ConnId from, const ConsumerRef& who) {
  const ConsumerId c = who.consumer;
  std::optional<Session>& s = sessions_[c];
  if (s && who.session < s->id) {
    ++stats_.stale_requests;
    send_after(SendResponse{from, resp::Error{Code::kFailedPrecondition,
                                              "consumer '" + options_.config.consumers[c].name +
                                                  "' is held by a newer session"}},
               now);
    return false;
  }
  if (!s || who.session > s->id) {
    take_over(now, c);
    s = Session{who.session, from, who.mode, true, now, {}, std::nullopt};
  }
  s->last_heard_ns = now;
  s->conn = from;
  s->open = true;
  if (!core_->attached(c)) {
    const Ran ran = execute(now, cmd::Attach{c});
    MQ_CHECK_MSG(ran.status.ok(), "attach of a detached consumer while up");
  }
  return true;
}

// A newer session takes consumer c: the old one's deliveries come back, and a fetch
// it has waiting is answered with an error.
void ServerShell::take_over(TimeNs now, ConsumerId c) {
  std::optional<Session>& s = sessions_[c];
  if (s && s->parked) {
    const ConnId conn = s->parked->conn;
    reply(conn, resp::Error{Code::kFailedPrecondition, "consumer '" + options_.config.consumers[c].name +
                                                           "' was taken over by a newer session"});
    s->parked.reset();
    unblock(conn);
  }
  if (core_->attached(c)) (void)execute(now, cmd::Detach{c});
}

void ServerShell::check_sessions(TimeNs now) {
  for (ConsumerId c = 0; c < sessions_.size(); ++c) {
    std::optional<Session>& s = sessions_[c];
    if (!s || !core_->attached(c)) continue;
    if (s->parked) s->last_heard_ns = now;  // waiting on us, not silent
    if (now - s->last_heard_ns <= options_.session_timeout_ns) continue;
    ++stats_.session_detaches;
    (void)execute(now, cmd::Detach{c});
  }
}

void ServerShell::closed(TimeNs now, ConnId conn) {
  conns_.erase(conn);
  std::erase(resume_, conn);
  if (state_ != State::kUp) return;
  for (ConsumerId c = 0; c < sessions_.size(); ++c) {
    std::optional<Session>& s = sessions_[c];
    if (!s || s->conn != conn || !s->open) continue;
    s->open = false;
    s->parked.reset();
    s->outbox.clear();
    if (core_->attached(c)) {
      ++stats_.session_detaches;
      (void)execute(now, cmd::Detach{c});
    }
  }
  after_input(now);
}

// After every input that may have changed what is ready or who has credit.
void ServerShell::after_input(TimeNs now) {
  resume_backlogs(now);
  dispatch_all(now);
  arm_timer(now);
}

// Requests that waited behind a blocking fetch, now answered, in arrival order.
void ServerShell::resume_backlogs(TimeNs now) {
  // Bounded: each round takes one request out of a backlog (backlogs only shrink
  // here: a connection that blocks again stops its own).
  for (size_t round = 0; !resume_.empty() && state_ == State::kUp; ++round) {
    MQ_CHECK(round < (size_t{1} << 32));
    const ConnId conn = resume_.front();
    auto it = conns_.find(conn);
    if (it == conns_.end() || it->second.blocked || it->second.backlog.empty()) {
      resume_.erase(resume_.begin());
      if (it != conns_.end() && !it->second.blocked) conns_.erase(it);
      continue;
    }
    Request r = std::move(it->second.backlog.front());
    it->second.backlog.pop_front();
    handle(now, conn, r);
  }
}

std::string ServerShell::info_text() const {
  std::string s = "state:" + std::string(state_name(state_)) + "\r\n";
  s += "time_ns:" + std::to_string(core_->now()) + "\r\n";
  s += "log_added_lsn:" + std::to_string(log_.added_lsn()) + "\r\n";
  s += "log_synced_lsn:" + std::to_string(synced_lsn_) + "\r\n";
  s += "commits:" + std::to_string(stats_.commits) + "\r\n";
  s += "checkpoints:" + std::to_string(stats_.checkpoints) + "\r\n";
  s += "commands:" + std::to_string(stats_.commands) + "\r\n";
  s += "publishes:" + std::to_string(stats_.publishes) + "\r\n";
  for (QueueId q = 0; q < options_.config.queues.size(); ++q) {
    const QueueStats st = core_->stats(q);
    s += "queue_" + st.name + ":size=" + std::to_string(st.size) + ",ready=" + std::to_string(st.ready) +
         ",in_flight=" + std::to_string(st.in_flight) + ",consumers=" + std::to_string(st.consumer_count) + "\r\n";
  }
  return s;
}

// ---- commands and output commit ----

// The time advance first (its own step), then the command at the same time. Both add
// their records to the log now; their outputs wait for the sync (emit).
ServerShell::Ran ServerShell::execute(TimeNs now, Command&& c) {
  MQ_CHECK(state_ == State::kUp && core_);
  ++stats_.executed[c.index()];
  Effects tick_effects;
  const Status ticked = core_->tick(now, tick_effects);
  MQ_CHECK_MSG(ticked.ok(), "the driver's time never goes backwards");
  ++stats_.commands;
  const uint64_t tick_lsn = log_.add(tick_effects);
  if (options_.record_every_command || !tick_effects.empty()) {
    act::Committed tick{cmd::Tick{}, Status(), std::move(tick_effects), now};
    emit_command(tick_lsn, now, &tick, {});
  }
  Ran ran;
  if (std::holds_alternative<cmd::Tick>(c)) {
    start_commit(now);
    return ran;
  }
  Effects effects;
  effects.reserve(4);  // one allocation for nearly every command (growing from 1 made three)
  ran.status = run(*core_, now, c, effects);
  ++stats_.commands;
  const uint64_t lsn = log_.add(effects);
  std::vector<Send> sends;
  const bool publishing = std::holds_alternative<cmd::Send>(c) || std::holds_alternative<cmd::Publish>(c);
  for (const Effect& e : effects) {
    switch (e.kind) {
      case EffectKind::kDelivered: {
        ran.delivered = true;
        ++stats_.pushes;
        const Session& s = *sessions_[e.consumer];  // the core delivers only to attached consumers
        sends.push_back(SendDelivery{s.id, s.conn, s.mode, Delivery{e.consumer, e.queue, e.message}});
        break;
      }
      case EffectKind::kAccepted: ran.accepted = true; break;
      case EffectKind::kRefused: ran.refused = true; break;
      case EffectKind::kDuplicate: ran.duplicate = true; break;
      case EffectKind::kDropped:
      case EffectKind::kReleased:
      case EffectKind::kAcked:
      case EffectKind::kRequeued:
      case EffectKind::kDeadLettered:
      case EffectKind::kDeadLetterRefused:
      case EffectKind::kExpired:
      case EffectKind::kLost:
      case EffectKind::kTimer:
        break;  // nothing to answer: the log carries them
    }
    if (!publishing) continue;
    if (e.kind == EffectKind::kAccepted) ran.queues.push_back({e.queue, PublishOutcome::kStored});
    if (e.kind == EffectKind::kRefused) ran.queues.push_back({e.queue, PublishOutcome::kFull});
    if (e.kind == EffectKind::kDuplicate) ran.queues.push_back({e.queue, PublishOutcome::kDuplicate});
  }
  const bool record = options_.record_every_command || !effects.empty();
  act::Committed done{std::move(c), ran.status, std::move(effects), now};
  emit_command(lsn, now, record ? &done : nullptr, std::move(sends));
  start_commit(now);
  return ran;
}

void ServerShell::emit(Output&& out, TimeNs now) {
  if (outputs_.empty() && may_release(out.note, out.lsn)) return release(out, now);
  outputs_.push_back(std::move(out));
}

// emit() for a command's output, made into an Output only when it has to wait: most
// go out at once, and building an Output (libstdc++ zeroes its optional record whole,
// 224 bytes) was about 7% of a shell cycle (BM_ShellCycle). `committed` is null when
// the driver does not record the command.
void ServerShell::emit_command(uint64_t lsn, TimeNs now, act::Committed* committed, std::vector<Send>&& sends) {
  if (outputs_.empty() && may_release(false, lsn)) return release_parts(now, committed, sends, now);
  Output& out = outputs_.emplace_back();
  out.lsn = lsn;
  out.at_ns = now;
  if (committed) out.committed.emplace(std::move(*committed));
  out.sends = std::move(sends);
}

// A response goes with the command executed last: now if its outputs are out, else
// when they are released.
void ServerShell::send_after(Send&& s, TimeNs now) {
  if (!outputs_.empty()) return outputs_.back().sends.push_back(std::move(s));
  carry_out(s, now);
}

void ServerShell::release(Output& out, TimeNs now) {
  if (!out.committed && out.note && out.note_id != 0) actions_.emplace_back(act::Noted{out.note_id, out.at_ns});
  release_parts(out.at_ns, out.committed ? &*out.committed : nullptr, out.sends, now);
}

void ServerShell::release_parts(TimeNs at_ns, act::Committed* committed, std::vector<Send>& sends, TimeNs now) {
  released_ns_ = std::max(released_ns_, at_ns);
  if (committed) {
    forget_taken_back(committed->effects);
    actions_.emplace_back(std::move(*committed));
  }
  for (Send& s : sends) carry_out(s, now);
}

// One released send.
void ServerShell::carry_out(Send& s, TimeNs now) {
  std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, SendResponse>) {
          reply(x.to, std::move(x.response));
        } else if constexpr (std::is_same_v<T, SendDelivery>) {
          route(x, now);
        } else {
          static_assert(std::is_same_v<T, AnswerFetch>);
          answer(x, now);
        }
      },
      s);
}

void ServerShell::release_ready(TimeNs now) {
  while (!outputs_.empty() && may_release(outputs_.front().note, outputs_.front().lsn)) {
    Output out = std::move(outputs_.front());
    outputs_.pop_front();
    release(out, now);
  }
}

void ServerShell::reply(ConnId to, Response&& r) { actions_.emplace_back(act::Reply{to, std::move(r)}); }

// A push goes out whatever became of the session (the consumer drops pushes of an
// older session); a pull session's delivery waits in its outbox, if that session
// still holds the consumer.
void ServerShell::route(SendDelivery& d, TimeNs now) {
  if (d.mode == SessionMode::kPush) return reply(d.conn, resp::Push{d.session, std::move(d.delivery)});
  const ConsumerId c = d.delivery.consumer;
  std::optional<Session>& s = sessions_[c];
  if (!s || s->id != d.session || !s->open) return;
  s->outbox.push(std::move(d.delivery));
  if (!s->parked) return;
  const ParkedFetch parked = *s->parked;
  s->parked.reset();
  answer(AnswerFetch{parked.conn, ConsumerRef{c, s->id, s->mode}, parked.max, parked.block_ns, now}, now);
}

// A blocking fetch that finds nothing parks until asked_ns + block_ns: its wait runs
// from when it was read, not from the time of the output it went out behind (an idle
// broker's last output may be long past, and a wait measured from it would end at
// once: an empty answer, and the client's next fetch straight after).
void ServerShell::answer(const AnswerFetch& f, TimeNs now) {
  std::optional<Session>& s = sessions_[f.who.consumer];
  // Only the answer to a blocking fetch unblocks its connection: an earlier, plain
  // fetch answered now must not let later requests overtake the blocking one.
  const bool blocking = f.block_ns > 0;
  if (!s || s->id != f.who.session || !s->open) {
    reply(f.to, resp::Error{Code::kFailedPrecondition, "consumer '" + options_.config.consumers[f.who.consumer].name +
                                                           "' was taken over by a newer session"});
    if (blocking) unblock(f.to);
    return;
  }
  if (f.who.mode == SessionMode::kPush) return reply(f.to, resp::Fetched{});
  resp::Fetched got;
  // Bounded by the outbox, which the consumer's credit bounds.
  while (!s->outbox.empty() && got.deliveries.size() < f.max) got.deliveries.push_back(s->outbox.pop());
  if (got.deliveries.empty() && f.block_ns > 0) {
    s->parked = ParkedFetch{f.to, f.max, f.block_ns, ++fetch_token_};
    set_timer(std::max(f.asked_ns + f.block_ns, now), TimerKind::kFetchTimeout, fetch_token_);
    return;
  }
  stats_.fetched += got.deliveries.size();
  reply(f.to, std::move(got));
  if (blocking) unblock(f.to);
}

void ServerShell::unblock(ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  it->second.blocked = false;
  if (it->second.backlog.empty()) {
    conns_.erase(it);
  } else {
    resume_.push_back(conn);
  }
}

void ServerShell::forget_delivery(ConsumerId c, MessageId id) {
  std::optional<Session>& s = sessions_[c];
  if (s) s->outbox.forget(id);
}

void ServerShell::Outbox::push(Delivery d) {
  MQ_CHECK_MSG(ids_.find_or_insert(d.message.id, 1).inserted, "a message in a pull session's outbox twice");
  deliveries_.push_back(std::move(d));
}

Delivery ServerShell::Outbox::pop() {
  MQ_CHECK(!empty());
  Delivery d = std::move(deliveries_.front());
  deliveries_.pop_front();
  ids_.erase(d.message.id);
  return d;
}

void ServerShell::Outbox::clear() {
  deliveries_.clear();
  ids_ = IdMap();
}

void ServerShell::Outbox::forget(MessageId id) {
  if (!ids_.erase(id)) return;
  std::erase_if(deliveries_, [&](const Delivery& d) { return d.message.id == id; });
}

// A pull session must not hand out what the core took back before it was fetched.
void ServerShell::forget_taken_back(const Effects& effects) {
  for (const Effect& e : effects) {
    if (!takes_back(e.kind)) continue;
    if (e.consumer != kNoConsumer) {
      if (e.consumer < sessions_.size()) forget_delivery(e.consumer, e.message.id);
      continue;
    }
    // A failed delivery whose TTL passed meanwhile finishes without naming its holder
    // (BrokerCore::place_ready): any consumer of its queue may have it in an outbox.
    for (ConsumerId c = 0; c < sessions_.size(); ++c) {
      if (queue_of_consumer_[c] == e.queue) forget_delivery(c, e.message.id);
    }
  }
}

// ---- the log ----

// Group commit: one write in flight; it takes every record added so far.
void ServerShell::start_commit(TimeNs now, bool asked) {
  if (writing_ || state_ != State::kUp || log_.added_lsn() == synced_lsn_) return;
  if (options_.defer_commit && !asked) {
    if (!commit_wanted_) actions_.emplace_back(act::CommitSoon{});
    commit_wanted_ = true;
    return;
  }
  const TimeNs earliest = last_commit_start_ns_.value_or(now) + options_.commit_delay_ns;
  if (options_.commit_delay_ns > 0 && last_commit_start_ns_ && now < earliest) {
    if (!delay_armed_) {
      delay_armed_ = true;
      set_timer(earliest, TimerKind::kCommitDelay, ++delay_token_);
    }
    return;
  }
  LogBatch batch = log_.take();
  writing_ = Writing::kLog;
  writing_lsn_ = batch.last_lsn;
  writing_bytes_ = batch.bytes.size();
  last_commit_start_ns_ = now;
  actions_.emplace_back(act::WriteLog{std::move(batch)});
}

void ServerShell::commit_now(TimeNs now) {
  commit_wanted_ = false;
  start_commit(now, /*asked=*/true);
}

void ServerShell::synced(TimeNs now, const Status& s) {
  MQ_CHECK_MSG(writing_.has_value() && state_ == State::kUp, "synced() without a write in flight");
  const Writing done = *writing_;
  writing_.reset();
  if (!s.ok()) return fail_stop(s);
  switch (done) {
    case Writing::kLog:
      ++stats_.commits;
      bytes_since_checkpoint_ += writing_bytes_;
      break;
    case Writing::kCheckpoint:
      ++stats_.checkpoints;
      bytes_since_checkpoint_ = 0;
      break;
  }
  synced_lsn_ = std::max(synced_lsn_, writing_lsn_);
  release_ready(now);  // before anything else can fail: these are durable now
  // Rule 4. The records added while the last write ran are taken too and dropped:
  // the image, taken at the same moment, holds what they say, and the checkpoint
  // covers their LSNs (so a server under steady load checkpoints as well).
  if (done == Writing::kLog && bytes_since_checkpoint_ >= options_.checkpoint_bytes) {
    const LogBatch covered = log_.take();
    DurableImage image = core_->durable_image();
    writing_ = Writing::kCheckpoint;
    writing_lsn_ = covered.last_lsn;
    // What runs after this (backlogs resumed below) goes in a later write.
    if (!resume_.empty()) after_input(now);
    actions_.emplace_back(act::WriteCheckpoint{std::move(image)});
    return;
  }
  start_commit(now);
  if (!resume_.empty()) after_input(now);
}

// A write failed: the log cannot be trusted past its last sync, so the shell stops
// (rule 5); what was not released vanishes, as at a crash.
void ServerShell::fail_stop(const Status& why) {
  ++stats_.write_failures;
  drop_unreleased();
  state_ = State::kFailed;
  actions_.emplace_back(act::Fail{why});
}

// ---- timers and dispatch ----

void ServerShell::timer(TimeNs now, TimerId id) {
  switch (id.kind) {
    case TimerKind::kDeadline:
      if (id.token != timer_token_) return;  // superseded by an earlier one
      timer_at_.reset();
      if (state_ != State::kUp) return;  // start re-arms
      (void)execute(now, cmd::Tick{});
      break;
    case TimerKind::kSessionCheck:
      set_timer(now + options_.session_check_ns, TimerKind::kSessionCheck, 0);
      if (state_ != State::kUp) return;
      check_sessions(now);
      break;
    case TimerKind::kFetchTimeout: {
      if (state_ != State::kUp) return;
      for (auto& s : sessions_) {
        if (!s || !s->parked || s->parked->token != id.token) continue;
        const ConnId conn = s->parked->conn;
        s->parked.reset();
        reply(conn, resp::Fetched{});
        unblock(conn);
        break;
      }
      break;
    }
    case TimerKind::kCommitDelay:
      if (id.token != delay_token_ || state_ != State::kUp) return;
      delay_armed_ = false;
      start_commit(now);
      break;
  }
  after_input(now);
}

void ServerShell::dispatch_all(TimeNs now) {
  if (state_ != State::kUp) return;
  uint64_t rounds = 0;
  for (QueueId q = 0; q < options_.config.queues.size(); ++q) {
    for (;;) {
      MQ_CHECK_MSG(++rounds <= dispatch_bound_, "eager dispatch over its bound");
      if (!core_->dispatchable(q)) break;
      if (!execute(now, cmd::Dispatch{q}).delivered) break;
    }
  }
}

void ServerShell::arm_timer(TimeNs now) {
  if (state_ != State::kUp) return;
  const std::optional<TimeNs> deadline = core_->next_deadline();
  if (!deadline) return;
  if (timer_at_ && *timer_at_ <= *deadline) return;  // an earlier one is set; it re-arms
  timer_at_ = std::max(*deadline, now);
  set_timer(*timer_at_, TimerKind::kDeadline, ++timer_token_);
}

void ServerShell::set_timer(TimeNs at_ns, TimerKind kind, uint64_t token) {
  actions_.emplace_back(act::SetTimer{at_ns, TimerId{kind, token}});
}

}  // namespace mq::impl
