#include "mutants/mutants_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "apps/walk_command.h"
#include "explorer/explorer.h"
#include "formats/history_io.h"
#include "formats/json_config.h"
#include "impl/mutant.h"
#include "mutants/isolated_run.h"
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
namespace {

using Clock = std::chrono::steady_clock;
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
  std::string error;  // the scenario could not be loaded
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


// The shrunk run as `mqharness run --history` writes one (FILE and FILE.run.json),
// plus the fault; replayed by --replay (the mutant build: the production binary has
// no fault to select). A run that dies leaves an empty history: replay dies again.
void write_reproducer(const std::string& path, const sim::Reproducer& x, uint64_t seed, Mutant m) {
  sim::SimOptions options;
  options.overrides = x.overrides;
  options.stop_after_events = x.stop_after_events;
  const RunVerdict v = run_isolated(x.scenario, seed, x.overrides, 60, x.stop_after_events);
  History h;
  uint64_t hash = 0;
  if (v.history_events > 0) {
    const sim::SimResult r = sim::simulate(x.scenario, seed, options);
    h = r.history;
    hash = r.history_hash;
  }
  const Status w = write_history_file(h, path);
  const nlohmann::json meta = {{"mqharness_run", 1},
                               {"history", path},
                               {"fault", std::string(impl::mutant_name(m))},
                               {"seed", seed},
                               {"scenario_file", x.scenario.file},
                               {"scenario", x.scenario.text},
                               {"shadow", true},
                               {"overrides", overrides_json(x.overrides)},
                               {"stop_after_events", x.stop_after_events},
                               {"dies", v.history_events == 0},
                               {"events", h.events.size()},
                               {"hash", hex(hash)}};
  std::ofstream out(path + ".run.json", std::ios::binary);
  out << meta.dump(2) << "\n";
  std::printf("reproducer: %s (%s); replay with: mqharness-mutants --only %s --replay %s\n", path.c_str(),
              w.ok() && out ? "written" : "NOT written", std::string(impl::mutant_name(m)).c_str(), path.c_str());
}

// Shrinks a failing run with sim::shrink() (the one shrinker, also `mqharness
// shrink`'s): the first run the history alone caught (the shadow's only when nothing
// else did), for its first property other than the shadow; a cut is kept while that
// property still fails ("assertion" for a run that dies on the same MQ_CHECK: the child
// process dies again). Then the run's schedule, on the core alone, where it reproduces.
void shrink(const sim::Scenario& s, const MutantsOptions& o, FaultReport& r) {
  const auto start = Clock::now();
  const RunVerdict& found = r.checker_seed ? r.checker : r.caught;
  const uint64_t seed = r.checker_seed ? *r.checker_seed : *r.caught_seed;
  r.shrink_seed = seed;
  r.shrink_property = found.failed.front();
  for (const auto& p : found.failed) {
    if (p == kShadowProperty) continue;
    r.shrink_property = p;
    break;
  }
  if (r.shrink_property == kAssertion) r.shrink_assertion = found.first_failure;
  const bool shadow = r.shrink_property == kShadowProperty;
  const auto same = [&](const RunVerdict& v) {
    return v.fails(r.shrink_property) &&
           (r.shrink_property != kAssertion || v.first_failure == r.shrink_assertion);
  };
  const auto still_fails = [&](const sim::Reproducer& c) {
    sim::SimOptions options;
    options.shadow = shadow;  // a history checker must catch it without the shadow
    options.overrides = c.overrides;
    options.stop_after_events = c.stop_after_events;
    options.record_choices = true;
    // A candidate much slower than the run it shrinks is not smaller: killed early.
    const RunVerdict v = run_isolated(c.scenario, seed, options, std::min(o.run_limit_s, kShrinkRunLimitS));
    return sim::Trial{same(v), v.history_events, shadow ? v.violation_events : 0, v.choices, v.choices_known};
  };
  const sim::Trial first{true, found.history_events, shadow ? found.violation_events : 0, {}, false};
  auto pinned = sim::draw_scenario(s, seed);
  MQ_CHECK_MSG(pinned.ok(), "a seed the sweep ran draws a valid scenario");
  r.shrunk = sim::shrink(sim::Reproducer{*pinned, {}, 0}, first, still_fails, o.shrink_runs,
                         r.shrink_property == "liveness");
  r.shrink_runs = r.shrunk.runs;
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
  if (!o.reproducer.empty()) write_reproducer(o.reproducer, x, seed, r.plan->mutant);
  if (!o.reproducer.empty() && r.schedule) {
    const std::string path = o.reproducer + ".schedule.jsonl";
    const Status w = sim::write_trace_history(path, x.scenario.topology, r.schedule->history);
    std::printf("schedule: %s (%s); replay with: mqharness-mutants replay --mutant %s %s\n", path.c_str(),
                w.ok() ? "written" : w.to_string().c_str(),
                std::string(impl::mutant_name(r.plan->mutant)).c_str(), path.c_str());
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
  std::ifstream in(o.clean_log);
  std::stringstream text;
  text << in.rdbuf();
  md << "\nThe production build (`mqharness`, no fault compiled in) over the default scenario, as given with "
        "--clean-log (the issue's full control is `mqharness sweep --seeds 1..10000 --jobs 2`):\n\n```\n"
     << text.str() << (text.str().ends_with("\n") ? "" : "\n") << "```\n";
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
        "the first property it failed still fails), cut at its first violation, and then shrunk choice by "
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
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return invalid_argument("--overrides: not JSON");
  return sim::overrides_from_json(j, "--overrides");
}

// --report and --trace of a --run: the run's verdicts, witnesses and history.
bool write_run_outputs(const FaultPlan& plan, const MutantsOptions& o, const sim::Scenario& s,
                       const sim::SimResult& r, const std::vector<Verdict>& verdicts) {
  const std::string fault(impl::mutant_name(plan.mutant));
  const std::string title =
      "mqharness-mutants: fault '" + fault + "', seed " + std::to_string(o.run_seed) + " of '" + s.name + "'";
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
      {"seed", std::to_string(o.run_seed)},
      {"overrides", o.overrides.empty() ? "none" : o.overrides},
      {"history", std::to_string(r.history_events) + " events"}};
  std::string reproduce =
      "build/mutants/mqharness-mutants --only " + fault + " --run " + std::to_string(o.run_seed);
  if (!o.overrides.empty()) reproduce += " --overrides '" + o.overrides + "'";
  in.properties = report::rows_from_verdicts(verdicts, o.run_seed, reproduce);
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
    return 2;
  }
  impl::select_mutant(plan.mutant);
  sim::SimOptions options;
  options.overrides = *overrides;
  const sim::SimResult r = sim::simulate(*scenario, o.run_seed, options);
  std::printf("fault '%s', scenario '%s', seed %llu, overrides %s: %llu history events\n",
              std::string(impl::mutant_name(plan.mutant)).c_str(), scenario->name.c_str(),
              static_cast<unsigned long long>(o.run_seed), overrides_json(*overrides).dump().c_str(),
              static_cast<unsigned long long>(r.history_events));
  if (!o.history.empty()) {
    const Status w = write_history_file(r.history, o.history);
    if (!w.ok()) std::fprintf(stderr, "mqharness-mutants: %s\n", w.to_string().c_str());
  }
  bool all_held = true;
  const std::vector<Verdict> verdicts = judge(r);
  for (const Verdict& v : verdicts) {
    all_held = all_held && v.valid;
    std::printf("  %s\n", to_string(v).substr(0, to_string(v).find('\n')).c_str());
  }
  if (!write_run_outputs(plan, o, *scenario, r, verdicts)) return 2;
  return all_held ? 0 : 1;
}

