#pragma once
// `mqharness explore`: exhaustive exploration of a bounded configuration of the model.

#include <cstdint>
#include <string>

#include "apps/report_output.h"

namespace CLI {
class App;
}

namespace mq::app {

struct ExploreOptions {
  std::string config = "configs/explore-small.json";
  uint64_t max_states = 0;  // 0: the config's bound
  bool no_liveness = false;
  std::string trace_out;   // write the counterexample as a trace (history + topology) here
  std::string max_memory;  // "" : the config's bound, at most 3/4 of physical memory
  uint32_t jobs = 1;
  bool no_symmetry = false;
  bool cross_check = false;
  bool reference = false;
  ReportOptions report;    // --report DIR (step table, state graph, the trace's timeline); --trace FILE
};

void add_explore_command(CLI::App& app, ExploreOptions& options);
// Exit status: 0 proved, 1 violation, 2 bad input, 3 no violation up to a bound
// (states or memory) without a verdict.
int run_explore_command(const ExploreOptions& options);

}  // namespace mq::app
