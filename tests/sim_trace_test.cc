// Traces: an explorer counterexample written as a history (plus its topology) is
// re-executed on the real BrokerCore. A counterexample of a deliberately broken model
// diverges exactly at the step where the flaw shows (the core is correct); a trace
// of the clean model replays event for event; and the inputs read back from a trace
// are the ops that made it.

#include <gtest/gtest.h>

#include <filesystem>

#include "base/prng.h"
#include "explorer/explorer.h"
#include "formats/history_io.h"
#include "formats/json_config.h"
#include "model/model.h"
#include "properties/model_variants.h"
#include "properties/model_walk.h"
#include "sim/trace_replay.h"

namespace mq::sim {
using explorer::explore;
using explorer::ExploreConfig;
using explorer::ExploreResult;
using explorer::ExploreStep;
using explorer::load_explore_config;

namespace {

std::vector<TraceStep> steps_of(const std::vector<ExploreStep>& steps) {
  std::vector<TraceStep> out;
  for (const auto& s : steps) out.push_back({s.op, s.effects});
  return out;
}

ExploreConfig small_config() {
  auto c = load_explore_config(std::string(MQ_SOURCE_DIR) + "/configs/explore-small.json");
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  ExploreConfig config = std::move(c).value();
  config.liveness = false;
  return config;
}

// Shortest counterexample of a flawed model, replayed on the core: it diverges within
// the events of the last step (the one that violates; for a publish, its invoke agrees
// and its completion differs); everything before agrees.
void expect_divergence_at_last_step(Flaw flaw) {
  const ExploreConfig config = small_config();
  const ExploreResult r = explore(config, flawed_model(flaw));
  ASSERT_TRUE(r.counterexample.has_value()) << flaw_name(flaw);
  const auto steps = steps_of(r.counterexample->steps);
  const History trace = trace_history(config.topology, steps, "trace");
  auto ops = trace_ops(trace, config.topology);
  ASSERT_TRUE(ops.ok()) << ops.status().to_string();
  const History replayed = run_on_core(config.topology, *ops, "core");
  const TraceComparison c = compare_histories(trace, replayed);
  ASSERT_TRUE(c.diverges_at.has_value()) << flaw_name(flaw) << ": the core must not reproduce the flaw";
  // Where the last step's events begin: the events of every step before it agree.
  std::vector<TraceStep> before(steps.begin(), steps.end() - 1);
  const size_t last_step_starts = trace_history(config.topology, before, "prefix").events.size();
  EXPECT_GE(*c.diverges_at, last_step_starts) << flaw_name(flaw) << "\n  recorded: " << c.recorded
                                              << "\n  replayed: " << c.replayed;
  EXPECT_LT(*c.diverges_at, trace.events.size()) << flaw_name(flaw);
}

TEST(SimTrace, ReversedPriorityCounterexampleDivergesOnTheCore) {
  expect_divergence_at_last_step(Flaw::kReversedPriority);
}

TEST(SimTrace, OverCapacityCounterexampleDivergesOnTheCore) { expect_divergence_at_last_step(Flaw::kOverCapacity); }

TEST(SimTrace, CleanModelTraceReplaysIdentically) {
  // A long random run of the clean model (every op kind, crashes included).
  const ExploreConfig config = small_config();
  const Topology& t = config.topology;
  auto created = Model::create(t);
  ASSERT_TRUE(created.ok());
  Model m = std::move(created).value();
  Model* model = &m;
  Prng prng(42);
  MessageId next_id = 1;
  std::vector<TraceStep> steps;
  for (int i = 0; i < 3000; ++i) {
    const Op o = interpret(*model, random_choice(prng, *model), next_id);
    Result<Effects> fx = apply_model(*model, o);
    if (!fx.ok()) continue;  // bad inputs leave traces only as fails; keep to what happened
    steps.push_back({o, std::move(fx)});
  }
  const History trace = trace_history(t, steps, "trace");
  ASSERT_GT(trace.events.size(), 1000u);
  auto ops = trace_ops(trace, t);
  ASSERT_TRUE(ops.ok()) << ops.status().to_string();
  const TraceComparison c = compare_histories(trace, run_on_core(t, *ops, "core"));
  // Also left in the temp directory, as the corpus's clean trace was made.
  const std::string path = (std::filesystem::temp_directory_path() / "mq_sim_clean_trace.jsonl").string();
  EXPECT_TRUE(write_trace(path, t, std::vector<TraceStep>(steps.begin(), steps.begin() + 200)).ok());
  EXPECT_FALSE(c.diverges_at.has_value()) << "event " << *c.diverges_at << "\n  recorded: " << c.recorded
                                          << "\n  replayed: " << c.replayed;
}

TEST(SimTrace, WrittenTraceReadsBackAndReplays) {
  const ExploreConfig config = small_config();
  const ExploreResult r = explore(config, flawed_model(Flaw::kReversedPriority));
  ASSERT_TRUE(r.counterexample.has_value());
  const std::string path = (std::filesystem::temp_directory_path() / "mq_sim_trace_test.jsonl").string();
  ASSERT_TRUE(write_trace(path, config.topology, steps_of(r.counterexample->steps)).ok());
  auto read = read_history(path);
  ASSERT_TRUE(read.ok()) << read.status().to_string();
  auto j = read_json_file(path + ".topology.json");
  ASSERT_TRUE(j.ok());
  auto topology = topology_from_json(*j, path);
  ASSERT_TRUE(topology.ok());
  auto ops = trace_ops(*read, *topology);
  ASSERT_TRUE(ops.ok());
  EXPECT_TRUE(compare_histories(*read, run_on_core(*topology, *ops, "core")).diverges_at.has_value());
}

}  // namespace
}  // namespace mq::sim
