#include "apps/sim_commands.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "apps/cli_convention.h"
#include "apps/json_output.h"
#include "apps/sweep_summary.h"
#include "apps/walk_command.h"
#include "formats/history_io.h"
#include "formats/json_config.h"
#include "mq_version.h"  // generated: the git revision built
#include "harness/isolated_run.h"
#include "harness/run_file.h"
#include "properties/checkers/check_all.h"
#include "report/progress.h"
#include "report/report.h"
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

// A seed of a sweep, or a candidate of shrink, running longer than this in its child
// process is killed and reported as "watchdog" (a run is bounded by
// sim::kMaxEventsPerRun anyway; this catches a hang in between).
constexpr unsigned kRunLimitS = 600;

// ---- scenarios, verdicts, reproduction ----

Result<Scenario> load(const std::string& path) {
  if (path.empty()) return sim::default_scenario();
  return sim::load_scenario(path);
}

using harness::hex;
using harness::judge;
using harness::kRunFileSuffix;
using harness::read_run_file;

// `fault`: the mutant build's fault switched on ("none": the key is left out, as the
// production build writes it).
Status write_run_files(const std::string& path, const Scenario& s, uint64_t seed, const SimOptions& o,
                       const SimResult& r, const std::string& fault) {
  return harness::write_run(path, s, seed, o, r, MQ_VERSION, fault);
}

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
  if (!o.scenario.empty()) line += " --scenario " + rooted(o.scenario);
  if (o.no_shadow) line += " --no-shadow";
  return line + " --seed " + std::to_string(seed);
}


unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

// ---- run ----

void print_result(const SimResult& r) {
  const auto& f = r.faults;
  const auto& n = r.network;
  std::string counts;
  for (int k = 0; k < sim::kFaultKindCount; ++k) {
    const char* label = sim::fault_kind_info(static_cast<sim::FaultKind>(k)).counted_as;
    if (label != nullptr) counts += (counts.empty() ? "" : ", ") + std::string(label) + " " + std::to_string(f.made[k]);
  }
  std::printf("faults: %s\n", counts.c_str());
  constexpr size_t kShownLog = 12;
  for (size_t i = 0; i < r.fault_log.size() && i < kShownLog; ++i) std::printf("  %s\n", r.fault_log[i].c_str());
  if (r.fault_log.size() > kShownLog) std::printf("  ... %zu more\n", r.fault_log.size() - kShownLog);
  std::printf("network: sent %llu, lost %llu, duplicated %llu, cut by partitions %llu, held by clogs %llu\n",
              ull(n.sent), ull(n.lost), ull(n.duplicated), ull(n.partitioned), ull(n.clogged));
  const auto& p = r.producers;
  std::printf("producers: %llu messages, %llu sends (%llu resends, %llu after 'full'), %llu confirmed "
              "(%llu as duplicates), %llu given up (%llu sent malformed)\n", ull(p.generated), ull(p.attempts),
              ull(p.resends), ull(p.full_backoffs), ull(p.confirmed), ull(p.duplicates), ull(p.given_up),
              ull(p.malformed));
  const auto& c = r.consumers;
  std::printf(
      "consumers: %llu pushes received (%llu stale), %llu processed, %llu acks, %llu nacks, "
      "%llu ack resends, %llu given up, %llu crashes; %llu fetches (%llu answered, %llu given up), "
      "%llu STATS and INFO requests\n",
      ull(c.received), ull(c.stale_pushes), ull(c.processed), ull(c.acks), ull(c.nacks), ull(c.ack_resends),
      ull(c.ack_give_ups), ull(c.crashes), ull(c.fetches), ull(c.fetch_replies), ull(c.fetch_give_ups),
      ull(c.stats_requests));
  const auto& b = r.broker;
  std::printf("broker: %llu commands, %llu pushes, %llu publishes (%llu duplicates, %llu full), %llu acks and "
              "nacks refused as stale, %llu session timeouts\n", ull(b.commands), ull(b.pushes), ull(b.publishes),
              ull(b.duplicates), ull(b.refusals), ull(b.stale_acks), ull(b.session_detaches));
  const auto& d = r.disk;
  std::printf("disk: %llu group commits (%llu records, %llu bytes), %llu checkpoints, %llu recoveries (%llu "
              "matched against the core's crash in memory); at crashes "
              "%llu unsynced records lost, %llu torn writes (%llu torn tails read back), %llu bit flips; %llu times "
              "full (%llu failed writes, %llu 'no space' replies); %llu requests while restarting\n", ull(d.commits),
              ull(d.records), ull(d.bytes), ull(d.checkpoints), ull(d.recoveries), ull(d.crash_twins), ull(d.unsynced_records_lost),
              ull(d.torn_writes), ull(d.torn_tails_seen), ull(d.bit_flips), ull(d.disk_full), ull(d.write_failures),
              ull(d.no_space_replies), ull(d.requests_while_starting));
  if (r.scenario.clients.resp) {
    std::printf("resp: %llu noise commands; %llu hostile connections (%llu closed after their last answer)\n",
                ull(r.resp.noise), ull(r.resp.hostile), ull(r.resp.hostile_closed));
  }
  if (r.corruption) std::printf("DETECTED: %s\n", r.corruption->c_str());
  std::printf("run: %llu events, stopped at %lld ns (%s); history: %llu events, hash %s\n", ull(r.events),
              static_cast<long long>(r.end_ns), r.quiescent ? "all quiet" : "NOT quiet", ull(r.history_events),
              hex(r.history_hash).c_str());
}

