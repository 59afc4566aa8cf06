// Faults: with every fault kind turned up, each one actually happens in a run, and
// the run survives it: after healing every message is finished, the shadow model
// agrees with the core at every step, and every checker accepts the history. The
// default scenario passes on a spread of seeds (its contract with the checkers).

#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace mq::sim {
namespace {

TEST(SimFaults, EveryFaultKindHappensAndIsSurvived) {
  const Scenario s = test::scenario_of(test::stormy_json());
  const SimResult r = simulate(s, 3);
  EXPECT_GT(r.faults[FaultKind::kBrokerCrash], 0u);
  EXPECT_GT(r.faults[FaultKind::kConsumerCrash], 0u);
  EXPECT_GT(r.faults[FaultKind::kPartition], 0u);
  EXPECT_GT(r.faults[FaultKind::kClog], 0u);
  EXPECT_GT(r.network.lost, 0u);
  EXPECT_GT(r.network.duplicated, 0u);
  EXPECT_GT(r.network.partitioned, 0u);
  EXPECT_GT(r.consumers.nacks, 0u);
  EXPECT_GT(r.consumers.stale_pushes + r.broker.stale_acks, 0u);  // deliveries of an earlier life came back
  EXPECT_GT(r.producers.resends, 0u);   // timeouts, resent with the same id
  EXPECT_GT(r.broker.duplicates, 0u);   // ... and deduplicated by the core
  EXPECT_GT(r.producers.full_backoffs, 0u);
  bool slow = false;
  for (uint32_t f : r.params.slow_factor) slow = slow || f > 1;
  EXPECT_TRUE(slow);
  EXPECT_TRUE(r.quiescent);
  EXPECT_EQ(test::failures(s, r), "");
}

TEST(SimFaults, StormySeedsAllPass) {
  const Scenario s = test::scenario_of(test::stormy_json());
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const SimResult r = simulate(s, seed);
    EXPECT_EQ(test::failures(s, r), "") << "seed " << seed;
  }
}

TEST(SimFaults, DefaultScenarioSeedsPass) {
  const Scenario s = default_scenario();
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const SimResult r = simulate(s, seed);
    EXPECT_EQ(test::failures(s, r), "") << "seed " << seed;
  }
}

TEST(SimFaults, NoFaultsMeansNoRedelivery) {
  nlohmann::json j = test::small_json();
  j.erase("faults");
  j["network"]["slow_ppm"] = 0;
  const Scenario s = test::scenario_of(j);
  const SimResult r = simulate(s, 4);
  EXPECT_EQ(r.faults[FaultKind::kBrokerCrash] + r.faults[FaultKind::kConsumerCrash] + r.faults[FaultKind::kPartition] + r.faults[FaultKind::kClog], 0u);
  EXPECT_EQ(r.network.lost + r.network.duplicated, 0u);
  EXPECT_EQ(r.producers.resends, 0u);
  EXPECT_EQ(test::failures(s, r), "");
}

}  // namespace
}  // namespace mq::sim
