// The shadow model catches a wrong effect at the step where it happens: a test hook
// in the simulator (not in impl/) alters one effect the core reported, and the
// divergence names that step, the command, and both answers.

#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace mq::sim {
namespace {

TEST(SimShadow, CleanRunAgreesStepByStep) {
  const SimResult r = simulate(default_scenario(), 8);
  EXPECT_FALSE(r.divergence.has_value());
  EXPECT_GT(r.shadow_steps, 1000u);
}

TEST(SimShadow, WrongEffectIsCaughtAtItsStep) {
  SimOptions o;
  o.corrupt_step = 500;
  const SimResult r = simulate(default_scenario(), 8, o);
  ASSERT_TRUE(r.divergence.has_value());
  // The hook alters the first command with effects from step 500 on; the shadow
  // compares every step, so it reports that very one.
  EXPECT_GE(r.divergence->step, 500u);
  EXPECT_LT(r.divergence->step, 600u);
  EXPECT_NE(r.divergence->to_string().find("model:"), std::string::npos);
  EXPECT_NE(r.divergence->model, r.divergence->core);
}

TEST(SimShadow, WithoutShadowNothingIsCompared) {
  SimOptions o;
  o.shadow = false;
  o.corrupt_step = 10;
  const SimResult r = simulate(default_scenario(), 8, o);
  EXPECT_FALSE(r.divergence.has_value());
  EXPECT_EQ(r.shadow_steps, 0u);
}

}  // namespace
}  // namespace mq::sim
