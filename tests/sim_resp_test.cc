// With clients.resp the producers and the pull consumers speak RESP through mqd's
// command layer and the client library's reading of the answers (sim/resp_route.h).
// RESP must be faithful both ways: on a workload whose TTLs and delays are already
// whole milliseconds, a RESP run and a run on typed requests are the same run, byte
// for byte (a field RESP lost or altered on the way would change the history).

#include <gtest/gtest.h>

#include <set>

#include "sim/resp_route.h"
#include "sim/translate.h"
#include "sim_test_util.h"

namespace mq::sim {
namespace {

// The stormy scenario with pull consumers, blocking fetches, STATS and INFO, and TTLs
// and delays that RESP carries as they are.
nlohmann::json whole_ms_json() {
  nlohmann::json j = test::stormy_json();
  nlohmann::json names = nlohmann::json::array();
  for (const auto& c : j["topology"]["consumers"]) names.push_back(c["name"]);
  j["clients"]["pull_consumers"] = names;
  j["clients"]["fetch_max"] = 2;
  j["clients"]["fetch_block_ns"] = 5'000'000;
  j["clients"]["stats_interval_ns"] = 50'000'000;
  j["workload"]["ttl_ppm"] = 300000;
  j["workload"]["ttl_ns"] = {200'000'000, 200'000'000};
  j["workload"]["delay_ppm"] = 300000;
  j["workload"]["delay_ns"] = {5'000'000, 5'000'000};
  return j;
}

TEST(SimResp, ARespRunIsTheTypedRunByteForByte) {
  nlohmann::json j = whole_ms_json();
  // Messages with their own retry budget (RETRIES) and malformed ones (a PRIORITY above
  // the target's levels, which mqd's command layer passes and the core refuses).
  j["workload"]["retries_ppm"] = 300000;
  j["workload"]["retries"] = {0, 5};
  j["workload"]["invalid_ppm"] = 50000;
  j["workload"]["invalid_fields"] = {"priority"};  // what RESP can send malformed
  const Scenario typed = test::scenario_of(j);
  j["clients"]["resp"] = true;
  const Scenario resp = test::scenario_of(j);
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const SimResult a = simulate(typed, seed);
    const SimResult b = simulate(resp, seed);
    EXPECT_GT(b.consumers.fetch_replies, 0u) << seed;
    EXPECT_GT(b.producers.malformed, 0u) << seed;
    EXPECT_EQ(b.producers.given_up, b.producers.malformed) << seed;
    EXPECT_GT(b.history_events, 1000u) << seed;
    EXPECT_EQ(a.history_hash, b.history_hash) << "seed " << seed;
    EXPECT_EQ(a.history_events, b.history_events) << "seed " << seed;
    EXPECT_EQ(test::failures(resp, b), "") << "seed " << seed;
  }
}

TEST(SimResp, EveryPropertyHoldsWithTtlsAndDelaysRoundedToWholeMilliseconds) {
  nlohmann::json j = test::stormy_json();
  j["clients"]["resp"] = true;
  j["clients"]["pull_consumers"] = {"c1"};
  j["workload"]["ttl_ppm"] = 300000;
  j["workload"]["ttl_ns"] = {1'000'000, 20'000'000};
  j["workload"]["delay_ppm"] = 300000;
  const Scenario s = test::scenario_of(j);
  const SimResult r = simulate(s, 2);
  uint64_t with_ttl = 0;
  for (const auto& e : r.history.events) {
    if (e.type != EventType::kInvoke || e.f != EventF::kPublish || !e.is_client()) continue;
    const TimeNs ttl = e.ttl_ns.value_or(0), delay = e.delay_ns.value_or(0);
    EXPECT_EQ(ttl % kNsPerMs, 0) << ttl;
    EXPECT_EQ(delay % kNsPerMs, 0) << delay;
    with_ttl += ttl > 0 ? 1 : 0;
  }
  EXPECT_GT(with_ttl, 0u);
  EXPECT_EQ(test::failures(s, r), "");
}

TEST(SimResp, NoiseIsAnsweredInOrderAndEveryPropertyHolds) {
  nlohmann::json j = whole_ms_json();
  j["clients"]["resp"] = true;
  j["clients"]["resp_noise_ppm"] = 300000;
  const Scenario s = test::scenario_of(j);
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    const SimResult r = simulate(s, seed);
    EXPECT_GT(r.consumers.fetch_replies, 0u) << seed;
    EXPECT_EQ(test::failures(s, r), "") << "seed " << seed;
  }
}

// The simulated clients ask for every kind of request mqd serves, and the shell runs
// every kind of command the core takes, so that the sweep reaches each: a new kind of
// request fails here until a client (sim/consumer.cc, sim/producer.cc) sends it, and
// a new command until the shell runs it for some request (impl/request.h). With
// noise, the protocol layer's own answers (PING, a syntax error) reach the shell too.
TEST(SimResp, TheClientsAskForEveryKindOfRequestAndTheShellRunsEveryCommand) {
  nlohmann::json j = whole_ms_json();
  j["clients"]["resp"] = true;
  j["clients"]["resp_noise_ppm"] = 300000;
  // One pull consumer; the push consumers also ask the core for a message now and then.
  j["clients"]["pull_consumers"] = {j["topology"]["consumers"][0]["name"]};
  j["clients"]["fetch_interval_ns"] = 20'000'000;
  const SimResult r = simulate(test::scenario_of(j), 1);
  for (size_t kind = 0; kind < r.broker.handled.size(); ++kind) {
    EXPECT_GT(r.broker.handled[kind], 0u) << "no request of kind " << kind
                                          << " (its index in impl::Request) was handled";
  }
  // A crash and a recovery are the process's death and its restart from the log
  // (ServerShell::recovered), not commands a shell runs.
  const std::set<size_t> not_the_shells = {impl::Command(impl::cmd::Crash{}).index(),
                                           impl::Command(impl::cmd::Recover{}).index()};
  for (size_t kind = 0; kind < r.broker.executed.size(); ++kind) {
    if (not_the_shells.count(kind)) continue;
    EXPECT_GT(r.broker.executed[kind], 0u) << "no command of kind " << kind
                                           << " (its index in impl::Command) was run";
  }
}

