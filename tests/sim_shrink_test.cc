// sim::shrink(), the one shrinker (`mqharness shrink` and `mqharness-mutants`): its
// cuts are valid scenarios, it is bounded and deterministic, it cuts the topology and
// the workload, and it stops a run at its first violation (also for a run that dies,
// whose length is unknown).
#include <gtest/gtest.h>

#include <map>

#include "sim/choices.h"
#include "sim/shrink.h"
#include "sim/trace_replay.h"
#include "sim_test_util.h"

namespace mq::sim {
namespace {

using test::scenario_of;
using test::small_json;
using test::stormy_json;

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

// The client and disk features a swarm draw switches on are each offered off.
TEST(SimShrinkTest, EachDrawnFeatureIsOfferedOff) {
  nlohmann::json j = small_json();
  j["clients"]["pull_consumers"] = {j["topology"]["consumers"][0]["name"]};
  j["clients"]["close_on_crash"] = true;
  j["clients"]["stats_interval_ns"] = 1000000;
  j["disk"]["defer_commit"] = true;
  j["disk"]["restart_fresh"] = true;
  j["faults"]["disk_failing_ppm"] = 1000;
  const Reproducer base{scenario_of(j), {}, 0};
  std::vector<std::vector<std::string>> what;
  const auto families = shrink_families(base, &what);
  std::map<std::string, bool> off = {{"pull", false},  {"close", false},   {"stats", false},
                                     {"defer", false}, {"restart", false}, {"failing", false}};
  for (const auto& family : families) {
    for (const Reproducer& c : family) {
      const Scenario& s = c.scenario;
      off["pull"] |= s.clients.pull_consumers.empty();
      off["close"] |= !s.clients.close_on_crash;
      off["stats"] |= s.clients.stats_interval_ns == 0;
      off["defer"] |= !s.disk.defer_commit;
      off["restart"] |= !s.disk.restart_fresh;
      off["failing"] |= s.faults.disk_failing_ppm == 0;
    }
  }
  for (const auto& [feature, seen] : off) EXPECT_TRUE(seen) << feature << " is never switched off";
}

// A synthetic bug: fails while at least 5 messages go to a queue of capacity >= 2.
Trial needs_five(const Reproducer& r) {
  uint32_t capacity = 0;
  for (const auto& q : r.scenario.topology.queues) capacity = std::max(capacity, q.capacity);
  const uint64_t m = messages_of(r);
  return Trial{m >= 5 && capacity >= 2, m * 10, 0, {}, false};
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
    if (r.stop_after_events != 0 && r.stop_after_events <= 37) return Trial{false, r.stop_after_events, 0, {}, false};
    return Trial{true, 0, 0, {}, false};
  };
  const Reproducer base{scenario_of(small_json()), {}, 0};
  const ShrinkOutcome out = shrink(base, Trial{true, 0, 0, {}, false}, dies_late, 60);
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
                 x.divergence ? events_until(x.history, x.divergence->time_ns) : 0, {}, false};
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
    return Trial{a && b, c.size(), 0, {}, false};
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
  const auto never = [](const std::vector<Op>&) { return Trial{false, 0, 0, {}, false}; };
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
    return Trial{found, h.events.size(), 0, {}, false};
  };
  const Trial start = delivers(*ops);
  ASSERT_TRUE(start.fails);
  const ScheduleOutcome out = shrink_schedule(*ops, start, delivers, 2000);
  EXPECT_LE(out.ops.size(), 4u) << "a send and a dispatch or fetch (and what attaches the consumer)";
  EXPECT_LE(out.history_events, 8u);
  EXPECT_TRUE(delivers(out.ops).fails);
}


// ---- the choice stage: the whole run again, with choices skipped ----

// A synthetic run of 60 choices whose failure needs two of them: the choice stage
// skips the other 58, within its bound, the same way twice.
TEST(SimShrinkTest, ChoiceStageKeepsOnlyTheChoicesTheFailureNeeds) {
  std::vector<ChoiceKey> all;
  for (uint32_t k = 1; k <= 60; ++k) all.push_back(choice_key(ChoiceKind::kMessage, 0, k));
  const ChoiceKey a = all[16], b = all[43];
  const auto needs_two = [&](const Reproducer& r) {
    const auto& skipped = r.overrides.skipped_choices;
    Trial t;
    for (ChoiceKey key : all) {
      if (!std::binary_search(skipped.begin(), skipped.end(), key)) t.choices.push_back(key);
    }
    t.choices_known = true;
    const auto made = [&](ChoiceKey key) { return std::find(t.choices.begin(), t.choices.end(), key) != t.choices.end(); };
    t.fails = made(a) && made(b);
    t.history_events = 5 * t.choices.size();
    return t;
  };
  const Reproducer base{scenario_of(small_json()), {}, 0};
  const Trial start = needs_two(base);
  ASSERT_TRUE(start.fails);
  const ShrinkOutcome x = shrink(base, start, needs_two, 400);
  const ShrinkOutcome y = shrink(base, start, needs_two, 400);
  EXPECT_LE(x.runs, 400u);
  EXPECT_EQ(x.reproducer.overrides.skipped_choices.size(), 58u);
  EXPECT_TRUE(needs_two(x.reproducer).fails);
  EXPECT_EQ(needs_two(x.reproducer).choices, (std::vector<ChoiceKey>{a, b}));
  EXPECT_EQ(x.reproducer.overrides, y.reproducer.overrides);
  EXPECT_EQ(x.cuts, y.cuts);
  EXPECT_EQ(x.runs, y.runs);
  for (const uint32_t max : {0u, 2u, 9u, 30u}) EXPECT_LE(shrink(base, start, needs_two, max).runs, max);
}