int print_verdicts(const std::vector<Verdict>& verdicts) {
  json_add_verdicts(verdicts);
  std::printf("verdicts:\n");
  for (const auto& v : verdicts) {
    std::string text = to_string(v);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    std::printf("  %s\n", text.c_str());
  }
  return all_valid(verdicts) ? 0 : 1;
}

// What a report says about one simulated run: the seed, the scenario, its derived
// parameters and counters, the verdicts with their witnesses, the history.
report::ReportInput run_report(std::string title, const Scenario& s, uint64_t seed, const SimResult& r,
                               const std::vector<Verdict>& verdicts, const std::string& reproduce) {
  report::ReportInput in;
  in.title = std::move(title);
  in.facts = {
      {"scenario", s.name + " (" + s.file + ")"},
      {"seed", std::to_string(seed)},
      {"history", std::to_string(r.history_events) + " events, hash " + hex(r.history_hash)},
      {"virtual time", std::to_string(r.end_ns) + " ns (" + (r.quiescent ? "all quiet" : "NOT quiet") + ")"}};
  for (const auto& line : r.params.lines()) in.facts.push_back({"parameter", line});
  for (const auto& line : r.fault_log) in.facts.push_back({"fault", line});
  in.properties = report::rows_from_verdicts(verdicts, seed, reproduce);
  in.verdicts = verdicts;
  in.history = &r.history;
  in.topology = &r.scenario.topology;  // the seed's draw (sim/swarm.h)
  return in;
}

int run_command(const SimCommandOptions& o) {
  if (const std::string e = o.history.empty() ? "" : output_file_error(o.history); !e.empty()) {
    std::fprintf(stderr, "run: --history %s\n", e.c_str());
    return 2;
  }
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
    const Status w = write_run_files(o.history, s, o.seed, options, r, o.mutant);
    if (!w.ok()) {
      std::fprintf(stderr, "run: %s\n", w.to_string().c_str());
      return 2;
    }
    std::printf("history: %s (replay with: %s %s)\n", o.history.c_str(), command(o, "replay").c_str(),
                rooted(o.history).c_str());
  }
  const auto verdicts = judge(r);
  const int status = print_verdicts(verdicts);
  if (o.report.any()) {
    const std::string title = "mqharness run: seed " + std::to_string(o.seed) + " of '" + s.name + "'";
    if (!write_outputs(
            o.report, run_report(title, s, o.seed, r, verdicts, reproduce_line(o, o.seed)), "run")) {
      return 2;
    }
  }
  json_set("seed", o.seed);
  if (!o.history.empty()) json_set("history", o.history);
  if (status == 0) {
    std::printf("PASS: seed %llu, every property held\n", ull(o.seed));
  } else {
    json_set("reproduce", reproduce_line(o, o.seed));
    std::printf("FAIL: seed %llu: %s\nreproduce: %s\n", ull(o.seed), failed_properties(verdicts).c_str(),
                reproduce_line(o, o.seed).c_str());
  }
  return status;
}

