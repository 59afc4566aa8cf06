#pragma once
// The verdict of one simulator run: what `mqharness run` prints, what a sweep's
// seed, a shrink candidate and the mutants report are judged by, and what the
// simulator tests require to hold. Stated here once.
//
// In order: the shadow model's comparison, liveness (or why it was not judged: the
// run stopped at a detected disk fault, at a failed recovery, or was cut short),
// "disk" when a bit flipped at rest was detected, then check_all's verdicts on the
// history, with the topology the run used (result.scenario's) and completeness
// judged when the run reached quiescence.
// Thread-safety: a pure function.

#include <string>
#include <vector>

#include "properties/checkers/verdict.h"
#include "sim/simulator.h"

namespace mq::harness {

// The pseudo-properties a run's verdict adds to check_all's.
inline constexpr const char* kShadowProperty = "shadow";
inline constexpr const char* kLivenessProperty = "liveness";
inline constexpr const char* kDiskProperty = "disk";
// A run that died on an always-on assertion, or ran past its time limit
// (harness/isolated_run.h).
inline constexpr const char* kAssertion = "assertion";
inline constexpr const char* kWatchdog = "watchdog";

std::vector<Verdict> judge(const sim::SimResult& result);

// Every property judge() can report, in its order (a sweep's table lists them so).
const std::vector<std::string>& judged_properties();

}  // namespace mq::harness
