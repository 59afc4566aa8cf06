#include "apps/check_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "apps/cli_convention.h"
#include "apps/json_output.h"
#include "formats/history_io.h"
#include "formats/input_file.h"
#include "formats/json_config.h"
#include "formats/line_reader.h"
#include "harness/run_file.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/jepsen_queue.h"
#include "properties/checkers/queue_linearizability.h"
#include "properties/checkers/stream_check.h"
#include "sim/scenario.h"
#include "sim/swarm.h"

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
  json_add_verdicts({v});
  if (v.valid) {
    std::printf("%s: valid (%s)\n", v.property.c_str(), v.message.c_str());
    return;
  }
  std::printf("%s: INVALID: %s\n", v.property.c_str(), v.message.c_str());
  for (const auto& e : v.witness) std::printf("    %s\n", to_string(e).c_str());
}

// The topology of a run file (harness/run_file.h): what the run's seed drew from the
// scenario it embeds (sim/swarm.h). `quiescent`: whether the run recorded that it ran
// to quiescence (every message finished), which the judge of the run checks
// completeness under. `events`: how many history events the run file records
// (nullopt when it does not say), to tell a run file that no longer belongs to its
// history.
Result<Topology> topology_of_run_file(const std::string& path, bool& quiescent, std::optional<uint64_t>& events) {
  auto rf = harness::read_run_file(path);
  if (!rf.ok()) return rf.status();
  quiescent = rf->quiescent;
  events = rf->events;
  auto drawn = sim::draw_scenario(rf->scenario, rf->seed);
  if (!drawn.ok()) return drawn.status();
  return std::move(drawn->topology);
}

// --topology T, else the first of FILE.topology.json (beside the history) and
// FILE.run.json (a run's own file, its scenario embedded) that exists; `quiescent` as
// the run file records it (false otherwise), and `events` as it records them.
Result<Topology> load_topology(const CheckCommandOptions& o, std::string& source, bool& quiescent,
                               std::optional<uint64_t>& events) {
  source = o.topology;
  if (source.empty()) {
    const std::string beside = o.file + ".topology.json", run = o.file + ".run.json";
    if (std::filesystem::exists(beside)) {
      source = beside;
    } else if (std::filesystem::exists(run)) {
      source = run;
      return topology_of_run_file(run, quiescent, events);
    } else {
      return invalid_argument(
          o.file + ": an mqharness history needs its topology: give --topology T.json, or put it in " +
          beside + " (or the run's " + run + "; docs/checkers.md)");
    }
  }
  auto j = read_json_file(source);
  if (!j.ok()) return j.status();
  return topology_from_json(*j, source);
}

// The command that judges the file again, without the report's own options.
std::string check_line(const CheckCommandOptions& o) {
  std::string line = self_path("build/apps/mqharness") + " check " + rooted(o.file);
  if (!o.topology.empty()) line += " --topology " + rooted(o.topology);
  if (o.complete) line += " --complete";
  if (o.queue_retry_budget) line += " --queue-retry-budget";
  if (o.fifo) line += " --fifo";
  return line;
}

int check_ours(const CheckCommandOptions& o, LineReader& lines) {
  if (o.fifo)
    return bad_input(o.file + ": --fifo applies to Jepsen queue histories; this is an mqharness history");
  if (lines.file() == kStdinName && o.topology.empty()) {
    return bad_input(lines.file() +
                     ": an mqharness history read from standard input needs --topology T.json");
  }
  std::string topology_source;
  bool quiescent = false;
  std::optional<uint64_t> recorded_events;
  auto topology = load_topology(o, topology_source, quiescent, recorded_events);
  if (!topology.ok()) return bad_input(topology.status().message());
  // A run that ran to quiescence is judged complete, as the run itself judged it.
  const bool complete = o.complete || quiescent;
  // Every check streams (memory bounded by what is in flight); --stream is kept for
  // scripts that pass it.
  StreamingChecks checks(*topology, CheckOptions{complete, o.queue_retry_budget});
  uint64_t events = 0;
  const Status read = read_history_lines(lines, [&](HistoryEvent&& e) {
    ++events;
    checks.add(std::move(e));
    return Status();
  });
  if (!read.ok()) return bad_input(read.message());
  if (recorded_events && *recorded_events != events) {
    // The run file judges the history with the run's topology and its quiescence: for
    // another history both may be wrong, so no verdict is given.
    return bad_input(topology_source + ": stale: it records " + std::to_string(*recorded_events) +
                     " history events, and " + o.file + " has " + std::to_string(events) +
                     " (the history changed after the run wrote both); run it again, or give --topology");
  }
  const std::vector<Verdict> verdicts = checks.finish();
  std::printf("%s: mqharness history v%d%s\n", lines.file().c_str(), kHistoryFormatVersion,
              o.complete  ? ", complete"
              : quiescent ? ", complete (the run file records it ran to quiescence)"
                          : "");
  json_set("format", "mqharness");
  json_set("complete", complete);
  for (const auto& v : verdicts) print(v);
  if (!verdicts.front().valid) return kExitBadInput;  // malformed against the topology
  if (o.report.any()) {
    // The report draws every event, so the history is read again, into memory.
    auto history = read_history(o.file);
    if (!history.ok()) return bad_input(history.status().message());
    report::ReportInput in;
    in.title = "mqharness check: " + o.file;
    in.facts = {{"history", o.file + " (" + std::to_string(history->events.size()) + " events)"},
                {"topology", topology_source},
                {"complete", complete ? "yes: every message must have ended" : "no"}};
    in.properties = report::rows_from_verdicts(verdicts, std::nullopt, check_line(o));
    in.verdicts = verdicts;
    in.history = &*history;
    in.topology = &*topology;
    if (!write_outputs(o.report, std::move(in), "mqharness check")) return kExitBadInput;
  }
  if (!all_valid(verdicts)) {
    std::printf("reproduce: %s\n", check_line(o).c_str());
    json_set("reproduce", check_line(o));
  }
  return all_valid(verdicts) ? kExitValid : kExitViolation;
}

