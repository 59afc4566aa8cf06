// Failure isolation (harness/isolated_run.h): a task that trips an always-on assertion
// ends only its child process; its end is that run's "assertion" verdict with the
// failed condition, and the runs beside it finish and are judged as usual. The seed
// runner of `sweep` delivers every seed, redraws its progress, and stops on request.
#include "harness/isolated_run.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "base/check.h"
#include "sim_test_util.h"

namespace mq::harness {
namespace {

TEST(IsolatedRunTest, AnAssertionIsThatRunsVerdictAndTheOthersGoOn) {
  ChildPool pool(2, 60);
  const std::string held = "events 3\nverdict 1 integrity every delivery was published\ndone\n";
  std::vector<std::pair<uint64_t, ChildEnd>> ends;
  for (uint64_t tag = 0; tag < 3; ++tag) {
    if (pool.full()) ends.push_back(pool.wait_one());
    pool.start(tag, [&, tag] {
      MQ_CHECK_MSG(tag != 1, "the test's seed 1 dies");
      return held;
    });
  }
  while (pool.running() > 0) ends.push_back(pool.wait_one());
  ASSERT_EQ(ends.size(), 3u);
  std::set<uint64_t> tags;
  for (const auto& [tag, end] : ends) {
    tags.insert(tag);
    const RunVerdict v = parse_run(end);
    if (tag == 1) {
      EXPECT_TRUE(v.died);
      EXPECT_EQ(v.failed, std::vector<std::string>{kAssertion});
      EXPECT_NE(v.first_failure.find("MQ_CHECK(tag != 1)"), std::string::npos) << v.first_failure;
      EXPECT_NE(v.first_failure.find("the test's seed 1 dies"), std::string::npos) << v.first_failure;
      EXPECT_EQ(v.messages, std::vector<std::string>{v.first_failure});
    } else {
      EXPECT_FALSE(v.caught()) << v.first_failure;
      EXPECT_EQ(v.history_events, 3u);
      EXPECT_EQ(v.verdicts.size(), 1u);
    }
  }
  EXPECT_EQ(tags, (std::set<uint64_t>{0, 1, 2}));
}

// A shrink tries every property with a point of violation, then liveness, each on its
// own; the shadow only when the shrink judges with it.
TEST(IsolatedRunTest, AShrinkTriesEachPointOfViolationAndLiveness) {
  using Names = std::vector<std::string>;
  RunVerdict v;
  v.failed = {kShadowProperty, kLivenessProperty, "duplicates", "refinement"};
  EXPECT_EQ(v.shrink_targets(true), (Names{kShadowProperty, "duplicates", "refinement", kLivenessProperty}));
  EXPECT_EQ(v.shrink_targets(false), (Names{"duplicates", "refinement", kLivenessProperty}));
  v.failed = {kShadowProperty, kLivenessProperty};
  EXPECT_EQ(v.shrink_targets(true), (Names{kShadowProperty, kLivenessProperty}));
  EXPECT_EQ(v.shrink_targets(false), (Names{kLivenessProperty}));
  v.failed = {kShadowProperty};
  EXPECT_EQ(v.shrink_targets(false), (Names{kShadowProperty}));
  v.failed = {"capacity"};
  EXPECT_EQ(v.shrink_targets(false), (Names{"capacity"}));
  v.failed = {kAssertion};
  EXPECT_EQ(v.shrink_targets(true), (Names{kAssertion}));
}

TEST(IsolatedRunTest, ARunPastItsLimitIsTheWatchdogsVerdict) {
  ChildPool pool(1, 1);
  pool.start(0, [] {
    // Bounded: the alarm ends the child after 1 s; the bound is a backstop.
    for (uint64_t i = 0; i < (uint64_t{1} << 62); ++i) asm volatile("");
    return std::string("done\n");
  });
  const RunVerdict v = parse_run(pool.wait_one().second);
  EXPECT_TRUE(v.died);
  EXPECT_EQ(v.failed, std::vector<std::string>{kWatchdog});
}

TEST(IsolatedRunTest, SeedsComeBackJudgedWithTheirFiguresAndStopEndsTheRest) {
  const sim::Scenario s = test::scenario_of(test::small_json());
  const std::vector<uint64_t> seeds{1, 2, 3};
  std::vector<RunVerdict> got(seeds.size());
  std::set<size_t> done;
  size_t ticks = 0;
  run_seeds_isolated(
      s, seeds, sim::SimOptions{}, 2, 120,
      [&](size_t i, const RunVerdict& v) {
        got[i] = v;
        done.insert(i);
      },
      [] { return false; }, [&] { ++ticks; });
  EXPECT_EQ(done.size(), seeds.size());
  EXPECT_GT(ticks, 0u);
  for (size_t i = 0; i < seeds.size(); ++i) {
    const sim::SimResult r = sim::simulate(s, seeds[i], sim::SimOptions{});
    EXPECT_FALSE(got[i].caught()) << seeds[i] << ": " << got[i].first_failure;
    EXPECT_EQ(got[i].history_events, r.history_events);
    EXPECT_EQ(got[i].confirmed, r.producers.confirmed);
    EXPECT_EQ(got[i].end_ns, r.end_ns);
    EXPECT_EQ(got[i].verdicts.size(), judge(r).size());
  }
  // A stop before the first result: no seed is reported, the children are ended.
  size_t after_stop = 0;
  run_seeds_isolated(
      s, seeds, sim::SimOptions{}, 2, 120, [&](size_t, const RunVerdict&) { ++after_stop; },
      [] { return true; });
  EXPECT_EQ(after_stop, 0u);
}

}  // namespace
}  // namespace mq::harness
