#include "properties/checkers/queue_replay.h"

namespace mq {

QueueReplay::QueueReplay(const Topology& topology)
    : topology_(topology) {}

const std::map<MessageId, LiveMessage>& QueueReplay::live(const std::string& queue) const {
  static const std::map<MessageId, LiveMessage> kEmpty;
  const auto it = live_.find(queue);
  return it == live_.end() ? kEmpty : it->second;
}

uint64_t QueueReplay::pending(const std::string& queue) const {
  const auto it = pending_.find(queue);
  return it == pending_.end() ? 0 : it->second;
}

bool QueueReplay::surely_ready(const LiveMessage& m, TimeNs now_ns) const {
  const bool placed = m.place == Place::kReady ||
                      (m.place == Place::kDelayed && now_ns >= m.publish->deliverable_hi_ns());
  return placed && now_ns < m.publish->expires_lo_ns();
}

uint32_t QueueReplay::unacked(const std::string& consumer) const {
  const auto it = unacked_.find(consumer);
  return it == unacked_.end() ? 0 : it->second;
}

bool QueueReplay::has_credit(const std::string& consumer) const {
  const auto c = topology_.find_consumer(consumer);
  if (!c || !up_ || !attached(consumer)) return false;
  const uint32_t prefetch = topology_.consumers[*c].prefetch;
  return prefetch == 0 || unacked(consumer) < prefetch;
}

LiveMessage* QueueReplay::find(const MessageKey& k) {
  const auto q = live_.find(k.queue);
  if (q == live_.end()) return nullptr;
  const auto m = q->second.find(k.id);
  return m == q->second.end() ? nullptr : &m->second;
}

void QueueReplay::set_place(LiveMessage& m, Place place, const std::string& consumer) {
  if (m.place == Place::kInFlight) {
    auto& n = unacked_[m.consumer];
    if (n > 0) --n;
  }
  m.place = place;
  m.consumer = place == Place::kInFlight ? consumer : std::string();
  if (place == Place::kInFlight) ++unacked_[consumer];
}

void QueueReplay::accept(const MessageKey& k, PublishPtr r, const EventPtr& at) {
  if (r == nullptr) return;
  LiveMessage m;
  m.place = r->delayed() ? Place::kDelayed : Place::kReady;
  m.publish = std::move(r);
  m.accepted_at = at;
  m.ready_since = at;
  live_[k.queue][k.id] = std::move(m);
}

void QueueReplay::finish(const MessageKey& k) {
  LiveMessage* m = find(k);
  if (m == nullptr) return;
  set_place(*m, Place::kUnknown, "");
  live_[k.queue].erase(k.id);
}

void QueueReplay::unknown_in_flight(const std::string& only_consumer) {
  for (auto& [queue, messages] : live_) {
    for (auto& [id, m] : messages) {
      if (m.place == Place::kInFlight && (only_consumer.empty() || m.consumer == only_consumer)) {
        set_place(m, Place::kUnknown, "");
      }
    }
  }
}

void QueueReplay::apply(const Step& step) {
  const HistoryEvent& e = step.e();
  const size_t pos = step.pos();
  if (is_fault_f(e.f)) return;  // faults are visible through the events they cause
  if (e.f == EventF::kCrash) {
    up_ = false;
    for (const auto& c : topology_.consumers) detached_.insert(c.name);
    unknown_in_flight("");
    return;
  }
  if (e.f == EventF::kRecover) {
    up_ = true;
    return;
  }
  if (e.type != EventType::kOk && !(e.f == EventF::kPublish && e.type == EventType::kInvoke)) {
    // A fail changes nothing; an info leaves its publish pending, as if open.
    if (e.f == EventF::kPublish && e.type == EventType::kFail) {
      if (seen_early_.erase(key_of(e)) == 0 && pending_[e.queue] > 0) --pending_[e.queue];
      maybe_.erase(key_of(e));
    }
    return;
  }
  if (e.f == EventF::kAttach) {
    detached_.erase(e.consumer);
    return;
  }
  if (e.f == EventF::kDetach) {
    detached_.insert(e.consumer);
    unknown_in_flight(e.consumer);
    return;
  }
  if (!e.id) return;  // names no message: nothing to replay
  const MessageKey k = key_of(e);
  if (e.f == EventF::kPublish) {
    if (e.type == EventType::kInvoke) {
      ++pending_[e.queue];
      maybe_.insert(k);
      seen_early_.erase(k);
      return;
    }
    if (e.is_client()) {
      // Seen before this ok: accepted (and its pending count settled) back then.
      if (seen_early_.erase(k) > 0) return;
      if (pending_[e.queue] > 0) --pending_[e.queue];
      maybe_.erase(k);
    }
    for (const auto& r : step.publishes()) {
      if (r->end == pos) accept(k, r, step.event);
    }
    return;
  }
  // A message seen before its publish completed was accepted by then.
  if (find(k) == nullptr && maybe_.contains(k)) {
    maybe_.erase(k);
    seen_early_.insert(k);
    if (pending_[e.queue] > 0) --pending_[e.queue];
    accept(k, step.publish_before(), step.event);
  }
  LiveMessage* m = find(k);
  if (m == nullptr) return;  // not ours to judge here: integrity and no-loss report it
  if (e.f == EventF::kNack) {
    if (m->place == Place::kInFlight) set_place(*m, Place::kUnknown, "");
    return;
  }
  // Every other step of a message shows an effect of the model; an f that shows none
  // names no message (a crash, a fault of the nemesis) and moves nothing here.
  const auto effect = effect_of_f(e.f);
  if (!effect) return;
  if (finishes_message(*effect)) return finish(k);
  switch (*effect) {
    case EffectKind::kDelivered: set_place(*m, Place::kInFlight, e.consumer); return;
    case EffectKind::kRequeued:
    case EffectKind::kReleased:
      set_place(*m, Place::kReady, "");
      m->ready_since = step.event;
      return;
    case EffectKind::kAccepted:           // its publish was placed above
    case EffectKind::kDeadLetterRefused:  // the dead-letter already ended it
    case EffectKind::kRefused:            // no f shows one (a client's failed publish does)
    case EffectKind::kAcked:              // finished: above
    case EffectKind::kExpired:
    case EffectKind::kDeadLettered:
    case EffectKind::kLost:
    case EffectKind::kDropped:
      return;
  }
}

}  // namespace mq
