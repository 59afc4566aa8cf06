#include "model/model.h"

#include <algorithm>

namespace mq {
namespace {

std::shared_ptr<const Wiring> wire(Topology topology) {
  auto w = std::make_shared<Wiring>();
  for (ConsumerId c = 0; c < topology.consumers.size(); ++c) {
    w->queue_of_consumer.push_back(topology.queue_of(c));
  }
  for (QueueId q = 0; q < topology.queues.size(); ++q) {
    w->consumers_of_queue.push_back(topology.consumers_of(q));
    w->dead_letter_of.push_back(topology.dead_letter_of(q));
  }
  for (TopicId t = 0; t < topology.topics.size(); ++t) {
    w->queues_of_topic.push_back(topology.queues_of(t));
  }
  w->topology = std::move(topology);
  return w;
}

Effect effect(EffectKind kind, QueueId q, const Message& m, ConsumerId c = kNoConsumer) {
  return Effect{kind, q, c, m};
}

}  // namespace

Result<Model> Model::create(Topology topology) {
  MQ_RETURN_IF_ERROR(topology.validate());
  return Model(wire(std::move(topology)));
}

Model::Model(std::shared_ptr<const Wiring> wiring) : wiring_(std::move(wiring)) {
  const Topology& t = wiring_->topology;
  state_.queues.resize(t.queues.size());
  for (QueueId q = 0; q < t.queues.size(); ++q) {
    state_.queues[q].ready.resize(t.queues[q].priority_levels);
  }
  state_.attached.assign(t.consumers.size(), 1);
}

Model::Model(std::shared_ptr<const Wiring> wiring, ModelState state)
    : wiring_(std::move(wiring)), state_(std::move(state)) {
  MQ_CHECK(state_.queues.size() == wiring_->topology.queues.size());
  MQ_CHECK(state_.attached.size() == wiring_->topology.consumers.size());
}

// ---- input checks: each names what is wrong ----

Status Model::check_queue(QueueId q) const {
  if (q >= topology().queues.size()) return not_found("unknown queue #" + std::to_string(q));
  return Status();
}
Status Model::check_consumer(ConsumerId c) const {
  if (c >= topology().consumers.size()) return not_found("unknown consumer #" + std::to_string(c));
  return Status();
}
Status Model::check_producer(ProducerId p) const {
  if (p >= topology().producers.size()) return not_found("unknown producer #" + std::to_string(p));
  return Status();
}
Status Model::check_up() const {
  if (!state_.up) return unavailable("the broker is down (crashed, not recovered)");
  return Status();
}

// Whether id is a duplicate in q: held, or finished and still remembered (for ever,
// or within the queue's window).
bool Model::holds_id(QueueId q, MessageId id) const {
  const QueueState& qs = state_.queues[q];
  const bool windowed = topology().queues[q].windowed();
  for (const auto& level : qs.ready) {
    for (const auto& m : level)
      if (m.id == id) return true;
  }
  for (const auto& m : qs.delayed)
    if (m.id == id) return true;
  for (const auto& f : qs.in_flight)
    if (f.message.id == id) return true;
  if (windowed) return in_window(q, id);
  for (const auto& f : qs.finished)
    if (f.id == id) return true;
  return false;
}

bool Model::in_window(QueueId q, MessageId id) const {
  const TimeNs max_age = topology().queues[q].dedup_window_ns;
  for (const auto& w : state_.queues[q].window) {
    if (w.id == id && (max_age == 0 || w.accepted_ns + max_age > state_.now_ns)) return true;
  }
  return false;
}

Status Model::check_spec(QueueId q, const MessageSpec& spec) const {
  MQ_CHECK(q < topology().queues.size());
  const QueueConfig& cfg = topology().queues[q];
  const std::string where = "queue '" + cfg.name + "', message #" + std::to_string(spec.id) + ": ";
  if (spec.priority >= cfg.priority_levels) {
    return invalid_argument(where + "priority " + std::to_string(spec.priority) + " out of range 0.." +
                            std::to_string(cfg.priority_levels - 1));
  }
  if (spec.ttl_ns < 0) return invalid_argument(where + "ttl_ns < 0");
  if (spec.delay_ns < 0) return invalid_argument(where + "delay_ns < 0");
  if (holds_id(q, spec.id)) return already_exists(where + "duplicate message id");
  return Status();
}

// ---- the mechanics every operation shares ----

void Model::finish(QueueId q, const Message& m, Fate fate, Effects& out) {
  state_.queues[q].finished.push_back(Finished{m.id, fate});
  static constexpr EffectKind kKind[] = {EffectKind::kAcked, EffectKind::kExpired, EffectKind::kDeadLettered,
                                         EffectKind::kLost, EffectKind::kDropped};
  // kAcked and kDeadLettered name the consumer through the caller; see ack().
  out.push_back(effect(kKind[static_cast<int>(fate)], q, m));
}

// Puts a message that is due back into ready, or expires it if its TTL has passed
// meanwhile (so that ready never holds an expired message).
void Model::place_ready(QueueId q, Message m, Effects& out) {
  if (m.expired_at(state_.now_ns)) return finish(q, m, Fate::kExpired, out);
  auto& level = state_.queues[q].ready[m.priority];
  if (m.attempts > 0 && topology().queues[q].redelivery == Redelivery::kFront) {
    level.insert(level.begin(), std::move(m));
  } else {
    level.push_back(std::move(m));
  }
}

// A windowed queue remembers the id: the oldest ones beyond the count and age bounds go.
void Model::remember(QueueId q, MessageId id) {
  const QueueConfig& cfg = topology().queues[q];
  if (!cfg.windowed()) return;
  auto& window = state_.queues[q].window;
  if (cfg.dedup_window_ns > 0) {
    std::erase_if(window,
                  [&](const WindowEntry& w) { return w.accepted_ns + cfg.dedup_window_ns <= state_.now_ns; });
  }
  window.push_back(WindowEntry{id, state_.now_ns});
  if (cfg.dedup_window_ids > 0 && window.size() > cfg.dedup_window_ids) window.erase(window.begin());
}

// A full drop-oldest queue drops the head of its lowest non-empty ready level, else
// its oldest delayed message; false when it refuses (reject, or everything in flight).
// Within capacity one drop makes room; a state that a broken variant of the model
// (properties/model_variants.h) put over capacity drops until there is room, so that
// the model stays total on it and the checkers, not an assertion, judge the variant.
bool Model::make_room(QueueId q, Effects& out) {
  if (topology().queues[q].overflow != Overflow::kDropOldest) return false;
  const uint32_t capacity = topology().queues[q].capacity;
  // Bounded: each round drops one message or returns.
  while (state_.queues[q].size() >= capacity) {
    if (!drop_oldest(q, out)) return false;
  }
  return true;
}

bool Model::drop_oldest(QueueId q, Effects& out) {
  QueueState& qs = state_.queues[q];
  for (auto& level : qs.ready) {
    if (level.empty()) continue;
    const Message m = level.front();
    level.erase(level.begin());
    finish(q, m, Fate::kDropped, out);
    return true;
  }
  if (qs.delayed.empty()) return false;
  const Message m = qs.delayed.front();
  qs.delayed.erase(qs.delayed.begin());
  finish(q, m, Fate::kDropped, out);
  return true;
}

void Model::enqueue(QueueId q, Message m, Effects& out) {
  QueueState& qs = state_.queues[q];
  MQ_CHECK(qs.size() < topology().queues[q].capacity);
  qs.counters.accepted++;
  out.push_back(effect(EffectKind::kAccepted, q, m));
  remember(q, m.id);
  if (!m.deliverable_at(state_.now_ns)) {
    qs.delayed.push_back(std::move(m));
  } else {
    place_ready(q, std::move(m), out);
  }
}

void Model::dead_letter(QueueId q, const Message& m, Effects& out) {
  finish(q, m, Fate::kDeadLettered, out);
  const auto dlq = wiring_->dead_letter_of[q];
  if (!dlq) return;
  const QueueConfig& cfg = topology().queues[*dlq];
  // The dead-letter queue receives a fresh message with the same id and payload.
  Message copy{m.id,
               m.payload,
               state_.now_ns,
               static_cast<Priority>(std::min<uint32_t>(m.priority, cfg.priority_levels - 1)),
               0,
               state_.now_ns,
               0,
               cfg.max_retries};
  if (holds_id(*dlq, m.id) || (state_.queues[*dlq].size() >= cfg.capacity && !make_room(*dlq, out))) {
    state_.queues[q].counters.dead_letter_refused++;
    out.push_back(effect(EffectKind::kDeadLetterRefused, q, m));
    return;
  }
  enqueue(*dlq, std::move(copy), out);
}

// A delivery to `holder` ended without an ack: a message past its TTL expires
// (whatever its retries); otherwise it is requeued while retries are left, else
// dead-lettered. The requeue or dead-letter effect names the holder.
void Model::fail_delivery(QueueId q, Message m, ConsumerId holder, Effects& out) {
  if (m.expired_at(state_.now_ns)) return finish(q, m, Fate::kExpired, out);
  if (!m.retries_left()) {
    const size_t at = out.size();
    dead_letter(q, m, out);
    out[at].consumer = holder;
    return;
  }
  out.push_back(effect(EffectKind::kRequeued, q, m, holder));
  place_ready(q, std::move(m), out);
}

std::optional<Priority> Model::top_ready_level(QueueId q) const {
  const auto& ready = state_.queues[q].ready;
  for (size_t p = ready.size(); p-- > 0;) {
    if (!ready[p].empty()) return static_cast<Priority>(p);
  }
  return std::nullopt;
}

// REQUIRES: a ready message exists and c is attached with credit.
void Model::deliver(QueueId q, ConsumerId c, Effects& out) {
  QueueState& qs = state_.queues[q];
  auto& level = qs.ready[*top_ready_level(q)];
  Message m = std::move(level.front());
  level.erase(level.begin());
  m.attempts++;
  qs.counters.deliveries++;
  if (m.attempts > 1) qs.counters.redeliveries++;
  out.push_back(effect(EffectKind::kDelivered, q, m, c));
  const ConsumerConfig& cc = topology().consumers[c];
  if (cc.ack_mode == AckMode::kAuto) {
    finish(q, m, Fate::kAcked, out);
    out.back().consumer = c;
    return;
  }
  const TimeNs vt = topology().queues[q].visibility_timeout_ns;
  qs.in_flight.push_back(InFlight{std::move(m), c, vt > 0 ? state_.now_ns + vt : 0});
}

uint32_t Model::unacked(ConsumerId c) const {
  uint32_t n = 0;
  for (const auto& f : state_.queues[wiring_->queue_of_consumer[c]].in_flight) {
    if (f.consumer == c) n++;
  }
  return n;
}

bool Model::has_credit(ConsumerId c) const {
  const uint32_t prefetch = topology().consumers[c].prefetch;
  return state_.attached[c] && (prefetch == 0 || unacked(c) < prefetch);
}

std::optional<InFlight> Model::take_in_flight(ConsumerId c, MessageId id) {
  auto& in_flight = state_.queues[wiring_->queue_of_consumer[c]].in_flight;
  for (auto it = in_flight.begin(); it != in_flight.end(); ++it) {
    if (it->consumer == c && it->message.id == id) {
      InFlight f = std::move(*it);
      in_flight.erase(it);
      return f;
    }
  }
  return std::nullopt;
}

// Ends the deliveries of queue q that match as failed attempts, in delivery order.
// Under front redelivery they are put back in reverse, so that they keep their order.
void Model::return_in_flight(QueueId q, bool only_expired_deadlines, ConsumerId only_consumer, Effects& out) {
  auto& in_flight = state_.queues[q].in_flight;
  std::vector<InFlight> back;
  std::vector<InFlight> keep;
  for (auto& f : in_flight) {
    const bool due = !only_expired_deadlines || (f.deadline_ns != 0 && f.deadline_ns <= state_.now_ns);
    const bool mine = only_consumer == kNoConsumer || f.consumer == only_consumer;
    (due && mine ? back : keep).push_back(std::move(f));
  }
  in_flight = std::move(keep);
  if (topology().queues[q].redelivery == Redelivery::kFront) std::reverse(back.begin(), back.end());
  for (auto& f : back) {
    fail_delivery(q, std::move(f.message), f.consumer, out);
  }
}

}  // namespace mq

