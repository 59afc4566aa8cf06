#include "properties/model_properties.h"

#include <algorithm>
#include <set>

#include "model/invariants.h"

namespace mq {

const char* property_name(ModelProperty p) {
  switch (p) {
    case ModelProperty::kCapacity:
      return "capacity";
    case ModelProperty::kFifo:
      return "fifo";
    case ModelProperty::kPriority:
      return "priority";
    case ModelProperty::kRoundRobin:
      return "round_robin";
    case ModelProperty::kNoLoss:
      return "no_loss";
    case ModelProperty::kTtlDelay:
      return "ttl_delay";
    case ModelProperty::kConservation:
      return "conservation";
    case ModelProperty::kLiveness:
      return "liveness";
    case ModelProperty::kSeedReliability:
      return "seed_reliability";
    case ModelProperty::kSeedOrder:
      return "seed_order";
    case ModelProperty::kSeedBalance:
      return "seed_balance";
    case ModelProperty::kSeedIntegrity:
      return "seed_integrity";
    case ModelProperty::kSeedDelivery:
      return "seed_delivery";
    case ModelProperty::kSeedConsumption:
      return "seed_consumption";
  }
  return "?";
}

namespace {

std::string qname(const Model& m, QueueId q) {
  return "queue '" + m.topology().queues[q].name + "'";
}
std::string mid(MessageId id) {
  return "message #" + std::to_string(id);
}

// Credit as the property states it, computed from the state alone (not by asking
// the model, whose own notion of credit is what is under test).
bool had_credit(const Model& m, ConsumerId c) {
  const ModelState& s = m.state();
  if (!s.attached[c]) return false;
  const uint32_t prefetch = m.topology().consumers[c].prefetch;
  if (prefetch == 0) return true;
  uint32_t held = 0;
  for (const auto& f : s.queues[m.wiring()->queue_of_consumer[c]].in_flight) held += f.consumer == c;
  return held < prefetch;
}

std::optional<Priority> highest_ready(const QueueState& qs) {
  std::optional<Priority> best;
  for (const auto& level : qs.ready) {
    for (const auto& msg : level) {
      if (!best || msg.priority > *best) best = msg.priority;
    }
  }
  return best;
}


void erase_id(std::vector<MessageId>& v, MessageId id) {
  std::erase(v, id);
}

}  // namespace

ModelProperties::ModelProperties(const Model& initial, uint32_t enabled) : enabled_(enabled) {
  const Topology& t = initial.topology();
  queues_.resize(t.queues.size());
  for (QueueId q = 0; q < t.queues.size(); ++q) {
    queues_[q].never_delivered.resize(t.queues[q].priority_levels);
    for (ConsumerId c : initial.wiring()->consumers_of_queue[q]) queues_[q].turns.push_back({c, 0, true});
  }
  reset_round_robin();
}

// Every consumer starts eligible with a count of 0: a window of round-robin opens.
void ModelProperties::reset_round_robin() {
  for (auto& qt : queues_) {
    for (auto& t : qt.turns) t = {t.consumer, 0, true};
  }
}

void ModelProperties::check_capacity(const Model& before, const Op& op, const Effects& fx, const Model& after,
                                     std::vector<Violation>& out) const {
  const bool is_send = std::holds_alternative<op::Send>(op) || std::holds_alternative<op::Publish>(op);
  // A drop-oldest queue makes room by dropping a message in the same step, before it
  // accepts: what it held is then one less. Counted for sends only (no allocation on
  // every other step).
  std::vector<uint32_t> dropped(is_send ? before.state().queues.size() : 0, 0);
  for (const auto& e : fx) {
    if (!is_send) break;
    if (e.kind == EffectKind::kDropped) ++dropped[e.queue];
    if (e.kind != EffectKind::kAccepted && e.kind != EffectKind::kRefused) continue;
    const size_t size = before.state().queues[e.queue].size() - dropped[e.queue];
    const uint32_t cap = before.topology().queues[e.queue].capacity;
    if (e.kind == EffectKind::kAccepted && size >= cap) {
      out.push_back({ModelProperty::kCapacity, qname(before, e.queue) + " accepted " + mid(e.message.id) +
                                                   " while full (" + std::to_string(size) + "/" +
                                                   std::to_string(cap) + ")"});
    }
    if (e.kind == EffectKind::kRefused && size < cap) {
      out.push_back({ModelProperty::kCapacity, qname(before, e.queue) + " refused " + mid(e.message.id) +
                                                   " with room (" + std::to_string(size) + "/" +
                                                   std::to_string(cap) + ")"});
    }
  }
  for (QueueId q = 0; q < after.state().queues.size(); ++q) {
    if (after.state().queues[q].size() > after.topology().queues[q].capacity) {
      out.push_back({ModelProperty::kCapacity, qname(after, q) + " holds more than its capacity"});
    }
  }
}

void ModelProperties::check_fifo(const Effect& e, std::vector<Violation>& out) {
  auto& levels = queues_[e.queue].never_delivered;
  const MessageId id = e.message.id;
  switch (ready_order_role(e.kind)) {
    case ReadyOrderRole::kArrives:
      if (e.message.not_before_ns <= e.message.timestamp_ns) levels[e.message.priority].push_back(id);
      break;
    case ReadyOrderRole::kBecomesReady:
      levels[e.message.priority].push_back(id);
      break;
    case ReadyOrderRole::kDelivered:
      if (e.message.attempts == 1) {
        auto& level = levels[e.message.priority];
        if (!level.empty() && level.front() != id) {
          out.push_back({ModelProperty::kFifo, "queue #" + std::to_string(e.queue) + " level " +
                                                   std::to_string(e.message.priority) + ": delivered " +
                                                   mid(id) + " before " + mid(level.front()) +
                                                   ", which became ready first"});
        }
      }
      erase_id(levels[e.message.priority], id);
      break;
    case ReadyOrderRole::kLeaves:
      erase_id(levels[e.message.priority], id);
      break;
    case ReadyOrderRole::kNone: break;
  }
}

void ModelProperties::check_priority(const Model& before, const Effect& e,
                                     std::vector<Violation>& out) const {
  if (e.kind != EffectKind::kDelivered) return;
  const auto best = highest_ready(before.state().queues[e.queue]);
  if (best && e.message.priority < *best) {
    out.push_back({ModelProperty::kPriority, qname(before, e.queue) + " delivered " + mid(e.message.id) +
                                                 " of priority " + std::to_string(e.message.priority) +
                                                 " while priority " + std::to_string(*best) + " was ready"});
  }
}

void ModelProperties::check_round_robin(const Model& before, const Op& op, const Effects& fx,
                                        std::vector<Violation>& out) {
  if (std::holds_alternative<op::Crash>(op)) return reset_round_robin();
  const auto* d = std::get_if<op::Dispatch>(&op);
  if (!d || d->queue >= queues_.size()) return;
  QueueTrack& qt = queues_[d->queue];
  // A dispatch with nothing ready chooses nobody: it neither opens nor breaks a window.
  if (!highest_ready(before.state().queues[d->queue])) return;
  bool anyone = false;
  for (ConsumerId c : before.wiring()->consumers_of_queue[d->queue]) {
    const bool credit = had_credit(before, c);
    anyone = anyone || credit;
    if (!credit) qt.turn(c).eligible = false;
  }
  bool delivered = false;
  for (const auto& e : fx) {
    if (e.kind == EffectKind::kDelivered) {
      qt.turn(e.consumer).count++;
      delivered = true;
    }
  }
  if (anyone && !delivered) {
    out.push_back({ModelProperty::kRoundRobin, qname(before, d->queue) +
                                                   ": dispatch delivered nothing while a message was "
                                                   "ready and a consumer had credit"});
  }
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& t : qt.turns) {
    if (!t.eligible) continue;
    lo = std::min(lo, t.count);
    hi = std::max(hi, t.count);
  }
  if (hi > lo + 1) {
    out.push_back({ModelProperty::kRoundRobin,
                   qname(before, d->queue) +
                       ": dispatch counts of consumers that always had credit range from " +
                       std::to_string(lo) + " to " + std::to_string(hi) + " (bound: differ by at most 1)"});
  }
}

