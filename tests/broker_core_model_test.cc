// BrokerCore against the model: a stateful RapidCheck test applies random command
// sequences on small random topologies to mq::Model and to BrokerCore side by side,
// and requires every observable output to match after every step:
//  - whether the command succeeds, and the error code when it fails;
//  - the effects, in order, field by field: kind, queue, consumer, and the whole
//    message (id, payload, timestamp, priority, ttl, not-before, attempts, retry
//    budget): so accept/refuse, who gets which delivery, and every terminal outcome
//    (acked, expired, dead-lettered, dead-letter refused, lost);
//  - every queue's stats, the clock, up/down, each consumer's attachment and
//    unacked count, and the next timer deadline (derived from the model's state);
//  - and mq::check_invariants on the model.
//
// Normalization. Only what the two sides do not share is mapped, nothing is sorted:
//  - kTimer effects exist only in the core; they are dropped before comparing (the
//    deadline itself is compared through next_deadline()).
//  - A duplicate id: the model fails with kAlreadyExists and changes nothing; the
//    core answers ok with only kDuplicate effects (idempotent publish). The window is
//    configured larger than any run here, so within it the two agree exactly.
//  - kRefused / kDeadLetterRefused carry a reason in the core only; it is not compared.
//  Where one model step allows several orders (several timeouts, releases or
//  expiries in one advance; the losses of a crash), the core reproduces the model's
//  documented order exactly, so the effects are compared as sequences, unsorted.
//
// Reproduce a failure with RC_PARAMS="reproduce=..." as RapidCheck prints it.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <cstdlib>
#include <sstream>

#include "impl/broker_core.h"
#include "model/invariants.h"
#include "model/model.h"
#include "sim/translate.h"

