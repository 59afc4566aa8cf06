#include "model/state.h"

#include <sstream>

#include "base/fnv.h"
#include "model/effect.h"

namespace mq {

const char* fate_name(Fate fate) {
  switch (fate) {
    case Fate::kAcked:
      return "acked";
    case Fate::kExpired:
      return "expired";
    case Fate::kDeadLettered:
      return "dead-lettered";
    case Fate::kLost:
      return "lost";
    case Fate::kDropped:
      return "dropped";
  }
  return "?";
}

size_t QueueState::ready_count() const {
  size_t n = 0;
  for (const auto& level : ready) n += level.size();
  return n;
}

size_t QueueState::size() const {
  return ready_count() + delayed.size() + in_flight.size();
}

namespace {

// FNV-1a-style mixing, strengthened with splitmix's finalizer per word.
class Hasher {
 public:
  void add(uint64_t v) {
    v ^= v >> 30;
    v *= 0xBF58476D1CE4E5B9ull;
    v ^= v >> 27;
    h_ = fnv1a_word(h_, v);
  }
  void add(const std::string& s) {
    add(s.size());
    h_ = fnv1a(h_, s);
  }
  void add(const Message& m) {
    add(m.id);
    add(m.payload);
    add(static_cast<uint64_t>(m.timestamp_ns));
    add(m.priority);
    add(static_cast<uint64_t>(m.ttl_ns));
    add(static_cast<uint64_t>(m.not_before_ns));
    add((static_cast<uint64_t>(m.attempts) << 32) | m.max_retries);
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = kFnv1aOffset;
};

void add_queue(Hasher& h, const QueueState& q) {
  h.add(q.ready.size());
  for (const auto& level : q.ready) {
    h.add(level.size());
    for (const auto& m : level) h.add(m);
  }
  h.add(q.delayed.size());
  for (const auto& m : q.delayed) h.add(m);
  h.add(q.in_flight.size());
  for (const auto& f : q.in_flight) {
    h.add(f.message);
    h.add(f.consumer);
    h.add(static_cast<uint64_t>(f.deadline_ns));
  }
  h.add(q.finished.size());
  for (const auto& f : q.finished) h.add((f.id << 3) ^ static_cast<uint64_t>(f.fate));
  h.add(q.window.size());
  for (const auto& w : q.window) h.add(w.id ^ (static_cast<uint64_t>(w.accepted_ns) << 1));
  h.add(q.rr_cursor);
  const auto& c = q.counters;
  for (uint64_t v : {c.accepted, c.refused, c.deliveries, c.redeliveries, c.dead_letter_refused}) {
    h.add(v);
  }
}

}  // namespace

uint64_t hash_state(const ModelState& state) {
  Hasher h;
  h.add(static_cast<uint64_t>(state.now_ns));
  h.add(state.up ? 1 : 0);
  h.add(state.queues.size());
  for (const auto& q : state.queues) add_queue(h, q);
  h.add(state.attached.size());
  for (uint8_t a : state.attached) h.add(a);
  return h.value();
}

std::string to_string(const Message& m) {
  std::ostringstream o;
  o << "#" << m.id << "{p" << static_cast<int>(m.priority) << " ts=" << m.timestamp_ns;
  if (m.ttl_ns > 0) o << " ttl=" << m.ttl_ns;
  if (m.not_before_ns > m.timestamp_ns) o << " nb=" << m.not_before_ns;
  o << " att=" << m.attempts << "/" << (1 + m.max_retries) << " '" << m.payload << "'}";
  return o.str();
}

std::string to_string(const ModelState& state) {
  std::ostringstream o;
  o << "now=" << state.now_ns << (state.up ? " up" : " DOWN") << " attached=[";
  for (size_t c = 0; c < state.attached.size(); ++c) o << (c ? "," : "") << int(state.attached[c]);
  o << "]\n";
  for (size_t q = 0; q < state.queues.size(); ++q) {
    const auto& qs = state.queues[q];
    o << "  queue " << q << " rr=" << qs.rr_cursor << " accepted=" << qs.counters.accepted
      << " refused=" << qs.counters.refused << "\n";
    for (size_t p = qs.ready.size(); p-- > 0;) {
      if (qs.ready[p].empty()) continue;
      o << "    ready[" << p << "]:";
      for (const auto& m : qs.ready[p]) o << " " << to_string(m);
      o << "\n";
    }
    if (!qs.delayed.empty()) {
      o << "    delayed:";
      for (const auto& m : qs.delayed) o << " " << to_string(m);
      o << "\n";
    }
    for (const auto& f : qs.in_flight) {
      o << "    in flight at consumer " << f.consumer << " until " << f.deadline_ns << ": "
        << to_string(f.message) << "\n";
    }
    if (!qs.finished.empty()) {
      o << "    finished:";
      for (const auto& f : qs.finished) o << " #" << f.id << "=" << fate_name(f.fate);
      o << "\n";
    }
  }
  return o.str();
}

const char* effect_kind_name(EffectKind kind) {
  switch (kind) {
    case EffectKind::kAccepted:
      return "accepted";
    case EffectKind::kRefused:
      return "refused";
    case EffectKind::kReleased:
      return "released";
    case EffectKind::kDelivered:
      return "delivered";
    case EffectKind::kAcked:
      return "acked";
    case EffectKind::kRequeued:
      return "requeued";
    case EffectKind::kDeadLettered:
      return "dead-lettered";
    case EffectKind::kDeadLetterRefused:
      return "dead-letter-refused";
    case EffectKind::kExpired:
      return "expired";
    case EffectKind::kLost:
      return "lost";
    case EffectKind::kDropped:
      return "dropped";
  }
  return "?";
}

std::string to_string(const Effect& e) {
  std::string s =
      std::string(effect_kind_name(e.kind)) + " q" + std::to_string(e.queue) + " " + to_string(e.message);
  if (e.consumer != kNoConsumer) s += " c" + std::to_string(e.consumer);
  return s;
}

}  // namespace mq