// ---- operations ----

namespace mq {

Result<Effects> Model::send(ProducerId p, QueueId q, const MessageSpec& spec) {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_producer(p));
  MQ_RETURN_IF_ERROR(check_queue(q));
  MQ_RETURN_IF_ERROR(check_spec(q, spec));
  const QueueConfig& cfg = topology().queues[q];
  Message m{spec.id,
            spec.payload,
            state_.now_ns,
            spec.priority,
            spec.ttl_ns,
            state_.now_ns + spec.delay_ns,
            0,
            spec.max_retries.value_or(cfg.max_retries)};
  Effects out;
  if (state_.queues[q].size() >= cfg.capacity && !make_room(q, out)) {
    state_.queues[q].counters.refused++;
    out.push_back(effect(EffectKind::kRefused, q, m));
    return out;
  }
  enqueue(q, std::move(m), out);
  return out;
}

Result<Effects> Model::publish(ProducerId p, TopicId t, const MessageSpec& spec) {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_producer(p));
  if (t >= topology().topics.size()) return not_found("unknown topic #" + std::to_string(t));
  // Validate against every bound queue first: a bad message is refused as a whole.
  for (QueueId q : wiring_->queues_of_topic[t]) MQ_RETURN_IF_ERROR(check_spec(q, spec));
  Effects out;
  for (QueueId q : wiring_->queues_of_topic[t]) {
    auto one = send(p, q, spec);
    MQ_CHECK(one.ok());
    out.insert(out.end(), one->begin(), one->end());
  }
  return out;
}

