#pragma once
// The report's plan for each named fault (impl/mutant.h): which simulator scenario
// reaches it, and which deliberately broken MODEL variant (properties/
// model_variants.h), if any, is the same bug one level up, for the explorer.
//
// A fault is swept on the default scenario unless the default cannot reach it; then
// on a scenario that exercises it, named here and in docs/mutants.md.
// Thread-safety: immutable data.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "explorer/explore_config.h"
#include "impl/mutant.h"
#include "properties/model_variants.h"
#include "sim/scenario.h"

namespace mq::mutants {

struct FaultPlan {
  impl::Mutant mutant = impl::Mutant::kNone;
  std::string_view scenario = "default";  // "default", "stormy" or "bitrot"
  std::string_view why_scenario;          // when not the default: what it adds
  std::optional<Flaw> flaw;               // the model variant with the same bug
  std::string_view flaw_note;             // how close the variant is, or why there is none
};

// One plan per fault of impl::kMutants, in that order.
const std::vector<FaultPlan>& fault_plans();

// "default" (scenarios/default.json), "stormy" (scenarios/stormy.json) or "bitrot"
// (mutants/scenarios/bitrot.json: crashes, each flipping a bit of the log at rest).
Result<sim::Scenario> scenario_named(std::string_view name);

// The explorer's small configuration: one durable queue (capacity 2, 2 priority
// levels, max_retries 1, visibility timeout 1), two consumers with prefetch 1, four
// menu messages (two plain, one with TTL 1 at priority 1, one delayed by 2), time
// 0..2, nacks, one crash.
explorer::ExploreConfig explorer_config();

std::string_view stormy_scenario_text();
std::string_view bitrot_scenario_text();

}  // namespace mq::mutants
