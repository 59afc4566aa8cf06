// Streaming checks: the same verdicts as check_all (every checker), from a file read one
// event at a time.
#include "properties/checkers/stream_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "base/prng.h"
#include "formats/history_io.h"
#include "formats/json_config.h"
#include "model/history_recorder.h"
#include "properties/model_walk.h"

namespace mq {
namespace {

void expect_same(const History& h, const Topology& topology, const CheckOptions& options) {
  const std::string path = ::testing::TempDir() + std::to_string(::getpid()) + "_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_stream_test.jsonl";
  ASSERT_TRUE(write_history_file(h, path).ok());
  auto reread = read_history(path);  // so that lines match
  ASSERT_TRUE(reread.ok());
  auto streamed = check_streaming(path, topology, options);
  ASSERT_TRUE(streamed.ok()) << streamed.status().to_string();
  const auto batch = check_all(*reread, topology, options);
  ASSERT_EQ(streamed->size(), batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ((*streamed)[i].property, batch[i].property);
    EXPECT_EQ((*streamed)[i].valid, batch[i].valid) << to_string(batch[i]);
    EXPECT_EQ((*streamed)[i].message, batch[i].message);
    EXPECT_EQ((*streamed)[i].witness, batch[i].witness);
  }
  std::remove(path.c_str());
}

TEST(CheckerStream, TheExampleHistoryGetsTheSameVerdicts) {
  auto h = read_history(MQ_TEST_DATA_DIR "/histories/example.jsonl");
  ASSERT_TRUE(h.ok());
  auto j = read_json_file(MQ_TEST_DATA_DIR "/histories/example.jsonl.topology.json");
  ASSERT_TRUE(j.ok());
  auto t = topology_from_json(*j, "example.jsonl.topology.json");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  for (bool complete : {false, true}) expect_same(*h, *t, CheckOptions{complete, false});
  expect_same(*h, *t, CheckOptions{true, true});
}

TEST(CheckerStream, RecordedWalksOfTheModelGetTheSameVerdicts) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Prng topo_prng(seed * 31);
    const Topology topology = seed % 2 == 0 ? default_topology() : random_topology(topo_prng);
    auto created = Model::create(topology);
    ASSERT_TRUE(created.ok());
    Model model = std::move(created).value();
    HistoryRecorder recorder(topology, "walk");
    Prng prng(seed);
    MessageId next_id = 1;
    for (int i = 0; i < 300; ++i) {
      const Op op = interpret(model, random_choice(prng, model), next_id);
      const auto result = model.apply(op);  // before model.now(): argument order is unspecified
      recorder.record(op, result, model.now());
    }
    expect_same(recorder.history(), topology, CheckOptions{seed % 3 == 0, false});
    // A broken variant: the last delivery's consumer renamed, a mismatch refinement sees.
    History broken = recorder.history();
    for (auto it = broken.events.rbegin(); it != broken.events.rend(); ++it) {
      if (it->f == EventF::kDeliver && it->type == EventType::kOk && it->attempts) {
        *it->attempts += 5;
        break;
      }
    }
    expect_same(broken, topology, CheckOptions{});
  }
}

TEST(CheckerStream, AMalformedHistoryStopsAtTheFirstBadEvent) {
  auto h = read_history(MQ_TEST_DATA_DIR "/histories/example.jsonl");
  ASSERT_TRUE(h.ok());
  Topology t;
  QueueConfig other;
  other.name = "other";
  other.capacity = 1;
  t.queues = {other};
  expect_same(*h, t, CheckOptions{});
}

}  // namespace
}  // namespace mq