// Re-executes a reproducer written with --reproducer, in this process, and compares
// its history event for event (a run recorded as dying dies here, with its message).
int replay(const FaultPlan& plan, const MutantsOptions& o) {
  auto meta = read_json_file(o.replay + ".run.json");
  if (!meta.ok()) {
    std::fprintf(stderr, "mqharness-mutants: %s\n", meta.status().to_string().c_str());
    return 2;
  }
  const nlohmann::json& j = *meta;
  auto scenario = sim::scenario_from_text(j.value("scenario", std::string()), j.value("scenario_file", std::string()));
  auto overrides = parse_overrides(j.contains("overrides") ? j["overrides"].dump() : "");
  auto recorded = read_history(o.replay);
  if (!scenario.ok() || !overrides.ok() || !recorded.ok()) {
    const Status bad = !scenario.ok() ? scenario.status() : !overrides.ok() ? overrides.status() : recorded.status();
    std::fprintf(stderr, "mqharness-mutants: %s\n", bad.to_string().c_str());
    return 2;
  }
  impl::select_mutant(plan.mutant);
  sim::SimOptions options;
  options.overrides = *overrides;
  options.stop_after_events = j.value("stop_after_events", uint64_t{0});
  const uint64_t seed = j.value("seed", uint64_t{0});
  std::printf("replay: %s: fault '%s', seed %llu, %zu recorded events%s\n", o.replay.c_str(),
              std::string(impl::mutant_name(plan.mutant)).c_str(), static_cast<unsigned long long>(seed),
              recorded->events.size(), j.value("dies", false) ? " (recorded as dying on an assertion)" : "");
  std::fflush(stdout);
  const sim::SimResult r = sim::simulate(*scenario, seed, options);
  const auto& a = recorded->events;
  const auto& b = r.history.events;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const auto was = i < a.size() ? to_json(a[i]) : Result<std::string>(std::string("(end)"));
    const auto now = i < b.size() ? to_json(b[i]) : Result<std::string>(std::string("(end)"));
    if (was.ok() && now.ok() && *was == *now) continue;
    std::printf("DIVERGES at event %zu\n", i);
    return 1;
  }
  std::printf("REPRODUCED: %zu events identical\n", b.size());
  bool all_held = true;
  for (const Verdict& v : judge(r)) {
    all_held = all_held && v.valid;
    std::printf("  %s\n", to_string(v).substr(0, to_string(v).find('\n')).c_str());
  }
  std::printf("%s\n", all_held ? "PASS: every property held" : "FAIL");
  return all_held ? 0 : 1;
}

}  // namespace

