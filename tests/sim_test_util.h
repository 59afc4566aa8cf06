#pragma once
// Helpers shared by the simulator tests: scenarios derived from the built-in default
// by editing its JSON, and the verdict of a run.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "harness/judge.h"
#include "sim/simulator.h"

namespace mq::test {

// The default without its swarm section: a test that sets a feature wants it kept,
// not redrawn per seed (the swarm has its own tests, sim_scenario_test.cc).
inline nlohmann::json default_json() {
  nlohmann::json j = nlohmann::json::parse(sim::default_scenario_text());
  j.erase("swarm");
  return j;
}

inline sim::Scenario scenario_of(const nlohmann::json& j, const std::string& file = "test.json") {
  auto s = sim::scenario_from_text(j.dump(), file);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return std::move(s).value();
}

// The default at the size it had before it grew to 10k messages: 400 messages in a
// 2 s faulty phase (fast enough for a test to run many seeds).
inline nlohmann::json small_json() {
  nlohmann::json j = default_json();
  j["workload"]["messages"] = 400;
  j["workload"]["send_gap_ns"] = {1000000, 15000000};
  j["clients"]["process_ns"] = {100000, 3000000};
  j["durations"] = {{"faulty_ns", 2000000000}, {"healing_ns", 10000000000}, {"heal", true}};
  return j;
}

// Every fault at a rate that makes each kind happen in a 2 s faulty phase.
inline nlohmann::json stormy_json() {
  nlohmann::json j = small_json();
  auto& f = j["faults"];
  f["loss_ppm"] = 30000;
  f["duplicate_ppm"] = 30000;
  f["broker_crash_ppm"] = 30000;
  f["consumer_crash_ppm"] = 30000;
  f["partition_ppm"] = 30000;
  f["clog_ppm"] = 50000;
  f["slow_consumer_ppm"] = 1000000;
  f["nack_ppm"] = 100000;
  f["dead_letter_ppm"] = 300000;
  j["network"]["slow_ppm"] = 50000;
  return j;
}

// How many events of `f` the history holds.
inline uint64_t count(const History& h, EventF f) {
  uint64_t n = 0;
  for (const auto& e : h.events) n += e.f == f ? 1 : 0;
  return n;
}

// "" when every verdict of the run holds (harness/judge.h: the one judge of a run);
// else what failed, one verdict per line.
inline std::string failures(const sim::Scenario&, const sim::SimResult& r) {
  std::string out;
  for (const auto& v : harness::judge(r)) {
    if (!v.valid) out += to_string(v) + "\n";
  }
  return out;
}

}  // namespace mq::test
