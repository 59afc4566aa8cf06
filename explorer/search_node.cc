#include "explorer/search_node.h"

namespace mq::explorer {
namespace {

void put(ByteWriter& w, const Message& m) {
  w.u(m.id);
  w.s(m.payload);
  w.u(static_cast<uint64_t>(m.timestamp_ns));
  w.u(m.priority);
  w.u(static_cast<uint64_t>(m.ttl_ns));
  w.u(static_cast<uint64_t>(m.not_before_ns));
  w.u(m.attempts);
  w.u(m.max_retries);
}

Message get_message(ByteReader& r) {
  Message m;
  m.id = r.u();
  m.payload = r.s();
  m.timestamp_ns = static_cast<TimeNs>(r.u());
  m.priority = static_cast<Priority>(r.u());
  m.ttl_ns = static_cast<TimeNs>(r.u());
  m.not_before_ns = static_cast<TimeNs>(r.u());
  m.attempts = static_cast<uint32_t>(r.u());
  m.max_retries = static_cast<uint32_t>(r.u());
  return m;
}

// A finished message's fate, in the low bits beside its id.
constexpr int kFateBits = 3;

// Everything of the queue's state that a later step can depend on: the ready levels,
// delayed and in-flight messages, the finished ids with their fates, an idempotency
// window's ids (a windowed queue forgets ids by them: docs/model.md), and the counters
// a step reads.
void put_queue(ByteWriter& w, const QueueState& q) {
  w.u(q.rr_cursor);
  for (const auto& level : q.ready) {
    w.u(level.size());
    for (const auto& m : level) put(w, m);
  }
  w.u(q.delayed.size());
  for (const auto& m : q.delayed) put(w, m);
  w.u(q.in_flight.size());
  for (const auto& f : q.in_flight) {
    put(w, f.message);
    w.u(f.consumer);
    w.u(static_cast<uint64_t>(f.deadline_ns));
  }
  w.u(q.finished.size());
  for (const auto& f : q.finished) {
    MQ_CHECK(static_cast<uint64_t>(f.fate) < (uint64_t{1} << kFateBits));
    w.u((f.id << kFateBits) | static_cast<uint64_t>(f.fate));
  }
  w.u(q.window.size());
  for (const auto& e : q.window) {
    w.u(e.id);
    w.u(static_cast<uint64_t>(e.accepted_ns));
  }
  w.u(q.counters.accepted);
  w.u(q.counters.dead_letter_refused);
}

void get_queue(ByteReader& r, QueueState& q) {
  q.rr_cursor = static_cast<uint32_t>(r.u());
  for (auto& level : q.ready) {
    level.resize(r.u());
    for (auto& m : level) m = get_message(r);
  }
  q.delayed.resize(r.u());
  for (auto& m : q.delayed) m = get_message(r);
  q.in_flight.resize(r.u());
  for (auto& f : q.in_flight) {
    f.message = get_message(r);
    f.consumer = static_cast<ConsumerId>(r.u());
    f.deadline_ns = static_cast<TimeNs>(r.u());
  }
  q.finished.resize(r.u());
  for (auto& f : q.finished) {
    const uint64_t v = r.u();
    f = Finished{v >> kFateBits, static_cast<Fate>(v & ((uint64_t{1} << kFateBits) - 1))};
  }
  q.window.resize(r.u());
  for (auto& e : q.window) {
    e.id = r.u();
    e.accepted_ns = static_cast<TimeNs>(r.u());
  }
  q.counters.accepted = r.u();
  q.counters.dead_letter_refused = r.u();
}

}  // namespace

size_t encode(const SearchNode& node, std::string& out) {
  ByteWriter w(out);
  const size_t start = w.size();
  const ModelState& s = node.model.state();
  w.u(node.sent);
  w.u(node.crashes);
  w.u(static_cast<uint64_t>(s.now_ns));
  uint64_t flags = s.up ? 1 : 0;
  for (size_t c = 0; c < s.attached.size(); ++c)
    flags |= static_cast<uint64_t>(s.attached[c] != 0) << (c + 1);
  w.u(flags);
  for (const auto& q : s.queues) put_queue(w, q);
  node.props.encode(w);
  const size_t identity = w.size() - start;
  for (const auto& q : s.queues) {  // carried along, not part of identity
    w.u(q.counters.refused);
    w.u(q.counters.deliveries);
    w.u(q.counters.redeliveries);
  }
  return identity;
}

SearchNode decode(const std::shared_ptr<const Wiring>& wiring, const ModelProperties& blank,
                  std::string_view bytes) {
  ByteReader r(bytes);
  const uint64_t sent = r.u();
  const auto crashes = static_cast<uint32_t>(r.u());
  ModelState s;
  s.now_ns = static_cast<TimeNs>(r.u());
  const uint64_t flags = r.u();
  s.up = (flags & 1) != 0;
  s.attached.resize(wiring->topology.consumers.size());
  for (size_t c = 0; c < s.attached.size(); ++c) s.attached[c] = (flags >> (c + 1)) & 1;
  s.queues.resize(wiring->topology.queues.size());
  for (size_t q = 0; q < s.queues.size(); ++q) {
    s.queues[q].ready.resize(wiring->topology.queues[q].priority_levels);
    get_queue(r, s.queues[q]);
  }
  ModelProperties props = blank;
  props.decode(r);
  for (auto& q : s.queues) {
    q.counters.refused = r.u();
    q.counters.deliveries = r.u();
    q.counters.redeliveries = r.u();
  }
  MQ_CHECK(r.done());
  return SearchNode{Model(wiring, std::move(s)), std::move(props), crashes, sent};
}

std::vector<Op> candidate_ops(const SearchNode& node, const ExploreConfig& c) {
  std::vector<Op> ops;
  const ModelState& s = node.model.state();
  const Topology& t = node.model.topology();
  for (size_t i = 0; i < c.messages.size(); ++i) {
    if (node.sent & (uint64_t{1} << i)) continue;
    const MenuMessage& m = c.messages[i];
    if (m.queue)
      ops.push_back(op::Send{0, *m.queue, m.spec});
    else
      ops.push_back(op::Publish{0, *m.topic, m.spec});
  }
  for (QueueId q = 0; q < t.queues.size(); ++q) ops.push_back(op::Dispatch{q});
  for (ConsumerId k = 0; c.fetch && k < t.consumers.size(); ++k) ops.push_back(op::Fetch{k});
  for (const auto& qs : s.queues) {
    for (const auto& f : qs.in_flight) {
      ops.push_back(op::Ack{f.consumer, f.message.id});
      if (c.nacks) {
        ops.push_back(op::Nack{f.consumer, f.message.id, true});
        ops.push_back(op::Nack{f.consumer, f.message.id, false});
      }
    }
  }
  if (s.now_ns < c.max_time_ns) ops.push_back(op::Advance{s.now_ns + 1});
  if (s.up && node.crashes < c.max_crashes) ops.push_back(op::Crash{});
  if (!s.up) ops.push_back(op::Recover{});
  for (ConsumerId k = 0; k < t.consumers.size(); ++k) {
    if (!s.attached[k] && s.up) ops.push_back(op::Attach{k});  // after a crash, always
    if (s.attached[k] && c.consumer_faults) ops.push_back(op::Detach{k});
  }
  MQ_CHECK(ops.size() < UINT16_MAX);
  return ops;
}

Successor successor(const SearchNode& node, const Op& op, const ApplyFn& apply) {
  Successor next{node, Result<Effects>(Effects{}), {}, false};
  next.result = apply(next.node.model, op);
  next.violations = next.node.props.observe(node.model, op, next.result, next.node.model);
  if (next.result.ok()) {
    if (std::holds_alternative<op::Crash>(op)) next.node.crashes++;
    if (const auto* send = std::get_if<op::Send>(&op)) next.node.sent |= uint64_t{1} << (send->spec.id - 1);
    if (const auto* pub = std::get_if<op::Publish>(&op)) next.node.sent |= uint64_t{1} << (pub->spec.id - 1);
  }
  next.node.props.normalize();
  next.changed = !(next.node.model.state() == node.model.state()) || next.node.sent != node.sent ||
                 next.node.crashes != node.crashes || !(next.node.props == node.props);
  return next;
}

std::string fair_label(const Op& op) {
  if (std::holds_alternative<op::Advance>(op)) return "advance";
  if (std::holds_alternative<op::Dispatch>(op) || std::holds_alternative<op::Fetch>(op) ||
      std::holds_alternative<op::Ack>(op) || std::holds_alternative<op::Recover>(op) ||
      std::holds_alternative<op::Attach>(op)) {
    return to_string(op);
  }
  return "";
}

}  // namespace mq::explorer
