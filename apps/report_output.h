#pragma once
// The report options every verb shares (`--report DIR`, `--trace FILE`) and the one
// place that writes them (report/report.h, report/chrome_trace.h), so each verb only
// fills a ReportInput.

#include <string>

#include "model/history.h"
#include "model/topology.h"
#include "report/report.h"

namespace CLI {
class App;
}

namespace mq::app {

struct ReportOptions {
  std::string dir;    // --report DIR: the HTML report
  std::string trace;  // --trace FILE: the Chrome Trace Event export of the history
  bool any() const { return !dir.empty() || !trace.empty(); }
};

// `with_trace`: the verb has a history to export; `traced` says which, for --help.
void add_report_options(CLI::App* command, ReportOptions& options, bool with_trace,
                        const std::string& traced = "the history");

// The command line as typed (main() records it), for the report's header.
void set_command_line(int argc, char** argv);
const std::string& command_line();

// Writes the report (when --report) and the trace of `input.history` (when --trace and
// there is a history), printing where each went. `input.command_line` is filled in.
// Returns false after printing the error.
bool write_outputs(const ReportOptions& options, report::ReportInput input, const char* verb);

}  // namespace mq::app