void add_mutants_options(CLI::App& app, MutantsOptions& o) {
  app.add_option("--seeds", o.seeds, "Seeds per fault: 'A..B' (inclusive, from 1) or one seed 'S'")->default_val(o.seeds);
  app.add_option("--out", o.out, "The report (Markdown); '-' for none")->default_val(o.out);
  app.add_option("--only", o.only, "Only these faults (repeatable); see --list");
  app.add_option("--shrink-runs", o.shrink_runs, "Runs per shrink")->default_val(o.shrink_runs);
  app.add_option("--events-bar", o.events_bar,
                 "Fail when a fault's smallest reproducer has more history events than this (0: not judged)")
      ->default_val(o.events_bar);
  app.add_option("--run-limit-s", o.run_limit_s, "Kill one run after this long (watchdog)")->default_val(o.run_limit_s);
  app.add_option("--clean-seeds", o.clean_seeds, "Control: seeds of the clean broker per scenario")
      ->default_val(o.clean_seeds);
  app.add_flag("!--no-explore", o.explore, "Skip the explorer column");
  app.add_option("--clean-log", o.clean_log, "Embed this `mqharness sweep` output in the report");
  app.add_option("--run", o.run_seed, "Reproduce: run this one seed of the --only fault (in process)");
  app.add_option("--overrides", o.overrides, "With --run: the shrunk overrides, JSON as the report prints them");
  app.add_option("--history", o.history, "With --run: write the history (JSON lines) here");
  app.add_option("--report", o.report, "With --run: write an HTML report of the run into DIR");
  app.add_option("--trace", o.trace, "With --run: write the run as a Chrome Trace Event file");
  app.add_option("--reproducer", o.reproducer, "Write each shrunk run here (FILE and FILE.run.json; use with one --only)");
  app.add_option("--replay", o.replay, "Re-execute a reproducer written with --reproducer (with its --only fault)");
}

int run_mutants(const MutantsOptions& o) {
  uint64_t first = 0, last = 0;
  std::string error;
  const auto plans = selected_plans(o, error);
  if ((!o.report.empty() || !o.trace.empty()) && o.run_seed == 0) {
    std::fprintf(stderr, "mqharness-mutants: --report and --trace go with --run (one run's report)\n");
    return 2;
  }
  if (o.run_seed != 0) {
    if (plans.size() != 1 || !error.empty()) {
      std::fprintf(stderr, "mqharness-mutants: --run needs exactly one --only fault%s\n", error.empty() ? "" : (": " + error).c_str());
      return 2;
    }
    return reproduce(*plans.front(), o);
  }
  if (!o.replay.empty()) {
    if (plans.size() != 1 || !error.empty()) {
      std::fprintf(stderr, "mqharness-mutants: --replay needs exactly one --only fault\n");
      return 2;
    }
    return replay(*plans.front(), o);
  }
  if (!app::parse_seed_range(o.seeds, first, last) || first == 0 || !error.empty()) {
    std::fprintf(stderr, "mqharness-mutants: %s\n", error.empty() ? ("bad --seeds '" + o.seeds + "'").c_str() : error.c_str());
    return 2;
  }
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
    const FaultReport& r = reports.back();
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
      return 2;
    }
    std::printf("report: %s\n", o.out.c_str());
  }
  std::printf(
      "%zu faults, %d escaped, %d caught by the shadow only, %d with a reproducer over %llu events; "
      "control %s\n",
      reports.size(), escaped, shadow_only, over_bar, static_cast<unsigned long long>(o.events_bar),
      control.failures.empty() ? "clean" : "FAILED");
  return escaped == 0 && shadow_only == 0 && over_bar == 0 && control.failures.empty() ? 0 : 1;
}

}  // namespace mq::mutants
