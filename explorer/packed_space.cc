// The packed state space: layout, operations (mirroring model/model.cc step by step,
// so that a reader can hold the two side by side), the step properties (mirroring
// properties/model_properties.cc), and conversion to and from the reference node.
#include "explorer/packed_space.h"

#include <algorithm>
#include <cstring>

#include "model/invariants.h"

namespace mq::explorer {

// The kinds of candidate operation, in the order candidates() lists them. A new one
// needs its case in candidates(), to_op(), apply() and max_candidates_ (the switches
// fail to build without it, and EveryKindOfOperationIsACandidate fails until
// candidates() offers it).
enum class PackedSpace::PackedOp::Kind : uint8_t {
  kSend,
  kDispatch,
  kFetch,
  kAck,
  kNackRequeue,
  kNackDead,
  kAdvance,
  kCrash,
  kRecover,
  kAttach,
  kDetach,
};
using Kind = PackedSpace::PackedOp::Kind;

namespace {

// Places of a slot: where its message is, or how it finished (kFinished + Fate).
enum Place : uint8_t { kAbsent = 0, kReady = 1, kDelayed = 2, kInFlight = 3, kFinished = 4 };
inline constexpr uint8_t kNoConsumerByte = 0xFF;
inline constexpr TimeNs kMaxPackedTime = 60000;
inline constexpr uint32_t kMaxPackedRetries = 250;
// The history counters are not kept; a node made from a packed state says it made
// this many deliveries, so that check_invariants' bounds on acks and redeliveries
// (which a real history always meets) hold for the successors judged from it.
inline constexpr uint64_t kUnknownDeliveries = uint64_t{1} << 40;

// Slot record fields (8 bytes): place | origin << 3, priority, attempts, consumer,
// timestamp (u16), deadline (u16).
inline constexpr int kRecPlace = 0, kRecPriority = 1, kRecAttempts = 2, kRecConsumer = 3, kRecTs = 4,
                     kRecDeadline = 6, kRecSize = 8;

inline uint16_t get16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline void set16(uint8_t* p, uint16_t v) {
  std::memcpy(p, &v, 2);
}

// A list: a length byte, then menu indices.
inline void list_erase_at(uint8_t* l, uint32_t at) {
  MQ_CHECK(at < l[0]);
  std::memmove(l + 1 + at, l + 2 + at, l[0] - at - 1);
  l[l[0]] = 0;
  l[0]--;
}
inline void list_push_back(uint8_t* l, uint32_t cap, uint8_t v) {
  MQ_CHECK(l[0] < cap);
  l[1 + l[0]] = v;
  l[0]++;
}
inline void list_push_front(uint8_t* l, uint32_t cap, uint8_t v) {
  MQ_CHECK(l[0] < cap);
  std::memmove(l + 2, l + 1, l[0]);
  l[1] = v;
  l[0]++;
}
inline void list_erase_value(uint8_t* l, uint8_t v) {
  for (uint32_t k = 0; k < l[0]; ++k)
    if (l[1 + k] == v) return list_erase_at(l, k);
}

}  // namespace

Relabel Relabel::identity(size_t consumers, size_t messages) {
  Relabel r;
  for (size_t c = 0; c < consumers; ++c) r.consumer.push_back(static_cast<uint8_t>(c));
  for (size_t i = 0; i < messages; ++i) r.message.push_back(static_cast<uint8_t>(i));
  return r;
}
Relabel Relabel::then(const Relabel& next) const {
  Relabel r = *this;
  for (auto& c : r.consumer) c = next.consumer[c];
  for (auto& i : r.message) i = next.message[i];
  return r;
}
Relabel Relabel::inverse() const {
  Relabel r = *this;
  for (size_t c = 0; c < consumer.size(); ++c) r.consumer[consumer[c]] = static_cast<uint8_t>(c);
  for (size_t i = 0; i < message.size(); ++i) r.message[message[i]] = static_cast<uint8_t>(i);
  return r;
}

std::string PackedSpace::unsupported_reason(const ExploreConfig& c) {
  if ((c.properties & ~kAllPropertiesMask) != 0)
    return "the origin document's claims are checked by the reference";
  if (c.topology.consumers.size() > 63) return "more than 63 consumers";
  TimeNs vt = 0;
  for (const auto& q : c.topology.queues) {
    vt = std::max(vt, q.visibility_timeout_ns);
    if (q.max_retries > kMaxPackedRetries) return "max_retries above 250";
    // A slot's place has room for four fates (kAcked .. kLost), and send() refuses
    // at capacity: a drop-oldest queue is explored by the model's own code.
    if (q.overflow == Overflow::kDropOldest) return "a drop-oldest queue";
    // A slot once placed stays placed (a queue remembers every id); a window that
    // forgets ids is state the packed encoding does not keep.
    if (q.windowed()) return "an idempotency window";
  }
  for (const auto& m : c.messages) {
    if (m.spec.max_retries && *m.spec.max_retries > kMaxPackedRetries) return "max_retries above 250";
  }
  if (c.max_time_ns + vt > kMaxPackedTime) return "max_time_ns + visibility timeout above 60000";
  return "";
}

// ---- layout ----

PackedSpace::PackedSpace(const ExploreConfig& config, std::shared_ptr<const Wiring> wiring, bool symmetry)
    : config_(config), wiring_(std::move(wiring)), symmetry_(symmetry) {
  MQ_CHECK(unsupported_reason(config_).empty());
  n_ = static_cast<uint32_t>(config_.messages.size());
  const Reach reach = reach_of();
  size_ = lay_out_slots(reach, lay_out_queues(reach));
  index_consumers();
  find_symmetries();
}

// Which (queue, message) slots can be filled, and how: [q * n + i][origin].
PackedSpace::Reach PackedSpace::reach_of() {
  const auto qn = static_cast<uint32_t>(wiring_->topology.queues.size());
  menu_.resize(n_);
  slot_of_.assign(qn * n_, -1);
  Reach reach(qn * n_, std::vector<uint8_t>(2, 0));
  for (uint32_t i = 0; i < n_; ++i) {
    const MenuMessage& m = config_.messages[i];
    menu_[i].spec = m.spec;
    menu_[i].topic = m.topic.has_value();
    if (m.queue) menu_[i].queues.push_back(static_cast<uint8_t>(*m.queue));
    if (m.topic) {
      menu_[i].topic_id = *m.topic;
      for (QueueId q : wiring_->queues_of_topic[*m.topic]) menu_[i].queues.push_back(static_cast<uint8_t>(q));
    }
    for (uint8_t q : menu_[i].queues) reach[q * n_ + i][0] = 1;
  }
  // Dead-letter closure: a message held by q may arrive at q's dead-letter queue.
  for (uint32_t round = 0; round <= qn; ++round) {
    for (uint32_t q = 0; q < qn; ++q) {
      const auto dlq = wiring_->dead_letter_of[q];
      if (!dlq) continue;
      for (uint32_t i = 0; i < n_; ++i)
        if (reach[q * n_ + i][0] || reach[q * n_ + i][1]) reach[*dlq * n_ + i][1] = 1;
    }
  }
  return reach;
}

// The header and each queue's cursor, counters, lists and checker memory; returns
// where the slot records begin.
size_t PackedSpace::lay_out_queues(const Reach& reach) {
  const Topology& t = wiring_->topology;
  const auto qn = static_cast<uint32_t>(t.queues.size());
  queues_.resize(qn);
  size_t at = 0;
  sent_ = 0;
  sent_bytes_ = (n_ + 7) / 8;
  crashes_ = sent_bytes_;
  now_ = crashes_ + 1;
  up_ = now_ + 2;
  attached_ = up_ + 1;
  at = attached_ + (t.consumers.size() + 7) / 8;
  for (uint32_t q = 0; q < qn; ++q) {
    Queue& Q = queues_[q];
    const QueueConfig& qc = t.queues[q];
    for (uint32_t i = 0; i < n_; ++i) Q.slots += reach[q * n_ + i][0] || reach[q * n_ + i][1];
    Q.levels = qc.priority_levels;
    Q.capacity = qc.capacity;
    Q.list_cap = std::min<uint32_t>(qc.capacity, Q.slots);
    Q.max_retries = qc.max_retries;
    Q.durable = qc.durable;
    Q.front = qc.redelivery == Redelivery::kFront;
    Q.vt = qc.visibility_timeout_ns;
    Q.dlq = wiring_->dead_letter_of[q] ? static_cast<int>(*wiring_->dead_letter_of[q]) : -1;
    for (ConsumerId c : wiring_->consumers_of_queue[q]) Q.ring.push_back(static_cast<uint8_t>(c));
    Q.cursor = at++;
    Q.dlr = at++;
    Q.ready = at;
    at += Q.levels * (1 + Q.list_cap);
    Q.delayed = at;
    at += 1 + Q.list_cap;
    Q.in_flight = at;
    at += 1 + Q.list_cap;
    Q.finished = at;
    at += 1 + Q.slots;
    Q.never = at;
    at += Q.levels * (1 + Q.slots);
    Q.turns = at;
    at += 2 * Q.ring.size();
  }
  return at;
}

// One record per slot that can be filled; returns the state size.
size_t PackedSpace::lay_out_slots(const Reach& reach, size_t at) {
  const auto qn = static_cast<uint32_t>(wiring_->topology.queues.size());
  for (uint32_t q = 0; q < qn; ++q) {
    for (uint32_t i = 0; i < n_; ++i) {
      const auto& r = reach[q * n_ + i];
      if (!r[0] && !r[1]) continue;
      Slot s;
      s.offset = static_cast<uint32_t>(at);
      at += kRecSize;
      const Attrs direct{menu_[i].spec.ttl_ns, menu_[i].spec.delay_ns,
                         menu_[i].spec.max_retries.value_or(queues_[q].max_retries)};
      const Attrs dead{0, 0, queues_[q].max_retries};
      s.attrs[0] = r[0] ? direct : dead;
      s.attrs[1] = dead;
      s.two_origins = r[0] && r[1] && !(direct == dead);
      slot_of_[q * n_ + i] = static_cast<int>(slots_.size());
      slots_.push_back(s);
    }
  }
  slot_off_.assign(qn * n_, 0);
  slot_attrs_.assign(qn * n_, {});
  for (uint32_t k = 0; k < qn * n_; ++k) {
    if (slot_of_[k] < 0) continue;
    slot_off_[k] = slots_[slot_of_[k]].offset;
    slot_attrs_[k] = {slots_[slot_of_[k]].attrs[0], slots_[slot_of_[k]].attrs[1]};
  }
  return at;
}

void PackedSpace::index_consumers() {
  const Topology& t = wiring_->topology;
  const auto qn = static_cast<uint32_t>(t.queues.size());
  for (ConsumerId c = 0; c < t.consumers.size(); ++c) {
    const QueueId q = wiring_->queue_of_consumer[c];
    consumer_queue_.push_back(static_cast<uint8_t>(q));
    const auto& ring = queues_[q].ring;
    consumer_pos_.push_back(static_cast<uint8_t>(std::find(ring.begin(), ring.end(), c) - ring.begin()));
    consumer_auto_.push_back(t.consumers[c].ack_mode == AckMode::kAuto);
    consumer_prefetch_.push_back(t.consumers[c].prefetch);
  }
  uint32_t list_total = 0;
  for (const auto& Q : queues_) list_total += Q.list_cap;
  max_candidates_ = n_ + qn + static_cast<uint32_t>(t.consumers.size()) * 2 + 3 * list_total + 3;
}

// Rings of identical consumers, and classes of alike menu messages.
void PackedSpace::find_symmetries() {
  const Topology& t = wiring_->topology;
  const auto qn = static_cast<uint32_t>(t.queues.size());
  for (uint32_t q = 0; q < qn; ++q) {
    Queue& Q = queues_[q];
    Q.rotatable = symmetry_ && Q.ring.size() >= 2;
    for (uint8_t c : Q.ring) {
      const ConsumerConfig& a = t.consumers[c];
      const ConsumerConfig& b = t.consumers[Q.ring[0]];
      if (a.prefetch != b.prefetch || a.ack_mode != b.ack_mode) Q.rotatable = false;
    }
  }
  for (uint32_t i = 0; i < n_; ++i) {
    menu_[i].cls = i;
    for (uint32_t j = 0; j < i && symmetry_; ++j) {
      MessageSpec a = menu_[i].spec, b = menu_[j].spec;
      a.id = b.id = 0;
      a.payload = b.payload = "";
      const MenuMessage& x = config_.messages[i];
      const MenuMessage& y = config_.messages[j];
      if (a == b && x.queue == y.queue && x.topic == y.topic) {
        menu_[i].cls = menu_[j].cls;
        break;
      }
    }
  }
  for (uint32_t i = 0; i < n_; ++i) {
    std::vector<uint8_t> cls;
    for (uint32_t j = 0; j < n_; ++j)
      if (menu_[j].cls == i) cls.push_back(static_cast<uint8_t>(j));
    if (cls.size() >= 2) classes_.push_back(cls);
  }
}

PackedSpace::Scratch PackedSpace::make_scratch() const {
  Scratch s;
  s.effects.reserve(4 * slots_.size() + 8);
  return s;
}

void PackedSpace::root(uint8_t* out) const {
  std::memset(out, 0, size_);
  out[up_] = 1;
  for (size_t c = 0; c < consumer_queue_.size(); ++c) out[attached_ + c / 8] |= uint8_t(1u << (c % 8));
  for (const auto& Q : queues_)
    for (size_t k = 0; k < Q.ring.size(); ++k) set16(out + Q.turns + 2 * k, 1);  // count 0, eligible
}

// ---- a state being changed by one operation (mirrors Model's private mechanics) ----

class PackedSpace::Mut {
 public:
  Mut(const PackedSpace& sp, uint8_t* s, Scratch* sc) : sp_(sp), s_(s), sc_(sc) {}
  uint8_t cursor(uint32_t q) const { return s_[sp_.queues_[q].cursor]; }
  uint8_t* turns(const Queue& Q, size_t k) const { return s_ + Q.turns + 2 * k; }