// ---- work that may die: in a child process ----

// Runs `task` in a child process, where an assertion it trips ends only the child;
// what it printed is printed here. True when it returned true; false when it returned
// false or died (then `died` is the failed assertion, or the child's end).
bool in_child(const std::function<bool()>& task, std::string* died = nullptr) {
  harness::ChildPool pool(1, kRunLimitS);
  pool.start(0, [&] { return std::string(task() ? "\n#ok\n" : "\n#failed\n"); });
  const harness::ChildEnd end = pool.wait_one().second;
  const size_t at = end.output.rfind("\n#");
  const bool finished = WIFEXITED(end.status) && WEXITSTATUS(end.status) == 0 && at != std::string::npos;
  std::fputs(end.output.substr(0, finished ? at : end.output.size()).c_str(), stdout);
  std::fflush(stdout);
  if (!finished && died) *died = harness::parse_run(end).first_failure;
  return finished && end.output.compare(at, 5, "\n#ok\n") == 0;
}

// Writes a run's files (write_run_files) from a child process. A run that dies
// leaves no history: its files hold the scenario and overrides, and replay dies the
// same way.
Status write_run_isolated(const std::string& path, const Scenario& s, uint64_t seed, const SimOptions& options,
                          const std::string& fault) {
  std::string died;
  if (in_child(
          [&] {
            const Status st = write_run_files(path, s, seed, options, sim::simulate(s, seed, options), fault);
            if (!st.ok()) std::printf("%s\n", st.to_string().c_str());
            return st.ok();
          },
          &died)) {
    return Status();
  }
  if (died.empty()) return io_error("writing the run files " + path + " failed (see above)");
  SimResult dies;
  dies.scenario = s;
  return write_run_files(path, s, seed, options, dies, fault);
}

// ---- sweep ----

struct SeedOutcome {
  uint64_t seed = 0;
  bool ran = false;                                    // false: the sweep was stopped before this seed
  std::vector<std::pair<std::string, bool>> verdicts;  // property, held
  std::map<std::string, std::string> failures;         // property -> its message's first line
  std::string first_failure;                           // one line, empty when all held
  report::SeedFigures figures;
};

// How many failing seeds a sweep lists on its terminal (the summary line and the
// shard file list all of them).
constexpr size_t kShownFailures = 20;

SeedOutcome outcome_of(uint64_t seed, const harness::RunVerdict& v) {
  SeedOutcome out{seed, true, v.verdicts, {}, {}, {}};
  for (size_t k = 0; k < v.failed.size(); ++k) out.failures.emplace(v.failed[k], v.messages[k]);
  if (v.caught()) out.first_failure = v.failed.front() + ": " + v.first_failure;
  out.figures = {seed,
                 v.history_events,
                 v.confirmed,
                 v.faults_injected,
                 static_cast<double>(v.end_ns) / 1e9,
                 v.wall_s,
                 out.first_failure,
                 ""};
  return out;
}

// What a sweep keeps of its runs while they go on: the tally and the failing seeds
// (the result), and, only for --report, each run's outcome. Memory is what the work
// in flight and the result hold, not the range: a billion seeds are never a list.
struct SweepFold {
  SweepSummary* summary = nullptr;
  std::vector<SeedOutcome>* kept = nullptr;  // nullptr: no report, outcomes not kept
};

