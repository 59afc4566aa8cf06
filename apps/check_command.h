#pragma once
// `mqharness check FILE`: judges a recorded history. The format is told per file
// (properties/checkers/jepsen_queue.h, detect_history_format):
//  - an mqharness history (docs/history-format.md) is judged by every checker of
//    check_all against a topology: --topology T.json, else the sidecar file
//    FILE.topology.json next to it (docs/checkers.md);
//  - a Jepsen queue history (docs/jepsen.md) by Jepsen's total-queue checker, and with
//    --fifo also by the queue linearizability checker.
// Output: one line per property, "NAME: valid (...)" or "NAME: INVALID: ..." followed
// by the witness events with their line numbers.

#include <string>

#include "apps/report_output.h"

namespace CLI { class App; }

namespace mq::app {

struct CheckCommandOptions {
  std::string file;
  std::string topology;             // empty: FILE.topology.json if it exists
  bool complete = false;            // the history ran to quiescence after faults healed
  bool queue_retry_budget = false;  // every message has its queue's max_retries
  bool fifo = false;                // Jepsen histories: also judge FIFO linearizability
  bool stream = false;              // ours: only the streaming checks, memory bounded by in-flight
  ReportOptions report;             // --report DIR, --trace FILE (ours: the history is read into memory)
};

void add_check_command(CLI::App& app, CheckCommandOptions& options);
// Exit status: 0 every property holds, 1 a violation, 2 bad input (the message names
// the file, line and field).
int run_check_command(const CheckCommandOptions& options);

}  // namespace mq::app