  // Header.
  TimeNs now() const { return get16(s_ + sp_.now_); }
  bool up() const { return s_[sp_.up_] != 0; }
  bool attached(uint32_t c) const { return (s_[sp_.attached_ + c / 8] >> (c % 8)) & 1; }
  void set_attached(uint32_t c, bool v) {
    uint8_t& b = s_[sp_.attached_ + c / 8];
    b = static_cast<uint8_t>(v ? (b | (1u << (c % 8))) : (b & ~(1u << (c % 8))));
  }
  bool sent(uint32_t i) const { return (s_[sp_.sent_ + i / 8] >> (i % 8)) & 1; }

  // Lists and slots.
  uint8_t* ready(uint32_t q, uint32_t level) const {
    return s_ + sp_.queues_[q].ready + level * (1 + sp_.queues_[q].list_cap);
  }
  uint8_t* delayed(uint32_t q) const { return s_ + sp_.queues_[q].delayed; }
  uint8_t* in_flight(uint32_t q) const { return s_ + sp_.queues_[q].in_flight; }
  uint8_t* finished(uint32_t q) const { return s_ + sp_.queues_[q].finished; }
  uint8_t* never(uint32_t q, uint32_t level) const {
    return s_ + sp_.queues_[q].never + level * (1 + sp_.queues_[q].slots);
  }
  [[gnu::always_inline]] uint8_t* rec(uint32_t q, uint32_t i) const {
    const uint32_t off = sp_.slot_off_[q * sp_.n_ + i];
    MQ_CHECK(off != 0);
    return s_ + off;
  }
  [[gnu::always_inline]] const Attrs& attrs(uint32_t q, uint32_t i) const {
    return sp_.slot_attrs_[q * sp_.n_ + i][(rec(q, i)[kRecPlace] >> 3) & 1];
  }
  [[gnu::always_inline]] uint8_t place(uint32_t q, uint32_t i) const {
    const uint32_t off = sp_.slot_off_[q * sp_.n_ + i];
    return off == 0 ? kAbsent : (s_[off] & 7);
  }
  void set_place(uint32_t q, uint32_t i, uint8_t p) {
    uint8_t* r = rec(q, i);
    r[kRecPlace] = static_cast<uint8_t>((r[kRecPlace] & ~7u) | p);
  }
  TimeNs ts(uint32_t q, uint32_t i) const { return get16(rec(q, i) + kRecTs); }
  bool expired(uint32_t q, uint32_t i) const {
    const TimeNs ttl = attrs(q, i).ttl_ns;
    return ttl > 0 && now() >= ts(q, i) + ttl;
  }
  TimeNs not_before(uint32_t q, uint32_t i) const { return ts(q, i) + attrs(q, i).delay_ns; }
  bool retries_left(uint32_t q, uint32_t i) const {
    return rec(q, i)[kRecAttempts] <= attrs(q, i).max_retries;
  }
  uint32_t size(uint32_t q) const {
    uint32_t n = delayed(q)[0] + in_flight(q)[0];
    for (uint32_t l = 0; l < sp_.queues_[q].levels; ++l) n += ready(q, l)[0];
    return n;
  }
  int top_ready_level(uint32_t q) const {
    for (uint32_t l = sp_.queues_[q].levels; l-- > 0;)
      if (ready(q, l)[0] != 0) return static_cast<int>(l);
    return -1;
  }
  [[gnu::always_inline]] uint32_t unacked(uint32_t c) const {
    const uint32_t q = sp_.consumer_queue_[c];
    const uint8_t* l = in_flight(q);
    uint32_t n = 0;
    for (uint32_t k = 0; k < l[0]; ++k) n += rec(q, l[1 + k])[kRecConsumer] == c;
    return n;
  }
  [[gnu::always_inline]] bool has_credit(uint32_t c) const {
    const uint32_t prefetch = sp_.consumer_prefetch_[c];
    return attached(c) && (prefetch == 0 || unacked(c) < prefetch);
  }

