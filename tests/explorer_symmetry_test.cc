// Symmetry reduction keeps every verdict: each shipped configuration and each audit
// claim explored with and without it gives the same verdict (and, for a violation,
// the same property and counterexample length).
#include <gtest/gtest.h>

#include "explorer/audit.h"
#include "explorer/explorer.h"

namespace mq::explorer {
namespace {

// The verdict as a user reads it.
std::string verdict(const ExploreResult& r) {
  if (r.counterexample)
    return std::string("violation of ") + property_name(r.counterexample->violation.property) + " in " +
           std::to_string(r.counterexample->steps.size()) + " steps";
  if (r.lasso) return "lasso: " + r.lasso->stuck;
  return r.complete ? "proved" : "bound";
}

SearchOptions with_symmetry(bool on) {
  SearchOptions o;
  o.symmetry = on;
  o.jobs = 2;
  return o;
}

TEST(ExplorerSymmetryTest, ShippedConfigsSameVerdictWithAndWithout) {
  for (const char* name : {"explore-small.json", "explore-medium.json"}) {
    auto c = load_explore_config(std::string(MQ_SOURCE_DIR) + "/configs/" + name);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    for (const bool liveness : {false, true}) {
      ExploreConfig config = *c;
      config.liveness = liveness;
      if (liveness && config.max_time_ns > 1) continue;  // explore-medium's graph: minutes, not a unit test
      const ExploreResult on = explore(config, with_symmetry(true)),
                          off = explore(config, with_symmetry(false));
      EXPECT_EQ(verdict(on), verdict(off)) << name;
      EXPECT_EQ(verdict(on), "proved") << name;
      if (!liveness) {
        EXPECT_FALSE(on.symmetry.empty()) << name;
        EXPECT_LT(on.states, off.states) << name;
        EXPECT_GE(on.represented, off.states) << name;
      }
    }
  }
}

TEST(ExplorerSymmetryTest, AuditClaimsSameVerdictWithAndWithout) {
  for (const AuditCase& c : audit_cases()) {
    const ExploreResult on = run_audit_case(c, with_symmetry(true)),
                        off = run_audit_case(c, with_symmetry(false));
    EXPECT_EQ(verdict(on), verdict(off)) << c.claim << (c.as_stated ? " as stated" : " as repaired");
    // Variants of the model are explored without symmetry (it is not known to be
    // sound for them); the model's safety claims are reduced.
    if (!c.as_stated && !c.config.liveness) {
      EXPECT_LT(on.states, off.states) << c.claim;
    }
  }
}

}  // namespace
}  // namespace mq::explorer
