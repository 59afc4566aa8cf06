// The explorer: state counts of tiny configurations checked against hand counts,
// shortest counterexamples for models broken in one way each, the liveness lasso,
// and the configuration reader's errors.
#include "explorer/explorer.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <variant>

#include "explorer/search_node.h"
#include "properties/model_variants.h"

namespace mq::explorer {
namespace {

// One queue "q" (capacity, levels), one manual consumer with prefetch 1, and the
// given messages; no fetch, no nacks, no crashes, no consumer faults unless set.
ExploreConfig tiny(uint32_t capacity, uint32_t levels, std::vector<MessageSpec> messages) {
  ExploreConfig c;
  QueueConfig q;
  q.name = "q";
  q.capacity = capacity;
  q.priority_levels = levels;
  q.max_retries = 0;
  c.topology.queues = {q};
  c.topology.consumers = {{"c0", "q", 1, AckMode::kManual}};
  c.topology.producers = {{"p0"}};
  for (auto& m : messages) c.messages.push_back({QueueId{0}, std::nullopt, m});
  c.fetch = false;
  c.nacks = false;
  return c;
}

MessageSpec msg(Priority p = 0, TimeNs ttl = 0, TimeNs delay = 0) {
  MessageSpec s;
  s.priority = p;
  s.ttl_ns = ttl;
  s.delay_ns = delay;
  return s;
}

// The explorer offers every operation the model takes, given the options that enable
// them: a new kind of Op fails here until candidate_ops() offers it.
TEST(ExplorerTest, EveryKindOfOperationIsACandidate) {
  ExploreConfig c = tiny(2, 1, {msg(), msg()});
  c.topology.topics = {{"t", {"q"}}};
  c.messages[1] = {std::nullopt, TopicId{0}, msg()};
  c.messages[0].spec.id = 1;
  c.messages[1].spec.id = 2;
  c.max_time_ns = 1;
  c.max_crashes = 1;
  c.fetch = c.nacks = c.consumer_faults = true;
  const Model start = Model::create(c.topology).value();
  std::vector<SearchNode> frontier = {SearchNode{start, ModelProperties(start), 0, 0}};
  std::set<size_t> kinds;
  for (int depth = 0; depth < 6 && !frontier.empty(); ++depth) {
    std::vector<SearchNode> next;
    for (const SearchNode& node : frontier) {
      for (const Op& op : candidate_ops(node, c)) {
        kinds.insert(op.index());
        Successor s = successor(node, op, apply_model);
        if (s.changed && next.size() < 2'000) next.push_back(std::move(s.node));
      }
    }
    frontier = std::move(next);
  }
  EXPECT_EQ(kinds.size(), std::variant_size_v<Op>);
}

TEST(ExplorerTest, OneMessageSendDispatchAck) {
  // unsent -> ready -> in flight -> acked: 4 states, 3 transitions, depth 3.
  const ExploreResult r = explore(tiny(1, 1, {msg()}));
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.states, 4u);
  EXPECT_EQ(r.transitions, 3u);
  EXPECT_EQ(r.max_depth, 3u);
  EXPECT_FALSE(r.counterexample.has_value());
  EXPECT_TRUE(r.liveness_checked);
  EXPECT_FALSE(r.lasso.has_value());
}

TEST(ExplorerTest, NacksAddOneDeadLetteredState) {
  // With max_retries 0 a nack with or without requeue dead-letters: the 4 states
  // above plus "dead-lettered"; both nacks lead to that same state.
  ExploreConfig c = tiny(1, 1, {msg()});
  c.nacks = true;
  const ExploreResult r = explore(c);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.states, 5u);
  EXPECT_EQ(r.transitions, 5u);
}

TEST(ExplorerTest, TtlAndOneClockTick) {
  // One message with ttl 1, time 0..1. By hand (t = time, state of the message):
  //  t0 unsent, t1 unsent, t0 ready, t1 ready (sent at 1), t1 expired (sent at 0),
  //  t0 in flight, t1 in flight (sent at 0), t1 in flight (sent at 1),
  //  t0 acked, t1 acked (finished records keep only id and fate, so every way to
  //  "acked at t1" is one state). That is 10.
  ExploreConfig c = tiny(1, 1, {msg(0, /*ttl=*/1)});
  c.max_time_ns = 1;
  const ExploreResult r = explore(c);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.states, 10u);
}