  [[gnu::always_inline]] void effect(EffectKind kind, uint32_t q, uint32_t i,
                                     uint32_t consumer = kNoConsumerByte) {
    const uint8_t* r = rec(q, i);
    sc_->effects.push_back({kind, static_cast<uint8_t>(q), static_cast<uint8_t>(i),
                            static_cast<uint8_t>(consumer), r[kRecAttempts], r[kRecPriority],
                            static_cast<uint8_t>((r[kRecPlace] >> 3) & 1), get16(r + kRecTs)});
  }

  // ---- the mechanics ----
  void finish(uint32_t q, uint32_t i, Fate fate, uint32_t consumer = kNoConsumerByte) {
    static constexpr EffectKind kKind[] = {EffectKind::kAcked, EffectKind::kExpired,
                                           EffectKind::kDeadLettered, EffectKind::kLost};
    list_push_back(finished(q), sp_.queues_[q].slots, static_cast<uint8_t>(i));
    effect(kKind[static_cast<int>(fate)], q, i, consumer);
    uint8_t* r = rec(q, i);
    std::memset(r, 0, kRecSize);  // a finished record keeps only its fate
    r[kRecPlace] = static_cast<uint8_t>(kFinished + static_cast<int>(fate));
  }
  void place_ready(uint32_t q, uint32_t i) {
    if (expired(q, i)) return finish(q, i, Fate::kExpired);
    const Queue& Q = sp_.queues_[q];
    uint8_t* level = ready(q, rec(q, i)[kRecPriority]);
    if (rec(q, i)[kRecAttempts] > 0 && Q.front)
      list_push_front(level, Q.list_cap, static_cast<uint8_t>(i));
    else
      list_push_back(level, Q.list_cap, static_cast<uint8_t>(i));
    set_place(q, i, kReady);
  }
  // REQUIRES: the slot's record is filled in (timestamp, priority, origin).
  void enqueue(uint32_t q, uint32_t i) {
    MQ_CHECK(size(q) < sp_.queues_[q].capacity);
    effect(EffectKind::kAccepted, q, i);
    if (now() < not_before(q, i)) {
      list_push_back(delayed(q), sp_.queues_[q].list_cap, static_cast<uint8_t>(i));
      set_place(q, i, kDelayed);
    } else {
      place_ready(q, i);
    }
  }
  void fill(uint32_t q, uint32_t i, uint8_t priority, bool dead) {
    uint8_t* r = rec(q, i);
    const Slot& sl = sp_.slots_[sp_.slot_index(q, i)];
    std::memset(r, 0, kRecSize);
    r[kRecPlace] = static_cast<uint8_t>((dead && sl.two_origins ? 1 : 0) << 3);
    r[kRecPriority] = priority;
    set16(r + kRecTs, static_cast<uint16_t>(now()));
  }
  void dead_letter(uint32_t q, uint32_t i, uint32_t consumer) {
    const uint8_t priority = rec(q, i)[kRecPriority];
    uint8_t saved[kRecSize];
    std::memcpy(saved, rec(q, i), kRecSize);
    finish(q, i, Fate::kDeadLettered, consumer);
    const int dlq = sp_.queues_[q].dlq;
    if (dlq < 0) return;
    const Queue& D = sp_.queues_[dlq];
    if (size(dlq) >= D.capacity || place(dlq, i) != kAbsent) {
      s_[sp_.queues_[q].dlr]++;
      MQ_CHECK(s_[sp_.queues_[q].dlr] != 0);
      uint8_t now_rec[kRecSize];
      std::memcpy(now_rec, rec(q, i), kRecSize);
      std::memcpy(rec(q, i), saved, kRecSize);  // the effect names the message as it was
      effect(EffectKind::kDeadLetterRefused, q, i);
      std::memcpy(rec(q, i), now_rec, kRecSize);
      return;
    }
    fill(dlq, i, static_cast<uint8_t>(std::min<uint32_t>(priority, D.levels - 1)), true);
    enqueue(dlq, i);
  }
  // REQUIRES: the message was just taken out of in flight (consumer cleared).
  void fail_delivery(uint32_t q, uint32_t i, uint32_t holder) {
    if (expired(q, i)) return finish(q, i, Fate::kExpired);
    if (!retries_left(q, i)) return dead_letter(q, i, holder);
    effect(EffectKind::kRequeued, q, i, holder);
    place_ready(q, i);
  }
  void deliver(uint32_t q, uint32_t c) {
    const Queue& Q = sp_.queues_[q];
    uint8_t* level = ready(q, static_cast<uint32_t>(top_ready_level(q)));
    const uint8_t i = level[1];
    list_erase_at(level, 0);
    uint8_t* r = rec(q, i);
    r[kRecAttempts]++;
    effect(EffectKind::kDelivered, q, i, c);
    if (sp_.consumer_auto_[c]) return finish(q, i, Fate::kAcked, c);
    list_push_back(in_flight(q), Q.list_cap, i);
    set_place(q, i, kInFlight);
    r[kRecConsumer] = static_cast<uint8_t>(c);
    set16(r + kRecDeadline, static_cast<uint16_t>(Q.vt > 0 ? now() + Q.vt : 0));
  }
  // Takes message i of consumer c out of in flight; false if it is not there.
  bool take_in_flight(uint32_t c, uint32_t i) {
    const uint32_t q = sp_.consumer_queue_[c];
    uint8_t* l = in_flight(q);
    for (uint32_t k = 0; k < l[0]; ++k) {
      if (l[1 + k] != i || rec(q, i)[kRecConsumer] != c) continue;
      list_erase_at(l, k);
      clear_holder(q, i);
      return true;
    }
    return false;
  }
  void clear_holder(uint32_t q, uint32_t i) {
    uint8_t* r = rec(q, i);
    r[kRecConsumer] = 0;
    set16(r + kRecDeadline, 0);
    set_place(q, i, kAbsent);
  }
  void return_in_flight(uint32_t q, bool only_expired_deadlines, uint32_t only_consumer) {
    uint8_t* l = in_flight(q);
    uint8_t back[256], holders[256];
    uint32_t nb = 0;
    for (uint32_t k = 0; k < l[0];) {
      const uint8_t i = l[1 + k];
      const uint8_t* r = rec(q, i);
      const TimeNs deadline = get16(r + kRecDeadline);
      const bool due = !only_expired_deadlines || (deadline != 0 && deadline <= now());
      const bool mine = only_consumer == kNoConsumerByte || r[kRecConsumer] == only_consumer;
      if (!(due && mine)) {
        ++k;
        continue;
      }
      holders[nb] = r[kRecConsumer];
      back[nb++] = i;
      list_erase_at(l, k);
      clear_holder(q, i);
    }
    if (sp_.queues_[q].front) {
      std::reverse(back, back + nb);
      std::reverse(holders, holders + nb);
    }
    for (uint32_t k = 0; k < nb; ++k) fail_delivery(q, back[k], holders[k]);
  }
  std::optional<TimeNs> next_event_time() const {
    std::optional<TimeNs> next;
    const TimeNs t_now = now();
    auto consider = [&](TimeNs t) {
      if (t > t_now && (!next || t < *next)) next = t;
    };
    for (uint32_t q = 0; q < sp_.queues_.size(); ++q) {
      for (uint32_t l = 0; l < sp_.queues_[q].levels; ++l) {
        const uint8_t* lst = ready(q, l);
        for (uint32_t k = 0; k < lst[0]; ++k)
          if (attrs(q, lst[1 + k]).ttl_ns > 0) consider(ts(q, lst[1 + k]) + attrs(q, lst[1 + k]).ttl_ns);
      }
      const uint8_t* d = delayed(q);
      for (uint32_t k = 0; k < d[0]; ++k) {
        consider(not_before(q, d[1 + k]));
        if (attrs(q, d[1 + k]).ttl_ns > 0) consider(ts(q, d[1 + k]) + attrs(q, d[1 + k]).ttl_ns);
      }
      const uint8_t* f = in_flight(q);
      for (uint32_t k = 0; k < f[0]; ++k) {
        const TimeNs deadline = get16(rec(q, f[1 + k]) + kRecDeadline);
        if (deadline > 0) consider(deadline);
      }
    }
    return next;
  }
  void fire_due_timers() {
    const auto qn = static_cast<uint32_t>(sp_.queues_.size());
    for (uint32_t q = 0; q < qn; ++q) return_in_flight(q, true, kNoConsumerByte);
    for (uint32_t q = 0; q < qn; ++q) {
      uint8_t* d = delayed(q);
      uint8_t due[256];
      uint32_t n = 0;
      for (uint32_t k = 0; k < d[0];) {
        if (now() >= not_before(q, d[1 + k])) {
          due[n++] = d[1 + k];
          list_erase_at(d, k);
        } else {
          ++k;
        }
      }
      for (uint32_t k = 0; k < n; ++k) {
        effect(EffectKind::kReleased, q, due[k]);
        place_ready(q, due[k]);
      }
    }
    for (uint32_t q = 0; q < qn; ++q) {
      for (uint32_t l = 0; l < sp_.queues_[q].levels; ++l) expire_list(q, ready(q, l));
      expire_list(q, delayed(q));
    }
  }
  void expire_list(uint32_t q, uint8_t* l) {
    for (uint32_t k = 0; k < l[0];) {
      const uint8_t i = l[1 + k];
      if (!expired(q, i)) {
        ++k;
        continue;
      }
      list_erase_at(l, k);
      finish(q, i, Fate::kExpired);
    }
  }

