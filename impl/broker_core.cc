#include "impl/broker_core.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <iterator>
#include <tuple>

#include "base/huge_pages.h"
#include "base/overloaded.h"
#include "impl/id_map.h"
#include "impl/mutant.h"

namespace mq::impl {
namespace {

Effect effect(EffectKind kind, QueueId q, const Message& m, ConsumerId c = kNoConsumer,
              Reason reason = Reason::kNone) {
  return Effect{kind, q, c, reason, kNoDeadline, m};
}
// For a message whose slot is being freed: the effect takes the slot's share of the
// payload instead of adding one (two atomic reference-count updates fewer).
Effect effect(EffectKind kind, QueueId q, Message&& m, ConsumerId c) {
  return Effect{kind, q, c, Reason::kNone, kNoDeadline, std::move(m)};
}

// When m expires (ttl > 0): at timestamp + ttl, the model's rule (live while before).
// Every expiry decision of the core goes through here and expired().
TimeNs expiry_ns(const Message& m) {
  // Fault: the deadline is one tick short (kept after the timestamp, so a TTL of
  // 1 still behaves).
  if (MQ_MUTANT(kTtlOffByOne)) return std::max(m.expires_at_ns() - 1, m.timestamp_ns + 1);
  return m.expires_at_ns();
}
bool expired(const Message& m, TimeNs now_ns) { return m.ttl_ns > 0 && now_ns >= expiry_ns(m); }

}  // namespace

// ---- construction ----

Result<BrokerCore> BrokerCore::create(BrokerConfig config) {
  MQ_RETURN_IF_ERROR(config.validate());
  return BrokerCore(std::move(config));
}

BrokerCore::BrokerCore(BrokerConfig config) : config_(std::move(config)) {
  queues_.resize(config_.queues.size());
  for (QueueId q = 0; q < queues_.size(); ++q) {
    const QueueOptions& o = config_.queues[q];
    QueueRt& qr = queues_[q];
    qr.levels.resize(o.priority_levels);
    qr.ids = QueueIds(o.dedup_window_ids, o.dedup_window_ns);
    if (o.dead_letter_queue) qr.dead_letter = config_.find_queue(*o.dead_letter_queue);
    qr.counters.name = o.name;
    qr.counters.capacity = o.capacity;
  }
  consumers_.resize(config_.consumers.size());
  for (ConsumerId c = 0; c < consumers_.size(); ++c) {
    const QueueId q = *config_.find_queue(config_.consumers[c].queue);
    consumers_[c].queue = q;
    consumers_[c].ring_pos = static_cast<uint32_t>(queues_[q].ring.size());
    queues_[q].ring.push_back(c);
  }
  for (QueueRt& qr : queues_) {
    qr.credit = CreditRing(static_cast<uint32_t>(qr.ring.size()));
    qr.counters.consumer_count = qr.ring.size();  // every consumer starts attached
  }
  for (ConsumerId c = 0; c < consumers_.size(); ++c) update_credit(c);
  for (const TopicOptions& t : config_.topics) {
    std::vector<QueueId> bound;
    for (const auto& name : t.queues) bound.push_back(*config_.find_queue(name));
    topic_queues_.push_back(std::move(bound));
  }
}

// ---- input checks ----

Status BrokerCore::down_error() { return unavailable("the broker is down (crashed, not recovered)"); }
Status BrokerCore::unknown(const char* what, uint32_t index) {
  return not_found("unknown " + std::string(what) + " #" + std::to_string(index));
}

bool BrokerCore::holds_id(QueueId q, MessageId id) {
  return queues_[q].ids.knows(id, now_ns_);
}

Status BrokerCore::check_spec(QueueId q, const MessageSpec& spec) {
  const QueueOptions& o = config_.queues[q];
  // The hot path of every send: the error text is built only when there is an error.
  const bool bad = spec.priority >= o.priority_levels || spec.ttl_ns < 0 || spec.delay_ns < 0;
  if (!bad && !holds_id(q, spec.id)) return Status();
  const std::string where = "queue '" + o.name + "', message #" + std::to_string(spec.id) + ": ";
  if (spec.priority >= o.priority_levels) {
    return invalid_argument(where + "priority " + std::to_string(spec.priority) + " out of range 0.." +
                            std::to_string(o.priority_levels - 1));
  }
  if (spec.ttl_ns < 0) return invalid_argument(where + "ttl_ns < 0");
  if (spec.delay_ns < 0) return invalid_argument(where + "delay_ns < 0");
  MQ_CHECK(holds_id(q, spec.id));  // the spec is well-formed, so the id is why we are here
  return already_exists(where + "duplicate message id");
}

// Time moves first, whatever the command turns out to be: the clock is not wrong
// because the command is. Like the model, it visits every intermediate time at
// which a timer is due, in order, so that one advance to t equals any sequence of
// smaller advances that ends at t: firing at one time may arm or cancel timers
// due later (a requeued message's TTL, a dead-letter copy), and those must be seen
// at their own time, not at the final one.
Status BrokerCore::advance(TimeNs now_ns, Effects& out) {
  if (now_ns < now_ns_) {
    return invalid_argument("time " + std::to_string(now_ns) + " is before now " + std::to_string(now_ns_));
  }
  // Bounded: each round moves time strictly forward (to a due time <= now_ns) and
  // fires at least one live timer.
  for (size_t round = 0;; ++round) {
    MQ_CHECK(round <= kMaxTimerRounds);
    purge_stale_top();
    if (heap_.empty() || heap_.front().at_ns > now_ns) break;
    now_ns_ = heap_.front().at_ns;
    collect_due(now_ns_);
    for (const DueTimer& d : due_) {
      if (live(d.timer)) fire(d.timer, out);
    }
    due_.clear();
  }
  now_ns_ = now_ns;
  return Status();
}

Status BrokerCore::finish_command(Status status, Effects& out) {
  report_deadline(out);
  return status;
}

}  // namespace mq::impl

