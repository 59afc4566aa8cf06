// sim::shrink(), the one shrinker (`mqharness shrink` and `mqharness-mutants`): its
// cuts are valid scenarios, it is bounded and deterministic, it cuts the topology and
// the workload, and it stops a run at its first violation (also for a run that dies,
// whose length is unknown).
#include <gtest/gtest.h>

#include "sim/shrink.h"
#include "sim/trace_replay.h"
#include "sim_test_util.h"

namespace mq::sim {
namespace {

using testing::scenario_of;
using testing::small_json;

uint64_t messages_of(const Reproducer& r) {
  return std::min(r.overrides.messages.value_or(r.scenario.workload.messages), r.scenario.workload.messages);
}

TEST(SimShrinkTest, EveryCandidateIsAValidSmallerScenario) {
  const Reproducer base{scenario_of(small_json()), {}, 0};
  std::vector<std::vector<std::string>> what;
  const auto families = shrink_families(base, &what);
  ASSERT_EQ(families.size(), what.size());
  size_t candidates = 0;
  bool fewer_queues = false, fewer_consumers = false, fewer_producers = false;
  for (size_t f = 0; f < families.size(); ++f) {
    ASSERT_EQ(families[f].size(), what[f].size());
    for (const Reproducer& c : families[f]) {
      ++candidates;
      EXPECT_TRUE(c.scenario.text != base.scenario.text || !(c.overrides == base.overrides));
      EXPECT_TRUE(scenario_from_text(c.scenario.text, c.scenario.file).ok());
      EXPECT_LE(c.scenario.topology.queues.size(), base.scenario.topology.queues.size());
      EXPECT_LE(messages_of(c), messages_of(base));
      fewer_queues |= c.scenario.topology.queues.size() < base.scenario.topology.queues.size();
      fewer_consumers |= c.scenario.topology.consumers.size() < base.scenario.topology.consumers.size();
      fewer_producers |= c.scenario.topology.producers.size() < base.scenario.topology.producers.size();
    }
  }
  EXPECT_GT(candidates, 30u);
  EXPECT_TRUE(fewer_queues && fewer_consumers && fewer_producers);
  // Liveness: the healing phase stays.
  for (const auto& family : shrink_families(base, nullptr, /*keep_healing=*/true)) {
    for (const Reproducer& c : family)
      EXPECT_EQ(c.scenario.durations.healing_ns, base.scenario.durations.healing_ns);
  }
}

// A synthetic bug: fails while at least 5 messages go to a queue of capacity >= 2.
Trial needs_five(const Reproducer& r) {
  uint32_t capacity = 0;
  for (const auto& q : r.scenario.topology.queues) capacity = std::max(capacity, q.capacity);
  const uint64_t m = messages_of(r);
  return Trial{m >= 5 && capacity >= 2, m * 10, 0};
}

TEST(SimShrinkTest, GreedyBoundedAndDeterministic) {
  const Reproducer base{scenario_of(small_json()), {}, 0};
  const Trial start = needs_five(base);
  ASSERT_TRUE(start.fails);
  const ShrinkOutcome a = shrink(base, start, needs_five, 400);
  const ShrinkOutcome b = shrink(base, start, needs_five, 400);
  EXPECT_LE(a.runs, 400u);
  EXPECT_EQ(messages_of(a.reproducer), 5u);
  EXPECT_EQ(a.reproducer.scenario.topology.queues.size(), 1u);
  EXPECT_EQ(a.reproducer.scenario.topology.producers.size(), 1u);
  EXPECT_EQ(a.reproducer.scenario.topology.queues[0].capacity, 2u);
  EXPECT_EQ(a.reproducer.overrides.disabled_faults, kAllFaultBits);
  EXPECT_EQ(a.reproducer.scenario.text, b.reproducer.scenario.text);
  EXPECT_EQ(a.reproducer.stop_after_events, b.reproducer.stop_after_events);
  EXPECT_EQ(a.cuts, b.cuts);
  EXPECT_EQ(a.runs, b.runs);
  // The bound holds however small.
  for (const uint32_t max : {0u, 1u, 7u, 20u}) EXPECT_LE(shrink(base, start, needs_five, max).runs, max);
}

TEST(SimShrinkTest, RunThatDiesIsCutBeforeTheEventThatAborts) {
  // Dies once the history would pass 37 events; a cut at or below that passes.
  const auto dies_late = [](const Reproducer& r) {
    if (r.stop_after_events != 0 && r.stop_after_events <= 37) return Trial{false, r.stop_after_events, 0};
    return Trial{true, 0, 0};
  };
  const Reproducer base{scenario_of(small_json()), {}, 0};
  const ShrinkOutcome out = shrink(base, Trial{true, 0, 0}, dies_late, 60);
  EXPECT_EQ(out.reproducer.stop_after_events, 38u);
  EXPECT_EQ(out.history_events, 37u);
}

// The real simulator with a corrupted shadow step (the test hook): the shrunk run is
// cut at the divergence, replays to the same history, and still diverges.
TEST(SimShrinkTest, RealRunIsCutAtItsFirstDivergence) {
  const Scenario s = scenario_of(small_json());
  constexpr uint64_t kSeed = 7;
  const auto run = [&](const Reproducer& r) {
    SimOptions o;
    o.corrupt_step = 10;
    o.overrides = r.overrides;
    o.stop_after_events = r.stop_after_events;
    return simulate(r.scenario, kSeed, o);
  };
  const auto diverges = [&](const Reproducer& r) {
    const SimResult x = run(r);
    return Trial{x.divergence.has_value(), x.history_events,
                 x.divergence ? events_until(x.history, x.divergence->time_ns) : 0};
  };
  const Reproducer base{s, {}, 0};
  const Trial start = diverges(base);
  ASSERT_TRUE(start.fails);
  const ShrinkOutcome out = shrink(base, start, diverges, 150);
  EXPECT_LE(out.runs, 150u);
  EXPECT_GT(out.reproducer.stop_after_events, 0u);
  EXPECT_LT(out.history_events, start.history_events / 10);
  const SimResult again = run(out.reproducer);
  EXPECT_TRUE(again.divergence.has_value());
  EXPECT_TRUE(again.cut);
  EXPECT_TRUE(again.liveness.empty()) << "a cut run's liveness is not judged";
  EXPECT_EQ(again.history_events, out.history_events);
  EXPECT_EQ(again.history_hash, run(out.reproducer).history_hash);
}

// shrink_schedule(): delta debugging over a run's inputs finds the two operations a
// synthetic failure needs, within its bound, the same way twice.
TEST(SimShrinkTest, ScheduleIsCutToTheOperationsTheFailureNeeds) {
  std::vector<Op> ops;
  for (TimeNs t = 1; t <= 100; ++t) ops.emplace_back(op::Advance{t});
  const auto needs_two = [](const std::vector<Op>& c) {
    const bool a = std::find(c.begin(), c.end(), Op{op::Advance{17}}) != c.end();
    const bool b = std::find(c.begin(), c.end(), Op{op::Advance{63}}) != c.end();
    return Trial{a && b, c.size(), 0};
  };
  const Trial start = needs_two(ops);
  ASSERT_TRUE(start.fails);
  const ScheduleOutcome a = shrink_schedule(ops, start, needs_two, 400);
  const ScheduleOutcome b = shrink_schedule(ops, start, needs_two, 400);
  EXPECT_EQ(a.ops, (std::vector<Op>{op::Advance{17}, op::Advance{63}}));
  EXPECT_EQ(a.history_events, 2u);
  EXPECT_LE(a.runs, 400u);
  EXPECT_EQ(a.ops, b.ops);
  EXPECT_EQ(a.runs, b.runs);
  for (const uint32_t max : {0u, 1u, 5u}) EXPECT_LE(shrink_schedule(ops, start, needs_two, max).runs, max);
  // Nothing fails without cutting: the start stays.
  const auto never = [](const std::vector<Op>&) { return Trial{false, 0, 0}; };
  EXPECT_EQ(shrink_schedule(ops, start, never, 400).ops, ops);
}

// A real run's inputs, read back from its history and replayed on BrokerCore: the
// schedule that still delivers a redelivered message is a handful of operations.
TEST(SimShrinkTest, RealScheduleReplaysOnTheCoreAndShrinks) {
  const Scenario s = scenario_of(small_json());
  const SimResult r = simulate(s, 3, SimOptions{});
  auto ops = trace_ops(r.history, r.scenario.topology);
  ASSERT_TRUE(ops.ok()) << ops.status().to_string();
  ASSERT_GT(ops->size(), 100u);
  const auto delivers = [&](const std::vector<Op>& c) {
    const History h = run_on_core(r.scenario.topology, c, "test");
    bool found = false;
    for (const HistoryEvent& e : h.events) found |= e.f == EventF::kDeliver && e.type == EventType::kOk;
    return Trial{found, h.events.size(), 0};
  };
  const Trial start = delivers(*ops);
  ASSERT_TRUE(start.fails);
  const ScheduleOutcome out = shrink_schedule(*ops, start, delivers, 2000);
  EXPECT_LE(out.ops.size(), 4u) << "a send and a dispatch or fetch (and what attaches the consumer)";
  EXPECT_LE(out.history_events, 8u);
  EXPECT_TRUE(delivers(out.ops).fails);
}

}  // namespace
}  // namespace mq::sim