// Runs the seeds of `seeds`, each in a child process, `jobs` at a time
// (mutants/isolated_run.h): a seed that trips an assertion is that seed's violation
// ("assertion", with the failed condition) and the sweep goes on. Each outcome is
// folded into `fold` as it ends, and each failing seed printed with its reproduce line
// as soon as it is found; stops early on a stop signal. summary->failing ends in seed
// order.
void run_parallel(const Scenario& s, const ShardSeeds& seeds, unsigned jobs, const SimCommandOptions& o,
                  SweepFold& fold) {
  SimOptions options;
  options.shadow = !o.no_shadow;
  size_t shown = 0;
  report::Progress progress({.verb = "sweep", .unit = "seeds", .total = seeds.size()});
  const auto done = [&](uint64_t k, const harness::RunVerdict& v) {
    SeedOutcome out = outcome_of(seeds.at(k), v);
    const bool failed = !out.first_failure.empty();
    out.figures.reproduce = failed ? reproduce_line(o, out.seed) : "";
    progress.step(1, failed ? 1 : 0);
    const size_t n = failed ? shown++ : 0;
    if (failed && n < kShownFailures) {
      progress.print("FAIL seed " + std::to_string(out.seed) + ": " + out.first_failure +
                     "\n  reproduce: " + out.figures.reproduce);
    } else if (failed && n == kShownFailures) {
      progress.print("(more failing seeds: counted in the table below)");
    }
    ++fold.summary->runs;
    tally_run(fold.summary->properties, out.seed, out.verdicts);
    if (failed) fold.summary->failing.push_back({out.seed, out.first_failure, out.figures.reproduce});
    if (fold.kept != nullptr) fold.kept->push_back(std::move(out));
  };
  harness::run_seeds_isolated(
      s, seeds.size(), [&](uint64_t k) { return seeds.at(k); }, options, jobs, kRunLimitS, done,
      report::stop_requested, [&] { progress.tick(); });
  progress.finish();
  // Children finish out of order; the result lists them in seed order.
  auto by_seed = [](const auto& a, const auto& b) { return a.seed < b.seed; };
  std::sort(fold.summary->failing.begin(), fold.summary->failing.end(), by_seed);
  if (fold.kept != nullptr) std::sort(fold.kept->begin(), fold.kept->end(), by_seed);
}

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
// Each is written by a child process (write_run_isolated): a seed that dies writes
// its scenario and overrides, and replay dies the same way.
Status keep_failing_runs(const SimCommandOptions& o, const Scenario& s, const SweepSummary& summary) {
  SimOptions options;
  options.shadow = !o.no_shadow;
  for (size_t i = 0; i < summary.failing.size() && i < o.keep_runs; ++i) {
    const uint64_t seed = summary.failing[i].seed;
    MQ_RETURN_IF_ERROR(write_run_isolated(run_path(o.out, seed), s, seed, options, o.mutant));
  }
  return Status();
}

