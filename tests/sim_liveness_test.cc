// Liveness: with healing disabled, a fault in force at the end of the faulty phase
// stays, and the run reports the messages that never finished; with healing, the
// same seed finishes everything.

#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace mq::sim {
namespace {

nlohmann::json crashy(bool heal) {
  nlohmann::json j = test::small_json();
  j["faults"] = {{"broker_crash_ppm", 1000000}, {"broker_down_ns", 5000000000}, {"tick_ns", 10000000}};
  j["durations"] = {{"faulty_ns", 200000000}, {"healing_ns", heal ? 5000000000 : 1000000000}, {"heal", heal}};
  return j;
}

TEST(SimLiveness, ViolationReportedWhenHealingIsDisabled) {
  const Scenario s = test::scenario_of(crashy(false));
  const SimResult r = simulate(s, 1);
  EXPECT_FALSE(r.quiescent);
  ASSERT_FALSE(r.liveness.empty());
  EXPECT_NE(r.liveness.front().find("broker is still down"), std::string::npos) << r.liveness.front();
  bool producers = false;
  for (const auto& l : r.liveness) producers = producers || l.find("not confirmed") != std::string::npos;
  EXPECT_TRUE(producers);
}

TEST(SimLiveness, SameRunWithHealingFinishes) {
  const Scenario s = test::scenario_of(crashy(true));
  const SimResult r = simulate(s, 1);
  EXPECT_TRUE(r.quiescent);
  EXPECT_EQ(test::failures(s, r), "");
}

TEST(SimLiveness, HeldMessagesAreListed) {
  // Consumers that crash and never come back: accepted messages stay in the queue.
  nlohmann::json j = test::small_json();
  j["faults"] = {{"consumer_crash_ppm", 1000000}, {"consumer_down_ns", 5000000000}};
  j["durations"] = {{"faulty_ns", 100000000}, {"healing_ns", 500000000}, {"heal", false}};
  const SimResult r = simulate(test::scenario_of(j), 2);
  ASSERT_FALSE(r.liveness.empty());
  bool listed = false;
  for (const auto& l : r.liveness) listed = listed || l.find("accepted messages not finished") != std::string::npos;
  EXPECT_TRUE(listed);
}

}  // namespace
}  // namespace mq::sim