Result<Effects> Model::dispatch(QueueId q) {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_queue(q));
  Effects out;
  if (!top_ready_level(q)) return out;
  const auto& ring = wiring_->consumers_of_queue[q];
  QueueState& qs = state_.queues[q];
  for (size_t k = 0; k < ring.size(); ++k) {
    const size_t pos = (qs.rr_cursor + k) % ring.size();
    if (!has_credit(ring[pos])) continue;
    qs.rr_cursor = static_cast<uint32_t>((pos + 1) % ring.size());
    deliver(q, ring[pos], out);
    return out;
  }
  return out;  // nobody has credit
}

Result<Effects> Model::fetch(ConsumerId c) {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_consumer(c));
  if (!state_.attached[c]) {
    return failed_precondition("consumer '" + topology().consumers[c].name + "' is not attached");
  }
  Effects out;
  const QueueId q = wiring_->queue_of_consumer[c];
  if (top_ready_level(q) && has_credit(c)) deliver(q, c, out);
  return out;
}

Result<Effects> Model::ack(ConsumerId c, MessageId id) {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_consumer(c));
  auto f = take_in_flight(c, id);
  if (!f) {
    return failed_precondition("ack: message #" + std::to_string(id) + " is not in flight at consumer '" +
                               topology().consumers[c].name + "'");
  }
  Effects out;
  finish(wiring_->queue_of_consumer[c], f->message, Fate::kAcked, out);
  out.back().consumer = c;
  return out;
}

