#pragma once
// A run file: what `replay` needs to re-execute a simulator run, and what `check`
// needs to judge the run's history (its topology and whether it reached
// quiescence). `mqharness run --history H` writes H (the history) and H.run.json
// beside it; the mutants report writes its shrunk reproducers the same way, with the
// fault's name. Stated here once: the field names, the version, the reader's rules.
//
// H.run.json (JSON, version 1):
//   mqharness_run: 1; history: H; seed; scenario_file; scenario (the scenario's text,
//   so the run file stands alone); shadow; overrides (sim/sim_params.h);
//   stop_after_events; events; hash ("0x" and 16 hex digits); quiescent; build (the
//   git revision that wrote it); fault (the mutant build's fault switched on; absent:
//   "none", as the production build writes it); dies (the run died on an assertion:
//   its history is empty).
// Errors: a missing or malformed field is kInvalidArgument naming the file and the
// field's JSON path; an unknown field too (a misspelt one must not be ignored).
// Thread-safety: free functions; no shared state.

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace mq::harness {

inline constexpr const char* kRunFileSuffix = ".run.json";

struct RunFile {
  std::string history_path;
  sim::Scenario scenario;
  uint64_t seed = 0;
  sim::SimOptions options;
  std::optional<uint64_t> events;  // the history's length; absent in older run files
  std::string hash;
  bool quiescent = false;
  std::string build;  // empty in older run files
  std::string fault = "none";  // the mutant build's fault switched on
  bool dies = false;
};

// Writes the history `result.history` to `path` and the run file beside it.
// `build`: the revision that ran it; `fault`: the fault switched on, or "none".
Status write_run(const std::string& path, const sim::Scenario& scenario, uint64_t seed,
                 const sim::SimOptions& options, const sim::SimResult& result, const std::string& build,
                 const std::string& fault = "none");
// Writes rf.history_path + kRunFileSuffix only.
Status write_run_file(const RunFile& rf);

// FILE is the history (FILE.run.json next to it) or the run file itself.
Result<RunFile> read_run_file(const std::string& file);

// A 64-bit hash as the run files and reports print it: "0x" and 16 hex digits.
std::string hex(uint64_t v);

}  // namespace mq::harness