void ModelProperties::check_no_loss(const Op& op, const Effects& fx, const Model& after,
                                    std::vector<Violation>& out) {
  for (const auto& e : fx) {
    auto& live = queues_[e.queue].live;
    const auto at = std::lower_bound(live.begin(), live.end(), e.message.id);
    const bool known = at != live.end() && *at == e.message.id;
    if (e.kind == EffectKind::kAccepted && !known) live.insert(at, e.message.id);
    if (finishes_message(e.kind) && known) live.erase(at);
    if (e.kind == EffectKind::kLost &&
        (!std::holds_alternative<op::Crash>(op) || after.topology().queues[e.queue].durable)) {
      out.push_back({ModelProperty::kNoLoss,
                     qname(after, e.queue) + " lost " + mid(e.message.id) +
                         (std::holds_alternative<op::Crash>(op) ? " though durable" : " without a crash")});
    }
  }
  for (QueueId q = 0; q < queues_.size(); ++q) {
    const QueueState& qs = after.state().queues[q];
    std::vector<MessageId> held;
    held.reserve(qs.size());
    for (const auto& level : qs.ready)
      for (const auto& m : level) held.push_back(m.id);
    for (const auto& m : qs.delayed) held.push_back(m.id);
    for (const auto& f : qs.in_flight) held.push_back(f.message.id);
    std::sort(held.begin(), held.end());
    for (MessageId id : queues_[q].live) {
      if (!std::binary_search(held.begin(), held.end(), id)) {
        out.push_back({ModelProperty::kNoLoss, qname(after, q) + ": accepted " + mid(id) +
                                                   " is gone without a delivery, expiry or dead-letter"});
      }
    }
  }
}

