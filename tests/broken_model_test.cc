// Each property's failing twin: a model broken in exactly one way, walked with only
// that property enabled, must be caught. A property that passes these vacuously
// would pass the clean model vacuously too.
#include <gtest/gtest.h>

#include <cstdio>

#include "properties/model_variants.h"

namespace mq {
namespace {

struct Twin {
  Flaw flaw;
  ModelProperty property;
  bool random_topologies;  // some flaws need shapes the default topology lacks
};

class BrokenModelTest : public ::testing::TestWithParam<Twin> {};

// Walks seeds 1..kSeeds; returns the first seed whose walk the property rejects.
std::optional<WalkReport> first_catch(const Twin& twin) {
  constexpr uint64_t kSeeds = 200;
  constexpr uint64_t kSteps = 400;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Prng prng(derive_seed(seed, "topology"));
    const Topology t = twin.random_topologies ? random_topology(prng) : default_topology();
    WalkReport r =
        random_walk(t, seed, kSteps, WalkSetup{flawed_model(twin.flaw), bit(twin.property), false});
    if (!r.violations.empty()) return r;
  }
  return std::nullopt;
}

TEST_P(BrokenModelTest, PropertyCatchesFlaw) {
  const Twin twin = GetParam();
  const auto caught = first_catch(twin);
  ASSERT_TRUE(caught.has_value()) << property_name(twin.property) << " missed " << flaw_name(twin.flaw);
  EXPECT_EQ(caught->violations.front().property, twin.property);
  EXPECT_FALSE(caught->violations.front().message.empty());
  std::printf("  %s caught by %s at seed %llu step %llu: %s\n", flaw_name(twin.flaw),
              property_name(twin.property), static_cast<unsigned long long>(caught->seed),
              static_cast<unsigned long long>(caught->violation_step),
              caught->violations.front().message.c_str());
}

TEST_P(BrokenModelTest, CleanModelPassesTheSameWalks) {
  const Twin twin = GetParam();
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    Prng prng(derive_seed(seed, "topology"));
    const Topology t = twin.random_topologies ? random_topology(prng) : default_topology();
    const WalkReport r = random_walk(t, seed, 400, WalkSetup{apply_model, bit(twin.property), false});
    ASSERT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front().message;
  }
}

INSTANTIATE_TEST_SUITE_P(Twins, BrokenModelTest,
                         ::testing::Values(Twin{Flaw::kSeedDropWhenFull, ModelProperty::kCapacity, false},
                                           Twin{Flaw::kOverCapacity, ModelProperty::kCapacity, false},
                                           Twin{Flaw::kOverCapacity, ModelProperty::kConservation, false},
                                           Twin{Flaw::kFifoSwap, ModelProperty::kFifo, false},
                                           Twin{Flaw::kReversedPriority, ModelProperty::kPriority, false},
                                           Twin{Flaw::kRoundRobinSkip, ModelProperty::kRoundRobin, false},
                                           Twin{Flaw::kSilentLoss, ModelProperty::kNoLoss, false},
                                           Twin{Flaw::kDurableLoss, ModelProperty::kNoLoss, false},
                                           Twin{Flaw::kTtlOffByOne, ModelProperty::kTtlDelay, true},
                                           Twin{Flaw::kEarlyDelay, ModelProperty::kTtlDelay, false},
                                           Twin{Flaw::kForgetAcked, ModelProperty::kConservation, false},
                                           Twin{Flaw::kParkedRedelivery, ModelProperty::kLiveness, false}),
                         [](const ::testing::TestParamInfo<Twin>& param) {
                           return std::string(flaw_name(param.param.flaw)) + "_" + property_name(param.param.property);
                         });

}  // namespace
}  // namespace mq