TEST(ExplorerTest, BoundIsReportedNotProved) {
  ExploreConfig c = tiny(2, 2, {msg(0), msg(1), msg(0, 2)});
  c.max_time_ns = 3;
  c.max_states = 50;
  const ExploreResult r = explore(c);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.bound_hit, "max_states 50");
  EXPECT_FALSE(r.liveness_checked);
}

TEST(ExplorerTest, DeterministicAcrossRuns) {
  ExploreConfig c = tiny(2, 2, {msg(0), msg(1), msg(0, 2)});
  c.max_time_ns = 2;
  c.nacks = true;
  c.max_crashes = 1;
  const ExploreResult a = explore(c), b = explore(c);
  EXPECT_EQ(a.states, b.states);
  EXPECT_EQ(a.transitions, b.transitions);
  EXPECT_EQ(a.state_bytes, b.state_bytes);
}

struct ShortestCase {
  Flaw flaw;
  ModelProperty property;
  size_t steps;  // length of the shortest counterexample, by hand
};

class ExplorerFindsFlaw : public ::testing::TestWithParam<ShortestCase> {};

TEST_P(ExplorerFindsFlaw, ShortestCounterexample) {
  const ShortestCase k = GetParam();
  // Capacity 1 with two messages of different priorities, one of them with ttl 1
  // and one delayed by 1: small enough to search in a moment, rich enough for
  // every flaw below.
  ExploreConfig c = tiny(2, 2, {msg(0), msg(0), msg(1, /*ttl=*/1), msg(0, 0, /*delay=*/2)});
  c.max_time_ns = 2;
  c.nacks = true;
  c.max_crashes = 1;
  c.topology.queues[0].durable = true;
  c.properties = bit(k.property);
  const ExploreResult r = explore(c, flawed_model(k.flaw));
  ASSERT_TRUE(r.counterexample.has_value()) << flaw_name(k.flaw);
  EXPECT_EQ(r.counterexample->violation.property, k.property);
  EXPECT_EQ(r.counterexample->steps.size(), k.steps) << format_steps(r.counterexample->steps);
}

INSTANTIATE_TEST_SUITE_P(Flaws, ExplorerFindsFlaw,
                         ::testing::Values(
                             // send, send, send (the third finds the queue full and is "accepted")
                             ShortestCase{Flaw::kSeedDropWhenFull, ModelProperty::kCapacity, 3},
                             // send, send, dispatch (the second message goes first)
                             ShortestCase{Flaw::kFifoSwap, ModelProperty::kFifo, 3},
                             // send p0, send p1, dispatch (p0 goes first)
                             ShortestCase{Flaw::kReversedPriority, ModelProperty::kPriority, 3},
                             // send (ttl 1), advance to 1 (not expired), dispatch (delivered expired)
                             ShortestCase{Flaw::kTtlOffByOne, ModelProperty::kTtlDelay, 3},
                             // send (delay 2): ready at once, dispatch delivers it at time 0
                             ShortestCase{Flaw::kEarlyDelay, ModelProperty::kTtlDelay, 2},
                             // send, crash: the durable queue loses it
                             ShortestCase{Flaw::kDurableLoss, ModelProperty::kNoLoss, 2},
                             // send, dispatch, ack: the ack forgets the finished record
                             ShortestCase{Flaw::kForgetAcked, ModelProperty::kConservation, 3}),
                         [](const ::testing::TestParamInfo<ShortestCase>& p) {
                           return flaw_name(p.param.flaw);
                         });

