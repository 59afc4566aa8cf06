#pragma once
// The simulator's commands (docs/simulator.md):
//   run     one seed of a scenario: derived parameters first, the verdict last, and
//           on failure the one line that reproduces it;
//   sweep   many seeds, each in its own child process, --jobs at a time (each run
//           independent and deterministic; one that dies on an assertion is that seed's
//           violation "assertion" and the sweep goes on),
//           summary per property; --shard i/n, --out DIR and --merge to spread a
//           sweep over processes and machines (apps/sweep_summary.h);
//   replay  re-executes a recorded run and confirms it event for event;
//   shrink  makes a failing run smaller while it keeps failing the same property (each
//           candidate in a child process: one that dies is judged as "assertion").
// Exit status: 0 all properties held, 1 a violation (or a replay that diverged),
// 2 bad input (a scenario or replay file that cannot be read; shards that do not
// make one sweep), 3 a merge with shards missing (no verdict).

#include <cstdint>
#include <string>
#include <vector>

#include "apps/report_output.h"
#include "base/status.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace CLI { class App; }

namespace mq::app {

struct SimCommandOptions {
  std::string scenario;  // empty: the built-in scenarios/default.json
  uint64_t seed = 1;
  std::string history;   // run, shrink: where to write the history (+ ".run.json")
  bool no_shadow = false;
  std::string seeds = "1..100";
  unsigned jobs = 1;
  std::string shard = "0/1";
  std::string out;          // sweep: the output directory ("" = none)
  uint32_t keep_runs = 10;  // sweep --out: run files of this many failing seeds per shard
  std::vector<std::string> merge;
  std::string replay_file;
  std::string property;  // shrink: which property must keep failing ("" = the first that fails)
  // The build, as reproduce lines name it: `program VERB verb_args ...`. The mutant
  // build sets them to its binary and " --mutant NAME".
  std::string program = "build/apps/mqharness";
  std::string verb_args;
  // The fault switched on (the mutant build's --mutant; "none" in mqharness): recorded
  // in run files, and a run file recorded with another fault is refused by replay.
  std::string mutant = "none";
  ReportOptions report;  // --report DIR, --trace FILE
};

void add_sim_commands(CLI::App& app, SimCommandOptions& options);
// Runs the sim subcommand that was given; -1 if none of them was.
int run_sim_command(const CLI::App& app, const SimCommandOptions& options);

// `replay` of options.replay_file: 0 reproduced and every property held, 1 diverged or
// a property violated, 2 bad input (a run file of another fault than options.mutant).
int replay_run_file(const SimCommandOptions& options);
// Writes the run of `seed` as `run --history PATH` does (PATH and PATH.run.json, the
// fault options.mutant recorded), simulated in a child process: a run that dies on an
// assertion leaves an empty history, and its replay dies the same way.
Status write_run_files_of(const std::string& path, const sim::Scenario& scenario, uint64_t seed,
                          const sim::SimOptions& sim_options, const SimCommandOptions& options);

}  // namespace mq::app
