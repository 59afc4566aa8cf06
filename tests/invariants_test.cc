// check_invariants (model/invariants.h): holds on reachable states, and each
// invariant family fails, naming the problem, on a hand-corrupted state.

#include "model/invariants.h"

#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/prng.h"

namespace mq {

static void PrintTo(const ModelState& s, std::ostream* os) { *os << "\n" << to_string(s); }

namespace {

using ::testing::HasSubstr;

// q0 "q": capacity 4, 2 levels, visibility timeout 10; c0 manual prefetch 1 and
// c1 auto-ack on it. q1 "r": capacity 2, consumer c2. q2 "s": no consumers.
Topology topology() {
  Topology t;
  t.producers = {{"p0"}};
  QueueConfig q;
  q.name = "q";
  q.capacity = 4;
  q.priority_levels = 2;
  q.visibility_timeout_ns = 10;
  q.dead_letter_queue = "s";
  QueueConfig r;
  r.name = "r";
  r.capacity = 2;
  QueueConfig s;
  s.name = "s";
  s.capacity = 2;
  t.queues = {q, r, s};
  t.consumers = {{"c0", "q", 1, AckMode::kManual}, {"c1", "q", 1, AckMode::kAuto},
                 {"c2", "r", 1, AckMode::kManual}};
  return t;
}

MessageSpec spec(MessageId id, Priority p = 0, TimeNs ttl = 0, TimeNs delay = 0) {
  MessageSpec s;
  s.id = id;
  s.payload = "m" + std::to_string(id);
  s.priority = p;
  s.ttl_ns = ttl;
  s.delay_ns = delay;
  return s;
}

// Reachable: at now=5, q0 has #1 ready (ttl 100), #2 delayed until 50, #3 in flight
// at c0 (deadline 15) and #4 acked; q1 has #7 in flight at c2.
Model reachable() {
  auto created = Model::create(topology());
  MQ_CHECK(created.ok());
  Model m = std::move(created).value();
  MQ_CHECK(m.advance(5).ok());
  MQ_CHECK(m.send(0, 0, spec(3, 1)).ok());
  MQ_CHECK(m.fetch(0).ok());
  MQ_CHECK(m.send(0, 0, spec(1, 0, 100)).ok());
  MQ_CHECK(m.send(0, 0, spec(2, 0, 0, 45)).ok());
  MQ_CHECK(m.send(0, 0, spec(4, 1)).ok());
  MQ_CHECK(m.fetch(1).ok());  // auto-ack: #4 finished
  MQ_CHECK(m.send(0, 1, spec(7)).ok());
  MQ_CHECK(m.fetch(2).ok());
  return m;
}

// Corrupts a copy of the reachable state and checks the named failure.
void expect_violation(const std::function<void(ModelState&)>& corrupt, const std::string& needle) {
  const Model good = reachable();
  ASSERT_TRUE(check_invariants(good).ok()) << check_invariants(good).to_string();
  ModelState s = good.state();
  corrupt(s);
  const Model bad(good.wiring(), s);
  const Status st = check_invariants(bad);
  ASSERT_FALSE(st.ok()) << "not caught: " << needle;
  EXPECT_EQ(st.code() == Code::kFailedPrecondition || st.code() == Code::kAlreadyExists, true)
      << st.to_string();
  EXPECT_THAT(st.message(), HasSubstr(needle)) << st.to_string();
}

Message& ready_msg(ModelState& s) { return s.queues[0].ready[0].front(); }    // #1
Message& delayed_msg(ModelState& s) { return s.queues[0].delayed.front(); }   // #2
InFlight& in_flight(ModelState& s) { return s.queues[0].in_flight.front(); }  // #3

TEST(InvariantsTest, ReachableStateIsOk) {
  const Model m = reachable();
  EXPECT_TRUE(check_invariants(m).ok());
  assert_invariants(m);  // does not abort
  ASSERT_EQ(m.state().queues[0].ready[0].size(), 1u);
  ASSERT_EQ(m.state().queues[0].delayed.size(), 1u);
  ASSERT_EQ(m.state().queues[0].in_flight.size(), 1u);
  EXPECT_EQ(m.state().queues[0].in_flight[0].deadline_ns, 15);
}

// A deterministic random walk over every operation: the invariants hold after every
// step, whether the step succeeded or failed.
TEST(InvariantsTest, HoldAlongARandomWalk) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto created = Model::create(topology());
    ASSERT_TRUE(created.ok());
    Model m = std::move(created).value();
    Prng rng(derive_seed(seed, "invariants_test"));
    MessageId next_id = 1;
    int ok_steps = 0;
    for (int step = 0; step < 300; ++step) {
      Op op;
      const auto c = static_cast<ConsumerId>(rng.uniform(3));
      const auto id = static_cast<MessageId>(1 + rng.uniform(next_id));
      switch (rng.uniform(12)) {
        case 0:
        case 1: {
          MessageSpec s = spec(next_id++, static_cast<Priority>(rng.uniform(2)),
                               rng.chance_ppm(300'000) ? rng.range(1, 30) : 0,
                               rng.chance_ppm(300'000) ? rng.range(1, 30) : 0);
          if (rng.chance_ppm(200'000)) s.max_retries = static_cast<uint32_t>(rng.uniform(2));
          op = op::Send{0, static_cast<QueueId>(rng.uniform(3)), s};
          break;
        }
        case 2: op = op::Dispatch{static_cast<QueueId>(rng.uniform(3))}; break;
        case 3: op = op::Fetch{c}; break;
        case 4: op = op::Ack{c, id}; break;
        case 5: op = op::Nack{c, id, rng.chance_ppm(700'000)}; break;
        case 6:
        case 7: op = op::Advance{m.now() + rng.range(0, 12)}; break;
        case 8: op = rng.chance_ppm(100'000) ? Op{op::Crash{}} : Op{op::Advance{m.now()}}; break;
        case 9: op = op::Recover{}; break;
        case 10: op = op::Attach{c}; break;
        default: op = rng.chance_ppm(200'000) ? Op{op::Detach{c}} : Op{op::Fetch{c}}; break;
      }
      const ModelState before = m.state();
      const auto r = m.apply(op);
      if (r.ok()) {
        ++ok_steps;
      } else {
        ASSERT_EQ(m.state(), before) << "seed " << seed << " step " << step << ": " << to_string(op);
      }
      const Status st = check_invariants(m);
      ASSERT_TRUE(st.ok()) << "seed " << seed << " step " << step << " after " << to_string(op) << ": "
                           << st.to_string() << "\n" << to_string(m.state());
    }
    EXPECT_GT(ok_steps, 100) << "seed " << seed;
  }
}

// ---- shape ----

TEST(InvariantsTest, ShapeWrongLevelCount) {
  expect_violation([](ModelState& s) { s.queues[0].ready.emplace_back(); }, "queue 'q': wrong level count");
}

TEST(InvariantsDeathTest, ShapeMismatchIsRefusedByTheConstructor) {
  const Model good = reachable();
  ModelState s = good.state();
  s.queues.pop_back();
  EXPECT_DEATH(Model(good.wiring(), s), "MQ_CHECK");
  ModelState t = good.state();
  t.attached.push_back(1);
  EXPECT_DEATH(Model(good.wiring(), t), "MQ_CHECK");
}

// ---- capacity ----

TEST(InvariantsTest, CapacityExceeded) {
  expect_violation(
      [](ModelState& s) {
        for (MessageId id = 20; id < 22; ++id) {
          Message m = ready_msg(s);
          m.id = id;
          s.queues[0].ready[0].push_back(m);
        }
        s.queues[0].counters.accepted += 2;
      },
      "queue 'q': size 5 exceeds capacity 4");
}

// ---- uniqueness ----

TEST(InvariantsTest, SameIdInTwoPlaces) {
  expect_violation([](ModelState& s) { delayed_msg(s).id = 1; }, "queue 'q': message #1 in two places");
  expect_violation([](ModelState& s) { in_flight(s).message.id = 2; }, "message #2 in two places");
  expect_violation([](ModelState& s) { s.queues[0].finished[0].id = 3; }, "message #3 in two places");
  expect_violation(
      [](ModelState& s) {
        s.queues[1].ready[0].push_back(s.queues[1].in_flight[0].message);
        s.queues[1].counters.accepted++;
      },
      "queue 'r': message #7 in two places");
}

// ---- conservation ----

TEST(InvariantsTest, ConservationAcceptedCount) {
  expect_violation([](ModelState& s) { s.queues[0].counters.accepted++; },
                   "queue 'q': accepted 5 but 4 messages are accounted for");
  expect_violation([](ModelState& s) { s.queues[0].finished.clear(); },
                   "accepted 4 but 3 messages are accounted for");
}

// ---- ready ----

TEST(InvariantsTest, ReadyMessages) {
  expect_violation(
      [](ModelState& s) {
        ready_msg(s).timestamp_ns = 0;
        ready_msg(s).ttl_ns = 5;  // expired at 5 == now
      },
                   "queue 'q': ready message #1 is expired but not finished");
  expect_violation([](ModelState& s) { ready_msg(s).attempts = 4; },
                   "ready message #1 has no retries left but waits");
  expect_violation([](ModelState& s) { ready_msg(s).timestamp_ns = 6; },
                   "ready message #1 has a timestamp in the future");
  expect_violation([](ModelState& s) { ready_msg(s).priority = 2; }, "ready message #1 priority out of range");
  expect_violation([](ModelState& s) { ready_msg(s).priority = 1; }, "message #1 sits at the wrong level");
  expect_violation([](ModelState& s) { ready_msg(s).not_before_ns = 6; }, "message #1 is ready before its time");
}

// ---- delayed ----

TEST(InvariantsTest, DelayedMessages) {
  expect_violation([](ModelState& s) { delayed_msg(s).not_before_ns = 5; },
                   "queue 'q': message #2 is delayed past its time");
  expect_violation(
      [](ModelState& s) {
        delayed_msg(s).timestamp_ns = 0;
        delayed_msg(s).ttl_ns = 1;
      },
                   "delayed message #2 is expired but not finished");
  expect_violation([](ModelState& s) {
                     delayed_msg(s).max_retries = 0;
                     delayed_msg(s).attempts = 1;
                   },
                   "delayed message #2 has no retries left but waits");
}

// ---- in flight ----

TEST(InvariantsTest, InFlightMessages) {
  expect_violation([](ModelState& s) { in_flight(s).consumer = 2; },
                   "queue 'q': in-flight message #3 held by a consumer of another queue");
  expect_violation([](ModelState& s) { in_flight(s).consumer = 9; }, "held by a consumer of another queue");
  expect_violation([](ModelState& s) { in_flight(s).consumer = kNoConsumer; },
                   "held by a consumer of another queue");
  expect_violation([](ModelState& s) { s.attached[0] = 0; }, "in-flight message #3 held by a detached consumer");
  expect_violation([](ModelState& s) { in_flight(s).consumer = 1; }, "in-flight message #3 held by an auto-ack consumer");
  expect_violation([](ModelState& s) { in_flight(s).message.attempts = 0; }, "in-flight message #3 was never delivered");
  expect_violation([](ModelState& s) { in_flight(s).deadline_ns = 0; },
                   "in-flight message #3 deadline disagrees with config");
  expect_violation([](ModelState& s) { s.queues[1].in_flight[0].deadline_ns = 100; },
                   "queue 'r': in-flight message #7 deadline disagrees with config");
  expect_violation([](ModelState& s) { in_flight(s).deadline_ns = 5; }, "in-flight message #3 deadline passed");
}

// ---- credit ----

TEST(InvariantsTest, CreditExceeded) {
  expect_violation(
      [](ModelState& s) {
        Message m = ready_msg(s);
        s.queues[0].ready[0].clear();
        m.attempts = 1;
        s.queues[0].in_flight.push_back(InFlight{m, 0, 20});
      },
      "consumer 'c0' holds more than its prefetch");
}

// ---- down ----

TEST(InvariantsTest, InFlightWhileDown) {
  expect_violation([](ModelState& s) { s.up = false; }, "queue 'q': in flight while down");
}

TEST(InvariantsTest, AttachedWhileDown) {
  Model m = reachable();
  ASSERT_TRUE(m.crash().ok());
  ASSERT_TRUE(check_invariants(m).ok());
  ModelState s = m.state();
  s.attached[1] = 1;
  const Status st = check_invariants(Model(m.wiring(), s));
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("consumer 'c1' attached while down"));
}

// ---- counters ----

TEST(InvariantsTest, Counters) {
  expect_violation([](ModelState& s) { s.queues[0].counters.redeliveries = 3; },
                   "queue 'q': counters inconsistent");
  expect_violation(
      [](ModelState& s) {
        s.queues[0].finished.push_back({30, Fate::kAcked});
        s.queues[0].finished.push_back({31, Fate::kAcked});
        s.queues[0].counters.accepted += 2;
      },
      "queue 'q': counters inconsistent");
}

TEST(InvariantsTest, CursorOutsideTheRing) {
  expect_violation([](ModelState& s) { s.queues[0].rr_cursor = 2; }, "queue 'q': cursor outside the ring");
  expect_violation([](ModelState& s) { s.queues[2].rr_cursor = 1; }, "queue 's': cursor outside the ring");
}

TEST(InvariantsDeathTest, AssertInvariantsAbortsAndPrintsTheState) {
  const Model good = reachable();
  ModelState s = good.state();
  s.queues[0].counters.accepted++;
  const Model bad(good.wiring(), s);
  EXPECT_DEATH(assert_invariants(bad), "invariant violated: FailedPrecondition: queue 'q': accepted 5");
}

}  // namespace
}  // namespace mq
