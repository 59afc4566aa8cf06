// Scenario files: the built-in default loads; every kind of bad input is an error
// that names the file and the field.

#include <gtest/gtest.h>

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
  EXPECT_EQ(s.faults.loss_ppm, (Range{0, 20000}));
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
  nlohmann::json j = testing::default_json();
  j["faults"]["loss_ppm"] = {5, 2};
  EXPECT_NE(error_of(j).find("bad.json: /faults/loss_ppm: lo 5 > hi 2"), std::string::npos) << error_of(j);

  j = testing::default_json();
  j["faults"]["nack_ppm"] = 2000000;
  EXPECT_NE(error_of(j).find("/faults/nack_ppm: must lie in 0..1000000"), std::string::npos) << error_of(j);

  j = testing::default_json();
  j["workload"]["mesages"] = 3;
  EXPECT_NE(error_of(j).find("/workload/mesages: unknown field"), std::string::npos) << error_of(j);

  j = testing::default_json();
  j["workload"]["targets"] = {{{"queue", "nope"}}};
  EXPECT_NE(error_of(j).find("/workload/targets/0/queue: no queue 'nope'"), std::string::npos) << error_of(j);

  j = testing::default_json();
  j["clients"]["session_timeout_ns"] = 1;
  EXPECT_NE(error_of(j).find("/clients/session_timeout_ns"), std::string::npos) << error_of(j);

  j = testing::default_json();
  j["durations"]["heal"] = "yes";
  EXPECT_NE(error_of(j).find("/durations/heal: expected true or false"), std::string::npos) << error_of(j);

  j = testing::default_json();
  j.erase("topology");
  EXPECT_NE(error_of(j).find("/topology: missing"), std::string::npos) << error_of(j);

  j = testing::default_json();
  j["topology"]["queues"][0]["capacity"] = 0;
  EXPECT_NE(error_of(j).find("bad.json"), std::string::npos) << error_of(j);
}

TEST(SimScenario, LossWithoutVisibilityTimeoutIsRefused) {
  nlohmann::json j = testing::default_json();
  j["topology"]["queues"][0]["visibility_timeout_ns"] = 0;
  EXPECT_NE(error_of(j).find("/topology/queues/0/visibility_timeout_ns: must be > 0"), std::string::npos)
      << error_of(j);
  j["faults"] = nlohmann::json::object();  // no loss, no partition, no clog: accepted
  EXPECT_TRUE(scenario_from_text(j.dump(), "ok.json").ok());
}

}  // namespace
}  // namespace mq::sim