namespace {

bool held_in(const QueueState& qs, MessageId id) {
  for (const auto& level : qs.ready)
    for (const auto& m : level)
      if (m.id == id) return true;
  for (const auto& m : qs.delayed)
    if (m.id == id) return true;
  for (const auto& f : qs.in_flight)
    if (f.message.id == id) return true;
  return false;
}

// The ready message with the earliest timestamp (then id): what a FIFO queue that
// ignores priorities would dequeue next.
std::optional<MessageId> oldest_ready(const QueueState& qs) {
  const Message* best = nullptr;
  for (const auto& level : qs.ready) {
    for (const auto& m : level) {
      if (!best || std::pair(m.timestamp_ns, m.id) < std::pair(best->timestamp_ns, best->id)) best = &m;
    }
  }
  if (!best) return std::nullopt;
  return best->id;
}

}  // namespace

// The claims as the origin document states them. Each is judged from the step alone,
// except balance, which reads the round-robin counts kept for round_robin.
void ModelProperties::check_seed_claims(const Model& before, const Op& op, const Effects& fx,
                                        const Model& after, std::vector<Violation>& out) const {
  const bool is_send = std::holds_alternative<op::Send>(op) || std::holds_alternative<op::Publish>(op);
  for (const auto& e : fx) {
    const std::string what = qname(after, e.queue) + " " + mid(e.message.id);
    if (e.kind == EffectKind::kLost)
      out.push_back({ModelProperty::kSeedReliability, what + " was lost by a crash"});
    if (finishes_message(e.kind)) {
      out.push_back(
          {ModelProperty::kSeedIntegrity, what + " is " + effect_kind_name(e.kind) + " and so in no queue"});
    }
    if (finishes_message(e.kind) && e.kind != EffectKind::kAcked) {
      out.push_back(
          {ModelProperty::kSeedConsumption, what + " was " + effect_kind_name(e.kind) + ", never processed"});
    }
    if (is_send && e.kind == EffectKind::kAccepted && !held_in(after.state().queues[e.queue], e.message.id)) {
      out.push_back(
          {ModelProperty::kSeedDelivery, "send of " + what + " returned true, but it is not in the queue"});
      out.push_back(
          {ModelProperty::kSeedReliability, "send of " + what + " returned true, and the message is gone"});
    }
    if (e.kind == EffectKind::kDelivered) {
      const auto oldest = oldest_ready(before.state().queues[e.queue]);
      if (oldest && *oldest != e.message.id) {
        out.push_back({ModelProperty::kSeedOrder, qname(after, e.queue) + " dequeued " + mid(e.message.id) +
                                                      " while the older " + mid(*oldest) + " was ready"});
      }
    }
  }
  if (const auto* d = std::get_if<op::Dispatch>(&op); d && d->queue < queues_.size()) {
    uint64_t lo = UINT64_MAX, hi = 0;
    for (const auto& t : queues_[d->queue].turns) {
      lo = std::min(lo, t.count);
      hi = std::max(hi, t.count);
    }
    if (hi > lo + 1) {
      out.push_back({ModelProperty::kSeedBalance, qname(after, d->queue) + ": consumer loads range from " +
                                                      std::to_string(lo) + " to " + std::to_string(hi) +
                                                      " (epsilon 1)"});
    }
  }
}