Result<Effects> Model::nack(ConsumerId c, MessageId id, bool requeue) {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_consumer(c));
  auto f = take_in_flight(c, id);
  if (!f) {
    return failed_precondition("nack: message #" + std::to_string(id) + " is not in flight at consumer '" +
                               topology().consumers[c].name + "'");
  }
  Effects out;
  const QueueId q = wiring_->queue_of_consumer[c];
  if (requeue) {
    fail_delivery(q, std::move(f->message), c, out);
  } else {
    dead_letter(q, f->message, out);
    out.front().consumer = c;
  }
  return out;
}

std::optional<TimeNs> Model::next_event_time() const {
  std::optional<TimeNs> next;
  auto consider = [&](TimeNs t) {
    if (t > state_.now_ns && (!next || t < *next)) next = t;
  };
  for (const auto& qs : state_.queues) {
    for (const auto& level : qs.ready) {
      for (const auto& m : level)
        if (m.ttl_ns > 0) consider(m.timestamp_ns + m.ttl_ns);
    }
    for (const auto& m : qs.delayed) {
      consider(m.not_before_ns);
      if (m.ttl_ns > 0) consider(m.timestamp_ns + m.ttl_ns);
    }
    for (const auto& f : qs.in_flight)
      if (f.deadline_ns > 0) consider(f.deadline_ns);
  }
  return next;
}