namespace {

using mq::Model;
using mq::Op;
namespace op = mq::op;
namespace im = mq::impl;

// More cases than RapidCheck's default 100 unless RC_PARAMS says otherwise: the
// subtle orderings (several timers firing in one step under front redelivery) show
// up in a few percent of runs, and 1000 cases still take about a second.
[[maybe_unused]] const bool kDefaultParams = [] {
  setenv("RC_PARAMS", "max_success=1000", /*overwrite=*/0);
  return true;
}();

// ---- translation between the model's types and the core's: sim/translate.h ----

// The translation the simulator uses (an idempotency window larger than any run,
// as the model never forgets an id).
im::BrokerConfig to_config(const mq::Topology& t) { return mq::sim::to_broker_config(t); }


// The comparable form of an effect, as text: a mismatch then prints readably.
std::string show(mq::EffectKind kind, uint32_t q, uint32_t c, uint64_t id, std::string_view payload,
                 int64_t ts, int p, int64_t ttl, int64_t nb, uint32_t att, uint32_t retries) {
  std::ostringstream o;
  o << static_cast<int>(kind) << " q" << q << " c" << static_cast<int64_t>(c == UINT32_MAX ? -1 : c) << " #"
    << id << " '" << payload << "' ts=" << ts << " p" << p << " ttl=" << ttl << " nb=" << nb << " att=" << att
    << "/" << retries;
  return o.str();
}

std::vector<std::string> normalize(const mq::Effects& effects) {
  std::vector<std::string> out;
  for (const auto& e : effects) {
    const auto& m = e.message;
    out.push_back(show(e.kind, e.queue, e.consumer, m.id, m.payload, m.timestamp_ns, m.priority, m.ttl_ns,
                       m.not_before_ns, m.attempts, m.max_retries) + "  [" + mq::to_string(e) + "]");
  }
  return out;
}

// Core effect kinds that have a model counterpart of the same meaning.
mq::EffectKind model_kind(im::EffectKind k) {
  switch (k) {
    case im::EffectKind::kAccepted: return mq::EffectKind::kAccepted;
    case im::EffectKind::kRefused: return mq::EffectKind::kRefused;
    case im::EffectKind::kReleased: return mq::EffectKind::kReleased;
    case im::EffectKind::kDelivered: return mq::EffectKind::kDelivered;
    case im::EffectKind::kAcked: return mq::EffectKind::kAcked;
    case im::EffectKind::kRequeued: return mq::EffectKind::kRequeued;
    case im::EffectKind::kDeadLettered: return mq::EffectKind::kDeadLettered;
    case im::EffectKind::kDeadLetterRefused: return mq::EffectKind::kDeadLetterRefused;
    case im::EffectKind::kExpired: return mq::EffectKind::kExpired;
    case im::EffectKind::kLost: return mq::EffectKind::kLost;
    case im::EffectKind::kDuplicate:
    case im::EffectKind::kDropped:
    case im::EffectKind::kTimer: break;
  }
  RC_FAIL(std::string("core effect without a model counterpart: ") + im::effect_kind_name(k));
}

// The core's effect in full, for a failure's message.
std::string describe(const im::Effect& e) {
  std::string s = effect_kind_name(e.kind);
  if (e.kind == im::EffectKind::kTimer) {
    return s + (e.deadline_ns == im::kNoDeadline ? " none" : " at " + std::to_string(e.deadline_ns));
  }
  s += " q" + std::to_string(e.queue);
  if (e.consumer != im::kNoConsumer) s += " c" + std::to_string(e.consumer);
  if (e.reason == im::Reason::kQueueFull) s += " (queue full)";
  if (e.reason == im::Reason::kDuplicateId) s += " (duplicate id)";
  const auto& m = e.message;
  s += " #" + std::to_string(m.id) + "{p" + std::to_string(m.priority) + " ts=" +
       std::to_string(m.timestamp_ns);
  if (m.ttl_ns > 0) s += " ttl=" + std::to_string(m.ttl_ns);
  if (m.not_before_ns > m.timestamp_ns) s += " nb=" + std::to_string(m.not_before_ns);
  s += " att=" + std::to_string(m.attempts) + "/" + std::to_string(1 + uint64_t{m.max_retries}) +
       " '" + std::string(m.payload_view()) + "'}";
  return s;
}

std::vector<std::string> normalize(const im::Effects& effects) {
  std::vector<std::string> out;
  for (const auto& e : effects) {
    if (e.kind == im::EffectKind::kTimer) continue;
    const auto& m = e.message;
    out.push_back(show(model_kind(e.kind), e.queue, e.consumer, m.id, m.payload_view(), m.timestamp_ns, m.priority,
                       m.ttl_ns, m.not_before_ns, m.attempts, m.max_retries) + "  [" + describe(e) + "]");
  }
  return out;
}

// Strips the readable suffix: only the normalized fields are compared.
std::vector<std::string> keys(std::vector<std::string> v) {
  for (auto& s : v) s = s.substr(0, s.find("  ["));
  return v;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "\n    " + x;
  return s;
}

// The earliest time at which the model's advance() would do something.
std::optional<int64_t> model_deadline(const Model& m) {
  std::optional<int64_t> best;
  auto consider = [&](int64_t t) { if (!best || t < *best) best = t; };
  auto waiting = [&](const mq::Message& msg) { if (msg.ttl_ns > 0) consider(msg.timestamp_ns + msg.ttl_ns); };
  for (const auto& q : m.state().queues) {
    for (const auto& level : q.ready) for (const auto& msg : level) waiting(msg);
    for (const auto& msg : q.delayed) {
      waiting(msg);
      consider(msg.not_before_ns);
    }
    for (const auto& f : q.in_flight) if (f.deadline_ns != 0) consider(f.deadline_ns);
  }
  return best;
}

std::string stats_text(const mq::QueueStats& s) {
  std::ostringstream o;
  o << s.name << " size=" << s.size << " cap=" << s.capacity << " consumers=" << s.consumer_count
    << " ready=" << s.ready << " delayed=" << s.delayed << " in_flight=" << s.in_flight << " accepted=" << s.accepted
    << " refused=" << s.refused << " deliveries=" << s.deliveries << " redeliveries=" << s.redeliveries
    << " acked=" << s.acked << " expired=" << s.expired << " dead_lettered=" << s.dead_lettered << " lost=" << s.lost
    << " dl_refused=" << s.dead_letter_refused;
  return o.str();
}

mq::QueueStats as_model_stats(const im::QueueStats& s) {
  return mq::QueueStats{s.name, s.size, s.capacity, s.consumer_count, s.ready, s.delayed, s.in_flight,
                        s.accepted, s.refused, s.deliveries, s.redeliveries, s.acked, s.expired,
                        s.dead_lettered, s.lost, s.dead_letter_refused};
}

// ---- generation ----

mq::Topology gen_topology() {
  mq::Topology t;
  const int producers = *rc::gen::inRange(1, 3);
  for (int i = 0; i < producers; ++i) t.producers.push_back({"p" + std::to_string(i)});
  const int queues = *rc::gen::inRange(1, 4);
  for (int i = 0; i < queues; ++i) {
    mq::QueueConfig q;
    q.name = "q" + std::to_string(i);
    q.capacity = *rc::gen::inRange(1u, 5u);
    q.priority_levels = *rc::gen::inRange(1u, 4u);
    q.durable = *rc::gen::arbitrary<bool>();
    q.max_retries = *rc::gen::inRange(0u, 3u);
    q.visibility_timeout_ns = *rc::gen::element<int64_t>(0, 0, 3, 7, 20);
    q.redelivery = *rc::gen::arbitrary<bool>() ? mq::Redelivery::kFront : mq::Redelivery::kBack;
    t.queues.push_back(std::move(q));
  }
  for (int i = 0; i < queues; ++i) {
    if (queues < 2 || !*rc::gen::arbitrary<bool>()) continue;
    const int j = *rc::gen::inRange(0, queues);
    if (j == i) continue;
    t.queues[i].dead_letter_queue = t.queues[j].name;
    if (!t.validate().ok()) t.queues[i].dead_letter_queue.reset();  // would close a cycle
  }
  const int consumers = *rc::gen::inRange(0, 5);
  for (int i = 0; i < consumers; ++i) {
    mq::ConsumerConfig c;
    c.name = "c" + std::to_string(i);
    c.queue = "q" + std::to_string(*rc::gen::inRange(0, queues));
    c.prefetch = *rc::gen::inRange(0u, 3u);
    c.ack_mode = *rc::gen::inRange(0, 4) == 0 ? mq::AckMode::kAuto : mq::AckMode::kManual;
    t.consumers.push_back(std::move(c));
  }
  const int topics = *rc::gen::inRange(0, 3);
  for (int i = 0; i < topics; ++i) {
    mq::TopicConfig tc{"t" + std::to_string(i), {}};
    for (int q = 0; q < queues; ++q) {
      if (*rc::gen::arbitrary<bool>()) tc.queues.push_back("q" + std::to_string(q));
    }
    t.topics.push_back(std::move(tc));
  }
  return t;
}

// Swarm testing (Groce et al. 2012): each case draws its own mix of features, so
// that some runs are dense in TTLs and delays, others in duplicates, others in
// long-lived messages, instead of every run being the same average mix.
struct Swarm {
  int ttl_in_8 = 3;    // how often a message has a TTL, out of 8
  int delay_in_8 = 3;  // how often it is delayed
  uint64_t ids = 8;    // ids are drawn from 0..ids-1: fewer ids, more duplicates
};
Swarm swarm;  // drawn by the property before it generates the steps

mq::MessageSpec gen_spec() {
  mq::MessageSpec s;
  s.id = *rc::gen::inRange<uint64_t>(0, swarm.ids);
  s.payload = *rc::gen::element<std::string>("", "a", "bb", "payload-" + std::to_string(s.id));
  s.priority = static_cast<mq::Priority>(*rc::gen::inRange(0, 4));  // sometimes out of range
  if (*rc::gen::inRange(0, 8) < swarm.ttl_in_8) s.ttl_ns = *rc::gen::element<int64_t>(1, 3, 5, 12, 40, -1);
  if (*rc::gen::inRange(0, 8) < swarm.delay_in_8) s.delay_ns = *rc::gen::element<int64_t>(1, 2, 6, 15, -1);
  if (*rc::gen::arbitrary<bool>()) s.max_retries = *rc::gen::inRange(0u, 3u);
  return s;
}

// Ids in flight, with the consumer holding each: acks and nacks mostly aim there.
std::vector<std::pair<mq::ConsumerId, mq::MessageId>> in_flight(const Model& m) {
  std::vector<std::pair<mq::ConsumerId, mq::MessageId>> out;
  for (const auto& q : m.state().queues) for (const auto& f : q.in_flight) out.emplace_back(f.consumer, f.message.id);
  return out;
}

// An index into a table of n entries, one past the end one time in ten, to reach
// the NotFound branches without drowning the run in errors.
uint32_t index_or_unknown(size_t n) {
  if (n == 0 || *rc::gen::inRange(0, 10) == 0) return static_cast<uint32_t>(n);
  return *rc::gen::inRange<uint32_t>(0, static_cast<uint32_t>(n));
}

Op gen_op(const Model& m) {
  const auto& t = m.topology();
  const auto producer = [&] { return index_or_unknown(t.producers.size()); };
  const auto queue = [&] { return index_or_unknown(t.queues.size()); };
  const auto consumer = [&] { return index_or_unknown(t.consumers.size()); };
  const auto target = [&]() -> std::pair<mq::ConsumerId, mq::MessageId> {
    const auto held = in_flight(m);
    if (!held.empty() && *rc::gen::inRange(0, 5) != 0) return *rc::gen::elementOf(held);
    return {consumer(), *rc::gen::inRange<uint64_t>(0, swarm.ids)};
  };
  // While down almost everything fails with kUnavailable: recover soon, so that a
  // run spends most of its steps with the broker up.
  if (!m.state().up && *rc::gen::inRange(0, 3) == 0) return op::Recover{};
  // Consumers come back soon after a detach or a crash.
  if (m.state().up && !t.consumers.empty() && *rc::gen::inRange(0, 4) == 0) {
    for (mq::ConsumerId c = 0; c < t.consumers.size(); ++c) {
      if (!m.state().attached[c]) return op::Attach{c};
    }
  }
  switch (*rc::gen::weightedElement<int>({{8, 0}, {3, 1}, {5, 2}, {4, 3}, {4, 4}, {3, 5}, {5, 6},
                                          {1, 7}, {1, 8}, {1, 9}, {2, 10}})) {
    case 0: return op::Send{producer(), queue(), gen_spec()};
    case 1: return op::Publish{producer(), index_or_unknown(t.topics.size()), gen_spec()};
    case 2: return op::Dispatch{queue()};
    case 3: return op::Fetch{consumer()};
    case 4: { auto [c, id] = target(); return op::Ack{c, id}; }
    case 5: { auto [c, id] = target(); return op::Nack{c, id, *rc::gen::arbitrary<bool>()}; }
    case 6: return op::Advance{m.now() + *rc::gen::element<int64_t>(0, 1, 2, 3, 5, 8, 13, 30, -1)};
    case 7: return op::Crash{};
    case 8: return op::Recover{};
    case 9: return op::Attach{consumer()};
    default: return op::Detach{consumer()};
  }
}

// ---- the stateful test ----

struct Sut {
  im::BrokerCore core;
};

// Runs op on the core, at the core's own time (advance ticks to the op's time).
mq::Status run_core(im::BrokerCore& core, const Op& o, im::Effects& out) {
  return mq::sim::apply_to_core(core, o, core.now(), out);
}

bool only_duplicates(const im::Effects& effects) {
  size_t n = 0;
  for (const auto& e : effects) {
    if (e.kind == im::EffectKind::kTimer) continue;
    if (e.kind != im::EffectKind::kDuplicate) return false;
    ++n;
  }
  return n > 0;
}

void compare_state(const Model& m, const im::BrokerCore& core) {
  RC_ASSERT(core.now() == m.now());
  RC_ASSERT(core.up() == m.state().up);
  for (mq::QueueId q = 0; q < m.topology().queues.size(); ++q) {
    const mq::QueueStats want = m.stats(q);
    const mq::QueueStats got = as_model_stats(core.stats(q));
    if (!(want == got)) RC_FAIL("stats differ\n  model: " + stats_text(want) + "\n  core:  " + stats_text(got));
  }
  for (mq::ConsumerId c = 0; c < m.topology().consumers.size(); ++c) {
    RC_ASSERT(core.attached(c) == (m.state().attached[c] != 0));
    RC_ASSERT(core.unacked(c) == m.unacked(c));
  }
  RC_ASSERT(core.next_deadline() == model_deadline(m));
  const mq::Status inv = mq::check_invariants(m);
  if (!inv.ok()) RC_FAIL("model invariant: " + inv.to_string());
}

struct Step : rc::state::Command<Model, Sut> {
  Op o;
  explicit Step(const Model& m) : o(gen_op(m)) {}

