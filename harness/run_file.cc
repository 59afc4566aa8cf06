#include "harness/run_file.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/history_io.h"
#include "formats/json_config.h"
#include "sim/sim_params.h"

namespace mq::harness {

Status write_run_file(const RunFile& rf) {
  nlohmann::json meta = {{"mqharness_run", 1},
                         {"history", rf.history_path},
                         {"seed", rf.seed},
                         {"scenario_file", rf.scenario.file},
                         {"scenario", rf.scenario.text},
                         {"shadow", rf.options.shadow},
                         {"overrides", sim::overrides_to_json(rf.options.overrides)},
                         {"stop_after_events", rf.options.stop_after_events},
                         {"hash", rf.hash},
                         {"quiescent", rf.quiescent},
                         {"build", rf.build}};
  if (rf.events) meta["events"] = *rf.events;
  if (rf.fault != "none") meta["fault"] = rf.fault;
  if (rf.dies) meta["dies"] = true;
  const std::string path = rf.history_path + kRunFileSuffix;
  std::ofstream out(path, std::ios::binary);
  out << meta.dump(2) << "\n";
  if (!out) return io_error(path + ": cannot write");
  return Status();
}

Status write_run(const std::string& path, const sim::Scenario& scenario, uint64_t seed,
                 const sim::SimOptions& options, const sim::SimResult& result, const std::string& build,
                 const std::string& fault) {
  MQ_RETURN_IF_ERROR(write_history_file(result.history, path));
  RunFile rf;
  rf.history_path = path;
  rf.scenario = scenario;
  rf.seed = seed;
  rf.options = options;
  rf.events = result.history_events;
  rf.hash = hex(result.history_hash);
  rf.quiescent = result.quiescent;
  rf.build = build;
  rf.fault = fault;
  return write_run_file(rf);
}

namespace {

Status read_overrides(JsonFields& f, const std::string& file, sim::SimOverrides& o) {
  const nlohmann::json* j = f.child("overrides");
  if (j == nullptr) return Status();
  auto read = sim::overrides_from_json(*j, file);
  if (!read.ok()) return read.status();
  o = *read;
  return Status();
}

}  // namespace

Result<RunFile> read_run_file(const std::string& file) {
  const bool is_meta = file.size() > std::string(kRunFileSuffix).size() && file.ends_with(kRunFileSuffix);
  const std::string meta_path = is_meta ? file : file + kRunFileSuffix;
  auto j = read_json_file(meta_path);
  if (!j.ok()) return j.status();
  if (!j->is_object()) return invalid_argument(meta_path + ": not a JSON object (not a run file of `mqharness run`)");
  RunFile rf;
  JsonFields f(*j, meta_path, "");
  uint64_t version = 0;
  std::string text, scenario_file;
  f.u64("mqharness_run", version, true).str("history", rf.history_path, true).u64("seed", rf.seed, true);
  f.str("scenario_file", scenario_file, true).str("scenario", text, true).boolean("shadow", rf.options.shadow);
  uint64_t events = 0;
  f.boolean("quiescent", rf.quiescent).u64("events", events).str("hash", rf.hash).str("build", rf.build);
  if (j->contains("events")) rf.events = events;
  f.u64("stop_after_events", rf.options.stop_after_events).str("fault", rf.fault).boolean("dies", rf.dies);
  MQ_RETURN_IF_ERROR(read_overrides(f, meta_path, rf.options.overrides));
  MQ_RETURN_IF_ERROR(f.finish());
  if (version != 1) return invalid_argument(meta_path + ": /mqharness_run: version " + std::to_string(version) + " is not 1");
  if (!is_meta) rf.history_path = file;
  auto s = sim::scenario_from_text(text, scenario_file);
  if (!s.ok()) return s.status();
  rf.scenario = std::move(*s);
  return rf;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace mq::harness
