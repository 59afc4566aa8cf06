// The simulated clients exercise the server shell's session features the way mqd's
// clients do, and every property still holds (scenarios/default.json draws each of
// these per seed; docs/coverage.md says what that reaches):
//  - pull sessions: deliveries wait at the broker until fetched, several per fetch,
//    a fetch blocks until one comes or its time is up;
//  - a crashed consumer's connection closes, and the broker detaches it at once;
//  - STATS and INFO requests, answered in order with the rest;
//  - the deferred group commit (defer_commit);
//  - a failing disk (every sync fails with EIO): the broker fail-stops and comes back;
//  - a broker restarted as a new process (ServerShell::recovered, as mqd starts).

#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace mq::sim {
namespace {

nlohmann::json pulling(uint32_t fetch_max, TimeNs block_ns) {
  nlohmann::json j = test::stormy_json();
  nlohmann::json names = nlohmann::json::array();
  for (const auto& c : j["topology"]["consumers"]) names.push_back(c["name"]);
  j["clients"]["pull_consumers"] = names;
  j["clients"]["fetch_max"] = fetch_max;
  j["clients"]["fetch_block_ns"] = block_ns;
  return j;
}

using test::count;

TEST(SimSessions, PullConsumersTakeTheirDeliveriesByFetching) {
  for (const TimeNs block_ns : {TimeNs{0}, TimeNs{20'000'000}}) {
    const Scenario s = test::scenario_of(pulling(4, block_ns));
    const SimResult r = simulate(s, 2);
    EXPECT_GT(r.consumers.fetches, 0u) << block_ns;
    EXPECT_GT(r.consumers.fetch_replies, 0u) << block_ns;
    EXPECT_GT(r.broker.fetched, 0u) << block_ns;  // deliveries left the broker as fetch answers
    EXPECT_GT(r.consumers.received, 0u) << block_ns;
    EXPECT_GT(r.consumers.processed, 0u) << block_ns;
    EXPECT_TRUE(r.quiescent) << block_ns;
    EXPECT_EQ(test::failures(s, r), "") << "block " << block_ns;
  }
}

TEST(SimSessions, AClosedConnectionDetachesItsSessionAtOnce) {
  nlohmann::json j = test::stormy_json();
  j["faults"]["consumer_crash_ppm"] = 100000;
  const SimResult quiet = simulate(test::scenario_of(j), 3);
  j["clients"]["close_on_crash"] = true;
  const Scenario s = test::scenario_of(j);
  const SimResult closing = simulate(s, 3);
  EXPECT_GT(closing.faults[FaultKind::kConsumerCrash], 0u);
  // The same crashes; with the close, more of them detach at once rather than by timeout.
  EXPECT_GT(closing.broker.session_detaches, quiet.broker.session_detaches);
  EXPECT_EQ(test::failures(s, closing), "");
}

TEST(SimSessions, StatsAndInfoRequestsAreAnsweredInOrder) {
  nlohmann::json j = pulling(2, 5'000'000);
  j["clients"]["stats_interval_ns"] = 20'000'000;
  const Scenario s = test::scenario_of(j);
  const SimResult r = simulate(s, 1);
  EXPECT_GT(r.consumers.stats_requests, 0u);
  EXPECT_EQ(test::failures(s, r), "");
}

TEST(SimSessions, TheDeferredGroupCommitConfirmsEverything) {
  nlohmann::json j = test::stormy_json();
  j["disk"]["defer_commit"] = true;
  const Scenario s = test::scenario_of(j);
  const SimResult r = simulate(s, 4);
  EXPECT_GT(r.disk.commits, 0u);
  EXPECT_LT(r.disk.commits, r.disk.records);  // several records per sync
  EXPECT_TRUE(r.quiescent);
  EXPECT_EQ(test::failures(s, r), "");
}

TEST(SimSessions, AFailingDiskStopsTheBrokerUntilItWorksAgain) {
  nlohmann::json j = test::stormy_json();
  j["faults"]["disk_full_ppm"] = 20000;
  j["faults"]["disk_failing_ppm"] = 1000000;
  const Scenario s = test::scenario_of(j);
  uint64_t failures = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const SimResult r = simulate(s, seed);
    failures += r.disk.write_failures;
    EXPECT_EQ(count(r.history, EventF::kDiskFull), r.disk.disk_full) << seed;
    EXPECT_TRUE(r.quiescent) << seed;
    EXPECT_EQ(test::failures(s, r), "") << "seed " << seed;
  }
  EXPECT_GT(failures, 0u);  // a sync failed (EIO) and the broker fail-stopped
}

TEST(SimSessions, ABrokerRestartedAsANewProcessForgetsItsSessions) {
  nlohmann::json j = pulling(2, 5'000'000);
  j["disk"]["restart_fresh"] = true;
  j["faults"]["broker_crash_ppm"] = 50000;
  const Scenario s = test::scenario_of(j);
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    const SimResult r = simulate(s, seed);
    EXPECT_GT(r.broker.crashes, 0u) << seed;  // summed over the shells of the run
    EXPECT_GT(r.disk.recoveries, 0u) << seed;
    EXPECT_TRUE(r.quiescent) << seed;
    EXPECT_EQ(test::failures(s, r), "") << "seed " << seed;
  }
}

TEST(SimSessions, ScenarioErrorsNameTheField) {
  nlohmann::json j = test::stormy_json();
  j["clients"]["pull_consumers"] = {"nobody"};
  auto bad = scenario_from_text(j.dump(), "s.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/clients/pull_consumers/0"), std::string::npos)
      << bad.status().message();
  j["clients"]["pull_consumers"] = nlohmann::json::array();
  j["clients"]["fetch_max"] = 0;
  bad = scenario_from_text(j.dump(), "s.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/clients/fetch_max"), std::string::npos) << bad.status().message();
}

// A restart whose log start takes a while: requests meet a starting broker, which
// answers them "unavailable" (typed and RESP clients alike), and every property holds.
TEST(SimSessions, RequestsThatMeetARestartingBrokerAreAnsweredUnavailable) {
  for (const bool resp : {false, true}) {
    nlohmann::json j = pulling(2, 5'000'000);
    j["disk"]["start_latency_ns"] = 3'000'000;
    j["clients"]["resp"] = resp;
    j["clients"]["resp_noise_ppm"] = resp ? 100000 : 0;
    const Scenario s = test::scenario_of(j);
    const SimResult r = simulate(s, 1);
    EXPECT_GT(r.disk.recoveries, 0u) << resp;
    EXPECT_GT(r.disk.requests_while_starting, 0u) << resp;
    EXPECT_TRUE(r.quiescent) << resp;
    EXPECT_EQ(test::failures(s, r), "") << "resp " << resp;
  }
}

}  // namespace
}  // namespace mq::sim
