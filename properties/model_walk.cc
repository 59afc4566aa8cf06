#include "properties/model_walk.h"

#include <algorithm>

namespace mq {
namespace {

// Bits [shift, shift+16) of `bits`, reduced modulo `mod` (mod > 0).
uint64_t field(uint64_t bits, int shift, uint64_t mod) {
  return ((bits >> shift) & 0xFFFF) % mod;
}

MessageSpec make_spec(const Model& model, QueueId q, uint64_t bits, MessageId& next_id) {
  MessageSpec spec;
  if (field(bits, 0, 16) == 15 && next_id > 1) {
    spec.id = 1 + field(bits, 4, next_id - 1);  // an old id: usually a duplicate
  } else {
    spec.id = next_id++;
  }
  spec.payload = "m" + std::to_string(spec.id);
  const uint32_t levels = model.topology().queues[q].priority_levels;
  // One send in 64 asks for a priority the queue does not have.
  spec.priority = static_cast<Priority>(field(bits, 8, 64) == 63 ? levels % 256 : field(bits, 16, levels));
  if (field(bits, 24, 4) == 1) spec.ttl_ns = 1 + static_cast<TimeNs>(field(bits, 28, 40));
  if (field(bits, 32, 5) == 1) spec.delay_ns = 1 + static_cast<TimeNs>(field(bits, 36, 30));
  if (field(bits, 44, 4) == 1) spec.max_retries = static_cast<uint32_t>(field(bits, 48, 3));
  return spec;
}

std::vector<std::pair<ConsumerId, MessageId>> all_in_flight(const Model& model) {
  std::vector<std::pair<ConsumerId, MessageId>> out;
  for (const auto& qs : model.state().queues) {
    for (const auto& f : qs.in_flight) out.emplace_back(f.consumer, f.message.id);
  }
  return out;
}

}  // namespace

Op interpret(const Model& model, const OpChoice& choice, MessageId& next_id) {
  const Topology& t = model.topology();
  const uint64_t b = choice.bits;
  const auto nq = t.queues.size(), nc = t.consumers.size(), np = std::max<size_t>(t.producers.size(), 1);
  const auto producer = static_cast<ProducerId>(field(b, 52, np));
  switch (choice.kind) {
    case OpKind::kPublish:
      if (!t.topics.empty()) {
        const auto topic = static_cast<TopicId>(field(b, 56, t.topics.size()));
        const QueueId first = model.wiring()->queues_of_topic[topic].front();
        return op::Publish{producer, topic, make_spec(model, first, b, next_id)};
      }
      [[fallthrough]];
    case OpKind::kSend: {
      const auto q = static_cast<QueueId>(field(b, 56, nq));
      return op::Send{producer, q, make_spec(model, q, b, next_id)};
    }
    case OpKind::kFetch:
      if (nc > 0) return op::Fetch{static_cast<ConsumerId>(field(b, 0, nc))};
      [[fallthrough]];
    case OpKind::kDispatch:
      return op::Dispatch{static_cast<QueueId>(field(b, 0, nq))};
    case OpKind::kAck:
    case OpKind::kNack: {
      const auto held = all_in_flight(model);
      if (held.empty() && nc == 0) return op::Dispatch{0};
      // With nothing in flight, an ack of a made-up id exercises the error path.
      const auto [c, id] =
          held.empty() ? std::pair<ConsumerId, MessageId>{0, next_id + 1000} : held[field(b, 0, held.size())];
      if (choice.kind == OpKind::kAck) return op::Ack{c, id};
      return op::Nack{c, id, field(b, 16, 4) != 0};
    }
    case OpKind::kAdvance:
      return op::Advance{model.now() + static_cast<TimeNs>(field(b, 0, 20))};
    case OpKind::kCrashOrRecover:
      if (model.state().up) return op::Crash{};
      return op::Recover{};
    case OpKind::kToggleConsumer: {
      if (nc == 0) return op::Dispatch{0};
      const auto c = static_cast<ConsumerId>(field(b, 0, nc));
      if (model.state().attached[c]) return op::Detach{c};
      return op::Attach{c};
    }
  }
  return op::Dispatch{0};
}

namespace {

// How often a walk picks each kind, out of the sum of all. Mostly what moves
// messages through (sends, dispatches, acks); a crashed broker recovers soon and a
// detached consumer comes back soon, so faults are frequent but never dominate.
uint32_t walk_weight(OpKind k, bool up, bool someone_detached) {
  switch (k) {
    case OpKind::kSend: return 28;
    case OpKind::kPublish: return 6;
    case OpKind::kDispatch: return 22;
    case OpKind::kFetch: return 5;
    case OpKind::kAck: return 16;
    case OpKind::kNack: return 6;
    case OpKind::kAdvance: return 12;
    case OpKind::kCrashOrRecover: return up ? 2 : 40;
    case OpKind::kToggleConsumer: return someone_detached ? 12 : 3;
  }
  MQ_CHECK_MSG(false, "not an OpKind");
}

}  // namespace

OpChoice random_choice(Prng& prng, const Model& model) {
  const ModelState& s = model.state();
  const bool someone_detached = std::count(s.attached.begin(), s.attached.end(), 0) > 0;
  uint32_t w[kOpKinds];
  for (int k = 0; k < kOpKinds; ++k) w[k] = walk_weight(static_cast<OpKind>(k), s.up, someone_detached);
  uint32_t total = 0;
  for (uint32_t x : w) total += x;
  uint64_t pick = prng.uniform(total);
  int kind = 0;
  for (; kind < kOpKinds - 1 && pick >= w[kind]; ++kind) pick -= w[kind];
  return OpChoice{static_cast<OpKind>(kind), prng.next()};
}

Topology default_topology() {
  Topology t;
  t.producers = {{"web"}, {"billing"}};
  t.queues = {
      {"tasks", 8, 3, /*durable=*/true, /*max_retries=*/2, /*visibility_timeout_ns=*/25, "dead",
       Redelivery::kBack},
      {"events", 4, 1, /*durable=*/false, 1, 0, std::nullopt, Redelivery::kFront},
      {"dead", 16, 1, /*durable=*/true, 0, 0, std::nullopt, Redelivery::kBack},
  };
  t.consumers = {
      {"worker-a", "tasks", 2, AckMode::kManual}, {"worker-b", "tasks", 1, AckMode::kManual},
      {"worker-c", "tasks", 0, AckMode::kManual}, {"audit", "events", 1, AckMode::kAuto},
      {"janitor", "dead", 4, AckMode::kManual},
  };
  t.topics = {{"bus", {"tasks", "events"}}};
  return t;
}

Topology random_topology(Prng& prng) {
  Topology t;
  const auto nq = 1 + prng.uniform(3);
  for (uint64_t q = 0; q < nq; ++q) {
    QueueConfig c;
    c.name = "q" + std::to_string(q);
    c.capacity = static_cast<uint32_t>(1 + prng.uniform(5));
    c.priority_levels = static_cast<uint32_t>(1 + prng.uniform(3));
    c.durable = prng.uniform(2) == 1;
    c.max_retries = static_cast<uint32_t>(prng.uniform(4));
    c.visibility_timeout_ns = prng.uniform(2) == 1 ? 5 + static_cast<TimeNs>(prng.uniform(26)) : 0;
    // Dead-letter only to a later queue, so that chains end.
    if (q + 1 < nq && prng.uniform(2) == 1)
      c.dead_letter_queue = "q" + std::to_string(q + 1 + prng.uniform(nq - q - 1));
    c.redelivery = prng.uniform(2) == 1 ? Redelivery::kFront : Redelivery::kBack;
    t.queues.push_back(c);
  }
  const auto nc = 1 + prng.uniform(4);
  for (uint64_t i = 0; i < nc; ++i) {
    t.consumers.push_back({"c" + std::to_string(i), "q" + std::to_string(prng.uniform(nq)),
                           static_cast<uint32_t>(prng.uniform(4)),
                           prng.uniform(4) == 0 ? AckMode::kAuto : AckMode::kManual});
  }
  t.producers = {{"p0"}, {"p1"}};
  if (nq > 1 && prng.uniform(2) == 1) t.topics.push_back({"t0", {"q0", "q" + std::to_string(nq - 1)}});
  // Drawn last, so that the draws above stay what they were: a quarter of the queues
  // drop their oldest message when full, and a quarter remember ids in a window
  // bounded by count or by age.
  for (auto& c : t.queues) {
    if (prng.uniform(4) == 0) c.overflow = Overflow::kDropOldest;
    if (prng.uniform(4) == 0) {
      c.dedup_window_ids = static_cast<uint32_t>(prng.uniform(3));
      c.dedup_window_ns = c.dedup_window_ids == 0 ? 1 + static_cast<TimeNs>(prng.uniform(10)) : 0;
    }
  }
  return t;
}

Result<Effects> apply_model(Model& model, const Op& op) {
  return model.apply(op);
}

}  // namespace mq