// What the node asserts of every RESP request: mqd read what the client meant. A
// request read back through the route is the typed one; any field changed is not.
TEST(SimResp, ARequestReadBackMeansWhatTheTypedOneMeans) {
  const Scenario s = test::scenario_of(test::default_json());
  RespRoute route(to_broker_config(s.topology), 0, 7);
  MessageSpec spec{42, "payload", 1, 3'000'000, 2'000'000, 5};
  const impl::req::Publish typed{0, false, 0, to_core(spec)};
  const impl::Request read = route.request(1, typed);
  EXPECT_TRUE(RespRoute::same_meaning(read, typed));
  for (int field = 0; field < 6; ++field) {
    impl::req::Publish other = typed;
    switch (field) {
      case 0: other.spec.id += 1; break;
      case 1: other.spec.payload += "!"; break;
      case 2: other.spec.priority = 2; break;
      case 3: other.spec.ttl_ns += kNsPerMs; break;
      case 4: other.spec.delay_ns = 0; break;
      case 5: other.spec.max_retries.reset(); break;
    }
    EXPECT_FALSE(RespRoute::same_meaning(read, other)) << "field " << field;
  }
  for (const impl::req::Publish& other : {impl::req::Publish{1, false, 0, to_core(spec)},
                                         impl::req::Publish{0, true, 0, to_core(spec)},
                                         impl::req::Publish{0, false, 1, to_core(spec)}}) {
    EXPECT_FALSE(RespRoute::same_meaning(read, other));
  }
  EXPECT_FALSE(RespRoute::same_meaning(read, impl::req::Info{}));
  EXPECT_FALSE(RespRoute::same_meaning(impl::req::Inline{"+PONG\r\n"}, typed));
}

// The noise check is not vacuous: an answer other than the one the list expects stops
// the run.
TEST(SimRespDeathTest, AWrongAnswerToNoiseIsAnAssertion) {
  const Scenario s = test::scenario_of(test::default_json());
  const impl::BrokerConfig config = to_broker_config(s.topology);
  EXPECT_DEATH(
      {
        RespRoute route(config, 1'000'000, 7);
        const auto noise = route.noise(1);
        MQ_CHECK(noise.has_value() && route.noise_sent() == 1);
        (void)route.answer(1, impl::resp::Inline{"+NOT WHAT WAS ASKED\r\n"});
      },
      "answers noise as expected");
}

// Hostile clients write bytes that end their connections (sim/resp_route.h), through the
// intake mqd reads connections with; nothing they send touches a queue, so the
// scenario's clients see the same run, byte for byte, and every property holds.
TEST(SimResp, HostileClientsChangeNothingTheScenariosClientsSee) {
  nlohmann::json j = whole_ms_json();
  j["clients"]["resp"] = true;
  const Scenario calm = test::scenario_of(j);
  j["clients"]["resp_hostile_ppm"] = 300000;
  const Scenario hostile = test::scenario_of(j);
  uint64_t closed = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const SimResult a = simulate(calm, seed);
    const SimResult b = simulate(hostile, seed);
    EXPECT_EQ(a.resp.hostile, 0u);
    EXPECT_GT(b.resp.hostile, 100u) << seed;
    EXPECT_LE(b.resp.hostile_closed, b.resp.hostile) << seed;
    closed += b.resp.hostile_closed;
    EXPECT_EQ(a.history_hash, b.history_hash) << "seed " << seed;
    EXPECT_EQ(test::failures(hostile, b), "") << "seed " << seed;
  }
  EXPECT_GT(closed, 400u);
}

// The hostile check is not vacuous: an answer other than the one the stream expects
// stops the run.
TEST(SimRespDeathTest, AWrongAnswerToAHostileClientIsAnAssertion) {
  const Scenario s = test::scenario_of(test::default_json());
  const impl::BrokerConfig config = to_broker_config(s.topology);
  EXPECT_DEATH(
      {
        RespRoute route(config, 0, 7, 1'000'000, 8);
        const auto h = route.hostile();
        MQ_CHECK(h.has_value() && !h->requests.empty() && RespRoute::is_hostile(h->conn));
        (void)route.answer_hostile(h->conn, impl::resp::Inline{"+NOT WHAT WAS ASKED\r\n"});
      },
      "answers noise as expected");
}

TEST(SimResp, ABlockThatIsNotWholeMillisecondsIsRefusedWithItsPath) {
  nlohmann::json j = test::default_json();
  j["clients"]["resp"] = true;
  j["clients"]["fetch_block_ns"] = 2'500'000;
  const auto s = scenario_from_text(j.dump(), "resp.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/clients/fetch_block_ns"), std::string::npos) << s.status().to_string();
  EXPECT_NE(s.status().message().find("whole milliseconds"), std::string::npos) << s.status().to_string();
}

TEST(SimResp, WholeMillisecondsRoundUp) {
  EXPECT_EQ(whole_ms(0), 0);
  EXPECT_EQ(whole_ms(1), kNsPerMs);
  EXPECT_EQ(whole_ms(kNsPerMs), kNsPerMs);
  EXPECT_EQ(whole_ms(kNsPerMs + 1), 2 * kNsPerMs);
}

}  // namespace
}  // namespace mq::sim