TEST(ExplorerTest, CleanModelProvesTheSameConfiguration) {
  ExploreConfig c = tiny(2, 2, {msg(0), msg(0), msg(1, 1), msg(0, 0, 2)});
  c.max_time_ns = 2;
  c.nacks = true;
  c.max_crashes = 1;
  c.topology.queues[0].durable = true;
  const ExploreResult r = explore(c);
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.counterexample.has_value()) << format_steps(r.counterexample->steps);
  EXPECT_FALSE(r.lasso.has_value());
}

// A drop-oldest queue makes room for a send by dropping its oldest message. The
// packed state space has no place for that fate, so the model's own code explores it;
// before, the packed space ran the queue as a rejecting one and reported PROVED for
// states it never reached, and the capacity property called the drop's accept an
// overflow.
TEST(ExplorerTest, ADropOldestQueueIsExploredWithItsDrops) {
  ExploreConfig reject = tiny(1, 1, {msg(), msg()});
  ExploreConfig drop = reject;
  drop.topology.queues[0].overflow = Overflow::kDropOldest;
  const ExploreResult r = explore(reject);
  const ExploreResult d = explore(drop);
  EXPECT_TRUE(d.complete);
  EXPECT_FALSE(d.counterexample.has_value()) << format_steps(d.counterexample->steps);
  EXPECT_EQ(d.engine, "reference (a drop-oldest queue)");
  // The states where the second send dropped the first are new: with reject, the
  // second send is refused instead.
  EXPECT_GT(d.states, r.states);
  // The capacity property still holds a drop-oldest queue to its bound: a variant
  // that accepts over capacity without dropping is caught.
  drop.properties = bit(ModelProperty::kCapacity);
  const ExploreResult f = explore(drop, flawed_model(Flaw::kSeedDropWhenFull));
  ASSERT_TRUE(f.counterexample.has_value());
  EXPECT_EQ(f.counterexample->violation.property, ModelProperty::kCapacity);
}

// A search node keeps everything a later step depends on: a dropped message's fate
// (which needs a third bit beside its id) and an idempotency window's ids.
TEST(ExplorerTest, ASearchNodeKeepsDropsAndWindowsAcrossEncoding) {
  ExploreConfig c = tiny(1, 1, {});
  c.topology.queues[0].overflow = Overflow::kDropOldest;
  c.topology.queues[0].dedup_window_ids = 4;
  Model m = Model::create(c.topology).value();
  MessageSpec a = msg(), b = msg();
  a.id = 1;
  b.id = 2;
  ASSERT_TRUE(m.apply(op::Send{0, 0, a}).ok());
  ASSERT_TRUE(m.apply(op::Send{0, 0, b}).ok());  // drops #1
  ASSERT_EQ(m.state().queues[0].finished.size(), 1u);
  ASSERT_EQ(m.state().queues[0].finished[0].fate, Fate::kDropped);
  ASSERT_EQ(m.state().queues[0].window.size(), 2u);
  const ModelProperties blank(m);
  std::string bytes;
  encode(SearchNode{m, blank, 0, 0}, bytes);
  const SearchNode back = decode(m.wiring(), blank, bytes);
  EXPECT_EQ(back.model.state(), m.state());
}

TEST(ExplorerTest, BoundedRetriesHaveNoLasso) {
  ExploreConfig c = tiny(1, 1, {msg()});
  c.nacks = true;
  c.topology.queues[0].max_retries = 2;
  const ExploreResult r = explore(c);
  EXPECT_TRUE(r.liveness_checked);
  EXPECT_FALSE(r.lasso.has_value());
}

TEST(ExplorerTest, UnboundedRetriesGiveALasso) {
  // Retries that never run out: deliver, nack-requeue, deliver, ... forever. The
  // clock is at its bound, so no fair action leaves the cycle.
  ExploreConfig c = tiny(1, 1, {msg()});
  c.nacks = true;
  c.topology.queues[0].max_retries = 1;  // with 0, the first nack dead-letters
  const ExploreResult r = explore(c, flawed_model(Flaw::kUnboundedRetries));
  ASSERT_TRUE(r.lasso.has_value());
  EXPECT_EQ(r.lasso->stuck, "queue 'q' #1");
  // prefix: send, dispatch; cycle: nack requeue, dispatch (back to the same state).
  EXPECT_EQ(r.lasso->prefix.size() + r.lasso->cycle.size(), 4u) << "prefix\n"
                                                                << format_steps(r.lasso->prefix) << "cycle\n"
                                                                << format_steps(r.lasso->cycle);
  EXPECT_GE(r.lasso->cycle.size(), 2u);
}