// ---- commands ----

namespace mq::impl {

Status BrokerCore::check_send(ProducerId p, QueueId q, const MessageSpec& spec) {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_producer(p));
  MQ_RETURN_IF_ERROR(check_queue(q));
  return check_spec(q, spec);
}

Status BrokerCore::send(TimeNs now_ns, ProducerId p, QueueId q, MessageSpec spec, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  const Status s = check_send(p, q, spec);
  if (s.code() == Code::kAlreadyExists) {
    queues_[q].counters.duplicates++;
    Message held = stamp(q, spec, nullptr);
    emit(out, effect(EffectKind::kDuplicate, q, held));
    return finish_command(Status(), out);
  }
  if (!s.ok()) return finish_command(s, out);
  send_one(q, stamp(q, spec, std::make_shared<const std::string>(std::move(spec.payload))), out);
  return finish_command(Status(), out);
}

Status BrokerCore::publish(TimeNs now_ns, ProducerId p, TopicId t, MessageSpec spec, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  Status s = check_up();
  if (s.ok()) s = check_producer(p);
  if (s.ok() && t >= topic_queues_.size()) s = not_found("unknown topic #" + std::to_string(t));
  // A bad message is refused as a whole, before any queue takes it (as in the model).
  for (size_t k = 0; s.ok() && k < topic_queues_[t].size(); ++k) s = check_spec(topic_queues_[t][k], spec);
  if (s.code() == Code::kAlreadyExists) {
    for (QueueId q : topic_queues_[t]) {
      if (!holds_id(q, spec.id)) continue;
      queues_[q].counters.duplicates++;
      emit(out, effect(EffectKind::kDuplicate, q, stamp(q, spec, nullptr)));
    }
    return finish_command(Status(), out);
  }
  if (!s.ok()) return finish_command(s, out);
  // One payload buffer shared by every bound queue.
  const Payload payload = std::make_shared<const std::string>(std::move(spec.payload));
  for (QueueId q : topic_queues_[t]) send_one(q, stamp(q, spec, payload), out);
  return finish_command(Status(), out);
}

Status BrokerCore::dispatch(TimeNs now_ns, QueueId q, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  Status s = check_up();
  if (s.ok()) s = check_queue(q);
  if (!s.ok()) return finish_command(s, out);
  QueueRt& qr = queues_[q];
  if (!top_level(qr)) return finish_command(Status(), out);
  const auto pos = qr.credit.next_from(qr.cursor);
  if (!pos) return finish_command(Status(), out);  // nobody has credit
  qr.cursor = static_cast<uint32_t>((*pos + 1) % qr.ring.size());
  // Fault: the cursor moves one position too far, over the consumer after *pos.
  if (MQ_MUTANT(kRoundRobinSkip)) qr.cursor = static_cast<uint32_t>((*pos + 2) % qr.ring.size());
  deliver(q, qr.ring[*pos], out);
  return finish_command(Status(), out);
}

Status BrokerCore::check_fetch(ConsumerId c) const {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_consumer(c));
  if (!consumers_[c].attached) {
    return failed_precondition("consumer '" + config_.consumers[c].name + "' is not attached");
  }
  return Status();
}

Status BrokerCore::fetch(TimeNs now_ns, ConsumerId c, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  const Status s = check_fetch(c);
  if (!s.ok()) return finish_command(s, out);
  const ConsumerRt& cr = consumers_[c];
  if (top_level(queues_[cr.queue]) && queues_[cr.queue].credit.test(cr.ring_pos)) deliver(cr.queue, c, out);
  return finish_command(Status(), out);
}

// The slot of message id in flight at consumer c, or the error ack or nack (`verb`)
// answers.
Status BrokerCore::check_in_flight(ConsumerId c, MessageId id, const char* verb, uint32_t& slot) const {
  MQ_RETURN_IF_ERROR(check_up());
  MQ_RETURN_IF_ERROR(check_consumer(c));
  slot = queues_[consumers_[c].queue].ids.slot_of(id);
  if (slot == QueueIds::kNone || slots_[slot].place != Place::kInFlight || slots_[slot].consumer != c) {
    return failed_precondition(std::string(verb) + ": message #" + std::to_string(id) +
                               " is not in flight at consumer '" + config_.consumers[c].name + "'");
  }
  return Status();
}

Status BrokerCore::ack(TimeNs now_ns, ConsumerId c, MessageId id, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  uint32_t slot = QueueIds::kNone;
  const Status s = check_in_flight(c, id, "ack", slot);
  if (!s.ok()) return finish_command(s, out);
  // Fault: the ack finishes the consumer's newest delivery (a delivery-tag mix-up).
  if (MQ_MUTANT(kAckWrongMessage)) slot = consumers_[c].in_flight.tail;
  take(slot);
  finish(slot, Fate::kAcked, c, out);
  return finish_command(Status(), out);
}

Status BrokerCore::nack(TimeNs now_ns, ConsumerId c, MessageId id, bool requeue, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  uint32_t slot = QueueIds::kNone;
  const Status s = check_in_flight(c, id, "nack", slot);
  if (!s.ok()) return finish_command(s, out);
  take(slot);
  if (requeue) {
    fail_delivery(slot, c, out);
  } else {
    dead_letter(slot, c, out);
  }
  return finish_command(Status(), out);
}

Status BrokerCore::tick(TimeNs now_ns, Effects& out) {
  return finish_command(advance(now_ns, out), out);
}

