#pragma once
// The simulator's commands (docs/simulator.md):
//   run     one seed of a scenario: derived parameters first, the verdict last, and
//           on failure the one line that reproduces it;
//   sweep   many seeds across threads (each run independent and deterministic),
//           summary per property; --shard i/n and --merge for CI fan-out;
//   replay  re-executes a recorded run and confirms it event for event;
//   shrink  makes a failing run smaller while it keeps failing the same property.
// Exit status: 0 all properties held, 1 a violation (or a replay that diverged),
// 2 bad input (a scenario or replay file that cannot be read).

#include <cstdint>
#include <string>
#include <vector>

#include "apps/report_output.h"

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
  std::vector<std::string> merge;
  std::string replay_file;
  std::string property;  // shrink: which property must keep failing ("" = the first that fails)
  ReportOptions report;  // --report DIR, --trace FILE
};

void add_sim_commands(CLI::App& app, SimCommandOptions& options);
// Runs the sim subcommand that was given; -1 if none of them was.
int run_sim_command(const CLI::App& app, const SimCommandOptions& options);

}  // namespace mq::app
