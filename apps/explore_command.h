#pragma once
// `mqharness explore`: exhaustive exploration of a bounded configuration of the model.

#include <string>

#include "apps/report_output.h"

namespace CLI { class App; }

namespace mq::app {

struct ExploreOptions {
  std::string config = "configs/explore-small.json";
  uint64_t max_states = 0;  // 0: the config's bound
  bool no_liveness = false;
  std::string trace_out;  // write the counterexample as a trace (history + topology) here
  ReportOptions report;   // --report DIR (step table, state graph, the trace's timeline); --trace FILE
};

void add_explore_command(CLI::App& app, ExploreOptions& options);
// Exit status: 0 no violation (proved, or up to the bound), 1 violation, 2 bad input.
int run_explore_command(const ExploreOptions& options);

}  // namespace mq::app