Status BrokerCore::crash(TimeNs now_ns, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  if (!up_) return finish_command(failed_precondition("crash: the broker is already down"), out);
  crash_now(out);
  up_ = false;
  return finish_command(Status(), out);
}

// The model's crash at the current time: durable queues take their in-flight
// messages back as failed deliveries, then non-durable queues lose everything
// (including dead-letter copies just made), and every consumer detaches.
void BrokerCore::crash_now(Effects& out) {
  for (QueueId q = 0; q < queues_.size(); ++q) {
    if (!config_.queues[q].durable) continue;
    std::vector<uint32_t> held = in_flight_of_queue(q);
    return_in_flight(held, config_.queues[q].redelivery == Redelivery::kFront, out);
  }
  for (QueueId q = 0; q < queues_.size(); ++q) {
    if (config_.queues[q].durable) continue;
    for (uint32_t s : in_flight_of_queue(q)) {
      take(s);
      finish(s, Fate::kLost, kNoConsumer, out);
    }
    QueueRt& qr = queues_[q];
    for (List& level : qr.levels) {
      for (uint32_t k = 0, n = level.size; k < n; ++k) {
        const uint32_t s = level.head;
        take(s);
        finish(s, Fate::kLost, kNoConsumer, out);
      }
    }
    for (uint32_t k = 0, n = qr.delayed.size; k < n; ++k) {
      const uint32_t s = qr.delayed.head;
      take(s);
      finish(s, Fate::kLost, kNoConsumer, out);
    }
  }
  for (QueueRt& qr : queues_) {
    qr.cursor = 0;
    qr.counters.consumer_count = 0;
  }
  for (ConsumerId c = 0; c < consumers_.size(); ++c) {
    MQ_CHECK(consumers_[c].unacked == 0 && consumers_[c].in_flight.size == 0);
    consumers_[c].attached = false;
    update_credit(c);
  }
}

Status BrokerCore::recover(TimeNs now_ns, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  if (up_) return finish_command(failed_precondition("recover: the broker is up"), out);
  up_ = true;
  return finish_command(Status(), out);
}

Status BrokerCore::attach(TimeNs now_ns, ConsumerId c, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  Status s = check_up();
  if (s.ok()) s = check_consumer(c);
  if (s.ok() && consumers_[c].attached) {
    s = failed_precondition("attach: consumer '" + config_.consumers[c].name + "' is attached");
  }
  if (!s.ok()) return finish_command(s, out);
  consumers_[c].attached = true;
  queues_[consumers_[c].queue].counters.consumer_count++;
  update_credit(c);
  return finish_command(Status(), out);
}

Status BrokerCore::detach(TimeNs now_ns, ConsumerId c, Effects& out) {
  MQ_RETURN_IF_ERROR(advance(now_ns, out));
  Status s = check_up();
  if (s.ok()) s = check_consumer(c);
  if (s.ok() && !consumers_[c].attached) {
    s = failed_precondition("detach: consumer '" + config_.consumers[c].name + "' is not attached");
  }
  if (!s.ok()) return finish_command(s, out);
  ConsumerRt& cr = consumers_[c];
  cr.attached = false;
  queues_[cr.queue].counters.consumer_count--;
  std::vector<uint32_t> held;
  held.reserve(cr.in_flight.size);
  for (uint32_t s2 = cr.in_flight.head; s2 != kNil; s2 = slots_[s2].next) held.push_back(s2);
  return_in_flight(held, config_.queues[cr.queue].redelivery == Redelivery::kFront, out);
  update_credit(c);
  return finish_command(Status(), out);
}

// ---- queries ----

QueueStats BrokerCore::stats(QueueId q) const {
  MQ_CHECK(q < queues_.size());
  const QueueRt& qr = queues_[q];
  QueueStats s = qr.counters;
  s.ready = 0;
  for (const List& level : qr.levels) s.ready += level.size;
  s.delayed = qr.delayed.size;
  s.in_flight = qr.in_flight;
  s.size = s.ready + s.delayed + s.in_flight;
  MQ_CHECK(s.size == qr.ids.held());
  return s;
}

uint32_t BrokerCore::unacked(ConsumerId c) const {
  MQ_CHECK(c < consumers_.size());
  return consumers_[c].unacked;
}

bool BrokerCore::attached(ConsumerId c) const {
  MQ_CHECK(c < consumers_.size());
  return consumers_[c].attached;
}

std::optional<TimeNs> BrokerCore::next_deadline() const {
  // finish_command() leaves a live timer on top, so the top is exact.
  if (heap_.empty()) return std::nullopt;
  return heap_.front().at_ns;
}

}  // namespace mq::impl

// ---- message mechanics (the storage seam) ----

