// Crash recovery through the write-ahead log, against the model. A stateful
// RapidCheck test drives mq::Model and a BrokerCore side by side (as in
// broker_core_model_test.cc); the core's storage records go through a Wal into a
// MemStorage, and commits (group commits: one sync for everything added since the
// last) happen at random points. A crash step throws the core away, crashes the
// storage (unsynced records are lost), recovers a DurableImage from the log and
// restores a fresh core from it. The model's side of the same crash is the model
// as it was at the last commit, advanced to the crash time, crashed and recovered:
// what was not synced is as if it never happened (the shell confirmed none of it).
// After every step: the effects match exactly (a restore's effects match the
// model's advance + crash effects on durable queues, losses aside), every queue's
// contents match message by message, and so do the clock, attachment and credit.
// Some crashes also checkpoint (compaction) before they happen.
//
// Topologies keep dead-letter edges between queues of equal durability (see
// docs/durability.md: a durable queue whose dead-letter queue is not durable
// cannot restore what the model says) and ids unique per run (a non-durable
// queue's idempotency window does not survive a crash; the durable ones do and
// are checked here through dead-letter copies of fanned-out ids).

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <sstream>

#include "impl/broker_core.h"
#include "impl/mem_storage.h"
#include "impl/wal.h"
#include "model/model.h"
#include "sim/translate.h"