namespace mq {
namespace {

inline constexpr int kMaxDrainRounds = 100'000;

}  // namespace

std::vector<Violation> drain(Model& model, ModelProperties& props, const ApplyFn& apply, TimeNs bound_ns,
                             std::vector<std::string>* trace) {
  std::vector<Violation> violations;
  bool progress = false;
  auto step = [&](const Op& op) {
    Model before = model;
    auto result = apply(model, op);
    if (trace) trace->push_back(to_string(op));
    auto v = props.observe(before, op, result, model);
    violations.insert(violations.end(), v.begin(), v.end());
    progress = progress || (result.ok() && !result->empty());
  };
  if (!model.state().up) step(op::Recover{});
  for (ConsumerId c = 0; c < model.state().attached.size(); ++c) {
    if (!model.state().attached[c]) step(op::Attach{c});
  }
  const TimeNs deadline = model.now() + bound_ns;
  for (int round = 0; round < kMaxDrainRounds && violations.empty(); ++round) {
    progress = false;
    for (QueueId q = 0; q < model.state().queues.size(); ++q) step(op::Dispatch{q});
    for (const auto& qs : std::vector<QueueState>(model.state().queues)) {
      for (const auto& f : qs.in_flight) step(op::Ack{f.consumer, f.message.id});
    }
    if (progress) continue;
    const auto next = model.next_event_time();
    if (!next || *next > deadline) break;
    step(op::Advance{*next});
  }
  if (!violations.empty() || !props.enabled(ModelProperty::kLiveness)) return violations;
  for (QueueId q = 0; q < model.state().queues.size(); ++q) {
    const QueueState& qs = model.state().queues[q];
    if (model.wiring()->consumers_of_queue[q].empty() || qs.size() == 0) continue;
    violations.push_back(
        {ModelProperty::kLiveness, "queue '" + model.topology().queues[q].name + "' still holds " +
                                       std::to_string(qs.size()) + " message(s) " + std::to_string(bound_ns) +
                                       " ns after faults stopped, with every consumer attached and acking"});
  }
  return violations;
}

WalkReport random_walk(const Topology& topology, uint64_t seed, uint64_t steps, const WalkSetup& setup) {
  const ApplyFn& apply = setup.apply;
  const bool keep_trace = setup.keep_trace;
  auto created = Model::create(topology);
  MQ_CHECK_MSG(created.ok(), "random_walk: invalid topology");
  Model model = std::move(created).value();
  ModelProperties props(model, setup.properties);
  Prng prng(derive_seed(seed, "model-walk"));
  MessageId next_id = 1;
  WalkReport report;
  report.seed = seed;
  for (uint64_t i = 1; i <= steps; ++i) {
    const Op op = interpret(model, random_choice(prng, model), next_id);
    Model before = model;
    auto result = apply(model, op);
    report.steps = i;
    if (keep_trace) report.trace.push_back(to_string(op));
    const std::string name = to_string(op).substr(0, to_string(op).find(' '));
    report.op_counts[name]++;
    if (!result.ok()) report.failed_ops++;
    if (result.ok())
      for (const auto& e : *result) report.effect_counts[effect_kind_name(e.kind)]++;
    report.violations = props.observe(before, op, result, model);
    if (!report.violations.empty()) {
      report.violation_step = i;
      return report;
    }
  }
  report.violations = drain(model, props, apply, kDrainBoundNs, keep_trace ? &report.trace : nullptr);
  if (!report.violations.empty()) report.violation_step = steps + 1;
  return report;
}

}  // namespace mq