TEST(ExplorerTest, ConfigErrorsNameFileAndField) {
  const auto bad_json = explore_config_from_json_text("{\"topology\": {\n  \"queues\": [}", "x.json");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("x.json:2:"), std::string::npos) << bad_json.status().message();
  const auto bad_field =
      explore_config_from_json_text(R"({"topology": {"queues": [{"name": "q", "capacity": 0}]}})", "y.json");
  ASSERT_FALSE(bad_field.ok());
  EXPECT_NE(bad_field.status().message().find("y.json: queue 'q': capacity must be > 0"), std::string::npos)
      << bad_field.status().message();
  const auto unknown = explore_config_from_json_text(
      R"({"topology": {"queues": [{"name": "q", "capacity": 1}]}, "max_tme_ns": 3})", "z.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("z.json: /max_tme_ns: unknown field"), std::string::npos)
      << unknown.status().message();
  const auto bad_msg = explore_config_from_json_text(
      R"({"topology": {"queues": [{"name": "q", "capacity": 1}]}, "messages": [{"queue": "nope"}]})",
      "w.json");
  ASSERT_FALSE(bad_msg.ok());
  EXPECT_NE(bad_msg.status().message().find("w.json: /messages/0/queue: unknown queue 'nope'"),
            std::string::npos)
      << bad_msg.status().message();
  const auto missing = load_explore_config("/nonexistent/explore.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "/nonexistent/explore.json: no such file");
}

SearchOptions jobs(uint32_t n) {
  SearchOptions o;
  o.jobs = n;
  return o;
}

// The state numbering, every count, the bound's cut and the counterexample do not
// depend on the number of threads or their timing: windows are merged in order.
TEST(ExplorerTest, CounterexamplesAreTheSameOnOneAndTwoThreads) {
  ExploreConfig c = tiny(2, 2, {msg(0), msg(0), msg(1, /*ttl=*/1), msg(0, 0, /*delay=*/2)});
  c.max_time_ns = 2;
  c.nacks = true;
  c.max_crashes = 1;
  c.fetch = true;
  c.topology.queues[0].durable = true;
  c.topology.consumers.push_back({"c1", "q", 1, AckMode::kManual});
  c.max_states = 20'000;  // flaws caught late would otherwise explore everything, slowly
  int caught = 0;
  for (int f = 0; f < kFlawCount; ++f) {
    const auto flaw = static_cast<Flaw>(f);
    const ExploreResult one = explore(c, flawed_model(flaw), {}, jobs(1));
    caught += one.counterexample || one.lasso;
    for (int round = 0; round < 2; ++round) {  // timing differs from run to run
      const ExploreResult two = explore(c, flawed_model(flaw), {}, jobs(2));
      EXPECT_EQ(one.states, two.states) << flaw_name(flaw);
      EXPECT_EQ(one.transitions, two.transitions) << flaw_name(flaw);
      ASSERT_EQ(one.counterexample.has_value(), two.counterexample.has_value()) << flaw_name(flaw);
      ASSERT_EQ(one.lasso.has_value(), two.lasso.has_value()) << flaw_name(flaw);
      if (one.counterexample) {
        EXPECT_EQ(one.counterexample->violation.message, two.counterexample->violation.message);
        EXPECT_EQ(format_steps(one.counterexample->steps), format_steps(two.counterexample->steps))
            << flaw_name(flaw);
      }
      if (one.lasso) {
        EXPECT_EQ(format_steps(one.lasso->prefix), format_steps(two.lasso->prefix)) << flaw_name(flaw);
        EXPECT_EQ(format_steps(one.lasso->cycle), format_steps(two.lasso->cycle)) << flaw_name(flaw);
      }
    }
  }
  EXPECT_GE(caught, kFlawCount - 2);
}

TEST(ExplorerTest, PackedSearchIsTheSameOnOneAndTwoThreads) {
  auto loaded = load_explore_config(std::string(MQ_SOURCE_DIR) + "/configs/explore-small.json");
  ASSERT_TRUE(loaded.ok());
  ExploreConfig c = *loaded;
  c.liveness = false;
  for (const uint64_t bound : {uint64_t{40'000}, uint64_t{20'000'000}}) {
    c.max_states = bound;
    const ExploreResult one = explore(c, jobs(1)), two = explore(c, jobs(2));
    EXPECT_EQ(one.states, two.states);
    EXPECT_EQ(one.transitions, two.transitions);
    EXPECT_EQ(one.max_depth, two.max_depth);
    EXPECT_EQ(one.bound_hit, two.bound_hit);
    EXPECT_EQ(one.represented, two.represented);
  }
}

TEST(ExplorerTest, StateBoundIsExactAndReported) {
  ExploreConfig c = tiny(2, 2, {msg(0), msg(1), msg(0, 2)});
  c.max_time_ns = 3;
  c.max_states = 50;
  const ExploreResult packed = explore(c);
  SearchOptions reference;
  reference.reference = true;
  const ExploreResult ref = explore(c, reference);
  EXPECT_EQ(packed.bound, Bound::kStates);
  // The search stops before the first state expanded at or past the bound: the same
  // cut in both state spaces, whatever the windows.
  EXPECT_EQ(packed.states, ref.states);
  EXPECT_EQ(packed.transitions, ref.transitions);
  EXPECT_GE(packed.states, 50u);
}

TEST(ExplorerTest, MemoryBoundStopsCleanly) {
  ExploreConfig c = tiny(2, 2, {msg(0), msg(1), msg(0, 2)});
  c.max_time_ns = 3;
  c.max_memory_bytes = 1;
  const ExploreResult r = explore(c);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.bound, Bound::kMemory);
  EXPECT_EQ(r.bound_hit, "max_memory_bytes 1");
  EXPECT_FALSE(r.counterexample.has_value());
}

// The command's exit statuses: 0 proved, 1 violated (see sim_trace_test for a
// counterexample written by explore), 2 bad input, 3 a bound without a verdict.
int run(const std::string& args, std::string* out = nullptr) {
  const std::string file = ::testing::TempDir() + "explore_exit_" + std::to_string(getpid()) + ".txt";
  const int status =
      std::system((std::string(MQ_HARNESS_BIN) + " explore " + args + " > " + file + " 2>&1").c_str());
  if (out) {
    std::ifstream in(file);
    out->assign(std::istreambuf_iterator<char>(in), {});
  }
  std::remove(file.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ExplorerTest, ExitStatusesDistinguishProvedBoundedAndBadInput) {
  const std::string config = std::string(MQ_SOURCE_DIR) + "/configs/explore-small.json";
  std::string out;
  EXPECT_EQ(run("--config " + config + " --no-liveness --max-states 1000", &out), 3) << out;
  EXPECT_NE(out.find("NO VIOLATION up to "), std::string::npos) << out;
  EXPECT_NE(out.find("(state bound: max_states 1000)"), std::string::npos) << out;
  EXPECT_EQ(run("--config " + config + " --no-liveness --max-memory 64K", &out), 3) << out;
  EXPECT_NE(out.find("(memory bound: max_memory_bytes 65536)"), std::string::npos) << out;
  EXPECT_EQ(run("--config " + config + " --max-memory lots", &out), 2) << out;
  EXPECT_EQ(run("--config /nonexistent.json", &out), 2) << out;
}

TEST(ExplorerTest, ShippedConfigLoads) {
  const auto c = load_explore_config(std::string(MQ_SOURCE_DIR) + "/configs/explore-small.json");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->messages.size(), 3u);
}

}  // namespace
}  // namespace mq::explorer