namespace mq::impl {

Message BrokerCore::stamp(QueueId q, const MessageSpec& spec, Payload payload) const {
  const QueueOptions& o = config_.queues[q];
  return Message{spec.id, std::move(payload), now_ns_, spec.priority, spec.ttl_ns,
                 now_ns_ + spec.delay_ns, 0, spec.max_retries.value_or(o.max_retries)};
}

// A producer's message for queue q: accepted, or refused when full (Def. 2.3), or
// accepted after dropping the oldest under kDropOldest.
void BrokerCore::send_one(QueueId q, Message m, Effects& out) {
  QueueRt& qr = queues_[q];
  if (qr.ids.held() >= config_.queues[q].capacity && !make_room(q, out)) {
    // Fault (the seed's route_message): report the message accepted, and drop it.
    if (MQ_MUTANT(kDropWhenFull)) return emit(out, effect(EffectKind::kAccepted, q, m));
    qr.counters.refused++;
    emit(out, effect(EffectKind::kRefused, q, m, kNoConsumer, Reason::kQueueFull));
    return;
  }
  accept(q, std::move(m), out);
}

// Under kDropOldest: drops the head of the lowest non-empty ready level, else the
// oldest delayed message. False when the policy is reject or everything is in flight.
bool BrokerCore::make_room(QueueId q, Effects& out) {
  QueueRt& qr = queues_[q];
  if (config_.queues[q].overflow != OverflowPolicy::kDropOldest) return false;
  uint32_t victim = kNil;
  if (const auto low = bottom_level(qr)) {
    victim = qr.levels[*low].head;
  } else if (qr.delayed.size > 0) {
    victim = qr.delayed.head;
  }
  if (victim == kNil) return false;
  take(victim);
  finish(victim, Fate::kDropped, kNoConsumer, out);
  return true;
}

void BrokerCore::accept(QueueId q, Message m, Effects& out) {
  QueueRt& qr = queues_[q];
  MQ_CHECK(qr.ids.held() < config_.queues[q].capacity);
  // That m.id is not held yet is asserted by qr.ids.hold below, without a second
  // lookup here.
  qr.counters.accepted++;
  emit(out, effect(EffectKind::kAccepted, q, m));
  const uint32_t s = alloc_slot();
  Slot& slot = slots_[s];
  slot.message = std::move(m);
  slot.queue = q;
  slot.order = static_cast<int64_t>(++accept_seq_);
  qr.ids.hold(slot.message.id, s);
  // Fault: the id is never remembered, so once the message finishes a resend is new.
  if (!MQ_MUTANT(kDedupForgetsFinished)) qr.ids.remember(slot.message.id, now_ns_);
  if (!slot.message.deliverable_at(now_ns_)) {
    slot.place = Place::kDelayed;
    push_back(qr.delayed, s);
    // Fault: the release is armed one tick early (a delay of d released at d - 1).
    const TimeNs early = MQ_MUTANT(kEarlyDelay) && slot.message.not_before_ns - 1 > now_ns_ ? 1 : 0;
    arm(s, TimerKind::kRelease, slot.message.not_before_ns - early);
    if (slot.message.ttl_ns > 0) arm(s, TimerKind::kExpiry, expiry_ns(slot.message));
    return;
  }
  place_ready(s, out);
}

// REQUIRES: slot s is taken (in no list). Puts it into ready, or expires it if its
// TTL passed meanwhile, so that ready never holds an expired message.
void BrokerCore::place_ready(uint32_t s, Effects& out) {
  Slot& slot = slots_[s];
  MQ_CHECK(slot.place == Place::kTaken);
  if (expired(slot.message, now_ns_)) return finish(s, Fate::kExpired, kNoConsumer, out);
  QueueRt& qr = queues_[slot.queue];
  List& level = qr.levels[slot.message.priority];
  slot.place = Place::kReady;
  // Fault: a retry goes to the head whatever the redelivery policy says.
  const bool front = config_.queues[slot.queue].redelivery == Redelivery::kFront || MQ_MUTANT(kRetryJumpsQueue);
  if (slot.message.attempts > 0 && front) {
    slot.order = --qr.front_pos;
    push_front(level, s);
  } else {
    slot.order = ++qr.back_pos;
    push_back(level, s);
  }
  set_level_bit(qr, slot.message.priority);
  if (slot.message.ttl_ns > 0) arm(s, TimerKind::kExpiry, expiry_ns(slot.message));
}

// REQUIRES: a message is ready in q; c is attached with credit.
void BrokerCore::deliver(QueueId q, ConsumerId c, Effects& out) {
  QueueRt& qr = queues_[q];
  MQ_CHECK(top_level(qr).has_value());
  MQ_CHECK(consumers_[c].queue == q && consumers_[c].attached && qr.credit.test(consumers_[c].ring_pos));
  // Fault (the seed's heap): the lowest non-empty level goes first.
  const Priority level = MQ_MUTANT(kReversedPriority) ? *bottom_level(qr) : *top_level(qr);
  const uint32_t s = qr.levels[level].head;
  take(s);
  Slot& slot = slots_[s];
  // Fault: only the first delivery counts as an attempt; a redelivery looks like a first.
  if (!MQ_MUTANT(kRedeliveryNoAttempt) || slot.message.attempts == 0) slot.message.attempts++;
  qr.counters.deliveries++;
  if (slot.message.attempts > 1) qr.counters.redeliveries++;
  emit(out, effect(EffectKind::kDelivered, q, slot.message, c));
  if (config_.consumers[c].ack_mode == AckMode::kAuto) return finish(s, Fate::kAcked, c, out);
  ConsumerRt& cr = consumers_[c];
  slot.place = Place::kInFlight;
  slot.consumer = c;
  slot.order = static_cast<int64_t>(++delivery_seq_);
  slot.delivered_ns = now_ns_;
  push_back(cr.in_flight, s);
  cr.unacked++;
  qr.in_flight++;
  update_credit(c);
  const TimeNs vt = config_.queues[q].visibility_timeout_ns;
  // Fault: the visibility timer is never armed.
  if (vt > 0 && !MQ_MUTANT(kVisibilityNeverFires)) arm(s, TimerKind::kVisibility, now_ns_ + vt);
}

// Removes slot s from the list it is in; it stays held (in its queue's ids) until finished
// or placed again. Every timer armed for its old place goes stale.
void BrokerCore::take(uint32_t s) {
  Slot& slot = slots_[s];
  MQ_CHECK(slot.place != Place::kFree && slot.place != Place::kTaken);
  unlink(list_of(slot), s);
  QueueRt& qr = queues_[slot.queue];
  if (slot.place == Place::kReady && qr.levels[slot.message.priority].size == 0) {
    qr.nonempty[slot.message.priority / 64] &= ~(uint64_t{1} << (slot.message.priority % 64));
  }
  if (slot.place == Place::kInFlight) {
    ConsumerRt& cr = consumers_[slot.consumer];
    MQ_CHECK(cr.unacked > 0 && qr.in_flight > 0);
    cr.unacked--;
    qr.in_flight--;
    update_credit(slot.consumer);
  }
  slot.place = Place::kTaken;
  slot.consumer = kNoConsumer;
  slot.gen++;
}

// REQUIRES: slot s is taken.
void BrokerCore::finish(uint32_t s, Fate fate, ConsumerId c, Effects& out) {
  Slot& slot = slots_[s];
  MQ_CHECK(slot.place == Place::kTaken);
  QueueRt& qr = queues_[slot.queue];
  struct Books {
    EffectKind kind;
    uint64_t* counter;
  };
  Books books{EffectKind::kAcked, &qr.counters.acked};
  switch (fate) {
    case Fate::kAcked: break;
    case Fate::kExpired: books = {EffectKind::kExpired, &qr.counters.expired}; break;
    case Fate::kDeadLettered: books = {EffectKind::kDeadLettered, &qr.counters.dead_lettered}; break;
    case Fate::kLost: books = {EffectKind::kLost, &qr.counters.lost}; break;
    case Fate::kDropped: books = {EffectKind::kDropped, &qr.counters.dropped}; break;
  }
  ++*books.counter;
  qr.ids.release(slot.message.id);
  emit(out, effect(books.kind, slot.queue, std::move(slot.message), c));
  free_slot(s);
}

// REQUIRES: slot s is taken. A delivery to `c` ended without an ack. As in the
// model: a message past its TTL expires (whatever its retries; kExpired names no
// consumer), else it is requeued while retries are left, else dead-lettered; the
// kRequeued or kDeadLettered effect names `c`.
void BrokerCore::fail_delivery(uint32_t s, ConsumerId c, Effects& out) {
  Slot& slot = slots_[s];
  MQ_CHECK(slot.place == Place::kTaken);
  if (expired(slot.message, now_ns_)) return finish(s, Fate::kExpired, kNoConsumer, out);
  // Fault: the retry budget is not checked.
  if (!slot.message.retries_left() && !MQ_MUTANT(kUnboundedRetries)) return dead_letter(s, c, out);
  emit(out, effect(EffectKind::kRequeued, slot.queue, slot.message, c));
  place_ready(s, out);
}

// REQUIRES: slot s is taken. The dead-letter queue receives a fresh message with
// the same id and payload (the model's copy rule), unless it is full or has the id.
void BrokerCore::dead_letter(uint32_t s, ConsumerId c, Effects& out) {
  MQ_CHECK(slots_[s].place == Place::kTaken);
  const QueueId q = slots_[s].queue;
  const Message m = slots_[s].message;
  finish(s, Fate::kDeadLettered, c, out);
  const auto dlq = queues_[q].dead_letter;
  // Fault: the copy is never made (and its refusal never reported).
  if (!dlq || MQ_MUTANT(kDeadLetterLoses)) return;
  const QueueOptions& o = config_.queues[*dlq];
  Message copy{m.id, m.payload, now_ns_,
               static_cast<Priority>(std::min<uint32_t>(m.priority, o.priority_levels - 1)),
               0, now_ns_, 0, o.max_retries};
  Reason refused = Reason::kNone;
  if (holds_id(*dlq, m.id)) {
    refused = Reason::kDuplicateId;
  } else if (queues_[*dlq].ids.held() >= o.capacity && !make_room(*dlq, out)) {
    refused = Reason::kQueueFull;
  }
  if (refused != Reason::kNone) {
    queues_[q].counters.dead_letter_refused++;
    emit(out, effect(EffectKind::kDeadLetterRefused, q, m, kNoConsumer, refused));
    return;
  }
  accept(*dlq, std::move(copy), out);
}

// Ends the given deliveries (in delivery order) as failed attempts. Under front
// redelivery they go back in reverse, so that they keep their order at the head.
void BrokerCore::return_in_flight(std::vector<uint32_t>& slots, bool front, Effects& out) {
  if (front) std::reverse(slots.begin(), slots.end());
  for (uint32_t s : slots) {
    const ConsumerId c = slots_[s].consumer;
    take(s);
    fail_delivery(s, c, out);
  }
}

std::vector<uint32_t> BrokerCore::in_flight_of_queue(QueueId q) const {
  std::vector<uint32_t> held;
  for (ConsumerId c : queues_[q].ring) {
    for (uint32_t s = consumers_[c].in_flight.head; s != kNil; s = slots_[s].next) held.push_back(s);
  }
  std::sort(held.begin(), held.end(),
            [&](uint32_t a, uint32_t b) { return slots_[a].order < slots_[b].order; });
  return held;
}

}  // namespace mq::impl