// The sweep's report: the table, the per-seed distributions, the failing seeds, and
// the first failing seed run again with its history kept, for its timeline.
bool write_sweep_report(const SimCommandOptions& o, const Scenario& s, const SweepSummary& summary,
                        const std::vector<SeedOutcome>& outcomes, bool interrupted) {
  const Tally& t = summary.properties;
  report::ReportInput in;
  in.title = "mqharness sweep: seeds " + o.seeds + " of '" + s.name + "'";
  in.interrupted = interrupted;
  in.facts = {{"scenario", s.name + " (" + s.file + ")"}, {"seeds", o.seeds}, {"shard", o.shard}};
  std::optional<uint64_t> first_failing;
  for (const auto& out : outcomes) {
    if (!out.ran) continue;
    in.seeds.push_back(out.figures);
    // A seed that died has no history to show (re-running it here would die too).
    const bool died = out.failures.count(harness::kAssertion) + out.failures.count(harness::kWatchdog) > 0;
    if (!out.first_failure.empty() && !died && !first_failing) first_failing = out.seed;
  }
  in.facts.push_back({"runs", std::to_string(in.seeds.size())});
  auto add_row = [&](const std::string& name, const PropertyTally& p) {
    report::PropertyRow row{name, p.seeds, p.violations, p.first_failing_seed, "held on every seed", ""};
    if (p.first_failing_seed) {
      for (const auto& out : outcomes) {
        if (out.seed == *p.first_failing_seed && out.failures.count(name) > 0)
          row.message = out.failures.at(name);
      }
      row.reproduce = reproduce_line(o, *p.first_failing_seed);
    }
    in.properties.push_back(std::move(row));
  };
  const auto& order = harness::judged_properties();
  for (const auto& name : order) {
    if (const auto it = t.find(name); it != t.end()) add_row(name, it->second);
  }
  for (const auto& [name, p] : t) {
    if (std::find(order.begin(), order.end(), name) == order.end()) add_row(name, p);
  }
  SimResult again;
  if (first_failing) {
    SimOptions options;
    options.shadow = !o.no_shadow;
    again = sim::simulate(s, *first_failing, options);
    in.verdicts = judge(again);
    in.history = &again.history;
    in.topology = &again.scenario.topology;
    in.notes.push_back("The timeline and plots show the first failing seed, " +
                       std::to_string(*first_failing) + ", run again.");
  }
  return write_outputs(o.report, std::move(in), "sweep");
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
  const ShardSeeds seeds(first, last, shard, shards);
  // Each seed's draw is a valid scenario (sim/swarm.h): the first ones are checked here,
  // so that a bad swarm section is refused before anything runs (a later seed whose
  // draw fails is that seed's violation, in its child).
  constexpr uint64_t kDrawsChecked = 1000;
  for (uint64_t k = 0; k < seeds.size() && k < kDrawsChecked; ++k) {
    if (const Status drawn = sim::draw_scenario(*scenario, seeds.at(k)).status(); !drawn.ok()) {
      std::fprintf(stderr, "sweep: %s\n", drawn.to_string().c_str());
      return 2;
    }
  }
  const unsigned jobs = std::max(1u, o.jobs);
  std::printf(
      "sweep: scenario '%s' (%s), seeds %s, shard %s: %llu runs, %u at a time (each in a child process)\n",
      scenario->name.c_str(), scenario->file.c_str(), o.seeds.c_str(), o.shard.c_str(), ull(seeds.size()), jobs);
  std::fflush(stdout);
  report::install_stop_handlers();
  std::vector<SeedOutcome> outcomes;  // only for --report
  SweepFold fold;
  fold.summary = &summary;
  fold.kept = o.report.any() ? &outcomes : nullptr;
  run_parallel(*scenario, seeds, jobs, o, fold);
  summary.cpu_ms = process_cpu_ms() - cpu_start_ms;
  summary.wall_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
          .count());
  const int signal = report::stop_signal();
  if (signal != 0) {
    std::printf("INTERRUPTED by signal %d after %llu of %llu seeds: the summary covers the seeds that ran%s\n",
                signal, ull(summary.runs), ull(seeds.size()), o.out.empty() ? "" : " (no shard file: it did not finish)");
  }
  // An interrupted shard is not written: a shard file means the shard finished.
  Status kept = o.out.empty() || signal != 0 ? Status() : keep_failing_runs(o, *scenario, summary);
  // The failing seeds were printed as they were found; the table and the verdict now.
  const int status = print_summary(summary, harness::judged_properties(), 0, "");
  if (kept.ok() && !o.out.empty() && signal == 0 && !summary.failing.empty()) {
    std::printf("runs of the first %zu failing seeds: %s\n", std::min<size_t>(summary.failing.size(), o.keep_runs),
                (o.out + "/runs").c_str());
  }
  print_cost(summary);
  std::printf("%s\n", summary_line(summary).c_str());
  json_set("summary", nlohmann::ordered_json::parse(summary_line(summary)));
  std::fflush(stdout);
  if (o.report.any() && !write_sweep_report(o, *scenario, summary, outcomes, signal != 0)) return 2;
  if (signal != 0) return report::stopped_exit_status(signal);
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
  const int status = print_summary(merged, harness::judged_properties(), merged.failing.size(), runs_dir);
  print_cost(merged);
  std::printf("%s\n", summary_line(merged).c_str());
  json_set("summary", nlohmann::ordered_json::parse(summary_line(merged)));
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

// The format version of a history file: its first line's "v" (1 if unreadable; the
// reader has already refused a file it cannot read).
int history_file_version(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::getline(in, line);
  const auto j = nlohmann::json::parse(line, nullptr, false);
  return j.is_object() && j.contains("v") && j["v"].is_number_integer() ? j["v"].get<int>() : 1;
}

// A replayed event as a file of `version` records it: a version 1 history has no
// topic and bound queues on a topic publish (docs/history-format.md), so a run
// recorded then is compared without them; everything else must be identical.
HistoryEvent as_recorded_in(int version, HistoryEvent e) {
  if (version < 2) {
    e.topic.clear();
    e.bound.clear();
  }
  return e;
}

