// Scenario files: the built-in default loads; every kind of bad input is an error
// that names the file and the field.

#include <gtest/gtest.h>

#include <map>

#include "sim/swarm.h"
#include "sim_test_util.h"

namespace mq::sim {
namespace {

std::string error_of(const nlohmann::json& j) {
  auto s = scenario_from_text(j.dump(), "bad.json");
  EXPECT_FALSE(s.ok());
  return s.ok() ? std::string() : s.status().to_string();
}

TEST(SimScenario, DefaultLoadsAndNamesItsTargets) {
  const Scenario s = default_scenario();
  EXPECT_EQ(s.name, "default");
  ASSERT_EQ(s.workload.targets.size(), 2u);
  EXPECT_TRUE(s.workload.targets[1].topic);
  EXPECT_EQ(s.faults.rate(FaultKind::kLoss), (Range{0, 20000}));
}

TEST(SimScenario, MissingFileIsNotFound) {
  auto s = load_scenario("/nonexistent/scenario.json");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kNotFound);
  EXPECT_NE(s.status().message().find("/nonexistent/scenario.json"), std::string::npos);
}

TEST(SimScenario, SyntaxErrorNamesLineAndColumn) {
  auto s = scenario_from_text("{\n  \"topology\": ,\n}", "bad.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("bad.json:2:"), std::string::npos) << s.status().to_string();
}

TEST(SimScenario, FieldErrorsNameFileAndPath) {
  nlohmann::json j = test::default_json();
  j["faults"]["loss_ppm"] = {5, 2};
  EXPECT_NE(error_of(j).find("bad.json: /faults/loss_ppm: lo 5 > hi 2"), std::string::npos) << error_of(j);

  j = test::default_json();
  j["faults"]["nack_ppm"] = 2000000;
  EXPECT_NE(error_of(j).find("/faults/nack_ppm: must lie in 0..1000000"), std::string::npos) << error_of(j);

  j = test::default_json();
  j["workload"]["mesages"] = 3;
  EXPECT_NE(error_of(j).find("/workload/mesages: unknown field"), std::string::npos) << error_of(j);

  j = test::default_json();
  j["workload"]["targets"] = {{{"queue", "nope"}}};
  EXPECT_NE(error_of(j).find("/workload/targets/0/queue: no queue 'nope'"), std::string::npos) << error_of(j);

  j = test::default_json();
  j["clients"]["session_timeout_ns"] = 1;
  EXPECT_NE(error_of(j).find("/clients/session_timeout_ns"), std::string::npos) << error_of(j);

  j = test::default_json();
  j["durations"]["heal"] = "yes";
  EXPECT_NE(error_of(j).find("/durations/heal: expected true or false"), std::string::npos) << error_of(j);

  j = test::default_json();
  j.erase("topology");
  EXPECT_NE(error_of(j).find("/topology: missing"), std::string::npos) << error_of(j);

  j = test::default_json();
  j["topology"]["queues"][0]["capacity"] = 0;
  EXPECT_NE(error_of(j).find("bad.json"), std::string::npos) << error_of(j);
}

TEST(SimScenario, LossWithoutVisibilityTimeoutIsRefused) {
  nlohmann::json j = test::default_json();
  j["topology"]["queues"][0]["visibility_timeout_ns"] = 0;
  EXPECT_NE(error_of(j).find("/topology/queues/0/visibility_timeout_ns: must be > 0"), std::string::npos)
      << error_of(j);
  j["faults"] = nlohmann::json::object();  // no loss, no partition, no clog: accepted
  EXPECT_TRUE(scenario_from_text(j.dump(), "ok.json").ok());
}

// The swarm section: each seed draws its own configuration, deterministically; the
// draw is a scenario of its own that runs the same without drawing again.
TEST(SimSwarm, EachSeedDrawsItsOwnConfigurationDeterministically) {
  const Scenario s = default_scenario();
  ASSERT_FALSE(s.swarm.empty());
  std::vector<std::string> a, b, c;
  const auto x = draw_scenario(s, 1, &a);
  const auto y = draw_scenario(s, 1, &b);
  const auto z = draw_scenario(s, 2, &c);
  ASSERT_TRUE(x.ok() && y.ok() && z.ok()) << x.status().to_string();
  EXPECT_EQ(a, b);
  EXPECT_EQ(x->text, y->text);
  EXPECT_NE(a, c);
  EXPECT_TRUE(x->swarm.empty());
  EXPECT_EQ(x->name, s.name);
  // 36 places of the topology, workload, clients and disk, 8 of the clients, disk
  // and faults that drive the server shell's sessions and commit paths, 2 of RESP, the
  // restart's start latency, RESP's hostile clients, the dead-letter queue's
  // capacity (small enough to fill: a dead-letter copy refused), the machine's way
  // of computing CRC-32C, 3 of messages' own retries and malformed messages, and the
  // audit queue's capacity (small enough that a topic publish finds every queue full).
  EXPECT_EQ(a.size(), 54u) << "one value per rule and place";
  // Over some seeds, every choice of the overflow rule happens.
  bool drop = false, reject = false;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const auto d = draw_scenario(s, seed);
    ASSERT_TRUE(d.ok()) << d.status().to_string();
    for (const auto& q : d->topology.queues) (q.overflow == Overflow::kDropOldest ? drop : reject) = true;
  }
  EXPECT_TRUE(drop && reject);
}

// workload.invalid_ppm: malformed messages are refused as a whole (a topic's too, when
// one bound queue has fewer levels), given up by their producer, and every property
// holds; workload.retries_ppm: messages carry their own retry budget into the history.
TEST(SimWorkload, MalformedMessagesAreRefusedAndOwnRetriesAreKept) {
  nlohmann::json j = test::stormy_json();
  j["workload"]["invalid_ppm"] = 100000;
  j["workload"]["retries_ppm"] = 500000;
  j["workload"]["retries"] = {7, 9};  // no queue's default
  const Scenario s = test::scenario_of(j);
  const SimResult r = simulate(s, 3);
  EXPECT_EQ(test::failures(s, r), "");
  EXPECT_GT(r.producers.malformed, 0u);
  EXPECT_EQ(r.producers.given_up, r.producers.malformed);
  uint64_t refused = 0, topic_refused = 0, own = 0, bad_ttl = 0, bad_delay = 0;
  for (const auto& e : r.history.events) {
    if (e.f != EventF::kPublish || !e.is_client()) continue;
    if (refused_as_malformed(e)) {
      ++refused;
      topic_refused += e.topic.empty() ? 0 : 1;
      bad_ttl += e.ttl_ns < 0 ? 1 : 0;
      bad_delay += e.delay_ns < 0 ? 1 : 0;
    }
    if (e.type == EventType::kInvoke && e.max_retries >= 7u) ++own;
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(topic_refused, 0u);
  EXPECT_GT(bad_ttl, 0u);
  EXPECT_GT(bad_delay, 0u);
  EXPECT_GT(refused, bad_ttl + bad_delay) << "some are malformed in their priority";
  EXPECT_GT(own, 0u);
  // They come from a stream of their own: every message is drawn as without them
  // (same payload, TTL and delay for the same id), except the malformed field (a
  // priority above the levels, or a TTL or delay of -1).
  const SimResult plain = simulate(test::scenario_of(test::stormy_json()), 3);
  std::map<MessageId, const HistoryEvent*> sent;
  for (const auto& e : plain.history.events) {
    if (e.f == EventF::kPublish && e.type == EventType::kInvoke && e.is_client()) sent[*e.id] = &e;
  }
  uint64_t same = 0;
  for (const auto& e : r.history.events) {
    if (e.f != EventF::kPublish || e.type != EventType::kInvoke || !e.is_client()) continue;
    const auto it = sent.find(*e.id);
    if (it == sent.end()) continue;
    EXPECT_EQ(e.payload, it->second->payload) << *e.id;
    if (e.ttl_ns != -1) {
      EXPECT_EQ(e.ttl_ns, it->second->ttl_ns) << *e.id;
    }
    if (e.delay_ns != -1) {
      EXPECT_EQ(e.delay_ns, it->second->delay_ns) << *e.id;
    }
    ++same;
  }
  EXPECT_GT(same, sent.size() / 2);
}

// workload.invalid_fields: which fields a malformed message gets wrong; by default
// every one its clients can send (over RESP the priority only).
TEST(SimWorkload, InvalidFieldsAreNamedOnceAndFitTheClients) {
  nlohmann::json j = test::stormy_json();
  EXPECT_EQ(malformed_fields(test::scenario_of(j)),
            (std::vector{MalformedField::kPriority, MalformedField::kTtl, MalformedField::kDelay}));
  j["workload"]["invalid_fields"] = {"delay", "priority"};
  EXPECT_EQ(malformed_fields(test::scenario_of(j)), (std::vector{MalformedField::kDelay, MalformedField::kPriority}));
  j["workload"]["invalid_fields"] = {"ttl", "color"};
  EXPECT_NE(error_of(j).find("/workload/invalid_fields/1: expected \"priority\", \"ttl\" or \"delay\", got \"color\""),
            std::string::npos)
      << error_of(j);
  j["workload"]["invalid_fields"] = {"ttl", "ttl"};
  EXPECT_NE(error_of(j).find("/workload/invalid_fields/1: \"ttl\" is listed twice"), std::string::npos) << error_of(j);
  j["workload"]["invalid_fields"] = nlohmann::json::array();
  EXPECT_NE(error_of(j).find("/workload/invalid_fields: expected a non-empty array"), std::string::npos) << error_of(j);
  j["workload"].erase("invalid_fields");
  j["clients"]["resp"] = true;
  EXPECT_EQ(malformed_fields(test::scenario_of(j)), std::vector{MalformedField::kPriority});
  j["workload"]["invalid_fields"] = {"priority", "ttl"};
  EXPECT_NE(error_of(j).find("/workload/invalid_fields: with clients.resp only [\"priority\"]"), std::string::npos)
      << error_of(j);
}

TEST(SimSwarm, ThePinnedDrawRunsTheSameAsTheSwarm) {
  nlohmann::json j = nlohmann::json::parse(default_scenario_text());
  j["workload"]["messages"] = 60;
  j["durations"] = {{"faulty_ns", 300000000}, {"healing_ns", 2000000000}, {"heal", true}};
  const Scenario s = test::scenario_of(j);
  const auto pinned = draw_scenario(s, 7);
  ASSERT_TRUE(pinned.ok());
  const SimResult a = simulate(s, 7);
  const SimResult b = simulate(*pinned, 7);
  EXPECT_EQ(a.history_hash, b.history_hash);
  EXPECT_EQ(a.scenario.text, b.scenario.text);
  EXPECT_FALSE(a.params.swarm.empty());
  EXPECT_TRUE(b.params.swarm.empty());
}

TEST(SimSwarm, BadRulesAreErrorsNamingThePath) {
  nlohmann::json j = test::default_json();
  j["swarm"] = {{{"path", "/topology/queues/*/nonsense_field"}, {"choose", {1}}}};
  EXPECT_NE(error_of(j).find("unknown field"), std::string::npos) << error_of(j);
  j["swarm"] = {{{"path", "/nowhere/*/x"}, {"choose", {1}}}};
  EXPECT_NE(error_of(j).find("/swarm/0/path: '/nowhere/*/x' matches no place"), std::string::npos) << error_of(j);
  j["swarm"] = {{{"path", "/workload/ttl_ppm"}, {"choose", nlohmann::json::array()}}};
  EXPECT_NE(error_of(j).find("/swarm/0/choose: expected a non-empty array"), std::string::npos) << error_of(j);
  j["swarm"] = {{{"path", "/workload/ttl_ppm"}, {"range", {5, 2}}}};
  EXPECT_NE(error_of(j).find("/swarm/0/range: lo 5 > hi 2"), std::string::npos) << error_of(j);
  j["swarm"] = {{{"path", "/workload/ttl_ppm"}, {"range", {0, 1}}, {"choose", {1}}}};
  EXPECT_NE(error_of(j).find("exactly one of"), std::string::npos) << error_of(j);
  j["swarm"] = {{{"path", "workload/ttl_ppm"}, {"range", {0, 1}}}};
  EXPECT_NE(error_of(j).find("expected a JSON pointer"), std::string::npos) << error_of(j);
  // A value that makes the scenario invalid names the seed and what was drawn.
  j["swarm"] = {{{"path", "/topology/queues/0/capacity"}, {"choose", {0}}}};
  EXPECT_NE(error_of(j).find("seed 1 draws a scenario that is not valid (/topology/queues/0/capacity=0)"),
            std::string::npos)
      << error_of(j);
}

}  // namespace
}  // namespace mq::sim