// ---- timers ----

namespace mq::impl {
namespace {

// Min-heap order for std::push_heap and friends (which build max-heaps).
struct Later {
  template <typename T>
  bool operator()(const T& a, const T& b) const {
    return std::tie(a.at_ns, a.order) > std::tie(b.at_ns, b.order);
  }
};

}  // namespace

void BrokerCore::arm(uint32_t s, TimerKind kind, TimeNs at_ns) {
  MQ_CHECK(at_ns > now_ns_);  // a due timer would have been handled in place
  heap_.push_back(Timer{at_ns, ++timer_order_, s, slots_[s].gen, kind});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  // Lazy deletion leaves stale timers behind; a held message has at most two live
  // ones, so rebuilding when stale ones dominate keeps the heap O(held) and the
  // rebuild cost amortized over the arms that made it necessary.
  if (heap_.size() > 4 * size_t{slots_in_use_} + 64) {
    std::erase_if(heap_, [&](const Timer& t) { return !live(t); });
    std::make_heap(heap_.begin(), heap_.end(), Later{});
  }
}

// Pops every live timer due at now_ns into due_, sorted into the model's order.
// REQUIRES: no live timer is due before now_ns (advance() visits times in order),
// so every timer popped is due exactly now. The order: visibility timeouts, then
// releases, then expiries; each queue by queue, and within a queue in delivery
// order (reversed under front redelivery), in acceptance order (the delayed list's
// order), and by (ready level from the lowest, position; then delayed messages by
// acceptance) respectively.
void BrokerCore::collect_due(TimeNs now_ns) {
  due_.clear();
  while (!heap_.empty() && heap_.front().at_ns <= now_ns) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    const Timer t = heap_.back();
    heap_.pop_back();
    if (!live(t)) continue;
    MQ_CHECK(t.at_ns == now_ns);
    const Slot& slot = slots_[t.slot];
    DueTimer d{static_cast<uint8_t>(t.kind), slot.queue, 0, 0, 0, t};
    switch (t.kind) {
      case TimerKind::kVisibility: {
        const bool front = config_.queues[slot.queue].redelivery == Redelivery::kFront;
        const int64_t seq = slot.order;  // in flight: delivery order
        d.k1 = front ? -seq : seq;
        break;
      }
      case TimerKind::kRelease:
        d.k1 = slot.order;  // delayed: acceptance order
        break;
      case TimerKind::kExpiry:
        d.k1 = slot.place == Place::kReady ? 0 : 1;
        d.k2 = slot.place == Place::kReady ? slot.message.priority : 0;
        d.k3 = slot.order;  // the position in its level, or the acceptance order
        break;
    }
    due_.push_back(d);
  }
  std::sort(due_.begin(), due_.end(), [](const DueTimer& a, const DueTimer& b) {
    return std::tie(a.phase, a.queue, a.k1, a.k2, a.k3, a.timer.order) <
           std::tie(b.phase, b.queue, b.k1, b.k2, b.k3, b.timer.order);
  });
}