int check_jepsen(const CheckCommandOptions& o, LineReader& lines) {
  // Options of the other format are refused, not ignored: the user meant something.
  for (const auto& [given, name] : {std::pair{!o.topology.empty(), "--topology"},
                                    {o.complete, "--complete"},
                                    {o.queue_retry_budget, "--queue-retry-budget"}}) {
    if (given)
      return bad_input(o.file + ": " + name +
                       " applies to mqharness histories; this is a Jepsen queue history");
  }
  if (!o.report.trace.empty())
    return bad_input("--trace: only an mqharness history can be exported as a trace");
  TotalQueueChecker total;
  std::vector<JepsenOp> ops;  // kept only for --fifo
  Status read = read_jepsen_lines(lines, [&](JepsenOp&& op) {
    total.add(op);
    if (o.fifo) ops.push_back(std::move(op));
    return Status();
  });
  if (!read.ok()) return bad_input(read.message());
  const TotalQueueReport r = total.finish();
  std::printf("%s: Jepsen queue history\n", lines.file().c_str());
  std::fputs(to_string(r).c_str(), stdout);
  bool valid = r.valid;
  std::vector<report::PropertyRow> rows = {
      {"total-queue", 1, r.valid ? 0u : 1u, std::nullopt, to_string(r), r.valid ? "" : check_line(o)}};
  if (o.fifo) {
    auto history = queue_history_from_jepsen(ops, o.file);
    if (!history.ok()) return bad_input(history.status().message());
    const LinearizabilityReport lin = check_queue_linearizability(*history);
    std::fputs(to_string(lin).c_str(), stdout);
    valid = valid && lin.valid;
    rows.push_back({"fifo-linearizability", 1, lin.valid ? 0u : 1u, std::nullopt, to_string(lin),
                    lin.valid ? "" : check_line(o)});
  }
  json_set("format", "jepsen");
  for (const auto& row : rows) {
    json_add_verdicts({Verdict{row.property, row.violations == 0, row.message, {}}});
  }
  if (!valid) {
    std::printf("reproduce: %s\n", check_line(o).c_str());
    json_set("reproduce", check_line(o));
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
  auto* cmd = app.add_subcommand("check",
                                 "Judge a recorded history (mqharness JSON lines, or a Jepsen queue "
                                 "history) and print one line per property with its witness");
  cmd->add_option("file", o.file, "The history file (JSON lines); '-' reads standard input")->required();
  cmd->add_option("--topology", o.topology,
                  "Topology JSON of an mqharness history (default: FILE.topology.json, else the scenario of "
                  "FILE.run.json)");
  cmd->add_flag("--complete", o.complete,
                "The history ran to quiescence after faults healed: every message must have ended");
  cmd->add_flag("--queue-retry-budget", o.queue_retry_budget,
                "A message whose publish carries no max_retries has its queue's (judge the retry budget); "
                "a publish's own max_retries is always judged");
  cmd->add_flag("--stream", o.stream,
                "Accepted for compatibility: every check reads the history one event at a time");
  cmd->add_flag("--fifo", o.fifo,
                "Jepsen histories: also check FIFO queue linearizability (distinct values)");
  add_report_options(cmd, o.report, true);
}

int run_check_command(const CheckCommandOptions& o) {
  // One reader for telling the format and then reading: "-" (standard input) cannot
  // be opened twice.
  auto in = InputFile::open(o.file, /*allow_stdin=*/true);
  if (!in.ok()) return bad_input(in.status().message());
  // std::cin synced with stdio has no buffer of its own, so the reader's readsome
  // would see nothing; unsynced, it reads in blocks (output here is printf only).
  if (in->is_stdin()) std::ios::sync_with_stdio(false);
  if (in->is_stdin() && o.report.any()) {
    return bad_input("--report/--trace: the report reads the history twice; give a file, not '-'");
  }
  LineReader lines(in.value().stream(), in->name(), kMaxHistoryLineBytes, "a history line");
  auto format = detect_history_format(lines);
  if (!format.ok()) return bad_input(format.status().message());
  return *format == HistoryFormat::kJepsen ? check_jepsen(o, lines) : check_ours(o, lines);
}

}  // namespace mq::app