// A replay that diverged: the recorded history on the timeline, its first event that
// the re-execution did not reproduce as the witness.
bool write_divergence_report(const ReportOptions& report, const std::string& replay_cmd, const std::string& file,
                             const History& recorded, const Topology& topology, size_t at, const std::string& was,
                             const std::string& now) {
  std::vector<HistoryEvent> witness;
  if (at < recorded.events.size()) witness.push_back(recorded.events[at]);
  const std::vector<Verdict> verdicts = {fail(
      "replay", "DIVERGES at event " + std::to_string(at) + "\n  recorded: " + was + "\n  replayed: " + now,
      witness)};
  report::ReportInput in;
  in.title = "mqharness replay: " + file + " DIVERGES at event " + std::to_string(at);
  in.facts = {{"recorded", file + " (" + std::to_string(recorded.events.size()) + " events)"}};
  in.properties =
      report::rows_from_verdicts(verdicts, std::nullopt, replay_cmd + " " + file);
  in.verdicts = verdicts;
  in.history = &recorded;
  in.topology = &topology;
  return write_outputs(report, std::move(in), "replay");
}

// A trace (an explorer counterexample written with --trace-out): the history's
// inputs re-executed on the real BrokerCore, compared event by event.
int trace_replay_command(const std::string& file, const ReportOptions& report, const std::string& replay_cmd) {
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
    if (report.any() && !write_divergence_report(report, replay_cmd, file, *recorded, *topology, *c.diverges_at,
                                                 c.recorded, c.replayed)) {
      return 2;
    }
    return 1;
  }
  std::printf("REPRODUCED: %zu events identical on BrokerCore\n", c.events);
  const auto verdicts = check_all(replayed, *topology, CheckOptions{});
  const int status = print_verdicts(verdicts);
  if (report.any()) {
    report::ReportInput in;
    in.title = "mqharness replay: trace " + file + " on BrokerCore";
    in.facts = {
        {"trace", file}, {"inputs", std::to_string(ops->size())}, {"events", std::to_string(c.events)}};
    in.properties =
        report::rows_from_verdicts(verdicts, std::nullopt, replay_cmd + " " + file);
    in.verdicts = verdicts;
    in.history = &replayed;
    in.topology = &*topology;
    if (!write_outputs(report, std::move(in), "replay")) return 2;
  }
  std::printf("%s\n", status == 0 ? "PASS: every property held" : ("FAIL: " + failed_properties(verdicts)).c_str());
  return status;
}

int replay_command(const SimCommandOptions& o) {
  // The history (FILE.run.json beside it) or the run file: a directory or a missing
  // FILE is named as such, not as a missing FILE.run.json.
  if (const std::string e = input_file_error(o.replay_file); !e.empty()) {
    std::fprintf(stderr, "replay: %s\n", e.c_str());
    return 2;
  }
  const bool is_meta = o.replay_file.ends_with(kRunFileSuffix);
  if (!is_meta && !file_exists(o.replay_file + kRunFileSuffix) && file_exists(o.replay_file + ".topology.json")) {
    return trace_replay_command(o.replay_file, o.report, command(o, "replay"));
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
  if (rf->fault != o.mutant) {
    // The fault decides what the broker does: a replay without it diverges for no
    // reason the user can see.
    std::fprintf(stderr, "replay: %s: recorded with the fault '%s' switched on, replayed with '%s': %s\n",
                 o.replay_file.c_str(), rf->fault.c_str(), o.mutant.c_str(),
                 rf->fault == "none" ? "replay it without --mutant"
                                     : ("replay it with: mqharness-mutants replay --mutant " + rf->fault + " " +
                                        rooted(o.replay_file))
                                           .c_str());
    return 2;
  }
  std::printf("replay: %s: scenario '%s', seed %llu, %zu recorded events\n", rf->history_path.c_str(),
              rf->scenario.name.c_str(), ull(rf->seed), recorded->events.size());
  if (rf->build != MQ_VERSION) {
    std::printf("replay: recorded by build %s, replayed by build %s\n",
                rf->build.empty() ? "(not recorded)" : rf->build.c_str(), MQ_VERSION);
  }
  const SimResult r = sim::simulate(rf->scenario, rf->seed, rf->options);
  const int version = history_file_version(rf->history_path);
  const auto& a = recorded->events;
  const auto& b = r.history.events;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string was = i < a.size() ? event_text(a[i]) : "(end of the recorded history)";
    const std::string now =
        i < b.size() ? event_text(as_recorded_in(version, b[i])) : "(end of the re-executed history)";
    if (was == now) continue;
    std::printf("DIVERGES at event %zu (line %zu):\n  recorded: %s\n  replayed: %s\n", i, i + 1, was.c_str(),
                now.c_str());
    if (o.report.any() &&
        !write_divergence_report(o.report, command(o, "replay"), rf->history_path, *recorded,
                                 rf->scenario.topology, i, was, now)) {
      return 2;
    }
    return 1;
  }
  std::printf("REPRODUCED: %zu events identical, hash %s\n", b.size(), hex(r.history_hash).c_str());
  const auto verdicts = judge(r);
  const int status = print_verdicts(verdicts);
  if (o.report.any()) {
    const std::string title =
        "mqharness replay: " + rf->history_path + " (seed " + std::to_string(rf->seed) + ")";
    report::ReportInput in = run_report(title, rf->scenario, rf->seed, r, verdicts,
                                        command(o, "replay") + " " + o.replay_file);
    in.facts.insert(in.facts.begin(), {"replayed", rf->history_path + ": REPRODUCED, every event identical"});
    if (!write_outputs(o.report, std::move(in), "replay")) return 2;
  }
  std::printf("%s\n", status == 0 ? "PASS: every property held" : ("FAIL: " + failed_properties(verdicts)).c_str());
  return status;
}

