#include "harness/isolated_run.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "base/check.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/recovery.h"
#include "sim/shrink.h"
#include "sim/trace_replay.h"

namespace mq::harness {
namespace {

std::string one_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  constexpr size_t kMaxLine = 300;
  if (line.size() > kMaxLine) line = line.substr(0, kMaxLine) + "...";
  return line;
}

}  // namespace

// ---- one run ----

std::string run_report(const sim::Scenario& scenario, uint64_t seed, const sim::SimOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const sim::SimResult r = sim::simulate(scenario, seed, options);
  const auto wall_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  std::string report = "events " + std::to_string(r.history_events) + "\n";
  report += "figures " + std::to_string(r.producers.confirmed) + " " + std::to_string(r.faults.total()) + " " +
            std::to_string(r.end_ns) + " " + std::to_string(wall_us) + "\n";
  if (r.corruption) report += "corruption\n";
  // A run with more choices than this is cut by the scenario's parameters first; the
  // bound keeps the report far below kMaxChildOutput (a key is at most 20 digits).
  constexpr size_t kMaxReportedChoices = 8192;
  if (options.record_choices && r.choices_complete && r.choices.size() <= kMaxReportedChoices) {
    report += "choices";
    for (uint64_t key : r.choices) report += " " + std::to_string(key);
    report += "\n";
  }
  if (r.divergence) {
    report +=
        "violation_events " + std::to_string(sim::events_until(r.history, r.divergence->time_ns)) + "\n";
  }
  for (const Verdict& v : judge(r)) {
    report += "verdict " + std::string(v.valid ? "1 " : "0 ") + v.property + " " + one_line(v.message) + "\n";
  }
  return report + "done\n";
}

RunVerdict parse_run(const ChildEnd& end) {
  RunVerdict v;
  bool done = false;
  std::string assertion;
  std::istringstream in(end.output);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("events ")) v.history_events = std::stoull(line.substr(7));
    if (line == "corruption") v.corruption_detected = true;
    if (line.starts_with("choices")) {
      std::istringstream keys(line.substr(7));
      for (uint64_t key = 0; keys >> key;) v.choices.push_back(key);
      v.choices_known = true;
    }
    if (line.starts_with("violation_events ")) v.violation_events = std::stoull(line.substr(17));
    if (line == "done") done = true;
    if (line.starts_with("figures ")) {
      std::istringstream figures(line.substr(8));
      uint64_t wall_us = 0;
      figures >> v.confirmed >> v.faults_injected >> v.end_ns >> wall_us;
      v.wall_s = static_cast<double>(wall_us) / 1e6;
    }
    if (line.find("MQ_CHECK(") != std::string::npos && assertion.empty()) assertion = one_line(line);
    if (!line.starts_with("verdict ") || line.size() < 10) continue;
    const bool held = line[8] == '1';
    const std::string rest = line.substr(10);
    const size_t space = rest.find(' ');
    const std::string property = rest.substr(0, space);
    v.verdicts.emplace_back(property, held);
    if (held) continue;
    v.failed.push_back(property);
    v.messages.push_back(space == std::string::npos ? "" : rest.substr(space + 1));
    if (v.first_failure.empty()) v.first_failure = v.messages.back();
  }
  if (WIFEXITED(end.status) && WEXITSTATUS(end.status) == 0 && done) return v;
  v = RunVerdict{};
  v.died = true;
  const bool watchdog = WIFSIGNALED(end.status) && WTERMSIG(end.status) == SIGALRM;
  v.failed.push_back(watchdog ? kWatchdog : kAssertion);
  v.verdicts.emplace_back(v.failed.front(), false);
  if (watchdog) {
    v.first_failure = "the run exceeded its time limit";
  } else {
    v.first_failure =
        assertion.empty() ? "the run died (status " + std::to_string(end.status) + ")" : assertion;
  }
  v.messages.push_back(v.first_failure);
  return v;
}

bool RunVerdict::fails(const std::string& property) const {
  return std::find(failed.begin(), failed.end(), property) != failed.end();
}

bool RunVerdict::caught_without_shadow() const {
  return std::any_of(failed.begin(), failed.end(), [](const std::string& p) { return p != kShadowProperty; });
}

std::vector<std::string> RunVerdict::shrink_targets(bool shadow) const {
  MQ_CHECK(caught());
  std::vector<std::string> targets;
  for (const std::string& p : failed) {
    if (p != kLivenessProperty && (shadow || p != kShadowProperty)) targets.push_back(p);
  }
  if (fails(kLivenessProperty)) targets.push_back(kLivenessProperty);
  if (targets.empty()) targets.push_back(kShadowProperty);  // the shadow alone failed
  return targets;
}

Failure Failure::of(const RunVerdict& found, const std::string& property) {
  MQ_CHECK(found.fails(property));
  return Failure{property, found.died ? found.first_failure : ""};
}

bool Failure::same(const RunVerdict& v) const {
  if (!v.fails(property)) return false;
  return property != kAssertion || v.first_failure == assertion;
}

sim::Trial trial_of(const RunVerdict& v, const Failure& f) {
  sim::Trial t;
  t.fails = !f.property.empty() && f.same(v);
  t.history_events = v.history_events;
  t.violation_events = f.property == kShadowProperty ? v.violation_events : 0;
  t.choices = v.choices;
  t.choices_known = v.choices_known;
  return t;
}