  // ---- operations: each returns false for an error (state untouched) ----
  bool send(uint32_t i) {
    if (!up()) return false;
    const Menu& m = sp_.menu_[i];
    for (uint8_t q : m.queues) {
      if (m.spec.priority >= sp_.queues_[q].levels || place(q, i) != kAbsent) return false;
    }
    for (uint8_t q : m.queues) {
      if (size(q) >= sp_.queues_[q].capacity) {
        fill(q, i, m.spec.priority, false);
        effect(EffectKind::kRefused, q, i);
        std::memset(rec(q, i), 0, kRecSize);
        continue;
      }
      fill(q, i, m.spec.priority, false);
      enqueue(q, i);
    }
    s_[sp_.sent_ + i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    return true;
  }
  bool dispatch(uint32_t q) {
    if (!up()) return false;
    if (top_ready_level(q) < 0) return true;
    const auto& ring = sp_.queues_[q].ring;
    uint8_t& cursor = s_[sp_.queues_[q].cursor];
    for (size_t k = 0; k < ring.size(); ++k) {
      const size_t pos = (cursor + k) % ring.size();
      if (!has_credit(ring[pos])) continue;
      cursor = static_cast<uint8_t>((pos + 1) % ring.size());
      deliver(q, ring[pos]);
      return true;
    }
    return true;
  }
  bool fetch(uint32_t c) {
    if (!up() || !attached(c)) return false;
    const uint32_t q = sp_.consumer_queue_[c];
    if (top_ready_level(q) >= 0 && has_credit(c)) deliver(q, c);
    return true;
  }
  bool ack(uint32_t c, uint32_t i) {
    if (!up() || !take_in_flight(c, i)) return false;
    finish(sp_.consumer_queue_[c], i, Fate::kAcked, c);
    return true;
  }
  bool nack(uint32_t c, uint32_t i, bool requeue) {
    if (!up() || !take_in_flight(c, i)) return false;
    const uint32_t q = sp_.consumer_queue_[c];
    if (requeue)
      fail_delivery(q, i, c);
    else
      dead_letter(q, i, c);
    return true;
  }
  bool advance(TimeNs to) {
    if (to < now()) return false;
    for (size_t round = 0;; ++round) {
      MQ_CHECK(round <= Model::kMaxTimerRounds);
      const auto next = next_event_time();
      if (!next || *next > to) break;
      set16(s_ + sp_.now_, static_cast<uint16_t>(*next));
      fire_due_timers();
    }
    set16(s_ + sp_.now_, static_cast<uint16_t>(to));
    return true;
  }
  bool crash() {
    if (!up()) return false;
    const auto qn = static_cast<uint32_t>(sp_.queues_.size());
    for (uint32_t q = 0; q < qn; ++q)
      if (sp_.queues_[q].durable) return_in_flight(q, false, kNoConsumerByte);
    for (uint32_t q = 0; q < qn; ++q) {
      if (sp_.queues_[q].durable) continue;
      lose_list(q, in_flight(q));
      for (uint32_t l = 0; l < sp_.queues_[q].levels; ++l) lose_list(q, ready(q, l));
      lose_list(q, delayed(q));
    }
    for (uint32_t q = 0; q < qn; ++q) s_[sp_.queues_[q].cursor] = 0;
    for (uint32_t c = 0; c < sp_.consumer_queue_.size(); ++c) set_attached(c, false);
    s_[sp_.up_] = 0;
    s_[sp_.crashes_]++;
    return true;
  }
  void lose_list(uint32_t q, uint8_t* l) {
    const uint32_t n = l[0];
    for (uint32_t k = 0; k < n; ++k) finish(q, l[1 + k], Fate::kLost);
    std::memset(l, 0, 1 + n);
  }
  bool recover() {
    if (up()) return false;
    s_[sp_.up_] = 1;
    return true;
  }
  bool attach(uint32_t c) {
    if (!up() || attached(c)) return false;
    set_attached(c, true);
    return true;
  }
  bool detach(uint32_t c) {
    if (!up() || !attached(c)) return false;
    set_attached(c, false);
    return_in_flight(sp_.consumer_queue_[c], false, c);
    return true;
  }

 private:
  const PackedSpace& sp_;
  uint8_t* s_;
  Scratch* sc_;  // null: read only
};

// ---- candidates ----

uint32_t PackedSpace::candidates(const uint8_t* s, PackedOp* out) const {
  Mut v(*this, const_cast<uint8_t*>(s), nullptr);  // read only
  uint32_t n = 0;
  for (uint32_t i = 0; i < n_; ++i)
    if (!v.sent(i)) out[n++] = {Kind::kSend, static_cast<uint8_t>(i), 0};
  for (uint32_t q = 0; q < queues_.size(); ++q) out[n++] = {Kind::kDispatch, static_cast<uint8_t>(q), 0};
  const auto cn = static_cast<uint32_t>(consumer_queue_.size());
  for (uint32_t c = 0; config_.fetch && c < cn; ++c)
    out[n++] = {Kind::kFetch, static_cast<uint8_t>(c), 0};
  for (uint32_t q = 0; q < queues_.size(); ++q) {
    const uint8_t* l = v.in_flight(q);
    for (uint32_t k = 0; k < l[0]; ++k) {
      const uint8_t i = l[1 + k], c = v.rec(q, i)[kRecConsumer];
      out[n++] = {Kind::kAck, c, i};
      if (config_.nacks) {
        out[n++] = {Kind::kNackRequeue, c, i};
        out[n++] = {Kind::kNackDead, c, i};
      }
    }
  }
  if (v.now() < config_.max_time_ns) out[n++] = {Kind::kAdvance, 0, 0};
  if (v.up() && s[crashes_] < config_.max_crashes) out[n++] = {Kind::kCrash, 0, 0};
  if (!v.up()) out[n++] = {Kind::kRecover, 0, 0};
  for (uint32_t c = 0; c < cn; ++c) {
    if (!v.attached(c) && v.up()) out[n++] = {Kind::kAttach, static_cast<uint8_t>(c), 0};
    if (v.attached(c) && config_.consumer_faults) out[n++] = {Kind::kDetach, static_cast<uint8_t>(c), 0};
  }
  MQ_CHECK(n <= max_candidates_);
  return n;
}

Op PackedSpace::to_op(const uint8_t* s, const PackedOp& o) const {
  switch (o.kind) {
    case Kind::kSend: {
      const MenuMessage& m = config_.messages[o.a];
      if (m.topic) return op::Publish{0, *m.topic, m.spec};
      return op::Send{0, *m.queue, m.spec};
    }
    case Kind::kDispatch:
      return op::Dispatch{o.a};
    case Kind::kFetch:
      return op::Fetch{o.a};
    case Kind::kAck:
      return op::Ack{o.a, MessageId{o.b} + 1};
    case Kind::kNackRequeue:
      return op::Nack{o.a, MessageId{o.b} + 1, true};
    case Kind::kNackDead:
      return op::Nack{o.a, MessageId{o.b} + 1, false};
    case Kind::kAdvance:
      return op::Advance{TimeNs{get16(s + now_)} + 1};
    case Kind::kCrash:
      return op::Crash{};
    case Kind::kRecover:
      return op::Recover{};
    case Kind::kAttach:
      return op::Attach{o.a};
    case Kind::kDetach:
      return op::Detach{o.a};
  }
  MQ_CHECK_MSG(false, "unknown packed operation");
  return op::Crash{};
}

// ---- a step and its judgement ----

bool PackedSpace::apply(const uint8_t* s, const PackedOp& o, uint8_t* out, uint32_t& violations, Scratch& sc,
                        bool state_checks) const {
  violations = 0;
  std::memcpy(out, s, size_);
  sc.effects.clear();
  Mut m(*this, out, &sc);
  bool ok = false;
  switch (o.kind) {
    case Kind::kSend:
      ok = m.send(o.a);
      break;
    case Kind::kDispatch:
      ok = m.dispatch(o.a);
      break;
    case Kind::kFetch:
      ok = m.fetch(o.a);
      break;
    case Kind::kAck:
      ok = m.ack(o.a, o.b);
      break;
    case Kind::kNackRequeue:
      ok = m.nack(o.a, o.b, true);
      break;
    case Kind::kNackDead:
      ok = m.nack(o.a, o.b, false);
      break;
    case Kind::kAdvance:
      ok = m.advance(m.now() + 1);
      break;
    case Kind::kCrash:
      ok = m.crash();
      break;
    case Kind::kRecover:
      ok = m.recover();
      break;
    case Kind::kAttach:
      ok = m.attach(o.a);
      break;
    case Kind::kDetach:
      ok = m.detach(o.a);
      break;
  }
  if (!ok) {  // the model leaves the state alone on an error
    std::memcpy(out, s, size_);
    return false;
  }
  Mut before(*this, const_cast<uint8_t*>(s), nullptr);  // read only
  violations = judge(before, m, o, sc, state_checks) & config_.properties;
  // normalize(): only differences of round-robin counts matter.
  for (const auto& Q : queues_) {
    if (Q.ring.empty()) continue;
    uint16_t lo = UINT16_MAX;
    for (size_t k = 0; k < Q.ring.size(); ++k) lo = std::min<uint16_t>(lo, get16(out + Q.turns + 2 * k) >> 1);
    for (size_t k = 0; k < Q.ring.size() && lo > 0; ++k)
      set16(out + Q.turns + 2 * k, static_cast<uint16_t>(get16(out + Q.turns + 2 * k) - 2 * lo));
  }
  return std::memcmp(out, s, size_) != 0;
}

// check_invariants (model/invariants.cc) on a packed state. Shape, uniqueness and
// conservation hold by construction of the layout (one slot per queue and message).
bool PackedSpace::invariants_hold(Mut& a) const {
  const TimeNs now = a.now();
  const bool up = a.up();
  for (uint32_t q = 0; q < queues_.size(); ++q) {
    const Queue& Q = queues_[q];
    uint32_t size = 0;
    // ready and delayed: not expired, retries left, not from the future, priority in
    // range; ready at its level and deliverable, delayed not yet.
    auto waiting_ok = [&](uint8_t i, int level) {
      const uint8_t* r = a.rec(q, i);
      const Attrs& at = slot_attrs_[q * n_ + i][(r[kRecPlace] >> 3) & 1];
      const TimeNs ts = get16(r + kRecTs);
      if ((at.ttl_ns > 0 && now >= ts + at.ttl_ns) || r[kRecAttempts] > at.max_retries || ts > now)
        return false;
      if (r[kRecPriority] >= Q.levels) return false;
      const bool deliverable = now >= ts + at.delay_ns;
      return level >= 0 ? r[kRecPriority] == level && deliverable : !deliverable;
    };
    for (uint32_t l = 0; l < Q.levels; ++l) {
      const uint8_t* lst = a.ready(q, l);
      size += lst[0];
      for (uint32_t k = 0; k < lst[0]; ++k)
        if (!waiting_ok(lst[1 + k], static_cast<int>(l))) return false;
    }
    const uint8_t* d = a.delayed(q);
    size += d[0];
    for (uint32_t k = 0; k < d[0]; ++k)
      if (!waiting_ok(d[1 + k], -1)) return false;
    const uint8_t* f = a.in_flight(q);
    size += f[0];
    if (size > Q.capacity || (!up && f[0] != 0)) return false;
    for (uint32_t k = 0; k < f[0]; ++k) {
      const uint8_t* r = a.rec(q, f[1 + k]);
      const uint8_t c = r[kRecConsumer];
      const TimeNs deadline = get16(r + kRecDeadline);
      if (c >= consumer_queue_.size() || consumer_queue_[c] != q || !a.attached(c) || consumer_auto_[c])
        return false;
      if (r[kRecAttempts] < 1 || (Q.vt == 0) != (deadline == 0) || (deadline != 0 && deadline <= now))
        return false;
    }
    if (a.cursor(q) >= std::max<size_t>(Q.ring.size(), 1)) return false;
  }
  for (uint32_t c = 0; c < consumer_queue_.size(); ++c) {
    if (!up && a.attached(c)) return false;
    if (consumer_prefetch_[c] != 0 && a.unacked(c) > consumer_prefetch_[c]) return false;
  }
  return true;
}

uint32_t PackedSpace::state_violations(const uint8_t* s) const {
  Mut v(*this, const_cast<uint8_t*>(s), nullptr);  // read only
  return invariants_hold(v) ? 0 : bit(ModelProperty::kConservation) & config_.properties;
}

// ModelProperties::observe (properties/model_properties.cc) on a successful step,
// updating the checker's memory kept in `a`. Returns the properties broken.
uint32_t PackedSpace::judge(Mut& b, Mut& a, const PackedOp& o, Scratch& sc, bool state_checks) const {
  uint32_t v = 0;
  if (state_checks && !invariants_hold(a)) v |= bit(ModelProperty::kConservation);
  const bool is_send = o.kind == Kind::kSend;
  for (const auto& e : sc.effects) {
    if (!is_send || (e.kind != EffectKind::kAccepted && e.kind != EffectKind::kRefused)) continue;
    const bool full = b.size(e.queue) >= queues_[e.queue].capacity;
    if ((e.kind == EffectKind::kAccepted) == full) v |= bit(ModelProperty::kCapacity);
  }
  for (uint32_t q = 0; q < queues_.size(); ++q)
    if (a.size(q) > queues_[q].capacity) v |= bit(ModelProperty::kCapacity);
  uint32_t delivered_to = UINT32_MAX;
  for (const auto& e : sc.effects) {
    const Attrs& at = slots_[slot_index(e.queue, e.index)].attrs[e.origin];
    uint8_t* never = a.never(e.queue, e.priority);
    const uint32_t never_cap = queues_[e.queue].slots;
    switch (ready_order_role(e.kind)) {  // fifo
      case ReadyOrderRole::kArrives:
        if (at.delay_ns <= 0) list_push_back(never, never_cap, e.index);
        break;
      case ReadyOrderRole::kBecomesReady:
        list_push_back(never, never_cap, e.index);
        break;
      case ReadyOrderRole::kDelivered:
        if (e.attempts == 1 && never[0] != 0 && never[1] != e.index) v |= bit(ModelProperty::kFifo);
        list_erase_value(never, e.index);
        break;
      case ReadyOrderRole::kLeaves:
        list_erase_value(never, e.index);
        break;
      case ReadyOrderRole::kNone: break;
    }
    const TimeNs now = a.now();
    const bool expired = at.ttl_ns > 0 && now >= e.timestamp + at.ttl_ns;
    if (e.kind == EffectKind::kDelivered) {
      if (e.priority < b.top_ready_level(e.queue)) v |= bit(ModelProperty::kPriority);
      if (expired) v |= bit(ModelProperty::kTtlDelay);
      delivered_to = e.consumer;
    }
    if ((e.kind == EffectKind::kDelivered || e.kind == EffectKind::kReleased) &&
        now < e.timestamp + at.delay_ns)
      v |= bit(ModelProperty::kTtlDelay);
    if (e.kind == EffectKind::kExpired && !expired) v |= bit(ModelProperty::kTtlDelay);
    if (e.kind == EffectKind::kLost && (o.kind != Kind::kCrash || queues_[e.queue].durable))
      v |= bit(ModelProperty::kNoLoss);
  }
  // round_robin
  if (o.kind == Kind::kCrash) {
    for (const auto& Q : queues_)
      for (size_t k = 0; k < Q.ring.size(); ++k) set16(a.turns(Q, k), 1);
  } else if (o.kind == Kind::kDispatch && b.top_ready_level(o.a) >= 0) {
    const Queue& Q = queues_[o.a];
    bool anyone = false;
    for (size_t k = 0; k < Q.ring.size(); ++k) {
      const bool credit = b.has_credit(Q.ring[k]);
      anyone = anyone || credit;
      if (!credit) set16(a.turns(Q, k), get16(a.turns(Q, k)) & ~1u);
    }
    if (delivered_to != UINT32_MAX) {
      uint8_t* t = a.turns(Q, consumer_pos_[delivered_to]);
      MQ_CHECK(get16(t) < UINT16_MAX - 2);
      set16(t, static_cast<uint16_t>(get16(t) + 2));
    } else if (anyone) {
      v |= bit(ModelProperty::kRoundRobin);
    }
    uint32_t lo = UINT32_MAX, hi = 0;
    for (size_t k = 0; k < Q.ring.size(); ++k) {
      const uint16_t t = get16(a.turns(Q, k));
      if ((t & 1) == 0) continue;
      lo = std::min<uint32_t>(lo, t >> 1);
      hi = std::max<uint32_t>(hi, t >> 1);
    }
    if (lo != UINT32_MAX && hi > lo + 1) v |= bit(ModelProperty::kRoundRobin);
  }
  return v;
}

// ---- conversion to and from the reference node ----

SearchNode PackedSpace::to_node(const uint8_t* s) const {
  Mut v(*this, const_cast<uint8_t*>(s), nullptr);
  const Topology& t = wiring_->topology;
  ModelState st;
  st.now_ns = v.now();
  st.up = v.up();
  for (uint32_t c = 0; c < t.consumers.size(); ++c) st.attached.push_back(v.attached(c) ? 1 : 0);
  std::string props;
  ByteWriter w(props);
  w.u(config_.properties);
  st.queues.resize(queues_.size());
  for (uint32_t q = 0; q < queues_.size(); ++q) {
    const Queue& Q = queues_[q];
    QueueState& qs = st.queues[q];
    auto message = [&](uint8_t i) {
      const Attrs& at = v.attrs(q, i);
      const uint8_t* r = v.rec(q, i);
      return Message{i + 1u,    config_.messages[i].spec.payload, v.ts(q, i),      r[kRecPriority],
                     at.ttl_ns, v.ts(q, i) + at.delay_ns,         r[kRecAttempts], at.max_retries};
    };
    qs.ready.resize(Q.levels);
    for (uint32_t l = 0; l < Q.levels; ++l)
      for (uint32_t k = 0; k < v.ready(q, l)[0]; ++k) qs.ready[l].push_back(message(v.ready(q, l)[1 + k]));
    for (uint32_t k = 0; k < v.delayed(q)[0]; ++k) qs.delayed.push_back(message(v.delayed(q)[1 + k]));
    for (uint32_t k = 0; k < v.in_flight(q)[0]; ++k) {
      const uint8_t i = v.in_flight(q)[1 + k];
      qs.in_flight.push_back({message(i), v.rec(q, i)[kRecConsumer], get16(v.rec(q, i) + kRecDeadline)});
    }
    for (uint32_t k = 0; k < v.finished(q)[0]; ++k) {
      const uint8_t i = v.finished(q)[1 + k];
      qs.finished.push_back({i + 1u, static_cast<Fate>(v.place(q, i) - kFinished)});
    }
    qs.rr_cursor = v.cursor(q);
    for (uint32_t i = 0; i < n_; ++i) qs.counters.accepted += v.place(q, i) != kAbsent;
    qs.counters.dead_letter_refused = s[Q.dlr];
    qs.counters.deliveries = kUnknownDeliveries;
    for (uint32_t l = 0; l < Q.levels; ++l) {
      const uint8_t* nv = v.never(q, l);
      w.u(nv[0]);
      for (uint32_t k = 0; k < nv[0]; ++k) w.u(nv[1 + k] + 1u);
    }
    std::vector<MessageId> live;
    for (uint32_t i = 0; i < n_; ++i)
      if (v.place(q, i) >= kReady && v.place(q, i) <= kInFlight) live.push_back(i + 1);
    w.u(live.size());
    for (MessageId id : live) w.u(id);
    for (size_t k = 0; k < Q.ring.size(); ++k) w.u(get16(v.turns(Q, k)));
  }
  Model model(wiring_, std::move(st));
  ModelProperties checker(Model(wiring_, Model::create(t).value().state()), config_.properties);
  ByteReader r(props);
  checker.decode(r);
  MQ_CHECK(r.done());
  uint64_t sent = 0;
  for (uint32_t i = 0; i < n_; ++i) sent |= uint64_t{v.sent(i)} << i;
  return SearchNode{std::move(model), std::move(checker), s[crashes_], sent};
}

void PackedSpace::from_node(const SearchNode& node, uint8_t* out) const {
  std::memset(out, 0, size_);
  Mut v(*this, out, nullptr);
  const ModelState& st = node.model.state();
  for (uint32_t i = 0; i < n_; ++i)
    if ((node.sent >> i) & 1) out[sent_ + i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  MQ_CHECK(node.crashes <= 255 && st.now_ns >= 0 && st.now_ns <= kMaxPackedTime);
  out[crashes_] = static_cast<uint8_t>(node.crashes);
  set16(out + now_, static_cast<uint16_t>(st.now_ns));
  out[up_] = st.up ? 1 : 0;
  for (uint32_t c = 0; c < st.attached.size(); ++c) v.set_attached(c, st.attached[c] != 0);
  std::string props;
  ByteWriter w(props);
  node.props.encode(w);
  ByteReader r(props);
  MQ_CHECK(r.u() == config_.properties);
  for (uint32_t q = 0; q < queues_.size(); ++q) {
    const Queue& Q = queues_[q];
    const QueueState& qs = st.queues[q];
    auto put = [&](const Message& m, uint8_t place) {
      MQ_CHECK(m.id >= 1 && m.id <= n_);
      const auto i = static_cast<uint8_t>(m.id - 1);
      const int slot = slot_index(q, i);
      MQ_CHECK_MSG(slot >= 0, "packed: a message where no slot exists");
      const Attrs got{m.ttl_ns, m.not_before_ns - m.timestamp_ns, m.max_retries};
      const Slot& sl = slots_[slot];
      const int origin = got == sl.attrs[0] ? 0 : (sl.two_origins && got == sl.attrs[1] ? 1 : -1);
      MQ_CHECK_MSG(origin >= 0, "packed: message attributes of no origin");
      uint8_t* rec = out + sl.offset;
      rec[kRecPlace] = static_cast<uint8_t>(place | origin << 3);
      rec[kRecPriority] = m.priority;
      MQ_CHECK(m.attempts <= 255 && m.timestamp_ns >= 0 && m.timestamp_ns <= kMaxPackedTime);
      rec[kRecAttempts] = static_cast<uint8_t>(m.attempts);
      set16(rec + kRecTs, static_cast<uint16_t>(m.timestamp_ns));
      return i;
    };
    for (uint32_t l = 0; l < Q.levels; ++l)
      for (const auto& m : qs.ready[l]) list_push_back(v.ready(q, l), Q.list_cap, put(m, kReady));
    for (const auto& m : qs.delayed) list_push_back(v.delayed(q), Q.list_cap, put(m, kDelayed));
    for (const auto& f : qs.in_flight) {
      const uint8_t i = put(f.message, kInFlight);
      list_push_back(v.in_flight(q), Q.list_cap, i);
      MQ_CHECK(f.consumer < consumer_queue_.size() && f.deadline_ns >= 0 && f.deadline_ns <= UINT16_MAX);
      v.rec(q, i)[kRecConsumer] = static_cast<uint8_t>(f.consumer);
      set16(v.rec(q, i) + kRecDeadline, static_cast<uint16_t>(f.deadline_ns));
    }
    for (const auto& f : qs.finished) {
      MQ_CHECK(f.id >= 1 && f.id <= n_ && slot_index(q, f.id - 1) >= 0);
      list_push_back(v.finished(q), Q.slots, static_cast<uint8_t>(f.id - 1));
      v.rec(q, f.id - 1)[kRecPlace] = static_cast<uint8_t>(kFinished + static_cast<int>(f.fate));
    }
    out[Q.cursor] = static_cast<uint8_t>(qs.rr_cursor);
    MQ_CHECK(qs.counters.dead_letter_refused <= 255);
    out[Q.dlr] = static_cast<uint8_t>(qs.counters.dead_letter_refused);
    for (uint32_t l = 0; l < Q.levels; ++l) {
      const uint64_t n = r.u();
      for (uint64_t k = 0; k < n; ++k)
        list_push_back(v.never(q, l), Q.slots, static_cast<uint8_t>(r.u() - 1));
    }
    // The checker's live set is not stored: it must be the set of held messages.
    std::vector<MessageId> live(r.u()), held;
    for (auto& id : live) id = r.u();
    for (uint32_t i = 0; i < n_; ++i)
      if (v.place(q, i) >= kReady && v.place(q, i) <= kInFlight) held.push_back(i + 1);
    MQ_CHECK_MSG(live == held, "packed: the checker's live set differs from the held messages");
    for (size_t k = 0; k < Q.ring.size(); ++k) {
      const uint64_t t = r.u();
      MQ_CHECK(t <= UINT16_MAX);
      set16(v.turns(Q, k), static_cast<uint16_t>(t));
    }
  }
  MQ_CHECK(r.done());
}

// ---- symmetry ----

std::string PackedSpace::symmetry_summary() const {
  std::string out;
  const Topology& t = wiring_->topology;
  for (const auto& Q : queues_) {
    if (!Q.rotatable) continue;
    out += out.empty() ? "" : "; ";
    out += "consumers";
    for (uint8_t c : Q.ring) out += " " + t.consumers[c].name;
    out += " (rotations of the ring)";
  }
  for (const auto& cls : classes_) {
    out += out.empty() ? "" : "; ";
    out += "messages";
    for (uint8_t i : cls) out += " #" + std::to_string(i + 1);
  }
  return out;
}

// Moves ring position p to p - by: consumer ring[p] becomes ring[p - by].
void PackedSpace::rotate(uint8_t* s, uint32_t q, uint32_t by, Relabel* r) const {
  const Queue& Q = queues_[q];
  const size_t n = Q.ring.size();
  Mut v(*this, s, nullptr);
  uint8_t to[64];
  bool was[64];
  uint16_t turns[64];
  for (size_t p = 0; p < n; ++p) {
    to[Q.ring[p]] = 0;  // filled below; consumers outside this ring are untouched
    was[p] = v.attached(Q.ring[p]);
    turns[p] = get16(v.turns(Q, p));
  }
  for (size_t p = 0; p < n; ++p) {
    const uint8_t from = Q.ring[p], dest = Q.ring[(p + n - by) % n];
    to[from] = dest;
    if (r) r->consumer[from] = dest;
    v.set_attached(dest, was[p]);
    set16(v.turns(Q, (p + n - by) % n), turns[p]);
  }
  const uint8_t* l = v.in_flight(q);
  for (uint32_t k = 0; k < l[0]; ++k) {
    uint8_t* rec = v.rec(q, l[1 + k]);
    rec[kRecConsumer] = to[rec[kRecConsumer]];
  }
  s[Q.cursor] = 0;
}

// Everything about menu message i except its label: sent, then per queue its record
// and its position in whichever list holds it.
void PackedSpace::signature(const uint8_t* s, uint32_t i, std::string& out) const {
  Mut v(*this, const_cast<uint8_t*>(s), nullptr);
  out.push_back(static_cast<char>(v.sent(i)));
  auto position = [&](const uint8_t* l) {
    for (uint32_t k = 0; k < l[0]; ++k)
      if (l[1 + k] == i) return static_cast<char>(k);
    return static_cast<char>(-1);
  };
  for (uint32_t q = 0; q < queues_.size(); ++q) {
    const int slot = slot_index(q, i);
    if (slot < 0) continue;
    out.append(reinterpret_cast<const char*>(s + slots_[slot].offset), kRecSize);
    for (uint32_t l = 0; l < queues_[q].levels; ++l) {
      out.push_back(position(v.ready(q, l)));
      out.push_back(position(v.never(q, l)));
    }
    out.push_back(position(v.delayed(q)));
    out.push_back(position(v.in_flight(q)));
    out.push_back(position(v.finished(q)));
  }
}

// Relabels menu messages: old i becomes to[i]. REQUIRES: to permutes within classes.
void PackedSpace::permute_messages(uint8_t* s, const uint8_t* to) const {
  Mut v(*this, s, nullptr);
  uint8_t sent[8] = {};
  for (uint32_t i = 0; i < n_; ++i)
    if (v.sent(i)) sent[to[i] / 8] |= static_cast<uint8_t>(1u << (to[i] % 8));
  std::memcpy(s + sent_, sent, sent_bytes_);
  auto map_list = [&](uint8_t* l) {
    for (uint32_t k = 0; k < l[0]; ++k) l[1 + k] = to[l[1 + k]];
  };
  uint8_t recs[64 * kRecSize];
  for (uint32_t q = 0; q < queues_.size(); ++q) {
    const Queue& Q = queues_[q];
    for (uint32_t l = 0; l < Q.levels; ++l) {
      map_list(v.ready(q, l));
      map_list(v.never(q, l));
    }
    map_list(v.delayed(q));
    map_list(v.in_flight(q));
    map_list(v.finished(q));
    for (uint32_t i = 0; i < n_; ++i)
      if (slot_index(q, i) >= 0) std::memcpy(recs + to[i] * kRecSize, v.rec(q, i), kRecSize);
    for (uint32_t i = 0; i < n_; ++i)
      if (slot_index(q, i) >= 0) std::memcpy(v.rec(q, i), recs + i * kRecSize, kRecSize);
  }
}

void PackedSpace::canonicalize(uint8_t* s, Relabel* applied) const {
  if (applied) *applied = Relabel::identity(consumer_queue_.size(), n_);
  if (!symmetry_) return;
  for (uint32_t q = 0; q < queues_.size(); ++q)
    if (queues_[q].rotatable && s[queues_[q].cursor] != 0) rotate(s, q, s[queues_[q].cursor], applied);
  if (classes_.empty()) return;
  uint8_t to[64];
  for (uint32_t i = 0; i < n_; ++i) to[i] = static_cast<uint8_t>(i);
  bool moved = false;
  std::pair<std::string, uint8_t> sig[64];
  for (const auto& cls : classes_) {
    for (size_t k = 0; k < cls.size(); ++k) {
      sig[k].first.clear();
      sig[k].second = cls[k];
      signature(s, cls[k], sig[k].first);
    }
    std::sort(sig, sig + cls.size());
    for (size_t k = 0; k < cls.size(); ++k) {
      to[sig[k].second] = cls[k];
      moved = moved || sig[k].second != cls[k];
    }
  }
  if (moved) permute_messages(s, to);
  if (applied) applied->message.assign(to, to + n_);
}

uint64_t PackedSpace::orbit_size(const uint8_t* s) const {
  uint64_t n = 1;
  if (!symmetry_) return n;
  for (const auto& Q : queues_)
    if (Q.rotatable) n *= Q.ring.size();
  std::vector<std::string> sig;
  for (const auto& cls : classes_) {
    sig.assign(cls.size(), std::string());
    for (size_t k = 0; k < cls.size(); ++k) signature(s, cls[k], sig[k]);
    std::sort(sig.begin(), sig.end());
    uint64_t f = 1;  // k! / (product of m! over runs of m equal signatures)
    for (size_t k = 2; k <= cls.size(); ++k) f *= k;
    for (size_t k = 1, run = 1; k < cls.size(); ++k) {
      run = sig[k] == sig[k - 1] ? run + 1 : 1;
      if (run > 1) f /= run;
    }
    n *= f;
  }
  return n;
}

Op PackedSpace::relabel(const Op& op, const Relabel& r) const {
  struct Map {
    const PackedSpace& sp;
    const Relabel& r;
    ConsumerId c(ConsumerId x) const { return r.consumer[x]; }
    MessageId id(MessageId x) const { return r.message[x - 1] + 1u; }
    Op menu(MessageId old) const {
      const MenuMessage& m = sp.config_.messages[r.message[old - 1]];
      if (m.topic) return op::Publish{0, *m.topic, m.spec};
      return op::Send{0, *m.queue, m.spec};
    }
    Op operator()(const op::Send& o) const { return menu(o.spec.id); }
    Op operator()(const op::Publish& o) const { return menu(o.spec.id); }
    Op operator()(const op::Dispatch& o) const { return o; }
    Op operator()(const op::Fetch& o) const { return op::Fetch{c(o.consumer)}; }
    Op operator()(const op::Ack& o) const { return op::Ack{c(o.consumer), id(o.id)}; }
    Op operator()(const op::Nack& o) const { return op::Nack{c(o.consumer), id(o.id), o.requeue}; }
    Op operator()(const op::Advance& o) const { return o; }
    Op operator()(const op::Crash& o) const { return o; }
    Op operator()(const op::Recover& o) const { return o; }
    Op operator()(const op::Attach& o) const { return op::Attach{c(o.consumer)}; }
    Op operator()(const op::Detach& o) const { return op::Detach{c(o.consumer)}; }
  };
  return std::visit(Map{*this, r}, op);
}

}  // namespace mq::explorer