// ---- shrink ----

// The shrunk run's report: the reproducer's run with the cuts that made it.
report::ReportInput shrink_report(const SimCommandOptions& o, const sim::Trial& first,
                                  const sim::ShrinkOutcome& out, const std::string& path,
                                  const harness::Failure& failure,
                                  const SimResult& r) {
  const std::string title = "mqharness shrink: seed " + std::to_string(o.seed) + ", '" + failure.property +
                            "' in " + std::to_string(r.history_events) + " events";
  report::ReportInput in = run_report(title, r.scenario, o.seed, r, judge(r), command(o, "replay") + " " + path);
  in.reproducer_table = true;
  in.facts.insert(in.facts.begin(),
                  {"shrunk", std::to_string(first.history_events) + " -> " + std::to_string(r.history_events) +
                                 " history events in " + std::to_string(out.runs) + " runs; written to " + path});
  for (const auto& cut : out.cuts) in.notes.push_back("still fails with: " + cut);
  return in;
}

// sim::shrink() (the one shrinker, also the mutants report's) with the checkers as
// its judge: a cut is kept while a failure of the same kind remains. Every candidate
// runs in a child process, so one that trips an assertion is judged, not fatal.
int shrink_command(const SimCommandOptions& o) {
  if (const std::string e = output_file_error(o.history.empty() ? "shrunk.jsonl" : o.history); !e.empty()) {
    std::fprintf(stderr, "shrink: --history %s\n", e.c_str());
    return 2;
  }
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
  const harness::RunVerdict found = harness::run_isolated(*pinned, o.seed, options, kRunLimitS);
  // --property, or each property RunVerdict::shrink_targets names (one shrink each;
  // the smaller reproducer is kept).
  std::vector<std::string> targets;
  if (!o.property.empty()) {
    if (found.fails(o.property)) targets.push_back(o.property);
  } else if (found.caught()) {
    targets = found.shrink_targets(options.shadow);
  }
  if (targets.empty()) {
    std::printf("shrink: seed %llu does not fail%s: nothing to shrink\n", ull(o.seed),
                o.property.empty() ? "" : (" '" + o.property + "'").c_str());
    return 0;
  }
  harness::Failure failure;
  sim::Trial first;
  sim::ShrinkOutcome out;
  for (size_t k = 0; k < targets.size(); ++k) {
    const harness::Failure f = harness::Failure::of(found, targets[k]);
    const sim::Trial t = harness::trial_of(found, f);
    std::printf("shrink: seed %llu fails '%s'%s (%llu history events); shrinking for it\n", ull(o.seed),
                f.property.c_str(), f.assertion.empty() ? "" : (": " + f.assertion).c_str(),
                ull(t.history_events));
    sim::ShrinkOutcome candidate =
        harness::shrink_for(*pinned, o.seed, options, f, t, sim::kDefaultShrinkRuns, kRunLimitS);
    std::printf("  '%s': %llu history events after %u runs\n", f.property.c_str(),
                ull(candidate.history_events), candidate.runs);
    if (harness::replaces(k, candidate, out)) {
      failure = f;
      first = t;
      out = std::move(candidate);
    }
  }
  for (const auto& cut : out.cuts) std::printf("  still fails with: %s\n", cut.c_str());
  options.overrides = out.reproducer.overrides;
  options.stop_after_events = out.reproducer.stop_after_events;
  const std::string path = o.history.empty() ? "shrunk.jsonl" : o.history;
  const Status w = write_run_isolated(path, out.reproducer.scenario, o.seed, options, o.mutant);
  if (!w.ok()) {
    std::fprintf(stderr, "shrink: %s\n", w.to_string().c_str());
    return 2;
  }
  std::printf("shrunk after %u runs (%u cuts kept): %s, %llu history events (from %llu)\nreproduce: %s %s\n",
              out.runs, out.steps, sim::overrides_to_json(options.overrides).dump().c_str(), ull(out.history_events),
              ull(first.history_events), command(o, "replay").c_str(), rooted(path).c_str());
  json_set("reproduce", command(o, "replay") + " " + rooted(path));
  // The report runs the reproducer again, in a child: it may die on its assertion.
  std::string died;
  if (o.report.any() && !in_child(
                            [&] {
                              const SimResult r = sim::simulate(out.reproducer.scenario, o.seed, options);
                              return write_outputs(o.report, shrink_report(o, first, out, path, failure, r),
                                                   "shrink");
                            },
                            &died)) {
    std::fprintf(stderr, "shrink: no report: %s\n",
                 died.empty() ? "it could not be written" : ("the reproducer dies: " + died).c_str());
    return 2;
  }
  return 1;
}