namespace {

using mq::Model;
using mq::Op;
namespace op = mq::op;
namespace im = mq::impl;

[[maybe_unused]] const bool kDefaultParams = [] {
  setenv("RC_PARAMS", "max_success=1000", /*overwrite=*/0);
  return true;
}();

// The translation the simulator uses (an idempotency window larger than any run,
// as the model never forgets an id).
im::BrokerConfig to_config(const mq::Topology& t) { return mq::sim::to_broker_config(t); }

std::string text(uint64_t id, std::string_view payload, int64_t ts, int p, int64_t ttl, int64_t nb, uint32_t att,
                 uint32_t retries) {
  std::ostringstream o;
  o << "#" << id << " '" << payload << "' ts=" << ts << " p" << p << " ttl=" << ttl << " nb=" << nb << " att=" << att
    << "/" << retries;
  return o.str();
}
std::string text(const mq::Message& m) {
  return text(m.id, m.payload, m.timestamp_ns, m.priority, m.ttl_ns, m.not_before_ns, m.attempts, m.max_retries);
}
std::string text(const im::Message& m) {
  return text(m.id, m.payload_view(), m.timestamp_ns, m.priority, m.ttl_ns, m.not_before_ns, m.attempts,
              m.max_retries);
}
std::string who(uint32_t c) { return c == UINT32_MAX ? "-" : std::to_string(c); }

// Effects as comparable lines; kinds compared by name (the two enums share them).
std::vector<std::string> lines(const mq::Effects& effects, const std::vector<bool>* durable_only) {
  std::vector<std::string> out;
  for (const auto& e : effects) {
    if (durable_only && (e.kind == mq::EffectKind::kLost || !(*durable_only)[e.queue])) continue;
    out.push_back(std::string(mq::effect_kind_name(e.kind)) + " q" + std::to_string(e.queue) + " c" + who(e.consumer) +
                  " " + text(e.message));
  }
  return out;
}
std::vector<std::string> lines(const im::Effects& effects, const std::vector<bool>* durable_only) {
  std::vector<std::string> out;
  for (const auto& e : effects) {
    if (e.kind == im::EffectKind::kTimer) continue;
    if (durable_only && (e.kind == im::EffectKind::kLost || !(*durable_only)[e.queue])) continue;
    out.push_back(std::string(im::effect_kind_name(e.kind)) + " q" + std::to_string(e.queue) + " c" + who(e.consumer) +
                  " " + text(e.message));
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "\n    " + x;
  return s;
}

// ---- generation ----

mq::Topology gen_topology() {
  mq::Topology t;
  t.producers.push_back({"p0"});
  const int queues = *rc::gen::inRange(1, 4);
  for (int i = 0; i < queues; ++i) {
    mq::QueueConfig q;
    q.name = "q" + std::to_string(i);
    q.capacity = *rc::gen::inRange(1u, 6u);
    q.priority_levels = *rc::gen::inRange(1u, 3u);
    q.durable = *rc::gen::inRange(0, 4) != 0;
    q.max_retries = *rc::gen::inRange(0u, 3u);
    q.visibility_timeout_ns = *rc::gen::element<int64_t>(0, 3, 7, 20);
    q.redelivery = *rc::gen::arbitrary<bool>() ? mq::Redelivery::kFront : mq::Redelivery::kBack;
    t.queues.push_back(std::move(q));
  }
  for (int i = 0; i < queues; ++i) {
    const int j = *rc::gen::inRange(0, queues);
    if (j == i || t.queues[i].durable != t.queues[j].durable || !*rc::gen::arbitrary<bool>()) continue;
    t.queues[i].dead_letter_queue = t.queues[j].name;
    if (!t.validate().ok()) t.queues[i].dead_letter_queue.reset();
  }
  const int consumers = *rc::gen::inRange(1, 4);
  for (int i = 0; i < consumers; ++i) {
    mq::ConsumerConfig c;
    c.name = "c" + std::to_string(i);
    c.queue = "q" + std::to_string(*rc::gen::inRange(0, queues));
    c.prefetch = *rc::gen::inRange(0u, 3u);
    c.ack_mode = *rc::gen::inRange(0, 5) == 0 ? mq::AckMode::kAuto : mq::AckMode::kManual;
    t.consumers.push_back(std::move(c));
  }
  mq::TopicConfig all{"all", {}};
  for (int q = 0; q < queues; ++q) all.queues.push_back("q" + std::to_string(q));
  t.topics.push_back(std::move(all));
  return t;
}

uint64_t next_id = 0;  // ids are unique within a run

mq::MessageSpec gen_spec() {
  mq::MessageSpec s;
  s.id = ++next_id;
  s.payload = *rc::gen::element<std::string>("", "a", "payload-" + std::to_string(s.id));
  s.priority = static_cast<mq::Priority>(*rc::gen::inRange(0, 2));
  if (*rc::gen::inRange(0, 3) == 0) s.ttl_ns = *rc::gen::element<int64_t>(1, 3, 5, 12, 40);
  if (*rc::gen::inRange(0, 3) == 0) s.delay_ns = *rc::gen::element<int64_t>(1, 2, 6, 15);
  if (*rc::gen::arbitrary<bool>()) s.max_retries = *rc::gen::inRange(0u, 3u);
  return s;
}

// A step: a model operation, or a crash (with or without a checkpoint first),
// followed or not by a commit of the log.
struct Action {
  std::optional<Op> o;  // nullopt: crash
  bool checkpoint_first = false;
  bool commit = false;
};

Action gen_action(const Model& m) {
  const auto& t = m.topology();
  Action a;
  a.commit = *rc::gen::inRange(0, 3) != 0;
  if (*rc::gen::inRange(0, 12) == 0) {
    a.checkpoint_first = *rc::gen::arbitrary<bool>();
    return a;
  }
  for (mq::ConsumerId c = 0; c < t.consumers.size(); ++c) {
    if (!m.state().attached[c] && *rc::gen::inRange(0, 3) == 0) {
      a.o = op::Attach{c};
      return a;
    }
  }
  std::vector<std::pair<mq::ConsumerId, mq::MessageId>> held;
  for (const auto& q : m.state().queues) for (const auto& f : q.in_flight) held.emplace_back(f.consumer, f.message.id);
  const auto q = *rc::gen::inRange<uint32_t>(0, static_cast<uint32_t>(t.queues.size()));
  const auto c = *rc::gen::inRange<uint32_t>(0, static_cast<uint32_t>(t.consumers.size()));
  switch (*rc::gen::weightedElement<int>({{6, 0}, {2, 1}, {4, 2}, {4, 3}, {4, 4}, {3, 5}, {4, 6}, {1, 7}})) {
    case 0: a.o = op::Send{0, q, gen_spec()}; break;
    case 1: a.o = op::Publish{0, 0, gen_spec()}; break;
    case 2: a.o = op::Dispatch{q}; break;
    case 3: a.o = op::Fetch{c}; break;
    case 4:
    case 5:
      if (held.empty()) {
        a.o = op::Fetch{c};
      } else {
        const auto [hc, id] = *rc::gen::elementOf(held);
        if (*rc::gen::inRange(0, 9) < 4) a.o = op::Ack{hc, id};
        else a.o = op::Nack{hc, id, *rc::gen::inRange(0, 4) != 0};
      }
      break;
    case 6: a.o = op::Advance{m.now() + *rc::gen::element<int64_t>(1, 2, 3, 5, 8, 13, 30)}; break;
    default: a.o = op::Detach{c}; break;
  }
  return a;
}

// ---- the system under test: core + log + disk ----

struct Sut {
  im::BrokerConfig config;
  im::MemStorage disk;
  std::optional<im::BrokerCore> core;
  std::optional<im::Wal> wal;
  im::LogBuffer log;  // the records not yet written
};

struct World {
  Model model;
  Model at_commit;  // the model as it was at the last commit
};

mq::Status run_core(im::BrokerCore& core, const Op& o, im::Effects& out) {
  return mq::sim::apply_to_core(core, o, core.now(), out);
}

void compare_contents(const Model& m, const im::BrokerCore& core) {
  RC_ASSERT(core.now() == m.now());
  RC_ASSERT(core.up() == m.state().up);
  const im::DurableImage image = core.durable_image();
  for (mq::QueueId q = 0; q < m.topology().queues.size(); ++q) {
    const auto want = m.stats(q);
    const auto got = core.stats(q);
    RC_ASSERT(got.ready == want.ready && got.delayed == want.delayed && got.in_flight == want.in_flight &&
              got.consumer_count == want.consumer_count);
    if (!m.topology().queues[q].durable) continue;
    const auto& qs = m.state().queues[q];
    const auto& qi = image.queues[q];
    for (size_t p = 0; p < qs.ready.size(); ++p) {
      std::vector<std::string> a, b;
      for (const auto& x : qs.ready[p]) a.push_back(text(x));
      for (const auto& x : qi.ready[p]) b.push_back(text(x));
      if (a != b) RC_FAIL("queue " + std::to_string(q) + " level " + std::to_string(p) + " differs\n  model:" +
                          join(a) + "\n  core:" + join(b));
    }
    std::vector<std::string> a, b;
    for (const auto& x : qs.delayed) a.push_back(text(x));
    for (const auto& x : qi.delayed) b.push_back(text(x));
    for (const auto& f : qs.in_flight) a.push_back("in flight at " + who(f.consumer) + " " + text(f.message));
    for (const auto& f : qi.in_flight) b.push_back("in flight at " + who(f.holder) + " " + text(f.message));
    if (a != b) RC_FAIL("queue " + std::to_string(q) + " differs\n  model:" + join(a) + "\n  core:" + join(b));
  }
  for (mq::ConsumerId c = 0; c < m.topology().consumers.size(); ++c) {
    RC_ASSERT(core.attached(c) == (m.state().attached[c] != 0));
    RC_ASSERT(core.unacked(c) == m.unacked(c));
  }
}

void commit(Sut& sut, World& w) {
  RC_ASSERT(sut.wal->write(sut.log.take()).ok());
  w.at_commit = w.model;
}

void crash_and_recover(Sut& sut, World& w, bool checkpoint_first) {
  if (checkpoint_first) {
    // Compaction: a checkpoint of the live state; records not yet taken go with it.
    (void)sut.log.take();
    RC_ASSERT(sut.wal->checkpoint(sut.core->durable_image()).ok());
    w.at_commit = w.model;
  }
  const int64_t crash_ns = sut.core->now();
  sut.core.reset();
  sut.wal.reset();
  sut.log = im::LogBuffer{};  // what was never written dies with the process
  sut.disk.crash();
  auto rec = im::Wal::recover(sut.disk, sut.config, im::WalOptions{});
  if (!rec.ok()) RC_FAIL("recover: " + rec.status().to_string());
  RC_ASSERT(!rec->torn_tail && rec->skipped.empty());
  sut.core.emplace(std::move(im::BrokerCore::create(sut.config)).value());
  im::Effects got;
  const mq::Status restored = sut.core->restore(crash_ns, rec->image, got);
  if (!restored.ok()) RC_FAIL("restore: " + restored.to_string());
  auto wal = im::Wal::start(sut.disk, im::WalOptions{}, sut.core->durable_image());
  RC_ASSERT(wal.ok());
  sut.wal.emplace(std::move(wal).value());

  Model m = w.at_commit;
  auto advanced = m.advance(crash_ns);
  RC_ASSERT(advanced.ok());
  auto crashed = m.crash();
  RC_ASSERT(crashed.ok());
  mq::Effects want = *advanced;
  want.insert(want.end(), crashed->begin(), crashed->end());
  RC_ASSERT(m.recover().ok());
  std::vector<bool> durable;
  for (const auto& q : m.topology().queues) durable.push_back(q.durable);
  const auto a = lines(want, &durable);
  const auto b = lines(got, &durable);
  if (a != b) RC_FAIL("crash effects differ\n  model:" + join(a) + "\n  core:" + join(b));
  w.model = m;
  w.at_commit = m;
}

// The steps are run by hand rather than by rc::state::runAll: a crash's outcome on
// the model side depends on the last commit, which the Sut's steps decide.
RC_GTEST_PROP(WalModel, CrashRecoveryThroughTheLogMatchesTheModel, ()) {
  next_id = 0;
  const mq::Topology topology = gen_topology();
  auto model = Model::create(topology);
  RC_ASSERT(model.ok());
  Sut sut;
  sut.config = to_config(topology);
  sut.core.emplace(std::move(im::BrokerCore::create(sut.config)).value());
  auto wal = im::Wal::start(sut.disk, im::WalOptions{}, sut.core->durable_image());
  RC_ASSERT(wal.ok());
  sut.wal.emplace(std::move(wal).value());
  World w{*model, *model};
  const int steps = *rc::gen::inRange(10, 120);
  for (int i = 0; i < steps; ++i) {
    const Action a = gen_action(w.model);
    if (!a.o) {
      RC_LOG() << "step " << i << ": crash" << (a.checkpoint_first ? " after a checkpoint" : "") << "\n";
      crash_and_recover(sut, w, a.checkpoint_first);
      compare_contents(w.model, *sut.core);
      continue;
    }
    RC_LOG() << "step " << i << ": " << mq::to_string(*a.o) << (a.commit ? " + commit" : "") << "\n";
    const auto want = w.model.apply(*a.o);
    im::Effects got;
    const mq::Status status = run_core(*sut.core, *a.o, got);
    RC_ASSERT(want.ok() == status.ok());
    if (want.ok()) {
      const auto x = lines(*want, nullptr);
      const auto y = lines(got, nullptr);
      if (x != y) RC_FAIL("effects differ\n  model:" + join(x) + "\n  core:" + join(y));
    }
    sut.log.add(got);
    if (a.commit) commit(sut, w);
    compare_contents(w.model, *sut.core);
  }
}

}  // namespace