// Everything due at the current time: visibility timeouts, then delay releases, then
// expiries, each in queue order.
void Model::fire_due_timers(Effects& out) {
  const TimeNs now = state_.now_ns;
  const auto queue_count = static_cast<QueueId>(state_.queues.size());
  for (QueueId q = 0; q < queue_count; ++q) return_in_flight(q, true, kNoConsumer, out);
  for (QueueId q = 0; q < queue_count; ++q) {
    auto& delayed = state_.queues[q].delayed;
    std::vector<Message> due;
    std::vector<Message> keep;
    for (auto& m : delayed) (m.deliverable_at(now) ? due : keep).push_back(std::move(m));
    delayed = std::move(keep);
    for (auto& m : due) {
      out.push_back(effect(EffectKind::kReleased, q, m));
      place_ready(q, std::move(m), out);
    }
  }
  for (QueueId q = 0; q < queue_count; ++q) {
    QueueState& qs = state_.queues[q];
    for (auto& level : qs.ready) {
      std::vector<Message> keep;
      for (auto& m : level) {
        if (m.expired_at(now))
          finish(q, m, Fate::kExpired, out);
        else
          keep.push_back(std::move(m));
      }
      level = std::move(keep);
    }
    std::vector<Message> keep;
    for (auto& m : qs.delayed) {
      if (m.expired_at(now))
        finish(q, m, Fate::kExpired, out);
      else
        keep.push_back(std::move(m));
    }
    qs.delayed = std::move(keep);
  }
}

Result<Effects> Model::advance(TimeNs now_ns) {
  if (now_ns < state_.now_ns) {
    return invalid_argument("advance: time " + std::to_string(now_ns) + " is before now " +
                            std::to_string(state_.now_ns));
  }
  Effects out;
  // Visit every intermediate time at which something is due, in order, so that one
  // advance(t) is the same as any sequence of smaller advances ending at t.
  for (size_t round = 0;; ++round) {
    MQ_CHECK(round <= kMaxTimerRounds);
    const auto next = next_event_time();
    if (!next || *next > now_ns) break;
    state_.now_ns = *next;
    fire_due_timers(out);
  }
  state_.now_ns = now_ns;
  return out;
}

Result<Effects> Model::crash() {
  if (!state_.up) return failed_precondition("crash: the broker is already down");
  Effects out;
  const auto queue_count = static_cast<QueueId>(state_.queues.size());
  for (QueueId q = 0; q < queue_count; ++q) {
    if (topology().queues[q].durable) return_in_flight(q, false, kNoConsumer, out);
  }
  for (QueueId q = 0; q < queue_count; ++q) {
    if (topology().queues[q].durable) continue;
    QueueState& qs = state_.queues[q];
    for (auto& f : qs.in_flight) finish(q, f.message, Fate::kLost, out);
    for (auto& level : qs.ready) {
      for (auto& m : level) finish(q, m, Fate::kLost, out);
      level.clear();
    }
    for (auto& m : qs.delayed) finish(q, m, Fate::kLost, out);
    qs.in_flight.clear();
    qs.delayed.clear();
  }
  for (auto& qs : state_.queues) qs.rr_cursor = 0;
  std::fill(state_.attached.begin(), state_.attached.end(), 0);
  state_.up = false;
  return out;
}

Result<Effects> Model::recover() {
  if (state_.up) return failed_precondition("recover: the broker is up");
  state_.up = true;
  return Effects{};
}

Result<Effects> Model::attach(ConsumerId c) {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_consumer(c));
  if (state_.attached[c]) {
    return failed_precondition("attach: consumer '" + topology().consumers[c].name + "' is attached");
  }
  state_.attached[c] = 1;
  return Effects{};
}

Result<Effects> Model::detach(ConsumerId c) {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_consumer(c));
  if (!state_.attached[c]) {
    return failed_precondition("detach: consumer '" + topology().consumers[c].name + "' is not attached");
  }
  state_.attached[c] = 0;
  Effects out;
  return_in_flight(wiring_->queue_of_consumer[c], false, c, out);
  return out;
}

