// Determinism (DESIGN.md rule 4): the same scenario and seed give a byte-identical
// history, twice in one process and across two processes (the built mqharness run
// twice), and `replay` confirms a recorded run event for event.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/fnv.h"
#include "formats/history_io.h"
#include "sim/event_queue.h"
#include "sim_test_util.h"

namespace mq::sim {
namespace {

std::string bytes_of(const History& h) {
  auto text = format_history(h);
  EXPECT_TRUE(text.ok());
  return text.ok() ? *text : std::string();
}

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SimDeterminism, SameSeedGivesByteIdenticalHistoryInOneProcess) {
  const Scenario s = test::scenario_of(test::stormy_json());
  for (uint64_t seed : {1u, 2u, 99u}) {
    const SimResult a = simulate(s, seed);
    const SimResult b = simulate(s, seed);
    ASSERT_GT(a.history.events.size(), 100u);
    EXPECT_EQ(bytes_of(a.history), bytes_of(b.history)) << "seed " << seed;
    EXPECT_EQ(a.history_hash, b.history_hash);
    EXPECT_EQ(a.params.lines(), b.params.lines());
  }
}

TEST(SimDeterminism, DifferentSeedsGiveDifferentRuns) {
  const Scenario s = default_scenario();
  EXPECT_NE(simulate(s, 1).history_hash, simulate(s, 2).history_hash);
}

TEST(SimDeterminism, HistoryDoesNotDependOnKeepingIt) {
  const Scenario s = default_scenario();
  SimOptions lean;
  lean.keep_history = false;
  EXPECT_EQ(simulate(s, 5).history_hash, simulate(s, 5, lean).history_hash);
}

TEST(SimDeterminism, TwoProcessesWriteTheSameBytesAndReplayReproduces) {
  const auto dir = std::filesystem::temp_directory_path() / ("mq_sim_det_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string bin = MQ_HARNESS_BIN;
  for (const char* name : {"a", "b"}) {
    const std::string cmd = bin + " run --seed 11 --history " + (dir / name).string() + ".jsonl > " +
                            (dir / name).string() + ".out 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  const std::string a = file_bytes(dir / "a.jsonl");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, file_bytes(dir / "b.jsonl"));
  const std::string replay = bin + " replay " + (dir / "a.jsonl").string() + " > " + (dir / "r.out").string();
  EXPECT_EQ(std::system(replay.c_str()), 0);
  EXPECT_NE(file_bytes(dir / "r.out").find("REPRODUCED"), std::string::npos);
  // A history cut short is caught at the first event it lacks.
  std::string cut = a.substr(0, a.rfind('\n', a.size() - 2) + 1);
  const auto lines = static_cast<size_t>(std::count(cut.begin(), cut.end(), '\n'));
  std::ofstream(dir / "a.jsonl", std::ios::binary) << cut;
  EXPECT_NE(std::system(replay.c_str()), 0);
  EXPECT_NE(file_bytes(dir / "r.out").find("DIVERGES at event " + std::to_string(lines)), std::string::npos)
      << file_bytes(dir / "r.out");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mq::sim

namespace mq::sim {
namespace {

// history_hash writes JSON lines without nlohmann (it is the simulator's hot path);
// it must hash exactly the bytes to_json writes, for every kind of event.
TEST(SimDeterminism, HistoryHashIsTheHashOfTheJsonLines) {
  nlohmann::json j = test::stormy_json();
  j["faults"]["torn_write_ppm"] = 500000;
  j["faults"]["disk_full_ppm"] = 20000;
  j["clients"]["fetch_interval_ns"] = 5000000;
  const SimResult r = simulate(test::scenario_of(j), 4);
  uint64_t h = kFnv1aOffset;
  for (const auto& e : r.history.events) {
    auto line = to_json(e);
    ASSERT_TRUE(line.ok());
    h = fnv1a(h, *line + "\n");
  }
  EXPECT_EQ(history_hash(r.history), h);
  EXPECT_EQ(r.history_hash, h);
}

// The agenda pops by (time, push order) whatever the heap and its slot reuse do:
// pushes interleaved with pops, equal times, bodies that own memory.
TEST(SimDeterminism, EventQueuePopsByTimeThenPushOrder) {
  EventQueue<std::string> q;
  std::vector<std::pair<TimeNs, std::string>> popped;
  auto pop = [&] {
    auto e = q.pop();
    popped.emplace_back(e.at_ns, std::move(e.body));
  };
  q.push(30, "c30");
  q.push(10, "a10");
  q.push(10, "b10-a-long-string-that-is-not-inline");
  pop();                 // a10
  q.push(10, "d10");     // at now: after b10, pushed earlier at the same time
  q.push(20, "e20");
  pop();                 // b10
  pop();                 // d10
  q.push(20, "f20");     // reuses a freed slot; after e20
  q.push(15, "g15");
  while (!q.empty()) pop();
  const std::vector<std::pair<TimeNs, std::string>> want = {
      {10, "a10"}, {10, "b10-a-long-string-that-is-not-inline"}, {10, "d10"}, {15, "g15"},
      {20, "e20"}, {20, "f20"}, {30, "c30"}};
  EXPECT_EQ(popped, want);
  EXPECT_EQ(q.now(), 30);
}

}  // namespace
}  // namespace mq::sim
