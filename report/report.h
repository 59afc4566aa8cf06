#pragma once
// The HTML report of a run: one self-contained static page (DIR/index.html with
// DIR/report.css, DIR/report.js and, for a history, DIR/timeline-data.js; state graphs
// in DIR/graphs/). Nothing is fetched at view time: no network, no CDN; it opens from
// the file system (file://). docs/report.md shows what it contains.
//
// Sections, each present when its input is:
//  - the verdict table (property, runs, violations, first failing seed) with the
//    reproduce command of every failure, and the witness events of each failed
//    property, linked into the timeline;
//  - the timeline of a history (report.js draws it: a lane per process, operations
//    from invoke to completion coloured by outcome, fault windows shaded, a message's
//    life on click; windowed, so a 65,000-event history stays fast);
//  - a shrunk reproducer's events as a table beside the timeline;
//  - plots (SVG, drawn here): throughput, latency percentiles, depth per queue,
//    in flight per consumer, consumer load, with fault windows shaded;
//  - explorer counterexamples: a step table and a state graph (Graphviz);
//  - a sweep: distributions of per-seed figures and the failing seeds.
//
// This library reads histories, verdicts and summaries; nothing deterministic depends
// on it (it reads the wall clock only through Progress).
// Thread-safety: write_report() touches only DIR and its arguments.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/history.h"
#include "model/topology.h"
#include "properties/checkers/verdict.h"
#include "report/state_graph.h"

namespace mq::report {

struct Fact {
  std::string key, value;
};

struct PropertyRow {
  std::string property;
  uint64_t runs = 0;
  uint64_t violations = 0;
  std::optional<uint64_t> first_failing_seed;
  std::string message;    // the first failure's message, or what held
  std::string reproduce;  // the command that reproduces the first failure; empty when it held
};

// One seed of a sweep.
struct SeedFigures {
  uint64_t seed = 0;
  uint64_t history_events = 0;
  uint64_t messages = 0;  // confirmed to producers
  uint64_t faults = 0;    // faults injected
  double virtual_s = 0;   // virtual time the run took
  double wall_s = 0;      // wall time the run took
  std::string failure;    // "property: message"; empty when every property held
  std::string reproduce;  // empty when every property held
};

struct ReportInput {
  std::string title;         // "mqharness run: seed 1 of 'default'"
  std::string command_line;  // how the report was made
  std::vector<Fact> facts;   // seed, scenario, counters, ...
  std::vector<PropertyRow> properties;
  std::vector<Verdict> verdicts;     // their witnesses are events of `history`
  const History* history = nullptr;  // the timeline and the plots; may be null
  const Topology* topology = nullptr;
  bool reproducer_table = false;   // every event of `history` as a table beside the timeline
  std::vector<std::string> notes;  // lines shown under the summary (a shrink's cuts, ...)
  std::vector<CounterexampleView> counterexamples;
  std::vector<SeedFigures> seeds;  // a sweep's seeds
  bool interrupted = false;        // the command was stopped before it finished
  std::string outcome;             // shown instead of PASS/FAIL when set (an audit expects failures)
};

// Writes the report into `dir` (created if missing; files of an earlier report are
// overwritten). Errors: kIoError naming the file.
Status write_report(const std::string& dir, const ReportInput& input);

// The table rows of one run's verdicts: runs 1, a violation when it failed, with
// `seed` as the first failing seed (if any) and `reproduce` on every failure.
std::vector<PropertyRow> rows_from_verdicts(const std::vector<Verdict>& verdicts,
                                            std::optional<uint64_t> seed, const std::string& reproduce);

// The entry point for a run judged elsewhere (mqharness live): the history at
// `history_path`, the verdicts the checkers gave it, and what was tested. Reads the
// history (errors name file and line), then write_report().
struct TargetInfo {
  std::string title;  // "mqharness live: mqd at 127.0.0.1:6390, seed 7"
  std::string command_line;
  std::vector<Fact> facts;  // target, nemesis seed, duration, ...
  std::string reproduce;    // the command that runs it again (the seed fixes the schedule)
  std::optional<uint64_t> seed;
};
Status write_history_report(const std::string& dir, const std::string& history_path,
                            const std::vector<Verdict>& verdicts, const TargetInfo& target,
                            const Topology* topology);

}  // namespace mq::report
