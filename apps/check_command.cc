#include "apps/check_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "model/history_io.h"
#include "model/json_config.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/jepsen_queue.h"
#include "properties/checkers/queue_linearizability.h"
#include "properties/checkers/stream_check.h"

namespace mq::app {
namespace {

constexpr int kExitValid = 0;
constexpr int kExitViolation = 1;
constexpr int kExitBadInput = 2;

int bad_input(const std::string& what) {
  std::fprintf(stderr, "mqharness check: %s\n", what.c_str());
  return kExitBadInput;
}

void print(const Verdict& v) {
  if (v.valid) {
    std::printf("%s: valid (%s)\n", v.property.c_str(), v.message.c_str());
    return;
  }
  std::printf("%s: INVALID: %s\n", v.property.c_str(), v.message.c_str());
  for (const auto& e : v.witness) std::printf("    %s\n", to_string(e).c_str());
}

Result<Topology> load_topology(const CheckCommandOptions& o) {
  std::string path = o.topology;
  if (path.empty()) {
    path = o.file + ".topology.json";
    if (!std::filesystem::exists(path)) {
      return invalid_argument(o.file + ": an mqharness history needs its topology: give --topology T.json, or put it in " +
                              path + " (docs/checkers.md)");
    }
  }
  auto j = read_json_file(path);
  if (!j.ok()) return j.status();
  return topology_from_json(*j, path);
}

// The command that judges the file again, without the report's own options.
std::string check_line(const CheckCommandOptions& o) {
  std::string line = "build/apps/mqharness check " + o.file;
  if (!o.topology.empty()) line += " --topology " + o.topology;
  if (o.complete) line += " --complete";
  if (o.queue_retry_budget) line += " --queue-retry-budget";
  if (o.fifo) line += " --fifo";
  return line;
}

int check_ours(const CheckCommandOptions& o) {
  auto topology = load_topology(o);
  if (!topology.ok()) return bad_input(topology.status().message());
  // Every check streams (memory bounded by what is in flight); --stream is kept for
  // scripts that pass it.
  auto verdicts = check_streaming(o.file, *topology, CheckOptions{o.complete, o.queue_retry_budget});
  if (!verdicts.ok()) return bad_input(verdicts.status().message());
  std::printf("%s: mqharness history v%d%s\n", o.file.c_str(), kHistoryFormatVersion, o.complete ? ", complete" : "");
  for (const auto& v : *verdicts) print(v);
  if (!verdicts->front().valid) return kExitBadInput;  // malformed against the topology
  if (o.report.any()) {
    // The report draws every event, so the history is read again, into memory.
    auto history = read_history(o.file);
    if (!history.ok()) return bad_input(history.status().message());
    report::ReportInput in;
    in.title = "mqharness check: " + o.file;
    in.facts = {{"history", o.file + " (" + std::to_string(history->events.size()) + " events)"},
                {"topology", o.topology.empty() ? o.file + ".topology.json" : o.topology},
                {"complete", o.complete ? "yes: every message must have ended" : "no"}};
    in.properties = report::rows_from_verdicts(*verdicts, std::nullopt, check_line(o));
    in.verdicts = *verdicts;
    in.history = &*history;
    in.topology = &*topology;
    if (!write_outputs(o.report, std::move(in), "mqharness check")) return kExitBadInput;
  }
  return all_valid(*verdicts) ? kExitValid : kExitViolation;
}

int check_jepsen(const CheckCommandOptions& o) {
  if (!o.report.trace.empty())
    return bad_input("--trace: only an mqharness history can be exported as a trace");
  TotalQueueChecker total;
  std::vector<JepsenOp> ops;  // kept only for --fifo
  Status read = for_each_jepsen_op(o.file, [&](JepsenOp&& op) {
    total.add(op);
    if (o.fifo) ops.push_back(std::move(op));
    return Status();
  });
  if (!read.ok()) return bad_input(read.message());
  const TotalQueueReport r = total.finish();
  std::printf("%s: Jepsen queue history\n", o.file.c_str());
  std::fputs(to_string(r).c_str(), stdout);
  bool valid = r.valid;
  std::vector<report::PropertyRow> rows = {
      {"total-queue", 1, r.valid ? 0u : 1u, std::nullopt, to_string(r), r.valid ? "" : check_line(o)}};
  if (o.fifo) {
    auto history = queue_history_from_jepsen(ops);
    if (!history.ok()) return bad_input(history.status().message());
    const LinearizabilityReport lin = check_queue_linearizability(*history);
    std::fputs(to_string(lin).c_str(), stdout);
    valid = valid && lin.valid;
    rows.push_back({"fifo-linearizability", 1, lin.valid ? 0u : 1u, std::nullopt, to_string(lin),
                    lin.valid ? "" : check_line(o)});
  }
  if (!o.report.dir.empty()) {
    report::ReportInput in;
    in.title = "mqharness check: " + o.file + " (Jepsen queue history)";
    in.facts = {{"history", o.file}, {"format", "Jepsen queue history: verdicts only, no timeline"}};
    in.properties = rows;
    if (!write_outputs(ReportOptions{o.report.dir, ""}, std::move(in), "mqharness check"))
      return kExitBadInput;
  }
  return valid ? kExitValid : kExitViolation;
}

}  // namespace

void add_check_command(CLI::App& app, CheckCommandOptions& o) {
  auto* cmd = app.add_subcommand("check", "Judge a recorded history (mqharness JSON lines, or a Jepsen queue "
                                          "history) and print one line per property with its witness");
  cmd->add_option("file", o.file, "The history file (JSON lines)")->required();
  cmd->add_option("--topology", o.topology, "Topology JSON of an mqharness history (default: FILE.topology.json)");
  cmd->add_flag("--complete", o.complete,
                "The history ran to quiescence after faults healed: every message must have ended");
  cmd->add_flag("--queue-retry-budget", o.queue_retry_budget,
                "A message whose publish carries no max_retries has its queue's (judge the retry budget); "
                "a publish's own max_retries is always judged");
  cmd->add_flag("--stream", o.stream,
                "Accepted for compatibility: every check reads the history one event at a time");
  cmd->add_flag("--fifo", o.fifo, "Jepsen histories: also check FIFO queue linearizability (distinct values)");
  add_report_options(cmd, o.report, true);
}

int run_check_command(const CheckCommandOptions& o) {
  auto format = detect_history_format(o.file);
  if (!format.ok()) return bad_input(format.status().message());
  return *format == HistoryFormat::kJepsen ? check_jepsen(o) : check_ours(o);
}

}  // namespace mq::app
