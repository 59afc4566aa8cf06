#include "mutants/mutants_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <filesystem>
#include <sstream>

#include "apps/cli_convention.h"
#include "apps/json_output.h"
#include "apps/walk_command.h"
#include "explorer/explorer.h"
#include "formats/history_io.h"
#include "formats/json_config.h"
#include "harness/isolated_run.h"
#include "harness/run_file.h"
#include "impl/mutant.h"
#include "mutants/mutant_catalog.h"
#include "properties/checkers/check_all.h"
#include "report/chrome_trace.h"
#include "report/progress.h"
#include "report/report.h"
#include "sim/shrink.h"
#include "sim/swarm.h"
#include "sim/trace_replay.h"

static_assert(mq::impl::kMutantsCompiledIn, "mqharness-mutants needs the mutant build (MQ_MUTANTS)");

namespace mq::mutants {
using explorer::explore;
using explorer::ExploreResult;

namespace {

using Clock = std::chrono::steady_clock;
using harness::hex;
using harness::judge;
using harness::kAssertion;
using harness::kLivenessProperty;
using harness::kShadowProperty;
using harness::run_isolated;
using harness::RunVerdict;
using harness::ScheduleReproducer;
using harness::shrink_run_schedule;
using impl::Mutant;

// The bars (docs/mutants.md): caught within this many seeds, and
// a shrunk reproducer of at most this many history events where the fault allows.
constexpr uint64_t kSeedBar = 200;
constexpr uint64_t kEventsBar = 20;
// The watchdog of one shrink candidate, seconds (the sweep's runs get --run-limit-s).
constexpr unsigned kShrinkRunLimitS = 10;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string fixed(double v, int digits = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}


nlohmann::json overrides_json(const sim::SimOverrides& o) { return sim::overrides_to_json(o); }

// What the report says about one fault.
struct FaultReport {
  const FaultPlan* plan = nullptr;
  uint64_t seeds_run = 0;
  double sweep_s = 0;
  std::optional<uint64_t> caught_seed;  // the first failing seed
  uint64_t caught_after = 0;            // seeds run up to and including it
  double caught_s = 0;
  RunVerdict caught;
  std::optional<uint64_t> checker_seed;  // the first seed where the history alone shows it
  uint64_t checker_after = 0;
  double checker_s = 0;
  RunVerdict checker;
  std::string shrink_property;  // the property the shrunk run must still fail
  std::string shrink_assertion;  // for "assertion": the failed condition it must be
  uint64_t shrink_seed = 0;      // the seed shrunk: the first the history alone caught
  sim::ShrinkOutcome shrunk;
  RunVerdict shrunk_verdict;
  uint64_t shrunk_events = 0;   // the reproducer's history (for a run that dies: before the abort)
  std::optional<ScheduleReproducer>
      schedule;  // the run's schedule shrunk on the core, if it reproduces there
  uint32_t shrink_runs = 0;
  double shrink_s = 0;
  std::string explorer = "-";
  double explore_s = 0;
  std::string error;      // the scenario could not be loaded
  std::string reproduce;  // the line that runs the shrunk reproducer again (shrunk_reproduce_line)
};

// Sweeps seeds until the shadow or any checker fails, then on until a property other
// than the shadow fails too, or the seeds run out: bounded by seeds, not time, so the
// verdict is the same on any machine (the time is reported).
void sweep(const sim::Scenario& s, const MutantsOptions& o, uint64_t first, uint64_t last, FaultReport& r) {
  const auto start = Clock::now();
  for (uint64_t seed = first; seed <= last && seed >= first; ++seed) {
    if (report::stop_requested()) break;
    const RunVerdict v = run_isolated(s, seed, sim::SimOverrides{}, o.run_limit_s);
    ++r.seeds_run;
    if (v.caught() && !r.caught_seed) {
      r.caught_seed = seed;
      r.caught_after = r.seeds_run;
      r.caught_s = seconds_since(start);
      r.caught = v;
    }
    if (v.caught_without_shadow() && !r.checker_seed) {
      // The history alone: the same seed again with the shadow off (it only observes,
      // so the history is the same; the verdicts are the checkers', liveness's, the
      // recovery's or an assertion's).
      sim::SimOptions off;
      off.shadow = false;
      const RunVerdict alone = run_isolated(s, seed, off, o.run_limit_s);
      if (alone.caught()) {
        r.checker_seed = seed;
        r.checker_after = r.seeds_run;
        r.checker_s = seconds_since(start);
        r.checker = alone;
      }
    }
    if (r.caught_seed && r.checker_seed) break;
  }
  r.sweep_s = seconds_since(start);
}


// The shrunk run as `run --history` writes one (FILE and FILE.run.json, the fault
// recorded in it), from a child process: a run that dies leaves an empty history, and
// its replay dies again. `mqharness-mutants replay --mutant NAME FILE` re-executes it.
void write_reproducer(const MutantsOptions& o, const sim::Reproducer& x, uint64_t seed, Mutant m) {
  sim::SimOptions options;
  options.overrides = x.overrides;
  options.stop_after_events = x.stop_after_events;
  app::SimCommandOptions with;
  with.mutant = impl::mutant_name(m);
  const Status w = app::write_run_files_of(o.reproducer, x.scenario, seed, options, with);
  std::printf("reproducer: %s (%s); replay with: %s replay --mutant %s %s\n", o.reproducer.c_str(),
              w.ok() ? "written" : w.to_string().c_str(), o.program.c_str(), with.mutant.c_str(),
              app::rooted(o.reproducer).c_str());
}

// One shrink of the fault's failing run for `property` (harness::shrink_for): with
// the shadow only when the shadow is what caught it, since a history checker must
// catch the fault without it; a candidate much slower than the run it shrinks is not
// smaller, so it is killed early.
sim::ShrinkOutcome shrink_for(const sim::Scenario& pinned, uint64_t seed, const RunVerdict& found,
                              const std::string& property, const MutantsOptions& o) {
  sim::SimOptions options;
  options.shadow = property == kShadowProperty;
  const harness::Failure f = harness::Failure::of(found, property);
  return harness::shrink_for(pinned, seed, options, f, harness::trial_of(found, f), o.shrink_runs,
                             std::min(o.run_limit_s, kShrinkRunLimitS));
}

// Shrinks a failing run with sim::shrink() (the one shrinker, also `mqharness
// shrink`'s): the first run the history alone caught (the shadow's only when nothing
// else did), once for each property RunVerdict::shrink_targets names (each with a
// point of violation, then liveness), keeping the smallest reproducer. Then the run's
// schedule, on the core alone, where it reproduces.
void shrink(const sim::Scenario& s, const MutantsOptions& o, FaultReport& r) {
  const auto start = Clock::now();
  const RunVerdict& found = r.checker_seed ? r.checker : r.caught;
  const uint64_t seed = r.checker_seed ? *r.checker_seed : *r.caught_seed;
  r.shrink_seed = seed;
  auto pinned = sim::draw_scenario(s, seed);
  MQ_CHECK_MSG(pinned.ok(), "a seed the sweep ran draws a valid scenario");
  const std::vector<std::string> targets = found.shrink_targets(false);
  for (size_t k = 0; k < targets.size(); ++k) {
    sim::ShrinkOutcome out = shrink_for(*pinned, seed, found, targets[k], o);
    r.shrink_runs += out.runs;
    if (harness::replaces(k, out, r.shrunk)) {
      r.shrunk = std::move(out);
      r.shrink_property = targets[k];
    }
  }
  if (r.shrink_property == kAssertion) r.shrink_assertion = found.first_failure;
  const bool shadow = r.shrink_property == kShadowProperty;
  const sim::Reproducer& x = r.shrunk.reproducer;
  sim::SimOptions options;
  options.shadow = shadow;
  options.overrides = x.overrides;
  options.stop_after_events = x.stop_after_events;
  r.shrunk_verdict = run_isolated(x.scenario, seed, options, o.run_limit_s);
  r.shrunk_events = r.shrunk_verdict.history_events > 0 ? r.shrunk_verdict.history_events : r.shrunk.history_events;
  r.schedule =
      shrink_run_schedule(x.scenario, seed, options, r.shrink_property, o.shrink_runs, kShrinkRunLimitS);
  r.shrink_s = seconds_since(start);
  if (!o.reproducer.empty()) write_reproducer(o, x, seed, r.plan->mutant);
  if (!o.reproducer.empty() && r.schedule) {
    const std::string path = o.reproducer + ".schedule.jsonl";
    const Status w = sim::write_trace_history(path, x.scenario.topology, r.schedule->history);
    std::printf("schedule: %s (%s); replay with: %s replay --mutant %s %s\n", path.c_str(),
                w.ok() ? "written" : w.to_string().c_str(), o.program.c_str(),
                std::string(impl::mutant_name(r.plan->mutant)).c_str(), app::rooted(path).c_str());
  }
}

void explore_flaw(FaultReport& r) {
  if (!r.plan->flaw) return;
  const auto start = Clock::now();
  const ExploreResult e = explore(explorer_config(), flawed_model(*r.plan->flaw));
  r.explore_s = seconds_since(start);
  const std::string variant = flaw_name(*r.plan->flaw);
  if (e.counterexample) {
    r.explorer = variant + ": " + property_name(e.counterexample->violation.property) + ", " +
                 std::to_string(e.counterexample->steps.size()) + " steps";
  } else if (e.lasso) {
    r.explorer = variant + ": liveness lasso, " + std::to_string(e.lasso->prefix.size()) + "+" +
                 std::to_string(e.lasso->cycle.size()) + " steps";
  } else {
    r.explorer = variant + ": NOT caught (" + std::to_string(e.states) + " states" +
                 (e.complete ? ", complete)" : ", " + e.bound_hit + ")");
  }
}

FaultReport run_fault(const FaultPlan& plan, const MutantsOptions& o, uint64_t first, uint64_t last) {
  FaultReport r;
  r.plan = &plan;
  auto scenario = scenario_named(plan.scenario);
  if (!scenario.ok()) {
    r.error = scenario.status().to_string();
    return r;
  }
  impl::select_mutant(plan.mutant);
  sweep(*scenario, o, first, last, r);
  if (r.caught_seed) shrink(*scenario, o, r);
  impl::select_mutant(Mutant::kNone);
  if (o.explore) explore_flaw(r);
  return r;
}

// ---- the control: the same build, no fault selected ----

struct Control {
  uint64_t seeds = 0;
  std::vector<std::pair<uint64_t, RunVerdict>> failures;
  double seconds = 0;
  std::string explorer;  // the clean model on the explorer's configuration
};

Control run_control(const MutantsOptions& o, bool explore_too) {
  Control c;
  const auto start = Clock::now();
  impl::select_mutant(Mutant::kNone);
  for (const std::string_view name : {"default", "bitrot"}) {
    auto s = scenario_named(name);
    MQ_CHECK_MSG(s.ok(), "the built-in scenarios load");
    for (uint64_t seed = 1; seed <= o.clean_seeds && !report::stop_requested(); ++seed) {
      const RunVerdict v = run_isolated(*s, seed, sim::SimOverrides{}, o.run_limit_s);
      ++c.seeds;
      if (v.caught()) c.failures.emplace_back(seed, v);
    }
  }
  c.seconds = seconds_since(start);
  if (explore_too) {
    const ExploreResult e = explore(explorer_config());
    c.explorer = e.counterexample || e.lasso ? "VIOLATION (the clean model fails: the configuration is wrong)"
                 : std::string(e.complete ? "proved" : "no violation up to " + e.bound_hit) + " in " +
                       std::to_string(e.states) + " states";
  }
  return c;
}

// ---- the report ----

std::string caught_cell(const FaultReport& r) {
  if (!r.caught_seed) return "**ESCAPED** (" + std::to_string(r.seeds_run) + " seeds, " + fixed(r.sweep_s) + " s)";
  return join(r.caught.failed) + " (seed " + std::to_string(*r.caught_seed) + ")";
}

std::string checker_cell(const FaultReport& r) {
  if (!r.checker_seed) return "shadow only (" + std::to_string(r.seeds_run) + " seeds)";
  std::vector<std::string> props;
  for (const auto& p : r.checker.failed) {
    if (p != "shadow") props.push_back(p);
  }
  return join(props) + " (seed " + std::to_string(*r.checker_seed) + ", " + std::to_string(r.checker_after) +
         " seeds, " + fixed(r.checker_s) + " s)";
}

// The smallest reproducer: the run's, or its schedule's on the core.
uint64_t reproducer_events(const FaultReport& r) {
  if (r.schedule && r.schedule->history.events.size() < r.shrunk_events)
    return r.schedule->history.events.size();
  return r.shrunk_events;
}

std::string reproducer_cell(const FaultReport& r) {
  if (!r.caught_seed) return "-";
  const uint64_t events = reproducer_events(r);
  if (r.schedule && events < r.shrunk_events) {
    return std::to_string(events) + " (core schedule; the run: " + std::to_string(r.shrunk_events) + ")" +
           (events <= kEventsBar ? "" : " (over " + std::to_string(kEventsBar) + ")");
  }
  const bool dies = r.shrunk_verdict.history_events == 0;
  if (dies && events == 0) return "(the run dies: " + join(r.shrunk_verdict.failed) + ")";
  return std::to_string(events) + (dies ? ", then the " + join(r.shrunk_verdict.failed) : "") +
         (events <= kEventsBar ? "" : " (over " + std::to_string(kEventsBar) + ")");
}

void write_table(std::ostream& md, const std::vector<FaultReport>& reports) {
  md << "| fault | scenario | caught by (first failing seed) | seeds | time | the history alone (no shadow) "
        "| shrunk reproducer (events) | explorer, MODEL variant |\n";
  md << "|---|---|---|---:|---:|---|---:|---|\n";
  for (const FaultReport& r : reports) {
    const std::string name(impl::mutant_name(r.plan->mutant));
    md << "| `" << name << "` | " << r.plan->scenario << " | " << (r.error.empty() ? caught_cell(r) : r.error)
       << " | " << (r.caught_seed ? std::to_string(r.caught_after) : "-") << " | "
       << (r.caught_seed ? fixed(r.caught_s) + " s" : "-") << " | " << checker_cell(r) << " | "
       << reproducer_cell(r) << " | " << r.explorer << " |\n";
  }
}

void write_details(std::ostream& md, const std::vector<FaultReport>& reports) {
  md << "\n## The faults\n\n";
  for (const FaultReport& r : reports) {
    const impl::MutantInfo& info = impl::kMutants[static_cast<size_t>(r.plan->mutant) - 1];
    md << "### `" << info.name << "`\n\n" << info.breaks << ". Fault point: `" << info.where << "`.\n\n";
    if (!r.plan->why_scenario.empty()) md << "- scenario `" << r.plan->scenario << "`: " << r.plan->why_scenario << "\n";
    if (r.caught_seed) {
      md << "- first failure (seed " << *r.caught_seed << "): " << r.caught.failed.front() << ": "
         << r.caught.first_failure << "\n";
      md << "- shrunk seed " << r.shrink_seed << " for `" << r.shrink_property << "` in " << r.shrink_runs
         << " runs (" << fixed(r.shrink_s) << " s) from "
         << (r.caught.history_events > 0 ? std::to_string(r.caught.history_events)
                                         : "an unknown number of (the run dies)")
         << " to " << r.shrunk_events << " history events"
         << (r.shrunk_verdict.history_events == 0 ? " (before the event that aborts)" : "") << "; it fails "
         << join(r.shrunk_verdict.failed) << "; overrides `"
         << overrides_json(r.shrunk.reproducer.overrides).dump() << "`; " << r.shrunk.steps
         << " cuts kept; the reproducer: " << sim::summary(r.shrunk.reproducer) << "\n";
      if (r.schedule) {
        md << "- its schedule on BrokerCore alone (delta debugging over the run's inputs, "
           << r.schedule->runs << " replays): " << r.schedule->ops << " inputs, "
           << r.schedule->history.events.size() << " history events, still failing `" << r.shrink_property
           << "`\n";
      } else {
        md << "- its schedule on BrokerCore alone: not reproduced there (the failure needs the simulator: "
              "the log, "
              "a crash of the process, or the shadow)\n";
      }
      md << "- reproduce: `mqharness-mutants --only " << info.name << " --seeds " << r.shrink_seed << ".."
         << r.shrink_seed << " --out - --reproducer shrunk.jsonl`, then `mqharness-mutants --only "
         << info.name << " --replay shrunk.jsonl`"
         << (r.schedule ? " (and `mqharness-mutants replay --mutant " + std::string(info.name) +
                              " shrunk.jsonl.schedule.jsonl` for the schedule)"
                        : std::string())
         << "\n";
    }
    md << "- explorer: " << r.plan->flaw_note;
    if (r.plan->flaw) md << "; " << r.explorer << " (" << fixed(r.explore_s) << " s)";
    md << "\n\n";
  }
}

std::string today_utc() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

void write_control(std::ostream& md, const Control& c, const MutantsOptions& o) {
  md << "\n## The control: the clean broker\n\n";
  md << "The same mutant build with no fault selected, seeds 1.." << o.clean_seeds
     << " of `default` and of `bitrot`: " << c.seeds << " runs, " << c.failures.size() << " with a violation ("
     << fixed(c.seconds) << " s).";
  if (!c.explorer.empty()) md << " The clean model on the explorer's configuration: " << c.explorer << ".";
  md << "\n";
  for (const auto& [seed, v] : c.failures) md << "- seed " << seed << ": " << join(v.failed) << ": " << v.first_failure << "\n";
  if (o.clean_log.empty()) return;
  // Read and judged before the work (clean_log_error); read again here, bounded.
  const auto log = read_text_file(o.clean_log);
  const std::string text = log.ok() ? *log : log.status().to_string();
  md << "\nThe production build (`mqharness`, no fault compiled in) over the default scenario, as given with "
        "--clean-log (the issue's full control is `mqharness sweep --seeds 1..10000 --jobs 2`):\n\n```\n"
     << text << (text.ends_with("\n") ? "" : "\n") << "```\n";
}

std::string render(const std::vector<FaultReport>& reports, const Control& control, const MutantsOptions& o,
                   double total_s) {
  std::ostringstream md;
  md << "# Mutants: named faults in the broker, and what catches them\n\n";
  md << "Generated by `" << o.command_line << "` on " << today_utc() << " (" << fixed(total_s, 1)
     << " s in all, one core: each run is a child process, one at a time). Do not edit by hand.\n\n";
  md << "Each fault of `impl/mutant.h` is compiled only into the mutant build (`mutants/`, `MQ_MUTANTS`); "
        "the production build has none. For each: seeds "
     << o.seeds
     << " of its scenario are swept until the first "
        "violation (the shadow model, liveness, a checker, or an always-on assertion); the sweep goes on "
        "until a "
        "property other than the shadow fails too (the column \"the history alone\"), or the seeds run out "
        "(the "
        "bound is seeds, not time: the same verdict on any machine; the time is reported); the first failing "
        "run is shrunk by `sim/shrink.h` (the shrinker of `mqharness shrink`: fewer messages, "
        "fault kinds off, shorter phases, a smaller topology, capacities, priority levels and ranges, kept "
        "while "
        "the property it failed still fails: once for each property other than the shadow and liveness "
        "that failed, whose violation is a point in the history, and once for liveness, whose reproducer "
        "keeps its healing phase, when that failed too; the smallest reproducer is kept), cut at its first violation, and then shrunk choice by "
        "choice (`sim/choices.h`: delta debugging over the run's messages, the nemesis's faults, nacks, lost "
        "and duplicated packets, each candidate the whole simulation again with those choices skipped, so "
        "that a failure needing the log, a crash or liveness shrinks too); the reproducer's history "
        "up to "
        "and including that violation is counted (for a run that dies on an assertion: the history before "
        "the "
        "event that aborts); and the explorer runs the matching broken MODEL variant on a small "
        "configuration "
        "(one durable queue of capacity 2 with 2 levels, 2 consumers, 4 menu messages, time 0..2, one "
        "crash).\n\n";
  md << "Bars: every fault caught within " << kSeedBar
     << " seeds, by a history checker without the shadow too; "
        "a shrunk reproducer of at most "
     << kEventsBar << " events.\n\n";
  write_table(md, reports);
  write_control(md, control, o);
  write_details(md, reports);
  return md.str();
}

std::vector<const FaultPlan*> selected_plans(const MutantsOptions& o, std::string& error) {
  std::vector<const FaultPlan*> out;
  for (const FaultPlan& p : fault_plans()) {
    const std::string name(impl::mutant_name(p.mutant));
    if (o.only.empty() || std::find(o.only.begin(), o.only.end(), name) != o.only.end()) out.push_back(&p);
  }
  for (const auto& name : o.only) {
    const auto m = impl::mutant_by_name(name);
    if (!m || *m == Mutant::kNone) error += (error.empty() ? "unknown fault '" : ", '") + name + "'";
  }
  return out;
}

Result<sim::SimOverrides> parse_overrides(const std::string& text) {
  if (text.empty()) return sim::SimOverrides{};
  auto j = parse_json_text(text, "--overrides");
  if (!j.ok()) return j.status();
  return sim::overrides_from_json(*j, "--overrides");
}

// `text` as one shell word, whatever it holds.
std::string shell_word(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The line that runs `seed` of `fault` again in `program`, from any directory.
std::string run_line(const std::string& program, const std::string& fault, uint64_t seed,
                     const std::string& overrides) {
  std::string line = program + " --only " + fault + " --run " + std::to_string(seed);
  if (!overrides.empty() && overrides != "{}") line += " --overrides " + shell_word(overrides);
  return line;
}

// --report and --trace of a --run: the run's verdicts, witnesses and history.
bool write_run_outputs(const FaultPlan& plan, const MutantsOptions& o, const sim::Scenario& s,
                       const sim::SimResult& r, const std::vector<Verdict>& verdicts) {
  const std::string fault(impl::mutant_name(plan.mutant));
  const std::string title =
      "mqharness-mutants: fault '" + fault + "', seed " + std::to_string(*o.run_seed) + " of '" + s.name + "'";
  bool ok = true;
  if (!o.trace.empty()) {
    const Status w = report::write_chrome_trace(r.history, &r.scenario.topology, title, o.trace);
    if (!w.ok()) std::fprintf(stderr, "mqharness-mutants: %s\n", w.to_string().c_str());
    ok = ok && w.ok();
  }
  if (o.report.empty()) return ok;
  report::ReportInput in;
  in.title = title;
  in.command_line = o.command_line;
  in.facts = {
      {"fault", fault + ": " + std::string(impl::kMutants[static_cast<size_t>(plan.mutant) - 1].breaks)},
      {"scenario", s.name},
      {"seed", std::to_string(*o.run_seed)},
      {"overrides", o.overrides.empty() ? "none" : o.overrides},
      {"history", std::to_string(r.history_events) + " events"}};
  in.properties = report::rows_from_verdicts(verdicts, *o.run_seed, run_line(o.program, fault, *o.run_seed, o.overrides));
  in.verdicts = verdicts;
  in.history = &r.history;
  in.topology = &r.scenario.topology;  // the seed's draw (sim/swarm.h)
  const Status w = report::write_report(o.report, in);
  if (!w.ok()) {
    std::fprintf(stderr, "mqharness-mutants: %s\n", w.to_string().c_str());
    return false;
  }
  std::printf("report: %s/index.html\n", o.report.c_str());
  return ok;
}

// One run in this process (an assertion aborts it, with its message).
int reproduce(const FaultPlan& plan, const MutantsOptions& o) {
  auto scenario = scenario_named(plan.scenario);
  auto overrides = parse_overrides(o.overrides);
  if (!scenario.ok() || !overrides.ok()) {
    std::fprintf(stderr, "mqharness-mutants: %s\n",
                 (scenario.ok() ? overrides.status() : scenario.status()).to_string().c_str());
    return app::kExitUsage;
  }
  const uint64_t seed = *o.run_seed;
  const std::string fault(impl::mutant_name(plan.mutant));
  impl::select_mutant(plan.mutant);
  sim::SimOptions options;
  options.overrides = *overrides;
  const sim::SimResult r = sim::simulate(*scenario, seed, options);
  std::printf("fault '%s', scenario '%s', seed %llu, overrides %s: %llu history events\n", fault.c_str(),
              scenario->name.c_str(), static_cast<unsigned long long>(seed),
              overrides_json(*overrides).dump().c_str(), static_cast<unsigned long long>(r.history_events));
  app::json_set("fault", fault);
  app::json_set("seed", seed);
  if (!o.history.empty()) {
    const Status w = write_history_file(r.history, o.history);
    if (!w.ok()) {
      std::fprintf(stderr, "mqharness-mutants: %s\n", w.to_string().c_str());
      return app::kExitUsage;
    }
    app::json_set("history", app::rooted(o.history));
  }
  bool all_held = true;
  const std::vector<Verdict> verdicts = judge(r);
  app::json_add_verdicts(verdicts);
  for (const Verdict& v : verdicts) {
    all_held = all_held && v.valid;
    std::printf("  %s\n", to_string(v).substr(0, to_string(v).find('\n')).c_str());
  }
  if (!write_run_outputs(plan, o, *scenario, r, verdicts)) return app::kExitUsage;
  if (all_held) {
    std::printf("PASS: every property held\n");
    return 0;
  }
  const std::string again = run_line(o.program, fault, seed, o.overrides);
  std::printf("FAIL\nreproduce: %s\n", again.c_str());
  app::json_set("reproduce", again);
  return 1;
}

// Re-executes a run file (a --reproducer's, or `run --history`'s of this build) with
// the fault it records: `replay` of the simulator's commands.
int replay(const MutantsOptions& o, app::SimCommandOptions sim) {
  namespace fs = std::filesystem;
  if (const std::string e = app::input_file_error(o.replay); !e.empty()) {
    std::fprintf(stderr, "mqharness-mutants: --replay: %s\n", e.c_str());
    return app::kExitUsage;
  }
  std::error_code ec;
  if (!o.replay.ends_with(harness::kRunFileSuffix) && !fs::exists(o.replay + harness::kRunFileSuffix, ec)) {
    std::fprintf(stderr,
                 "mqharness-mutants: --replay: %s.run.json: no such file: the run file that --reproducer (or "
                 "run --history) writes beside %s is missing; write both again\n",
                 o.replay.c_str(), o.replay.c_str());
    return app::kExitUsage;
  }
  auto run_file = harness::read_run_file(o.replay);
  if (!run_file.ok()) {
    std::fprintf(stderr, "mqharness-mutants: --replay: %s\n", run_file.status().to_string().c_str());
    return app::kExitUsage;
  }
  const std::string& fault = run_file->fault;
  const auto m = impl::mutant_by_name(fault);
  if (!m) {
    std::fprintf(stderr, "mqharness-mutants: --replay: %s: /fault: '%s' is no fault of this build\n",
                 o.replay.c_str(), fault.c_str());
    return app::kExitUsage;
  }
  const auto other = std::find_if(o.only.begin(), o.only.end(), [&](const std::string& n) { return n != fault; });
  if (other != o.only.end()) {
    std::fprintf(stderr, "mqharness-mutants: --replay: %s records the fault '%s', not --only %s\n",
                 o.replay.c_str(), fault.c_str(), other->c_str());
    return app::kExitUsage;
  }
  impl::select_mutant(*m);
  sim.mutant = fault;
  sim.verb_args = *m == Mutant::kNone ? "" : " --mutant " + fault;
  sim.replay_file = o.replay;
  app::json_set("fault", fault);
  return app::replay_run_file(sim);
}

// Why --clean-log cannot be embedded: it cannot be read (missing, a directory, larger
// than kMaxConfigFileBytes), or it is not what it is said to be, the output of
// `mqharness sweep` (which ends in its PASS or FAIL summary line). "" when it can.
std::string clean_log_error(const std::string& path) {
  const auto log = read_text_file(path);
  if (!log.ok()) return "--clean-log: " + log.status().message();
  if (log->rfind("PASS: ", 0) != 0 && log->find("\nPASS: ") == std::string::npos &&
      log->rfind("FAIL: ", 0) != 0 && log->find("\nFAIL: ") == std::string::npos) {
    return "--clean-log: " + path +
           ": not the output of `mqharness sweep` (no line starts with its summary, 'PASS: ' or 'FAIL: ')";
  }
  return "";
}

// Why the options given do not make one mode (--run, --replay or the report), or a
// file cannot be read or written: "" when they do and can. Checked before any work:
// a report of many minutes must not end in "cannot write", nor ignore an option.
std::string options_error(const MutantsOptions& o, size_t faults) {
  const bool run = o.run_seed.has_value(), replaying = !o.replay.empty();
  if (run && replaying) return "--run and --replay are two modes: give one";
  enum Mode { kRun, kReplay, kReport };
  const Mode mode = run ? kRun : replaying ? kReplay : kReport;
  const struct {
    bool given;
    const char* name;
    Mode mode;
  } owned[] = {{!o.overrides.empty(), "--overrides", kRun}, {!o.history.empty(), "--history", kRun},
               {!o.report.empty(), "--report", kRun},       {!o.trace.empty(), "--trace", kRun},
               {!o.reproducer.empty(), "--reproducer", kReport}, {!o.clean_log.empty(), "--clean-log", kReport}};
  for (const auto& x : owned) {
    if (x.given && x.mode != mode) {
      return std::string(x.name) + " goes with " +
             (x.mode == kRun ? "--run (one run)" : "the report (neither --run nor --replay)");
    }
  }
  if (mode == kRun && faults != 1) return "--run needs exactly one --only fault";
  if (!o.reproducer.empty() && faults != 1) return "--reproducer writes one run: give exactly one --only fault";
  for (const std::string* out : {&o.history, &o.trace, &o.reproducer}) {
    if (const std::string e = out->empty() ? "" : app::output_file_error(*out); !e.empty()) return e;
  }
  std::error_code ec;
  if (!o.report.empty() && std::filesystem::exists(o.report, ec) && !std::filesystem::is_directory(o.report, ec)) {
    return o.report + ": --report: not a directory";
  }
  if (mode == kReport && !o.out.empty() && o.out != "-") {
    if (const std::string e = app::output_file_error(o.out); !e.empty()) return e;
  }
  if (!o.clean_log.empty()) return clean_log_error(o.clean_log);
  return "";
}

// The line that runs the shrunk reproducer of `r` again, from any directory: `--run`
// with its overrides when the shrinker cut only those; when it cut the scenario too
// (a queue, a consumer, a feature), the scenario travels in a run file: the report
// of that one seed writes it (--reproducer), and --replay runs it.
std::string shrunk_reproduce_line(const FaultReport& r, const MutantsOptions& o, const std::string& name) {
  const std::string overrides = overrides_json(r.shrunk.reproducer.overrides).dump();
  if (auto base = scenario_named(r.plan->scenario); base.ok()) {
    auto drawn = sim::draw_scenario(*base, r.shrink_seed);
    if (drawn.ok() && drawn->text == r.shrunk.reproducer.scenario.text) {
      return run_line(o.program, name, r.shrink_seed, overrides);
    }
  }
  const std::string seed = std::to_string(r.shrink_seed);
  return o.program + " --only " + name + " --seeds " + seed + ".." + seed +
         " --clean-seeds 1 --no-explore --out - --reproducer shrunk.jsonl; " + o.program +
         " --replay shrunk.jsonl";
}

// What --json says of one fault.
nlohmann::ordered_json fault_json(const FaultReport& r) {
  const std::string name(impl::mutant_name(r.plan->mutant));
  nlohmann::ordered_json j = {{"fault", name},
                              {"scenario", std::string(r.plan->scenario)},
                              {"caught", r.caught_seed.has_value()},
                              {"seeds_run", r.seeds_run}};
  if (!r.error.empty()) j["error"] = r.error;
  if (r.caught_seed) {
    j["caught_seed"] = *r.caught_seed;
    j["caught_by"] = r.caught.failed;
    j["reproducer_events"] = reproducer_events(r);
    j["reproduce"] = r.reproduce;
  }
  if (r.checker_seed) j["without_shadow_seed"] = *r.checker_seed;
  if (r.plan->flaw) j["explorer"] = r.explorer;
  return j;
}

// The report: the control, then every fault of `plans` over seeds first..last.
int report_all(const MutantsOptions& o, const std::vector<const FaultPlan*>& plans, uint64_t first,
               uint64_t last) {
  const auto start = Clock::now();
  report::install_stop_handlers();
  report::Progress progress({.verb = "mutants", .unit = "faults", .total = plans.size()});
  progress.set_detail("control: the clean broker");
  const Control control = run_control(o, o.explore);
  progress.print("control: " + std::to_string(control.seeds) + " clean runs, " +
                 std::to_string(control.failures.size()) + " with a violation (" + fixed(control.seconds) +
                 " s)");
  std::vector<FaultReport> reports;
  int escaped = 0, shadow_only = 0, over_bar = 0;
  for (const FaultPlan* p : plans) {
    if (report::stop_requested()) break;
    progress.set_detail(std::string(impl::mutant_name(p->mutant)));
    reports.push_back(run_fault(*p, o, first, last));
    FaultReport& r = reports.back();
    if (r.caught_seed) r.reproduce = shrunk_reproduce_line(r, o, std::string(impl::mutant_name(p->mutant)));
    escaped += r.caught_seed ? 0 : 1;
    shadow_only += r.caught_seed && !r.checker_seed ? 1 : 0;
    over_bar += r.caught_seed && o.events_bar > 0 && reproducer_events(r) > o.events_bar ? 1 : 0;
    char line[1024];
    std::snprintf(line, sizeof line, "%-30s %s | %s | %s seeds, %s s | no shadow: %s | reproducer %s | %s",
                  std::string(impl::mutant_name(p->mutant)).c_str(), r.caught_seed ? "CAUGHT " : "ESCAPED",
                  caught_cell(r).c_str(), r.caught_seed ? std::to_string(r.caught_after).c_str() : "-",
                  fixed(r.caught_s).c_str(), checker_cell(r).c_str(), reproducer_cell(r).c_str(),
                  r.explorer.c_str());
    progress.print(line);
    if (r.caught_seed) progress.print("  reproduce: " + r.reproduce);
    progress.step(1, r.caught_seed ? 0 : 1);
  }
  progress.finish();
  if (const int signal = report::stop_signal(); signal != 0) {
    std::printf("INTERRUPTED by signal %d after %zu of %zu faults (%d escaped so far); no report written\n",
                signal, reports.size(), plans.size(), escaped);
    return report::stopped_exit_status(signal);
  }
  const std::string md = render(reports, control, o, seconds_since(start));
  if (!o.out.empty() && o.out != "-") {
    std::ofstream out(o.out, std::ios::binary);
    out << md;
    if (!out) {
      std::fprintf(stderr, "mqharness-mutants: %s: cannot write\n", o.out.c_str());
      return app::kExitUsage;
    }
    std::printf("report: %s\n", o.out.c_str());
    app::json_set("report", app::rooted(o.out));
  }
  if (app::json_result() != nullptr) {
    nlohmann::ordered_json faults = nlohmann::ordered_json::array();
    for (const FaultReport& r : reports) faults.push_back(fault_json(r));
    app::json_set("faults", std::move(faults));
    app::json_set("control", {{"seeds", control.seeds}, {"failures", control.failures.size()}});
    app::json_set("escaped", escaped);
    app::json_set("shadow_only", shadow_only);
    app::json_set("over_events_bar", over_bar);
  }
  std::printf(
      "%zu faults, %d escaped, %d caught by the shadow only, %d with a reproducer over %llu events; "
      "control %s\n",
      reports.size(), escaped, shadow_only, over_bar, static_cast<unsigned long long>(o.events_bar),
      control.failures.empty() ? "clean" : "FAILED");
  return escaped == 0 && shadow_only == 0 && over_bar == 0 && control.failures.empty() ? 0 : 1;
}


}  // namespace

void add_mutants_options(CLI::App& app, MutantsOptions& o) {
  app.add_option("--seeds", o.seeds, "Seeds per fault: 'A..B' (inclusive, from 1) or one seed 'S'")->default_val(o.seeds);
  app.add_option("--out", o.out, "The report (Markdown); '-' for none")->default_val(o.out);
  app.add_option("--only", o.only, "Only these faults (repeatable); see impl/mutant.h");
  app.add_option("--shrink-runs", o.shrink_runs, "Runs per shrink")->default_val(o.shrink_runs);
  app.add_option("--events-bar", o.events_bar,
                 "Fail when a fault's smallest reproducer has more history events than this (0: not judged)")
      ->default_val(o.events_bar);
  app.add_option("--run-limit-s", o.run_limit_s, "Kill one run after this long (watchdog; 0: never)")
      ->default_val(o.run_limit_s);
  app.add_option("--clean-seeds", o.clean_seeds, "Control: seeds of the clean broker per scenario")
      ->default_val(o.clean_seeds);
  app.add_flag("!--no-explore", o.explore, "Skip the explorer column");
  app.add_option("--clean-log", o.clean_log, "Embed this `mqharness sweep` output in the report");
  app.add_option("--run", o.run_seed, "Reproduce: run this one seed of the --only fault (in process)");
  app.add_option("--overrides", o.overrides, "With --run: the shrunk overrides, JSON as the report prints them");
  app.add_option("--history", o.history, "With --run: write the history (JSON lines) here");
  app.add_option("--report", o.report, "With --run: write an HTML report of the run into DIR");
  app.add_option("--trace", o.trace, "With --run: write the run as a Chrome Trace Event file");
  app.add_option("--reproducer", o.reproducer,
                 "Write the shrunk run here (FILE and FILE.run.json; with one --only fault)");
  app.add_option("--replay", o.replay,
                 "Re-execute a run file written with --reproducer (or run --history) with the fault it records");
}

int run_mutants(const MutantsOptions& o, const app::SimCommandOptions& sim) {
  const auto usage = [](const std::string& why) {
    std::fprintf(stderr, "mqharness-mutants: %s\n", why.c_str());
    return app::kExitUsage;
  };
  std::string error;
  const auto plans = selected_plans(o, error);
  if (!error.empty()) return usage(error + " (the names are in impl/mutant.h and docs/mutants.md)");
  if (const std::string e = options_error(o, o.only.empty() ? 0 : plans.size()); !e.empty()) return usage(e);
  if (!o.replay.empty()) return replay(o, sim);
  if (o.run_seed) return reproduce(*plans.front(), o);
  uint64_t first = 0, last = 0;
  if (!app::parse_seed_range(o.seeds, first, last) || first == 0) {
    return usage("bad --seeds '" + o.seeds + "': 'A..B' with 1 <= A <= B, or one seed 'S' >= 1");
  }
  return report_all(o, plans, first, last);
}

}  // namespace mq::mutants