void add_scenario_option(CLI::App* cmd, SimCommandOptions& o) {
  cmd->add_option("--scenario", o.scenario, "Scenario file (JSON); default: the built-in scenarios/default.json");
  cmd->add_flag("--no-shadow", o.no_shadow, "Do not run the model in lockstep");
}

}  // namespace

int replay_run_file(const SimCommandOptions& options) { return replay_command(options); }

Status write_run_files_of(const std::string& path, const Scenario& scenario, uint64_t seed,
                          const SimOptions& sim_options, const SimCommandOptions& options) {
  return write_run_isolated(path, scenario, seed, sim_options, options.mutant);
}

void add_sim_commands(CLI::App& app, SimCommandOptions& o) {
  auto* run = app.add_subcommand("run", "Simulate one seed of a scenario; check the history, the shadow model "
                                        "and liveness");
  add_scenario_option(run, o);
  run->add_option("--seed", o.seed, "The master seed")->default_val(o.seed);
  run->add_option("--history", o.history, "Write the history (JSON lines) here, and FILE.run.json for replay");
  add_report_options(run, o.report, true);

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
  add_report_options(sweep, o.report, false);

  auto* replay = app.add_subcommand("replay", "Re-execute a recorded run and confirm it event for event");
  replay->add_option("file", o.replay_file, "The history written by run --history (or its .run.json), or a trace "
                                            "(explore --trace-out: FILE with FILE.topology.json)")->required();
  add_report_options(replay, o.report, true);

  auto* shrink = app.add_subcommand("shrink", "Make a failing run smaller while it fails the same property");
  add_scenario_option(shrink, o);
  shrink->add_option("--seed", o.seed, "The failing seed")->required();
  shrink->add_option("--property", o.property,
                     "The property that must keep failing (default: one shrink for each that failed, liveness "
                     "last, and the shadow only when nothing else did or the run has it; the smallest reproducer "
                     "is kept)");
  shrink->add_option("--history", o.history, "Where to write the shrunk run (default shrunk.jsonl)");
  add_report_options(shrink, o.report, true);
}

int run_sim_command(const CLI::App& app, const SimCommandOptions& o) {
  if (app.got_subcommand("run")) return run_command(o);
  if (app.got_subcommand("sweep")) return o.merge.empty() ? sweep_command(o) : merge_command(o);
  if (app.got_subcommand("replay")) return replay_command(o);
  if (app.got_subcommand("shrink")) return shrink_command(o);
  return -1;
}

}  // namespace mq::app