void ModelProperties::check_ttl_delay(const Model& after, const Effect& e,
                                      std::vector<Violation>& out) const {
  const TimeNs now = after.now();
  const Message& m = e.message;
  const bool expired = m.ttl_ns > 0 && now >= m.timestamp_ns + m.ttl_ns;
  const std::string at = qname(after, e.queue) + " at time " + std::to_string(now) + ": ";
  if (e.kind == EffectKind::kDelivered && expired) {
    out.push_back({ModelProperty::kTtlDelay, at + "delivered " + mid(m.id) + " which expired at " +
                                                 std::to_string(m.timestamp_ns + m.ttl_ns)});
  }
  if ((e.kind == EffectKind::kDelivered || e.kind == EffectKind::kReleased) && now < m.not_before_ns) {
    out.push_back({ModelProperty::kTtlDelay, at + "made " + mid(m.id) + " deliverable before its time " +
                                                 std::to_string(m.not_before_ns)});
  }
  if (e.kind == EffectKind::kExpired && !expired) {
    out.push_back({ModelProperty::kTtlDelay, at + "expired " + mid(m.id) + " early"});
  }
}

std::vector<Violation> ModelProperties::observe(const Model& before, const Op& op,
                                                const Result<Effects>& result, const Model& after) {
  std::vector<Violation> out;
  const Status inv = check_invariants(after);
  if (!inv.ok()) out.push_back({ModelProperty::kConservation, inv.message()});
  if (!result.ok()) {
    if (!(before.state() == after.state())) {
      out.push_back({ModelProperty::kConservation,
                     "failed operation changed the state: " + result.status().to_string()});
    }
    std::erase_if(out, [this](const Violation& v) { return !enabled(v.property); });
    return out;
  }
  const Effects& fx = *result;
  check_capacity(before, op, fx, after, out);
  for (const auto& e : fx) {
    check_fifo(e, out);
    check_priority(before, e, out);
    check_ttl_delay(after, e, out);
  }
  check_round_robin(before, op, fx, out);
  check_no_loss(op, fx, after, out);
  check_seed_claims(before, op, fx, after, out);
  std::erase_if(out, [this](const Violation& v) { return !enabled(v.property); });
  return out;
}

}  // namespace mq

namespace mq {

ModelProperties::QueueTrack::Turn& ModelProperties::QueueTrack::turn(ConsumerId c) {
  for (auto& t : turns)
    if (t.consumer == c) return t;
  MQ_CHECK_MSG(false, "round-robin: consumer of another queue");
  return turns.front();
}

void ModelProperties::normalize() {
  for (auto& qt : queues_) {
    uint64_t lo = UINT64_MAX;
    for (const auto& t : qt.turns) lo = std::min(lo, t.count);
    for (auto& t : qt.turns) t.count -= lo;
  }
}

void ModelProperties::encode(ByteWriter& w) const {
  w.u(enabled_);
  for (const auto& qt : queues_) {
    for (const auto& level : qt.never_delivered) {
      w.u(level.size());
      for (MessageId id : level) w.u(id);
    }
    w.u(qt.live.size());
    for (MessageId id : qt.live) w.u(id);
    for (const auto& t : qt.turns) w.u((t.count << 1) | (t.eligible ? 1 : 0));  // consumers are fixed
  }
}

void ModelProperties::decode(ByteReader& r) {
  enabled_ = static_cast<uint32_t>(r.u());
  for (auto& qt : queues_) {
    for (auto& level : qt.never_delivered) {
      level.resize(r.u());
      for (auto& id : level) id = r.u();
    }
    qt.live.resize(r.u());
    for (auto& id : qt.live) id = r.u();
    for (auto& t : qt.turns) {
      const uint64_t v = r.u();
      t.count = v >> 1;
      t.eligible = (v & 1) != 0;
    }
  }
}

}  // namespace mq
