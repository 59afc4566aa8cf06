// The checkers against the deliberately broken models of properties/model_variants.h: a recorded
// random walk of each broken model must fail the history checker written for the
// promise it breaks. This is the end-to-end proof that a checker can see its bug in a
// history, not only in a hand-written one.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "properties/model_variants.h"
#include "model/history_recorder.h"
#include "properties/checkers/check_all.h"

namespace mq {
namespace {

using mq::Flaw;

// The properties of every failing verdict of a recorded walk of `apply`.
std::set<std::string> failing(const Topology& topology, uint64_t seed, uint64_t steps, const ApplyFn& apply,
                              bool complete) {
  auto created = Model::create(topology);
  MQ_CHECK(created.ok());
  Model model = std::move(created).value();
  HistoryRecorder recorder(topology);
  Prng prng(seed);
  MessageId next_id = 1;
  for (uint64_t i = 0; i < steps; ++i) {
    const Op op = interpret(model, random_choice(prng, model), next_id);
    const Result<Effects> result = apply(model, op);
    recorder.record(op, result, model.now());
  }
  std::set<std::string> out;
  for (const auto& v : check_all(recorder.history(), topology, CheckOptions{.complete = complete})) {
    if (!v.valid) out.insert(v.property);
    // MQ_SHOW_VERDICTS=1 prints every failing verdict with its witness.
    if (!v.valid && std::getenv("MQ_SHOW_VERDICTS") != nullptr) {
      std::fprintf(stderr, "seed %llu: %s", static_cast<unsigned long long>(seed), to_string(v).c_str());
    }
  }
  return out;
}

struct Case {
  Flaw flaw;
  std::set<std::string> expected;  // the checkers that may see it first
};

constexpr uint64_t kSeeds = 60;

class CheckerBrokenModel : public ::testing::TestWithParam<Case> {};

TEST_P(CheckerBrokenModel, SomeWalkFailsTheCheckerForTheBrokenPromise) {
  const Case& c = GetParam();
  std::set<std::string> seen;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Prng topo_prng(seed * 7919);
    const Topology topology = seed % 2 == 0 ? default_topology() : random_topology(topo_prng);
    for (const auto& p : failing(topology, seed, 400, flawed_model(c.flaw), false)) seen.insert(p);
  }
  std::string names;
  for (const auto& s : seen) names += s + " ";
  ASSERT_FALSE(seen.empty()) << flaw_name(c.flaw) << ": no checker saw it in 60 walks";
  bool expected_seen = false;
  for (const auto& s : seen) expected_seen = expected_seen || c.expected.contains(s);
  EXPECT_TRUE(expected_seen) << flaw_name(c.flaw) << " seen only by: " << names;
}

INSTANTIATE_TEST_SUITE_P(
    Flaws, CheckerBrokenModel,
    ::testing::Values(Case{Flaw::kSeedDropWhenFull, {"no-loss", "capacity"}},
                      Case{Flaw::kOverCapacity, {"capacity"}},
                      Case{Flaw::kFifoSwap, {"order"}},
                      Case{Flaw::kReversedPriority, {"priority"}},
                      Case{Flaw::kRoundRobinSkip, {"load-balance"}},
                      Case{Flaw::kSilentLoss, {"no-loss"}},
                      Case{Flaw::kTtlOffByOne, {"ttl-delay"}},
                      Case{Flaw::kEarlyDelay, {"ttl-delay"}},
                      Case{Flaw::kForgetAcked, {"duplicates", "no-loss", "integrity"}},
                      Case{Flaw::kDurableLoss, {"no-loss"}},
                      Case{Flaw::kParkedRedelivery, {"no-loss"}}),
    [](const ::testing::TestParamInfo<Case>& param) { return flaw_name(param.param.flaw); });

}  // namespace
}  // namespace mq