  void apply(Model& m) const override { (void)m.apply(o); }

  void run(const Model& before, Sut& sut) const override {
    Model m = before;
    const auto want = m.apply(o);
    im::Effects got;
    const mq::Status status = run_core(sut.core, o, got);
    if (!want.ok() && want.status().code() == mq::Code::kAlreadyExists) {
      if (!status.ok() || !only_duplicates(got)) {
        RC_FAIL("model: duplicate id; core: " + status.to_string() + join(normalize(got)));
      }
    } else if (want.ok() != status.ok() || want.status().code() != status.code()) {
      RC_FAIL("status differs\n  model: " + want.status().to_string() + "\n  core:  " + status.to_string());
    } else if (want.ok()) {
      const auto a = normalize(*want);
      const auto b = normalize(got);
      if (keys(a) != keys(b)) RC_FAIL("effects differ\n  model:" + join(a) + "\n  core:" + join(b));
    }
    compare_state(m, sut.core);
  }

  void show(std::ostream& os) const override { os << mq::to_string(o); }
};

RC_GTEST_PROP(BrokerCoreModel, EveryObservableOutputMatchesTheModel, ()) {
  swarm = Swarm{*rc::gen::inRange(0, 8), *rc::gen::inRange(0, 6), *rc::gen::element<uint64_t>(3, 8, 20)};
  const mq::Topology topology = gen_topology();
  auto model = Model::create(topology);
  RC_ASSERT(model.ok());
  auto core = im::BrokerCore::create(to_config(topology));
  RC_ASSERT(core.ok());
  Sut sut{std::move(core).value()};
  compare_state(*model, sut.core);
  // Sequences six times as long as RapidCheck's size alone would make them: the
  // interesting interleavings (several timers in one step, a dead-letter chain, a
  // crash with messages in flight) need a few dozen steps to set up.
  const auto steps = *rc::gen::scale(6.0, rc::state::gen::commands(*model, rc::state::gen::execOneOfWithArgs<Step>()));
  rc::state::runAll(steps, *model, sut);
}

}  // namespace
