#include "apps/sim_commands.h"

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "apps/sweep_summary.h"
#include "apps/walk_command.h"
#include "model/history_io.h"
#include "model/json_config.h"
#include "mutants/isolated_run.h"
#include "properties/checkers/check_all.h"
#include "sim/shrink.h"
#include "sim/simulator.h"
#include "sim/swarm.h"
#include "sim/trace_replay.h"

namespace mq::app {
namespace {

using sim::Scenario;
using sim::SimOptions;
using sim::SimOverrides;
using sim::SimResult;

constexpr const char* kShadow = mutants::kShadowProperty;
constexpr const char* kLiveness = mutants::kLivenessProperty;
// A seed of a sweep, or a candidate of shrink, running longer than this in its child
// process is killed and reported as "watchdog" (a run is bounded by
// sim::kMaxEventsPerRun anyway; this catches a hang in between).
constexpr unsigned kRunLimitS = 600;
constexpr const char* kRunFileSuffix = ".run.json";

// ---- scenarios, verdicts, reproduction ----

Result<Scenario> load(const std::string& path) {
  if (path.empty()) return sim::default_scenario();
  return sim::load_scenario(path);
}

using mutants::judge;

std::string failed_properties(const std::vector<Verdict>& verdicts) {
  std::string s;
  for (const auto& v : verdicts) {
    if (!v.valid) s += (s.empty() ? "" : ", ") + v.property;
  }
  return s;
}

// The command line of `verb` in the build that runs this (o.program with o.verb_args).
std::string command(const SimCommandOptions& o, const char* verb) {
  return o.program + " " + verb + o.verb_args;
}

std::string reproduce_line(const SimCommandOptions& o, uint64_t seed) {
  std::string line = command(o, "run");
  if (!o.scenario.empty()) line += " --scenario " + o.scenario;
  if (o.no_shadow) line += " --no-shadow";
  return line + " --seed " + std::to_string(seed);
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

// ---- run files: what replay needs to re-execute a run ----

nlohmann::json overrides_json(const SimOverrides& o) {
  nlohmann::json j = nlohmann::json::object();
  if (o.messages) j["messages"] = *o.messages;
  if (o.faulty_ns) j["faulty_ns"] = *o.faulty_ns;
  j["disabled_faults"] = nlohmann::json::array();
  for (uint32_t bit = 1; bit <= sim::kAllFaultBits; bit <<= 1) {
    if (o.disabled_faults & bit) j["disabled_faults"].push_back(sim::fault_bit_name(bit));
  }
  return j;
}

Status write_run_files(const std::string& path, const Scenario& s, uint64_t seed, const SimOptions& o,
                       const SimResult& r) {
  MQ_RETURN_IF_ERROR(write_history_file(r.history, path));
  const nlohmann::json meta = {{"mqharness_run", 1},           {"history", path},
                               {"seed", seed},                 {"scenario_file", s.file},
                               {"scenario", s.text},           {"shadow", o.shadow},
                               {"overrides", overrides_json(o.overrides)},
                               {"stop_after_events", o.stop_after_events},
                               {"events", r.history_events},   {"hash", hex(r.history_hash)}};
  std::ofstream out(path + kRunFileSuffix, std::ios::binary);
  out << meta.dump(2) << "\n";
  if (!out) return io_error(path + kRunFileSuffix + ": cannot write");
  return Status();
}

struct RunFile {
  std::string history_path;
  Scenario scenario;
  uint64_t seed = 0;
  SimOptions options;
  uint64_t events = 0;
  std::string hash;
};

Status read_overrides(JsonFields& f, const std::string& file, SimOverrides& o) {
  const nlohmann::json* j = f.child("overrides");
  if (j == nullptr) return Status();
  JsonFields g(*j, file, "/overrides");
  uint64_t messages = 0;
  int64_t faulty_ns = -1;
  g.u64("messages", messages).i64("faulty_ns", faulty_ns);
  if (j->contains("messages")) o.messages = messages;
  if (faulty_ns >= 0) o.faulty_ns = faulty_ns;
  if (const nlohmann::json* off = g.child("disabled_faults"); off != nullptr && off->is_array()) {
    for (const auto& name : *off) {
      uint32_t found = 0;
      for (uint32_t bit = 1; bit <= sim::kAllFaultBits; bit <<= 1) {
        if (name.is_string() && name.get<std::string>() == sim::fault_bit_name(bit)) found = bit;
      }
      if (found == 0) g.fail("/overrides/disabled_faults", "unknown fault " + name.dump());
      o.disabled_faults |= found;
    }
  }
  return g.finish();
}

// FILE is the history (FILE.run.json next to it) or the run file itself.
Result<RunFile> read_run_file(const std::string& file) {
  const bool is_meta = file.size() > 9 && file.ends_with(kRunFileSuffix);
  const std::string meta_path = is_meta ? file : file + kRunFileSuffix;
  auto j = read_json_file(meta_path);
  if (!j.ok()) return j.status();
  RunFile rf;
  JsonFields f(*j, meta_path, "");
  uint64_t version = 0;
  std::string text, scenario_file;
  f.u64("mqharness_run", version, true).str("history", rf.history_path, true).u64("seed", rf.seed, true);
  f.str("scenario_file", scenario_file, true).str("scenario", text, true).boolean("shadow", rf.options.shadow);
  f.u64("events", rf.events).str("hash", rf.hash).u64("stop_after_events", rf.options.stop_after_events);
  MQ_RETURN_IF_ERROR(read_overrides(f, meta_path, rf.options.overrides));
  MQ_RETURN_IF_ERROR(f.finish());
  if (version != 1) return invalid_argument(meta_path + ": /mqharness_run: version " + std::to_string(version) + " is not 1");
  if (!is_meta) rf.history_path = file;
  auto s = sim::scenario_from_text(text, scenario_file);
  if (!s.ok()) return s.status();
  rf.scenario = std::move(*s);
  return rf;
}

// ---- run ----

void print_result(const SimResult& r) {
  const auto& f = r.faults;
  const auto& n = r.network;
  std::printf("faults: broker crashes %llu, consumer crashes %llu, partitions %llu, clogs %llu, disk full %llu\n",
              ull(f.broker_crashes), ull(f.consumer_crashes), ull(f.partitions), ull(f.clogs), ull(f.disk_full));
  constexpr size_t kShownLog = 12;
  for (size_t i = 0; i < r.fault_log.size() && i < kShownLog; ++i) std::printf("  %s\n", r.fault_log[i].c_str());
  if (r.fault_log.size() > kShownLog) std::printf("  ... %zu more\n", r.fault_log.size() - kShownLog);
  std::printf("network: sent %llu, lost %llu, duplicated %llu, cut by partitions %llu, held by clogs %llu\n",
              ull(n.sent), ull(n.lost), ull(n.duplicated), ull(n.partitioned), ull(n.clogged));
  const auto& p = r.producers;
  std::printf("producers: %llu messages, %llu sends (%llu resends, %llu after 'full'), %llu confirmed "
              "(%llu as duplicates), %llu given up\n", ull(p.generated), ull(p.attempts), ull(p.resends),
              ull(p.full_backoffs), ull(p.confirmed), ull(p.duplicates), ull(p.given_up));
  const auto& c = r.consumers;
  std::printf("consumers: %llu pushes received (%llu stale), %llu processed, %llu acks, %llu nacks, "
              "%llu ack resends, %llu given up, %llu crashes\n", ull(c.received), ull(c.stale_pushes),
              ull(c.processed), ull(c.acks), ull(c.nacks), ull(c.ack_resends), ull(c.ack_give_ups), ull(c.crashes));
  const auto& b = r.broker;
  std::printf("broker: %llu commands, %llu pushes, %llu publishes (%llu duplicates, %llu full), %llu acks and "
              "nacks refused as stale, %llu session timeouts\n", ull(b.commands), ull(b.pushes), ull(b.publishes),
              ull(b.duplicates), ull(b.refusals), ull(b.stale_acks), ull(b.session_detaches));
  const auto& d = r.disk;
  std::printf("disk: %llu group commits (%llu records, %llu bytes), %llu checkpoints, %llu recoveries; at crashes "
              "%llu unsynced records lost, %llu torn writes (%llu torn tails read back), %llu bit flips; %llu times "
              "full (%llu failed writes, %llu 'no space' replies)\n", ull(d.commits), ull(d.records), ull(d.bytes),
              ull(d.checkpoints), ull(d.recoveries), ull(d.unsynced_records_lost), ull(d.torn_writes),
              ull(d.torn_tails_seen), ull(d.bit_flips), ull(d.disk_full), ull(d.write_failures),
              ull(d.no_space_replies));
  if (r.corruption) std::printf("DETECTED: %s\n", r.corruption->c_str());
  std::printf("run: %llu events, stopped at %lld ns (%s); history: %llu events, hash %s\n", ull(r.events),
              static_cast<long long>(r.end_ns), r.quiescent ? "all quiet" : "NOT quiet", ull(r.history_events),
              hex(r.history_hash).c_str());
}

int print_verdicts(const std::vector<Verdict>& verdicts) {
  std::printf("verdicts:\n");
  for (const auto& v : verdicts) {
    std::string text = to_string(v);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    std::printf("  %s\n", text.c_str());
  }
  return all_valid(verdicts) ? 0 : 1;
}

int run_command(const SimCommandOptions& o) {
  auto scenario = load(o.scenario);
  if (!scenario.ok()) {
    std::fprintf(stderr, "run: %s\n", scenario.status().to_string().c_str());
    return 2;
  }
  const Scenario& s = *scenario;
  if (const Status drawn = sim::draw_scenario(s, o.seed).status(); !drawn.ok()) {
    std::fprintf(stderr, "run: %s\n", drawn.to_string().c_str());
    return 2;
  }
  SimOptions options;
  options.shadow = !o.no_shadow;
  const SimResult r = sim::simulate(s, o.seed, options);
  std::printf("run: scenario '%s' (%s), seed %llu\n", s.name.c_str(), s.file.c_str(), ull(o.seed));
  for (const auto& line : r.params.lines()) std::printf("  %s\n", line.c_str());
  print_result(r);
  if (!o.history.empty()) {
    const Status w = write_run_files(o.history, s, o.seed, options, r);
    if (!w.ok()) {
      std::fprintf(stderr, "run: %s\n", w.to_string().c_str());
      return 2;
    }
    std::printf("history: %s (replay with: %s %s)\n", o.history.c_str(), command(o, "replay").c_str(),
                o.history.c_str());
  }
  const auto verdicts = judge(r);
  const int status = print_verdicts(verdicts);
  if (status == 0) {
    std::printf("PASS: seed %llu, every property held\n", ull(o.seed));
  } else {
    std::printf("FAIL: seed %llu: %s\nreproduce: %s\n", ull(o.seed), failed_properties(verdicts).c_str(),
                reproduce_line(o, o.seed).c_str());
  }
  return status;
}

// ---- sweep ----

struct SeedOutcome {
  uint64_t seed = 0;
  std::vector<std::pair<std::string, bool>> verdicts;  // property, held
  std::string first_failure;                           // one line, empty when all held
  bool died = false;                                   // an assertion or the watchdog ended it
};

// Runs `seeds`, each in a child process, `jobs` at a time (mutants/isolated_run.h): a
// seed that trips an assertion is that seed's violation ("assertion", with the failed
// condition) and the sweep goes on. Outcomes come back in the order of `seeds`.
std::vector<SeedOutcome> run_parallel(const Scenario& s, const std::vector<uint64_t>& seeds, unsigned jobs,
                                      bool shadow) {
  std::vector<SeedOutcome> out(seeds.size());
  SimOptions options;
  options.shadow = shadow;
  const bool tty = isatty(fileno(stderr)) != 0;
  size_t done = 0, failed = 0;
  mutants::run_seeds_isolated(
      s, seeds, options, jobs, kRunLimitS, [&](size_t i, const mutants::RunVerdict& v) {
        SeedOutcome& o = out[i];
        o.seed = seeds[i];
        o.verdicts = v.verdicts;
        o.died = v.died;
        if (v.caught()) o.first_failure = v.failed.front() + ": " + v.first_failure;
        failed += v.caught() ? 1 : 0;
        if (tty && (++done % 8 == 0 || done == seeds.size())) {
          std::fprintf(stderr, "\rsweep: %zu/%zu seeds, %zu failing", done, seeds.size(), failed);
        }
      });
  if (tty) std::fprintf(stderr, "\n");
  return out;
}

// How many failing seeds a sweep lists on its terminal (the summary line and the
// shard file list all of them).
constexpr size_t kShownFailures = 20;
// How many problems of a merge are listed before "... and N more".
constexpr size_t kShownProblems = 50;

// This process's CPU time and that of its children that ended (the runs).
uint64_t process_cpu_ms() {
  auto ms = [](const timeval& t) {
    return static_cast<uint64_t>(t.tv_sec) * 1000 + static_cast<uint64_t>(t.tv_usec) / 1000;
  };
  uint64_t total = 0;
  for (const int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    getrusage(who, &u);
    total += ms(u.ru_utime) + ms(u.ru_stime);
  }
  return total;
}

// What this sweep is, before it runs: compared with the shards already in --out.
SweepSummary sweep_identity(const SimCommandOptions& o, const Scenario& s, uint64_t first, uint64_t last,
                            uint64_t shard, uint64_t shards) {
  SweepSummary id;
  id.scenario = s.name;
  id.build = o.program + o.verb_args;
  id.shadow = !o.no_shadow;
  id.first_seed = first;
  id.last_seed = last;
  id.shard = shard;
  id.shards = shards;
  return id;
}

// An --out directory holds one sweep: shards of another one would make its merge fail
// after all the work, so they are refused before it.
Status check_out_dir(const std::string& dir, const SweepSummary& id) {
  MQ_RETURN_IF_ERROR(make_out_dir(dir));
  auto existing = read_shard_dir(dir);
  if (!existing.ok()) return existing.status().code() == Code::kNotFound ? Status() : existing.status();
  for (const auto& part : *existing) {
    if (const std::string what = sweep_mismatch(id, part.summary); !what.empty()) {
      return failed_precondition(dir + " holds a shard of another sweep (" + part.source + ": " + what +
                                 "); use a new --out directory");
    }
  }
  return Status();
}

// Re-runs the first `o.keep_runs` failing seeds (in seed order, so the choice does
// not depend on thread timing) and writes their run files under DIR/runs.
// Each is written by a child process: a seed that dies (an assertion) writes no run
// file; its reproduce line says how to see it die.
Status keep_failing_runs(const SimCommandOptions& o, const Scenario& s, const SweepSummary& summary) {
  SimOptions options;
  options.shadow = !o.no_shadow;
  mutants::ChildPool pool(1, kRunLimitS);
  for (size_t i = 0; i < summary.failing.size() && i < o.keep_runs; ++i) {
    const uint64_t seed = summary.failing[i].seed;
    pool.start(seed, [&] {
      const Status w =
          write_run_files(run_path(o.out, seed), s, seed, options, sim::simulate(s, seed, options));
      return w.ok() ? std::string("written\n") : "error " + w.to_string() + "\n";
    });
    const mutants::ChildEnd end = pool.wait_one().second;
    if (const auto at = end.output.find("error "); at != std::string::npos) {
      return io_error(end.output.substr(at + 6, end.output.find('\n', at) - at - 6));
    }
  }
  return Status();
}

int sweep_command(const SimCommandOptions& o) {
  auto scenario = load(o.scenario);
  if (!scenario.ok()) {
    std::fprintf(stderr, "sweep: %s\n", scenario.status().to_string().c_str());
    return 2;
  }
  uint64_t first = 0, last = 0, shard = 0, shards = 1;
  if (!parse_seed_range(o.seeds, first, last) || !parse_shard(o.shard, shard, shards)) {
    std::fprintf(stderr, "sweep: bad --seeds '%s' or --shard '%s'\n", o.seeds.c_str(), o.shard.c_str());
    return 2;
  }
  SweepSummary summary = sweep_identity(o, *scenario, first, last, shard, shards);
  if (!o.out.empty() && shards > kMaxMergeShards) {
    std::fprintf(stderr, "sweep: --out: %llu shards, a merge takes at most %llu\n", ull(shards),
                 ull(kMaxMergeShards));
    return 2;
  }
  if (!o.out.empty()) {
    if (const Status st = check_out_dir(o.out, summary); !st.ok()) {
      std::fprintf(stderr, "sweep: %s\n", st.to_string().c_str());
      return 2;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const uint64_t cpu_start_ms = process_cpu_ms();
  std::vector<uint64_t> seeds;
  for (uint64_t seed = first; seed <= last && seed >= first; ++seed) {
    if (seed % shards == shard) seeds.push_back(seed);
  }
  // Each seed's draw is a valid scenario (sim/swarm.h), or nothing runs.
  for (const uint64_t seed : seeds) {
    if (const Status drawn = sim::draw_scenario(*scenario, seed).status(); !drawn.ok()) {
      std::fprintf(stderr, "sweep: %s\n", drawn.to_string().c_str());
      return 2;
    }
  }
  const unsigned jobs = std::max(1u, o.jobs);
  std::printf(
      "sweep: scenario '%s' (%s), seeds %s, shard %s: %zu runs, %u at a time (each in a child process)\n",
      scenario->name.c_str(), scenario->file.c_str(), o.seeds.c_str(), o.shard.c_str(), seeds.size(), jobs);
  const auto outcomes = run_parallel(*scenario, seeds, jobs, !o.no_shadow);
  for (const auto& out : outcomes) {
    tally_run(summary.properties, out.seed, out.verdicts);
    if (!out.first_failure.empty())
      summary.failing.push_back({out.seed, out.first_failure, reproduce_line(o, out.seed)});
  }
  summary.runs = outcomes.size();
  summary.cpu_ms = process_cpu_ms() - cpu_start_ms;
  summary.wall_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
          .count());
  Status kept = o.out.empty() ? Status() : keep_failing_runs(o, *scenario, summary);
  const int status = print_summary(summary, kShownFailures, kept.ok() ? o.out : "");
  print_cost(summary);
  std::printf("%s\n", summary_line(summary).c_str());
  if (o.out.empty()) return status;
  if (kept.ok()) kept = write_shard(o.out, summary);
  // A sweep of the whole range is its own merge: DIR/summary.json as any merge writes it.
  if (kept.ok() && shards == 1) kept = merge_out_dir(o.out).status();
  if (!kept.ok()) {
    std::fprintf(stderr, "sweep: %s\n", kept.to_string().c_str());
    return 2;
  }
  return status;
}

// Every failing seed of the whole sweep, the table, the cost and the merged summary.
int print_merged(const SweepSummary& merged, const std::string& runs_dir) {
  const int status = print_summary(merged, merged.failing.size(), runs_dir);
  print_cost(merged);
  std::printf("%s\n", summary_line(merged).c_str());
  return status;
}

// What keeps shards from making one sweep; the exit status (2 bad input, 3 missing).
int print_merge_problems(const MergeReport& report, const SweepSummary& any) {
  size_t shown = 0;
  for (const auto& e : report.errors) {
    if (shown++ < kShownProblems) std::printf("ERROR: %s\n", e.c_str());
  }
  for (const uint64_t i : report.missing) {
    if (shown++ >= kShownProblems) continue;
    std::printf("MISSING: shard %llu/%llu (its %llu seeds s of %llu..%llu with s %% %llu == %llu)\n", ull(i),
                ull(report.shards), ull(seeds_in_shard(any.first_seed, any.last_seed, i, report.shards)),
                ull(any.first_seed), ull(any.last_seed), ull(report.shards), ull(i));
  }
  if (shown > kShownProblems) std::printf("... and %zu more problems\n", shown - kShownProblems);
  if (!report.errors.empty()) {
    std::printf("sweep --merge: %zu problems: the shards do not make one sweep; nothing merged\n",
                report.errors.size());
    return 2;
  }
  std::printf(
      "INCOMPLETE: %zu of %llu shards missing; run them (the same command with --shard i/%llu) and merge "
      "again\n",
      report.missing.size(), ull(report.shards), ull(report.shards));
  return 3;
}

// Combines shard summaries: the summary lines of sweep outputs, or the shards of one
// --out directory (then DIR/summary.json is written when they make the whole sweep).
int merge_command(const SimCommandOptions& o) {
  std::error_code ec;
  const bool dir = o.merge.size() == 1 && std::filesystem::is_directory(o.merge.front(), ec);
  std::vector<SourcedSummary> parts;
  for (const auto& path : o.merge) {
    auto read = dir ? read_shard_dir(path) : read_summaries(path);
    if (!read.ok()) {
      std::fprintf(stderr, "sweep --merge: %s\n", read.status().to_string().c_str());
      return 2;
    }
    parts.insert(parts.end(), read->begin(), read->end());
  }
  if (parts.empty()) {
    std::fprintf(stderr, "sweep --merge: no summary lines ({\"mqharness_sweep\":...}) in the files given\n");
    return 2;
  }
  const SweepSummary& any = parts.front().summary;
  std::printf("sweep --merge: %zu summaries of '%s', seeds %llu..%llu in %llu shards\n", parts.size(),
              any.scenario.c_str(), ull(any.first_seed), ull(any.last_seed), ull(any.shards));
  auto report = dir ? merge_out_dir(o.merge.front()) : Result<MergeReport>(merge_summaries(parts));
  if (!report.ok()) {
    std::fprintf(stderr, "sweep --merge: %s\n", report.status().to_string().c_str());
    return 2;
  }
  if (!report->merged) return print_merge_problems(*report, any);
  std::printf("complete: every shard reported once; %llu runs = the range %llu..%llu\n",
              ull(report->merged->runs), ull(any.first_seed), ull(any.last_seed));
  if (dir) std::printf("summary: %s\n", summary_path(o.merge.front()).c_str());
  return print_merged(*report->merged, dir ? o.merge.front() : "");
}

// ---- replay ----

std::string event_text(const HistoryEvent& e) {
  auto j = to_json(e);
  return j.ok() ? *j : to_string(e);
}

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

// A trace (an explorer counterexample written with --trace-out): the history's
// inputs re-executed on the real BrokerCore, compared event by event.
int trace_replay_command(const std::string& file) {
  auto j = read_json_file(file + ".topology.json");
  if (!j.ok()) {
    std::fprintf(stderr, "replay: %s\n", j.status().to_string().c_str());
    return 2;
  }
  auto topology = topology_from_json(*j, file + ".topology.json");
  auto recorded = topology.ok() ? read_history(file) : Result<History>(topology.status());
  if (!recorded.ok()) {
    std::fprintf(stderr, "replay: %s\n", recorded.status().to_string().c_str());
    return 2;
  }
  auto ops = sim::trace_ops(*recorded, *topology);
  if (!ops.ok()) {
    std::fprintf(stderr, "replay: %s\n", ops.status().to_string().c_str());
    return 2;
  }
  std::printf("replay: %s: a trace of %zu events, %zu inputs, re-executed on BrokerCore\n", file.c_str(),
              recorded->events.size(), ops->size());
  const History replayed = sim::run_on_core(*topology, *ops, file + " (replayed on BrokerCore)");
  const sim::TraceComparison c = sim::compare_histories(*recorded, replayed);
  if (c.diverges_at) {
    std::printf("DIVERGES at event %zu (line %zu): the implementation differs from the trace\n  recorded: %s\n"
                "  replayed: %s\n", *c.diverges_at, *c.diverges_at + 1, c.recorded.c_str(), c.replayed.c_str());
    return 1;
  }
  std::printf("REPRODUCED: %zu events identical on BrokerCore\n", c.events);
  const auto verdicts = check_all(replayed, *topology, CheckOptions{});
  const int status = print_verdicts(verdicts);
  std::printf("%s\n", status == 0 ? "PASS: every property held" : ("FAIL: " + failed_properties(verdicts)).c_str());
  return status;
}

int replay_command(const SimCommandOptions& o) {
  const bool is_meta = o.replay_file.ends_with(kRunFileSuffix);
  if (!is_meta && !file_exists(o.replay_file + kRunFileSuffix) && file_exists(o.replay_file + ".topology.json")) {
    return trace_replay_command(o.replay_file);
  }
  auto rf = read_run_file(o.replay_file);
  if (!rf.ok()) {
    std::fprintf(stderr, "replay: %s\n", rf.status().to_string().c_str());
    return 2;
  }
  auto recorded = read_history(rf->history_path);
  if (!recorded.ok()) {
    std::fprintf(stderr, "replay: %s\n", recorded.status().to_string().c_str());
    return 2;
  }
  std::printf("replay: %s: scenario '%s', seed %llu, %zu recorded events\n", rf->history_path.c_str(),
              rf->scenario.name.c_str(), ull(rf->seed), recorded->events.size());
  const SimResult r = sim::simulate(rf->scenario, rf->seed, rf->options);
  const auto& a = recorded->events;
  const auto& b = r.history.events;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string was = i < a.size() ? event_text(a[i]) : "(end of the recorded history)";
    const std::string now = i < b.size() ? event_text(b[i]) : "(end of the re-executed history)";
    if (was == now) continue;
    std::printf("DIVERGES at event %zu (line %zu):\n  recorded: %s\n  replayed: %s\n", i, i + 1, was.c_str(),
                now.c_str());
    return 1;
  }
  std::printf("REPRODUCED: %zu events identical, hash %s\n", b.size(), hex(r.history_hash).c_str());
  const auto verdicts = judge(r);
  const int status = print_verdicts(verdicts);
  std::printf("%s\n", status == 0 ? "PASS: every property held" : ("FAIL: " + failed_properties(verdicts)).c_str());
  return status;
}

// ---- shrink ----

// A failure "of the same kind" as the one being shrunk: the same property, and for a
// run that dies, the same failed assertion (its file, line and condition).
struct Failure {
  std::string property;  // "" = the first that fails
  std::string assertion;
  bool same(const mutants::RunVerdict& v) const {
    if (!v.fails(property)) return false;
    return property != mutants::kAssertion || v.first_failure == assertion;
  }
};

// One run in a child process (it may die on an assertion), judged for `f`; the
// first run of a shrink fills `f` in from what failed first.
sim::Trial try_run(const Scenario& s, uint64_t seed, const SimOptions& options, Failure& f) {
  const mutants::RunVerdict v = mutants::run_isolated(s, seed, options, kRunLimitS);
  if (f.property.empty() && v.caught()) {
    f.property = v.failed.front();
    if (v.died) f.assertion = v.first_failure;
  }
  sim::Trial t;
  t.fails = !f.property.empty() && f.same(v);
  t.history_events = v.history_events;
  t.violation_events = f.property == kShadow ? v.violation_events : 0;
  return t;
}

// Writes the shrunk run's files from a child process. A run that dies leaves no
// history: its files hold the scenario and overrides, and replay dies the same way.
Status write_shrunk(const std::string& path, const Scenario& s, uint64_t seed, const SimOptions& options) {
  mutants::ChildPool pool(1, kRunLimitS);
  pool.start(0, [&] {
    const Status w = write_run_files(path, s, seed, options, sim::simulate(s, seed, options));
    return w.ok() ? std::string("written\n") : "error " + w.to_string() + "\n";
  });
  const mutants::ChildEnd end = pool.wait_one().second;
  if (end.output.find("written\n") != std::string::npos) return Status();
  if (const auto at = end.output.find("error "); at != std::string::npos) {
    return io_error(end.output.substr(at + 6, end.output.find('\n', at) - at - 6));
  }
  SimResult died;
  died.scenario = s;
  return write_run_files(path, s, seed, options, died);
}

// sim::shrink() (the one shrinker, also the mutants report's) with the checkers as
// its judge: a cut is kept while a failure of the same kind remains. Every candidate
// runs in a child process, so one that trips an assertion is judged, not fatal.
int shrink_command(const SimCommandOptions& o) {
  auto scenario = load(o.scenario);
  if (!scenario.ok()) {
    std::fprintf(stderr, "shrink: %s\n", scenario.status().to_string().c_str());
    return 2;
  }
  // The seed's draw, pinned: the shrinker cuts that scenario (sim/swarm.h).
  auto pinned = sim::draw_scenario(*scenario, o.seed);
  if (!pinned.ok()) {
    std::fprintf(stderr, "shrink: %s\n", pinned.status().to_string().c_str());
    return 2;
  }
  SimOptions options;
  options.shadow = !o.no_shadow;
  Failure failure{o.property, ""};
  sim::Trial first = try_run(*pinned, o.seed, options, failure);
  if (!first.fails) {
    std::printf("shrink: seed %llu does not fail%s: nothing to shrink\n", ull(o.seed),
                o.property.empty() ? "" : (" '" + o.property + "'").c_str());
    return 0;
  }
  std::printf("shrink: seed %llu fails '%s'%s (%llu history events); shrinking\n", ull(o.seed),
              failure.property.c_str(), failure.assertion.empty() ? "" : (": " + failure.assertion).c_str(),
              ull(first.history_events));
  const auto still_fails = [&](const sim::Reproducer& c) {
    SimOptions trial = options;
    trial.overrides = c.overrides;
    trial.stop_after_events = c.stop_after_events;
    return try_run(c.scenario, o.seed, trial, failure);
  };
  const sim::ShrinkOutcome out = sim::shrink(sim::Reproducer{*pinned, {}, 0}, first, still_fails,
                                             sim::kDefaultShrinkRuns, failure.property == kLiveness);
  for (const auto& cut : out.cuts) std::printf("  still fails with: %s\n", cut.c_str());
  options.overrides = out.reproducer.overrides;
  options.stop_after_events = out.reproducer.stop_after_events;
  const std::string path = o.history.empty() ? "shrunk.jsonl" : o.history;
  const Status w = write_shrunk(path, out.reproducer.scenario, o.seed, options);
  if (!w.ok()) {
    std::fprintf(stderr, "shrink: %s\n", w.to_string().c_str());
    return 2;
  }
  std::printf("shrunk after %u runs (%u cuts kept): %s, %llu history events (from %llu)\nreproduce: %s %s\n",
              out.runs, out.steps, overrides_json(options.overrides).dump().c_str(), ull(out.history_events),
              ull(first.history_events), command(o, "replay").c_str(), path.c_str());
  return 1;
}

void add_scenario_option(CLI::App* cmd, SimCommandOptions& o) {
  cmd->add_option("--scenario", o.scenario, "Scenario file (JSON); default: the built-in scenarios/default.json");
  cmd->add_flag("--no-shadow", o.no_shadow, "Do not run the model in lockstep");
}

}  // namespace

void add_sim_commands(CLI::App& app, SimCommandOptions& o) {
  auto* run = app.add_subcommand("run", "Simulate one seed of a scenario; check the history, the shadow model "
                                        "and liveness");
  add_scenario_option(run, o);
  run->add_option("--seed", o.seed, "The master seed")->default_val(o.seed);
  run->add_option("--history", o.history, "Write the history (JSON lines) here, and FILE.run.json for replay");

  auto* sweep =
      app.add_subcommand("sweep", "Simulate many seeds, each in a child process; a summary per property");
  add_scenario_option(sweep, o);
  sweep->add_option("--seeds", o.seeds, "'A..B' (inclusive) or one seed 'S'")->default_val(o.seeds);
  sweep->add_option("--jobs", o.jobs, "Runs at a time (each seed runs in its own child process)")
      ->default_val(o.jobs)
      ->check(CLI::Range(1u, 256u));
  sweep->add_option("--shard", o.shard, "Run only seeds with seed % n == i ('i/n')")->default_val(o.shard);
  sweep->add_option("--out", o.out,
                    "Output directory (docs/simulator.md): DIR/shards/I-of-N.json, failing "
                    "seeds' runs in DIR/runs, and DIR/summary.json for a whole range");
  sweep
      ->add_option("--keep-runs", o.keep_runs,
                   "With --out: write the run files of this many failing seeds "
                   "per shard, the first in seed order")
      ->default_val(o.keep_runs);
  sweep
      ->add_option("--merge", o.merge,
                   "Instead of running: merge shards (one --out DIR, or files holding sweep "
                   "summary lines); checks every shard is there once; exit 3 if one is "
                   "missing")
      ->expected(1, -1);

  auto* replay = app.add_subcommand("replay", "Re-execute a recorded run and confirm it event for event");
  replay->add_option("file", o.replay_file, "The history written by run --history (or its .run.json), or a trace "
                                            "(explore --trace-out: FILE with FILE.topology.json)")->required();

  auto* shrink = app.add_subcommand("shrink", "Make a failing run smaller while it fails the same property");
  add_scenario_option(shrink, o);
  shrink->add_option("--seed", o.seed, "The failing seed")->required();
  shrink->add_option("--property", o.property, "The property that must keep failing (default: the first)");
  shrink->add_option("--history", o.history, "Where to write the shrunk run (default shrunk.jsonl)");
}

int run_sim_command(const CLI::App& app, const SimCommandOptions& o) {
  if (app.got_subcommand("run")) return run_command(o);
  if (app.got_subcommand("sweep")) return o.merge.empty() ? sweep_command(o) : merge_command(o);
  if (app.got_subcommand("replay")) return replay_command(o);
  if (app.got_subcommand("shrink")) return shrink_command(o);
  return -1;
}

}  // namespace mq::app
