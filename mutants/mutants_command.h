#pragma once
// `mqharness-mutants`: the report that proves the harness has teeth (docs/mutants.md).
// For each named fault of impl/mutant.h (or the one given with --only): sweep seeds of
// the scenario that reaches it until the first violation, then on until the checkers
// alone (without the shadow model) see it too; shrink the first failing run to a
// minimal reproducer; and run the explorer on the matching broken MODEL variant.
// A control sweep of the same build with no fault selected comes first: a fault is
// only "caught" where the clean broker passes.
//
// Exit status: 0 every fault caught, by a property other than the shadow too, with a
// reproducer within --events-bar, and the control clean; 1 otherwise; 2 bad input
// (an option that does not go with the mode given, a file that cannot be read or
// written: each refused before any work). With --run: 0 every property held, 1 a
// violation. With --replay: as `replay` (apps/sim_commands.h). With --json the report
// is the object "mqharness_mutants_report" (apps/json_output.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apps/sim_commands.h"
#include "sim/shrink.h"

namespace CLI { class App; }

namespace mq::mutants {

struct MutantsOptions {
  std::string seeds = "1..200";         // 'A..B' or 'N' (= 1..N)
  std::string out = "docs/mutants.md";  // '' or '-': no file
  std::vector<std::string> only;        // fault names; empty: all
  uint32_t shrink_runs = sim::kDefaultShrinkRuns;  // per fault
  uint64_t events_bar = 20;             // a reproducer longer than this fails the report; 0: not judged
  unsigned run_limit_s = 60;            // one run longer than this is killed (watchdog)
  uint64_t clean_seeds = 50;            // the control sweep
  bool explore = true;
  std::string clean_log;                // a `mqharness sweep` output to embed in the report
  std::string command_line;             // for the report's header
  // Reproduce instead of reporting: run this seed of the --only fault's scenario once,
  // in this process, with these overrides (JSON as the report prints them); print the
  // verdicts and write the history to `history` if set.
  std::optional<uint64_t> run_seed;
  std::string overrides;
  std::string history;
  // With --run: an HTML report of the run (report/report.h) and its Chrome trace.
  std::string report;
  std::string trace;
  // Write the shrunk run (history + FILE.run.json) here; replay it with `replay`.
  std::string reproducer;
  // Re-execute a run file (a --reproducer's, or `run --history`'s of this build) with
  // the fault it records: `replay` (apps/sim_commands.h).
  std::string replay;
  std::string program = "build/mutants/mqharness-mutants";  // absolute: reproduce lines name it
};

void add_mutants_options(CLI::App& app, MutantsOptions& options);
// `sim`: the simulator's commands of this build (their reproduce lines, --replay).
int run_mutants(const MutantsOptions& options, const app::SimCommandOptions& sim);

}  // namespace mq::mutants