// REQUIRES: live(t). Firing one timer never makes another one due now: whatever it
// places anew is either finished in place or armed for later.
void BrokerCore::fire(const Timer& t, Effects& out) {
  MQ_CHECK(live(t));
  Slot& slot = slots_[t.slot];
  switch (t.kind) {
    case TimerKind::kVisibility: {
      MQ_CHECK(slot.place == Place::kInFlight);
      const ConsumerId c = slot.consumer;
      take(t.slot);
      return fail_delivery(t.slot, c, out);
    }
    case TimerKind::kRelease:
      MQ_CHECK(slot.place == Place::kDelayed);
      take(t.slot);
      emit(out, effect(EffectKind::kReleased, slot.queue, slot.message));
      return place_ready(t.slot, out);
    case TimerKind::kExpiry:
      MQ_CHECK(slot.place == Place::kReady || slot.place == Place::kDelayed);
      MQ_CHECK(expired(slot.message, now_ns_));
      take(t.slot);
      return finish(t.slot, Fate::kExpired, kNoConsumer, out);
  }
}

void BrokerCore::purge_stale_top() {
  // Bounded by the heap size: each round removes one entry.
  while (!heap_.empty() && !live(heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
}

void BrokerCore::report_deadline(Effects& out) {
  purge_stale_top();
  const TimeNs next = heap_.empty() ? kNoDeadline : heap_.front().at_ns;
  if (next == reported_deadline_ns_) return;
  reported_deadline_ns_ = next;
  Effect e;
  e.kind = EffectKind::kTimer;
  e.deadline_ns = next;
  out.push_back(std::move(e));
}

// ---- slot pool, intrusive lists, levels, credit ----

uint32_t BrokerCore::alloc_slot() {
  uint32_t s = free_head_;
  if (s != kNil) {
    free_head_ = slots_[s].next;
  } else {
    MQ_CHECK(slots_.size() < QueueIds::kMaxSlots);
    if (slots_.size() == slots_.capacity()) grow_slots();
    s = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[s];
  MQ_CHECK(slot.place == Place::kFree);
  slot.prev = slot.next = kNil;
  slot.consumer = kNoConsumer;
  slot.place = Place::kTaken;
  ++slots_in_use_;
  return s;
}

// Doubles the pool's capacity, as emplace_back would, but advises the new array for
// huge pages before the slots move in: a million queued messages are 100 MiB of
// slots, a page fault per 4 KiB otherwise (docs/performance.md, "Scaling").
void BrokerCore::grow_slots() {
  std::vector<Slot> bigger;
  const size_t n = std::max<size_t>(64, 2 * slots_.capacity());
  bigger.reserve(n);
  advise_huge_pages(bigger.data(), n * sizeof(Slot));
  bigger.insert(bigger.end(), std::make_move_iterator(slots_.begin()), std::make_move_iterator(slots_.end()));
  slots_.swap(bigger);
}

void BrokerCore::free_slot(uint32_t s) {
  Slot& slot = slots_[s];
  MQ_CHECK(slot.place == Place::kTaken);
  slot.message = Message{};  // drops this slot's share of the payload
  slot.place = Place::kFree;
  slot.gen++;
  slot.prev = kNil;
  slot.next = free_head_;
  free_head_ = s;
  --slots_in_use_;
}

BrokerCore::List& BrokerCore::list_of(const Slot& slot) {
  switch (slot.place) {
    case Place::kReady: return queues_[slot.queue].levels[slot.message.priority];
    case Place::kDelayed: return queues_[slot.queue].delayed;
    case Place::kInFlight: return consumers_[slot.consumer].in_flight;
    case Place::kFree:
    case Place::kTaken: break;
  }
  MQ_CHECK_MSG(false, "list_of: slot is in no list");
  std::abort();
}

void BrokerCore::push_back(List& l, uint32_t s) {
  slots_[s].prev = l.tail;
  slots_[s].next = kNil;
  if (l.tail != kNil) slots_[l.tail].next = s; else l.head = s;
  l.tail = s;
  l.size++;
}

void BrokerCore::push_front(List& l, uint32_t s) {
  slots_[s].prev = kNil;
  slots_[s].next = l.head;
  if (l.head != kNil) slots_[l.head].prev = s; else l.tail = s;
  l.head = s;
  l.size++;
}

void BrokerCore::unlink(List& l, uint32_t s) {
  MQ_CHECK(l.size > 0);
  Slot& slot = slots_[s];
  if (slot.prev != kNil) slots_[slot.prev].next = slot.next; else l.head = slot.next;
  if (slot.next != kNil) slots_[slot.next].prev = slot.prev; else l.tail = slot.prev;
  slot.prev = slot.next = kNil;
  l.size--;
}

std::optional<Priority> BrokerCore::top_level(const QueueRt& qr) const {
  for (size_t w = qr.nonempty.size(); w-- > 0;) {
    if (qr.nonempty[w] != 0) return static_cast<Priority>(w * 64 + 63 - std::countl_zero(qr.nonempty[w]));
  }
  return std::nullopt;
}

std::optional<Priority> BrokerCore::bottom_level(const QueueRt& qr) const {
  for (size_t w = 0; w < qr.nonempty.size(); ++w) {
    if (qr.nonempty[w] != 0) return static_cast<Priority>(w * 64 + std::countr_zero(qr.nonempty[w]));
  }
  return std::nullopt;
}

void BrokerCore::set_level_bit(QueueRt& qr, Priority p) {
  qr.nonempty[p / 64] |= uint64_t{1} << (p % 64);
}

void BrokerCore::update_credit(ConsumerId c) {
  const ConsumerRt& cr = consumers_[c];
  const uint32_t prefetch = config_.consumers[c].prefetch;
  queues_[cr.queue].credit.set(cr.ring_pos, cr.attached && (prefetch == 0 || cr.unacked < prefetch));
}

}  // namespace mq::impl

// ---- durability: storage records, images, restore ----

namespace mq::impl {
namespace {

// Effects that change what a queue holds, and so what survives a crash.
bool changes_store(EffectKind kind) {
  switch (kind) {
    case EffectKind::kAccepted:
    case EffectKind::kDropped:
    case EffectKind::kReleased:
    case EffectKind::kDelivered:
    case EffectKind::kAcked:
    case EffectKind::kRequeued:
    case EffectKind::kDeadLettered:
    case EffectKind::kExpired:
      return true;
    case EffectKind::kDuplicate:
    case EffectKind::kRefused:
    case EffectKind::kDeadLetterRefused:
    case EffectKind::kLost:  // only non-durable queues lose messages
    case EffectKind::kTimer:
      break;
  }
  return false;
}

}  // namespace

void BrokerCore::emit(Effects& out, Effect e) const {
  e.time_ns = now_ns_;
  e.persist = config_.queues[e.queue].durable && changes_store(e.kind);
  out.push_back(std::move(e));
}

DurableImage BrokerCore::durable_image() const {
  DurableImage image;
  image.time_ns = now_ns_;
  image.queues.resize(queues_.size());
  for (QueueId q = 0; q < queues_.size(); ++q) {
    if (!config_.queues[q].durable) continue;
    const QueueRt& qr = queues_[q];
    QueueImage& qi = image.queues[q];
    qi.ready.resize(qr.levels.size());
    for (size_t p = 0; p < qr.levels.size(); ++p) {
      for (uint32_t s = qr.levels[p].head; s != kNil; s = slots_[s].next) qi.ready[p].push_back(slots_[s].message);
    }
    for (uint32_t s = qr.delayed.head; s != kNil; s = slots_[s].next) qi.delayed.push_back(slots_[s].message);
    for (uint32_t s : in_flight_of_queue(q)) qi.in_flight.push_back({slots_[s].message, slots_[s].consumer, slots_[s].delivered_ns});
    qr.ids.for_each_remembered(now_ns_, [&](MessageId id, TimeNs at) { qi.window.push_back({id, at}); });
  }
  return image;
}

Status BrokerCore::check_image(const DurableImage& image) const {
  if (image.queues.size() != queues_.size()) {
    return failed_precondition("restore: the image has " + std::to_string(image.queues.size()) +
                               " queues, the config " + std::to_string(queues_.size()));
  }
  for (QueueId q = 0; q < queues_.size(); ++q) {
    const QueueImage& qi = image.queues[q];
    const QueueOptions& o = config_.queues[q];
    const std::string where = "restore: queue '" + o.name + "': ";
    if (qi.size() == 0) continue;
    if (!o.durable) return failed_precondition(where + "holds messages but is not durable");
    if (qi.size() > o.capacity) {
      return failed_precondition(where + "holds " + std::to_string(qi.size()) + " messages, capacity " +
                                 std::to_string(o.capacity));
    }
    if (qi.ready.size() > o.priority_levels) return failed_precondition(where + "more priority levels than configured");
    IdMap ids;
    auto check = [&](const Message& m, size_t level) -> Status {
      if (m.priority >= o.priority_levels || (level != SIZE_MAX && m.priority != level)) {
        return failed_precondition(where + "message #" + std::to_string(m.id) + " has a bad priority");
      }
      if (ids.contains(m.id)) return failed_precondition(where + "duplicate message #" + std::to_string(m.id));
      ids.insert(m.id, 1);
      return Status();
    };
    for (size_t p = 0; p < qi.ready.size(); ++p) {
      for (const Message& m : qi.ready[p]) MQ_RETURN_IF_ERROR(check(m, p));
    }
    for (const Message& m : qi.delayed) MQ_RETURN_IF_ERROR(check(m, SIZE_MAX));
    for (const InFlightImage& f : qi.in_flight) {
      MQ_RETURN_IF_ERROR(check(f.message, SIZE_MAX));
      if (f.holder >= consumers_.size() || consumers_[f.holder].queue != q) {
        return failed_precondition(where + "message #" + std::to_string(f.message.id) +
                                   " is held by a consumer that does not consume this queue");
      }
    }
  }
  return Status();
}

Status BrokerCore::restore(TimeNs crash_ns, const DurableImage& image, Effects& out) {
  if (slots_in_use_ != 0 || now_ns_ != 0 || accept_seq_ != 0 || delivery_seq_ != 0 || !up_) {
    return failed_precondition("restore: the core is not fresh");
  }
  if (crash_ns < image.time_ns || image.time_ns < 0) {
    return invalid_argument("restore: crash time " + std::to_string(crash_ns) + " is before the image's " +
                            std::to_string(image.time_ns));
  }
  MQ_RETURN_IF_ERROR(check_image(image));
  now_ns_ = image.time_ns;
  for (QueueId q = 0; q < queues_.size(); ++q) restore_queue(q, image.queues[q]);
  MQ_CHECK(advance(crash_ns, out).ok());
  crash_now(out);
  return finish_command(Status(), out);
}

// Puts an image's messages back in their places, with their timers (one that was
// already due fires at the next advance, which restore() makes at once).
void BrokerCore::restore_queue(QueueId q, const QueueImage& image) {
  QueueRt& qr = queues_[q];
  for (const WindowEntry& w : image.window) {
    if (!qr.ids.remembers(w.id, w.accepted_ns)) qr.ids.remember(w.id, w.accepted_ns);
  }
  auto place = [&](const Message& m) {
    const uint32_t s = alloc_slot();
    slots_[s].message = m;
    slots_[s].queue = q;
    qr.ids.hold(m.id, s);
    return s;
  };
  for (const auto& level : image.ready) {
    for (const Message& m : level) {
      const uint32_t s = place(m);
      slots_[s].place = Place::kReady;
      slots_[s].order = ++qr.back_pos;
      push_back(qr.levels[m.priority], s);
      set_level_bit(qr, m.priority);
      if (m.ttl_ns > 0) arm_restored(s, TimerKind::kExpiry, expiry_ns(m));
    }
  }
  for (const Message& m : image.delayed) {
    const uint32_t s = place(m);
    slots_[s].place = Place::kDelayed;
    slots_[s].order = static_cast<int64_t>(++accept_seq_);
    push_back(qr.delayed, s);
    arm_restored(s, TimerKind::kRelease, m.not_before_ns);
    if (m.ttl_ns > 0) arm_restored(s, TimerKind::kExpiry, expiry_ns(m));
  }
  const TimeNs vt = config_.queues[q].visibility_timeout_ns;
  for (const InFlightImage& f : image.in_flight) {
    const uint32_t s = place(f.message);
    Slot& slot = slots_[s];
    ConsumerRt& cr = consumers_[f.holder];
    slot.place = Place::kInFlight;
    slot.consumer = f.holder;
    slot.order = static_cast<int64_t>(++delivery_seq_);
    slot.delivered_ns = f.delivered_ns;
    push_back(cr.in_flight, s);
    cr.unacked++;
    qr.in_flight++;
    update_credit(f.holder);
    if (vt > 0) arm_restored(s, TimerKind::kVisibility, f.delivered_ns + vt);
  }
}

// A timer from an image may be due already (the log can end between two timers of
// one time): it is armed for now, so that the next advance fires it.
void BrokerCore::arm_restored(uint32_t s, TimerKind kind, TimeNs at_ns) {
  heap_.push_back(Timer{std::max(at_ns, now_ns_), ++timer_order_, s, slots_[s].gen, kind});
  std::push_heap(heap_.begin(), heap_.end(), [](const Timer& a, const Timer& b) {
    return std::tie(a.at_ns, a.order) > std::tie(b.at_ns, b.order);
  });
}

Status run(BrokerCore& core, TimeNs now_ns, const Command& c, Effects& out) {
  return std::visit(
      Overloaded{
          [&](const cmd::Send& o) { return core.send(now_ns, o.producer, o.queue, o.spec, out); },
          [&](const cmd::Publish& o) { return core.publish(now_ns, o.producer, o.topic, o.spec, out); },
          [&](const cmd::Dispatch& o) { return core.dispatch(now_ns, o.queue, out); },
          [&](const cmd::Fetch& o) { return core.fetch(now_ns, o.consumer, out); },
          [&](const cmd::Ack& o) { return core.ack(now_ns, o.consumer, o.id, out); },
          [&](const cmd::Nack& o) { return core.nack(now_ns, o.consumer, o.id, o.requeue, out); },
          [&](const cmd::Tick&) { return core.tick(now_ns, out); },
          [&](const cmd::Crash&) { return core.crash(now_ns, out); },
          [&](const cmd::Recover&) { return core.recover(now_ns, out); },
          [&](const cmd::Attach& o) { return core.attach(now_ns, o.consumer, out); },
          [&](const cmd::Detach& o) { return core.detach(now_ns, o.consumer, out); },
      },
      c);
}


}  // namespace mq::impl