sim::ShrinkOutcome shrink_for(const sim::Scenario& pinned, uint64_t seed, const sim::SimOptions& base,
                              const Failure& f, const sim::Trial& first, uint32_t runs, unsigned time_limit_s) {
  const auto still_fails = [&](const sim::Reproducer& c) {
    sim::SimOptions trial = base;
    trial.overrides = c.overrides;
    trial.stop_after_events = c.stop_after_events;
    trial.record_choices = true;
    return trial_of(run_isolated(c.scenario, seed, trial, time_limit_s), f);
  };
  return sim::shrink(sim::Reproducer{pinned, {}, 0}, first, still_fails, runs, f.property == kLivenessProperty);
}

RunVerdict run_isolated(const sim::Scenario& scenario, uint64_t seed, const sim::SimOptions& options,
                        unsigned time_limit_s) {
  ChildPool pool(1, time_limit_s);
  pool.start(0, [&] { return run_report(scenario, seed, options); });
  return parse_run(pool.wait_one().second);
}

RunVerdict run_isolated(const sim::Scenario& scenario, uint64_t seed, const sim::SimOverrides& overrides,
                        unsigned time_limit_s, uint64_t stop_after_events) {
  sim::SimOptions options;
  options.overrides = overrides;
  options.stop_after_events = stop_after_events;
  return run_isolated(scenario, seed, options, time_limit_s);
}

void run_seeds_isolated(const sim::Scenario& scenario, uint64_t count, const std::function<uint64_t(uint64_t)>& seed_at,
                        const sim::SimOptions& options, unsigned jobs, unsigned time_limit_s,
                        const std::function<void(uint64_t, const RunVerdict&)>& done,
                        const std::function<bool()>& stop, const std::function<void()>& tick) {
  ChildPool pool(jobs, time_limit_s);  // its destructor kills the runs a stop leaves
  uint64_t next = 0;
  // Bounded by the seeds: every round starts one run, collects one, or waits at most
  // kTickMs for one (each run ends, or its time limit kills it).
  while ((next < count || pool.running() > 0) && !(stop && stop())) {
    if (next < count && !pool.full()) {
      const uint64_t seed = seed_at(next);
      pool.start(next++, [&] { return run_report(scenario, seed, options); });
      continue;
    }
    auto ended = pool.wait_one_for(tick ? kTickMs : -1);
    if (tick) tick();
    if (ended) done(static_cast<uint64_t>(ended->first), parse_run(ended->second));
  }
}

void run_seeds_isolated(const sim::Scenario& scenario, const std::vector<uint64_t>& seeds,
                        const sim::SimOptions& options, unsigned jobs, unsigned time_limit_s,
                        const std::function<void(size_t, const RunVerdict&)>& done,
                        const std::function<bool()>& stop, const std::function<void()>& tick) {
  run_seeds_isolated(
      scenario, seeds.size(), [&](uint64_t k) { return seeds[static_cast<size_t>(k)]; }, options, jobs,
      time_limit_s, [&](uint64_t k, const RunVerdict& v) { done(static_cast<size_t>(k), v); }, stop, tick);
}

// ---- the schedule ----

namespace {

// check_all's properties but recovery (the core alone has no log to recover): the
// ones a replay on the core alone can judge.
bool judged_by_checkers(const std::string& property) {
  const auto& checked = check_all_properties();
  return property != kRecovery && std::find(checked.begin(), checked.end(), property) != checked.end();
}

// A candidate schedule replayed on BrokerCore in a child; whether `property` fails.
sim::Trial replay_fails(const Topology& topology, const std::vector<Op>& ops, const std::string& property,
                        unsigned time_limit_s) {
  ChildPool pool(1, time_limit_s);
  pool.start(0, [&] {
    const History h = sim::run_on_core(topology, ops, "schedule");
    std::string report = "events " + std::to_string(h.events.size()) + "\n";
    for (const Verdict& v : check_all(h, topology, CheckOptions{})) {
      report += "verdict " + std::string(v.valid ? "1 " : "0 ") + v.property + " -\n";
    }
    return report + "done\n";
  });
  const RunVerdict v = parse_run(pool.wait_one().second);
  return sim::Trial{v.fails(property), v.history_events, 0, {}, false};
}

}  // namespace

std::optional<ScheduleReproducer> shrink_run_schedule(const sim::Scenario& scenario, uint64_t seed,
                                                      const sim::SimOptions& options,
                                                      const std::string& property, uint32_t max_runs,
                                                      unsigned time_limit_s) {
  if (!judged_by_checkers(property)) return std::nullopt;
  // The run failed `property` in a child without dying, so it runs here the same way.
  const sim::SimResult r = sim::simulate(scenario, seed, options);
  const Topology& topology = r.scenario.topology;
  auto ops = sim::trace_ops(r.history, topology);
  if (!ops.ok()) return std::nullopt;
  const sim::Trial start = replay_fails(topology, *ops, property, time_limit_s);
  if (!start.fails) return std::nullopt;
  const sim::ScheduleOutcome out = sim::shrink_schedule(
      *ops, start,
      [&](const std::vector<Op>& c) { return replay_fails(topology, c, property, time_limit_s); }, max_runs);
  ScheduleReproducer rep;
  rep.history =
      sim::run_on_core(topology, out.ops, "schedule of " + scenario.name + " seed " + std::to_string(seed));
  rep.ops = out.ops.size();
  rep.runs = out.runs + 1;
  return rep;
}

}  // namespace mq::harness