// Skipping no choice changes nothing (the histories of every sweep stay byte for
// byte); skipping a message takes exactly it out of the run; the same skips give the
// same history twice.
TEST(SimShrinkTest, SkippedChoicesAreDeterministicAndTakeOutWhatTheyName) {
  const Scenario s = scenario_of(stormy_json());
  constexpr uint64_t kSeed = 5;
  SimOptions plain;
  SimOptions recorded;
  recorded.record_choices = true;
  const SimResult a = simulate(s, kSeed, plain);
  const SimResult b = simulate(s, kSeed, recorded);
  EXPECT_EQ(a.history_hash, b.history_hash);
  EXPECT_TRUE(a.choices.empty());
  ASSERT_TRUE(b.choices_complete);
  std::map<ChoiceKind, size_t> kinds;
  for (ChoiceKey key : b.choices) ++kinds[choice_kind(key)];
  for (ChoiceKind k : {ChoiceKind::kMessage, ChoiceKind::kFault, ChoiceKind::kNack, ChoiceKind::kLoss,
                       ChoiceKind::kDuplicate}) {
    EXPECT_GT(kinds[k], 0u) << "a stormy run makes choices of kind " << static_cast<int>(k);
  }
  const ChoiceKey third = choice_key(ChoiceKind::kMessage, 0, 3);
  ASSERT_NE(std::find(b.choices.begin(), b.choices.end(), third), b.choices.end());
  EXPECT_EQ(describe_choice(third), "message 3 of producer 0");
  SimOptions skip = recorded;
  skip.overrides.skipped_choices = {third};
  const SimResult c = simulate(s, kSeed, skip);
  const SimResult d = simulate(s, kSeed, skip);
  EXPECT_EQ(c.history_hash, d.history_hash);
  EXPECT_EQ(std::find(c.choices.begin(), c.choices.end(), third), c.choices.end());
  EXPECT_EQ(c.producers.skipped, 1u);
  const uint64_t third_id = (uint64_t{1} << 32) | 3;
  bool third_seen = false;
  for (const HistoryEvent& e : c.history.events) third_seen |= e.id && *e.id == third_id;
  EXPECT_FALSE(third_seen);
}

// The real simulator, a failure that needs a crash and the log's recovery (no replay
// on the core can show it): "a message delivered again after the broker recovered".
// The choice stage cuts messages and faults the scenario's parameters could not, so
// the reproducer is shorter than without it, and it replays the same.
TEST(SimShrinkTest, ChoiceStageShrinksAFailureThatNeedsACrash) {
  nlohmann::json j = small_json();
  j["workload"]["messages"] = 60;
  j["faults"]["broker_crash_ppm"] = 20000;
  j["faults"]["consumer_crash_ppm"] = 20000;
  j["faults"]["nack_ppm"] = 100000;
  j["faults"]["loss_ppm"] = 20000;
  const Scenario s = scenario_of(j);
  constexpr uint64_t kSeed = 3;
  const auto run = [&](const Reproducer& r) {
    SimOptions o;
    o.shadow = false;
    o.overrides = r.overrides;
    o.stop_after_events = r.stop_after_events;
    o.record_choices = true;
    return simulate(r.scenario, kSeed, o);
  };
  const auto redelivered_after_recovery = [&](const Reproducer& r) {
    const SimResult x = run(r);
    bool recovered = false, found = false;
    for (const HistoryEvent& e : x.history.events) {
      recovered |= e.f == EventF::kRecover && e.type == EventType::kOk;
      found |= recovered && e.f == EventF::kDeliver && e.attempts && *e.attempts > 1;
    }
    return Trial{found, x.history_events, 0, x.choices, x.choices_complete};
  };
  // The same judge without the choices: the shrinker as it was before its choice stage.
  const auto without_choices = [&](const Reproducer& r) {
    Trial t = redelivered_after_recovery(r);
    t.choices_known = false;
    return t;
  };
  const Reproducer base{s, {}, 0};
  const Trial start = redelivered_after_recovery(base);
  ASSERT_TRUE(start.fails) << "seed " << kSeed << " shows it";
  const ShrinkOutcome out = shrink(base, start, redelivered_after_recovery, 300);
  const ShrinkOutcome before = shrink(base, start, without_choices, 300);
  EXPECT_LE(out.runs, 300u);
  EXPECT_FALSE(out.reproducer.overrides.skipped_choices.empty()) << "the choice stage kept a cut";
  EXPECT_TRUE(before.reproducer.overrides.skipped_choices.empty());
  EXPECT_LT(out.history_events, before.history_events);
  const SimResult again = run(out.reproducer);
  EXPECT_TRUE(redelivered_after_recovery(out.reproducer).fails);
  EXPECT_EQ(again.history_events, out.history_events);
  EXPECT_EQ(again.history_hash, run(out.reproducer).history_hash);
}

}  // namespace
}  // namespace mq::sim