Result<Effects> Model::apply(const Op& op) {
  struct Apply {
    Model& m;
    Result<Effects> operator()(const op::Send& o) { return m.send(o.producer, o.queue, o.spec); }
    Result<Effects> operator()(const op::Publish& o) { return m.publish(o.producer, o.topic, o.spec); }
    Result<Effects> operator()(const op::Dispatch& o) { return m.dispatch(o.queue); }
    Result<Effects> operator()(const op::Fetch& o) { return m.fetch(o.consumer); }
    Result<Effects> operator()(const op::Ack& o) { return m.ack(o.consumer, o.id); }
    Result<Effects> operator()(const op::Nack& o) { return m.nack(o.consumer, o.id, o.requeue); }
    Result<Effects> operator()(const op::Advance& o) { return m.advance(o.now_ns); }
    Result<Effects> operator()(const op::Crash&) { return m.crash(); }
    Result<Effects> operator()(const op::Recover&) { return m.recover(); }
    Result<Effects> operator()(const op::Attach& o) { return m.attach(o.consumer); }
    Result<Effects> operator()(const op::Detach& o) { return m.detach(o.consumer); }
  };
  return std::visit(Apply{*this}, op);
}

QueueStats Model::stats(QueueId q) const {
  MQ_CHECK(q < state_.queues.size());
  const QueueState& qs = state_.queues[q];
  QueueStats s;
  s.name = topology().queues[q].name;
  s.capacity = topology().queues[q].capacity;
  s.size = qs.size();
  for (ConsumerId c : wiring_->consumers_of_queue[q]) s.consumer_count += state_.attached[c];
  s.ready = qs.ready_count();
  s.delayed = qs.delayed.size();
  s.in_flight = qs.in_flight.size();
  s.accepted = qs.counters.accepted;
  s.refused = qs.counters.refused;
  s.deliveries = qs.counters.deliveries;
  s.redeliveries = qs.counters.redeliveries;
  s.dead_letter_refused = qs.counters.dead_letter_refused;
  for (const auto& f : qs.finished) {
    switch (f.fate) {
      case Fate::kAcked:
        s.acked++;
        break;
      case Fate::kExpired:
        s.expired++;
        break;
      case Fate::kDeadLettered:
        s.dead_lettered++;
        break;
      case Fate::kLost:
        s.lost++;
        break;
      case Fate::kDropped:
        s.dropped++;
        break;
    }
  }
  return s;
}

// Beside apply(): the two places an operation is spelled out, one per kind.
namespace {
std::string spec_string(const MessageSpec& s) {
  std::string out = "#" + std::to_string(s.id) + " p" + std::to_string(s.priority);
  if (s.ttl_ns) out += " ttl=" + std::to_string(s.ttl_ns);
  if (s.delay_ns) out += " delay=" + std::to_string(s.delay_ns);
  if (s.max_retries) out += " retries=" + std::to_string(*s.max_retries);
  return out;
}
}  // namespace

std::string to_string(const Op& op) {
  struct Printer {
    std::string operator()(const op::Send& o) const {
      return "send p" + std::to_string(o.producer) + " q" + std::to_string(o.queue) + " " +
             spec_string(o.spec);
    }
    std::string operator()(const op::Publish& o) const {
      return "publish p" + std::to_string(o.producer) + " t" + std::to_string(o.topic) + " " +
             spec_string(o.spec);
    }
    std::string operator()(const op::Dispatch& o) const { return "dispatch q" + std::to_string(o.queue); }
    std::string operator()(const op::Fetch& o) const { return "fetch c" + std::to_string(o.consumer); }
    std::string operator()(const op::Ack& o) const {
      return "ack c" + std::to_string(o.consumer) + " #" + std::to_string(o.id);
    }
    std::string operator()(const op::Nack& o) const {
      return "nack c" + std::to_string(o.consumer) + " #" + std::to_string(o.id) +
             (o.requeue ? " requeue" : " dead-letter");
    }
    std::string operator()(const op::Advance& o) const { return "advance " + std::to_string(o.now_ns); }
    std::string operator()(const op::Crash&) const { return "crash"; }
    std::string operator()(const op::Recover&) const { return "recover"; }
    std::string operator()(const op::Attach& o) const { return "attach c" + std::to_string(o.consumer); }
    std::string operator()(const op::Detach& o) const { return "detach c" + std::to_string(o.consumer); }
  };
  return std::visit(Printer{}, op);
}

}  // namespace mq
