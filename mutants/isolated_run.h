#pragma once
// run_isolated(): one simulator run of the mutant build, judged by the shadow model,
// the liveness verdict and every checker (the verdicts `mqharness run` gives), in a
// child process. A fault may break an invariant that MQ_CHECK guards (the broker's
// or the simulator's own assertions, which stay on in every build): the child then
// aborts, and that is reported as the pseudo-property "assertion" with the failed
// condition, instead of taking the report down with it. A run that exceeds its time
// limit is killed and reported as "watchdog".
//
// REQUIRES: the fault to test is selected (impl::select_mutant) before the call; the
// child inherits the selection. Not to be called from several threads at once
// (fork in a multi-threaded process); one call at a time.

#include <cstdint>
#include <string>
#include <vector>

#include "properties/checkers/verdict.h"
#include "sim/scenario.h"
#include "sim/simulator.h"
#include "sim/sim_params.h"

namespace mq::mutants {

inline constexpr const char* kAssertion = "assertion";
inline constexpr const char* kWatchdog = "watchdog";

struct RunVerdict {
  std::vector<std::string> failed;  // properties that failed, in the report's order; empty: all held
  std::string first_failure;        // the first failure's message, one line
  uint64_t history_events = 0;      // 0 when the child did not finish
  uint64_t violation_events = 0;    // the history up to the shadow's divergence; 0: none or unknown
  bool corruption_detected = false; // recovery found the log corrupt (a fault detected, not a violation)
  bool caught() const { return !failed.empty(); }
  // Whether some property other than the shadow comparison failed: the history
  // alone (checkers, liveness) or an assertion shows the bug.
  bool caught_without_shadow() const;
};

// The verdicts `mqharness run` gives (apps/sim_commands.cc): the shadow's, liveness,
// then check_all's.
std::vector<Verdict> judge(const sim::Scenario& scenario, const sim::SimResult& result);

// `stop_after_events`: SimOptions::stop_after_events (0: the whole run).
RunVerdict run_isolated(const sim::Scenario& scenario, uint64_t seed, const sim::SimOverrides& overrides,
                        unsigned time_limit_s, uint64_t stop_after_events = 0);

}  // namespace mq::mutants
