#include "apps/explore_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>

#include "apps/cli_convention.h"
#include "apps/json_output.h"
#include "explorer/explorer.h"
#include "report/progress.h"
#include "report/report.h"
#include "sim/trace_replay.h"

namespace mq::app {
using explorer::Bound;
using explorer::explore;
using explorer::ExploreConfig;
using explorer::ExploreProgress;
using explorer::ExploreResult;
using explorer::ExploreStep;
using explorer::format_steps;
using explorer::load_explore_config;
using explorer::SearchOptions;

namespace {

using Clock = std::chrono::steady_clock;

// Processor time of this process: what the search cost, whatever else the machine runs.
double cpu_seconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "512M", "2G", "1048576": bytes, with an optional binary suffix K, M, G or T.
std::optional<uint64_t> parse_bytes(const std::string& text) {
  size_t used = 0;
  uint64_t value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string rest = text.substr(used);
  static const std::pair<const char*, int> kUnits[] = {{"", 0}, {"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}};
  for (const auto& [unit, shift] : kUnits) {
    if (rest == unit || (rest.size() == 3 && rest[0] == unit[0] && rest.substr(1) == "iB")) {
      if (value > (UINT64_MAX >> shift)) return std::nullopt;
      return value << shift;
    }
  }
  return std::nullopt;
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(size) : 0;
}

void print_summary(const ExploreConfig& c) {
  std::printf(
      "explore: %zu queues, %zu consumers, %zu menu messages, time 0..%lld, %u crash(es), "
      "fetch %s, nacks %s, consumer faults %s, liveness %s, max %llu states\n",
      c.topology.queues.size(), c.topology.consumers.size(), c.messages.size(),
      static_cast<long long>(c.max_time_ns), c.max_crashes, c.fetch ? "on" : "off", c.nacks ? "on" : "off",
      c.consumer_faults ? "on" : "off", c.liveness ? "on" : "off",
      static_cast<unsigned long long>(c.max_states));
  std::printf("bounds: %llu states, %.1f MiB of memory\n", static_cast<unsigned long long>(c.max_states),
              c.max_memory_bytes / 1048576.0);
}

// The command line's overrides of the configuration; false (after saying why) on bad input.
bool apply_overrides(const ExploreOptions& o, ExploreConfig& c) {
  if (o.max_states > 0) c.max_states = o.max_states;
  if (o.no_liveness) c.liveness = false;
  if (!o.max_memory.empty()) {
    const auto bytes = parse_bytes(o.max_memory);
    if (!bytes) {
      std::fprintf(stderr, "explore: --max-memory: '%s' is not a size (examples: 512M, 2G, 1048576)\n",
                   o.max_memory.c_str());
      return false;
    }
    c.max_memory_bytes = *bytes;
  } else if (const uint64_t physical = physical_memory_bytes(); physical > 0) {
    c.max_memory_bytes = std::min(c.max_memory_bytes, physical / 4 * 3);
  }
  return true;
}

void print_measures(const ExploreResult& r, double secs, double cpu) {
  std::printf(
      "states %llu, transitions %llu, depth %u; %.3f s wall, %.3f s cpu, %.0f states per cpu second; "
      "%.1f bytes per visited state, %.1f MiB at the end\n",
      static_cast<unsigned long long>(r.states), static_cast<unsigned long long>(r.transitions), r.max_depth,
      secs, cpu, r.states / std::max(cpu, 1e-9),
      static_cast<double>(r.state_bytes) / std::max<uint64_t>(r.states, 1), r.memory_bytes / 1048576.0);
  std::printf("state space: %s; %u thread(s)\n", r.engine.c_str(), r.jobs);
  if (!r.symmetry.empty()) {
    std::printf(
        "symmetry: %s; the %llu canonical states stand for at most %llu states (reduction up to %.2fx)\n",
        r.symmetry.c_str(), static_cast<unsigned long long>(r.states),
        static_cast<unsigned long long>(r.represented),
        static_cast<double>(r.represented) / std::max<uint64_t>(r.states, 1));
  }
  std::printf("states are stored by 64-bit fingerprint: the chance that two of them collided is about %.1e\n",
              static_cast<double>(r.states) * static_cast<double>(r.states) / 3.6893488147419103e19);
}

// The verdict rows: the violated property fails; the others held in every state
// visited (all of them when the search completed).
std::vector<report::PropertyRow> explore_rows(const ExploreConfig& c, const ExploreResult& r,
                                              const std::string& reproduce) {
  std::vector<report::PropertyRow> rows;
  const std::string violated = r.counterexample ? property_name(r.counterexample->violation.property)
                               : r.lasso        ? "liveness"
                                                : "";
  const std::string held = r.complete ? "holds in all " + std::to_string(r.states) + " reachable states"
                                      : "no violation in the " + std::to_string(r.states) + " states visited";
  for (ModelProperty p : kAllModelProperties) {
    if ((c.properties & bit(p)) == 0) continue;
    const std::string name = property_name(p);
    if (p == ModelProperty::kLiveness && !r.liveness_checked && violated != name) continue;
    if (name == violated) {
      rows.push_back(
          {name, 1, 1, std::nullopt,
           r.counterexample ? r.counterexample->violation.message : r.lasso->stuck + " never finishes",
           reproduce});
    } else {
      rows.push_back({name, 1, 0, std::nullopt, held, ""});
    }
  }
  return rows;
}

bool write_explore_report(const ExploreOptions& o, const ExploreConfig& c, const ExploreResult& r,
                          const std::vector<sim::TraceStep>& steps) {
  report::ReportInput in;
  in.title = "mqharness explore: " + o.config;
  in.facts = {{"configuration", o.config},
              {"states", std::to_string(r.states) +
                             (r.complete ? " (every reachable state)" : " (" + r.bound_hit + ")")},
              {"transitions", std::to_string(r.transitions)},
              {"depth", std::to_string(r.max_depth)}};
  in.properties =
      explore_rows(c, r, self_path("build/apps/mqharness") + " explore --config " + rooted(o.config));
  if (r.counterexample) {
    in.counterexamples.push_back(
        report::counterexample_view("shortest counterexample", c, apply_model, *r.counterexample));
  } else if (r.lasso) {
    in.counterexamples.push_back(report::lasso_view("liveness lasso", c, apply_model, *r.lasso));
  }
  // The counterexample as a history (what `--trace-out` writes): its timeline.
  const History trace = sim::trace_history(c.topology, steps, "counterexample of " + o.config);
  if (!steps.empty()) {
    in.history = &trace;
    in.topology = &c.topology;
    in.reproducer_table = true;
  }
  return write_outputs(o.report, std::move(in), "explore");
}

std::vector<sim::TraceStep> trace_steps(const ExploreResult& r) {
  std::vector<sim::TraceStep> steps;
  const auto add = [&](const std::vector<ExploreStep>& from) {
    for (const auto& st : from) steps.push_back({st.op, st.effects});
  };
  if (r.counterexample) add(r.counterexample->steps);
  if (r.lasso && !r.counterexample) {
    add(r.lasso->prefix);
    add(r.lasso->cycle);
  }
  return steps;
}

}  // namespace

void add_explore_command(CLI::App& app, ExploreOptions& o) {
  auto* cmd = app.add_subcommand("explore",
                                 "Visit every reachable state of a bounded model configuration; "
                                 "check every property on every transition, and liveness on the "
                                 "state graph");
  cmd->footer(
      "Exit status: 0 proved, 1 violation (counterexample or lasso printed), 2 bad input, 3 no violation up "
      "to "
      "a state or memory bound (not a proof).");
  cmd->add_option("--config", o.config, "Explorer configuration (JSON, see docs/explorer.md)")
      ->default_val(o.config);
  cmd->add_option("--max-states", o.max_states, "Override the configuration's state bound");
  cmd->add_flag("--no-liveness", o.no_liveness, "Skip the liveness check (saves the graph's memory)");
  cmd->add_option("--max-memory", o.max_memory,
                  "Stop cleanly when the search holds more than this (bytes, or with K/M/G/T); default: the "
                  "configuration's max_memory_bytes, at most 3/4 of the machine's memory");
  cmd->add_option("--jobs,-j", o.jobs, "Threads; the result is the same for any number")
      ->check(CLI::Range(1u, 256u));
  cmd->add_flag("--no-symmetry", o.no_symmetry,
                "Store every state, not one per orbit of interchangeable consumers and messages (symmetry "
                "applies to the model's safety search; with liveness it is off)");
  cmd->add_flag("--cross-check", o.cross_check,
                "Compare every transition of the packed state space with the model's own code (slow)");
  cmd->add_flag("--reference", o.reference,
                "Run the model's own code on decoded states instead of the packed state space (slow)");
  cmd->add_option("--trace-out", o.trace_out,
                  "Write a counterexample as a trace: FILE (history) and "
                  "FILE.topology.json; 'mqharness replay FILE' re-executes it on BrokerCore");
  add_report_options(cmd, o.report, true, "the counterexample (the history --trace-out writes)");
}

int run_explore_command(const ExploreOptions& o) {
  auto config = load_explore_config(o.config);
  if (!config.ok()) {
    std::fprintf(stderr, "explore: %s\n", config.status().message().c_str());
    return 2;
  }
  ExploreConfig c = std::move(config).value();
  if (!apply_overrides(o, c)) return 2;
  SearchOptions options;
  options.jobs = o.jobs;
  options.symmetry = !o.no_symmetry;
  options.cross_check = o.cross_check;
  options.reference = o.reference;
  print_summary(c);
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  report::install_stop_handlers();
  // No total: the state bound is an upper limit, not a forecast, so no ETA.
  report::Progress progress({.verb = "explore", .unit = "states"});
  const ExploreResult r = explore(c, options, [&](const ExploreProgress& p) {
    char detail[128];
    std::snprintf(detail, sizeof detail, "depth %u, %.1f MiB, bound %llu states", p.depth,
                  p.memory_bytes / 1048576.0, static_cast<unsigned long long>(c.max_states));
    progress.set(p.states, 0, detail);
    if (const int signal = report::stop_signal(); signal != 0) {
      // The search cannot be resumed: say how far it got and stop here.
      progress.finish();
      std::printf(
          "INTERRUPTED by signal %d: %llu states, %llu transitions, depth %u visited in %.3f s; no "
          "violation found so far (not a proof)\n",
          signal, static_cast<unsigned long long>(p.states), static_cast<unsigned long long>(p.transitions),
          p.depth, seconds_since(start));
      std::fflush(stdout);
      std::exit(report::stopped_exit_status(signal));
    }
  });
  progress.finish();
  const double secs = seconds_since(start);
  const double cpu = cpu_seconds() - cpu_start;
  print_measures(r, secs, cpu);
  const std::vector<sim::TraceStep> steps = trace_steps(r);
  if (!o.trace_out.empty() && (r.counterexample || r.lasso)) {
    const Status w = sim::write_trace(o.trace_out, c.topology, steps);
    if (!w.ok()) {
      std::fprintf(stderr, "explore: %s\n", w.to_string().c_str());
      return 2;
    }
    std::printf("trace: %s (%zu steps; replay on BrokerCore with: mqharness replay %s)\n",
                o.trace_out.c_str(), steps.size(), o.trace_out.c_str());
  }
  if (o.report.any() && !write_explore_report(o, c, r, steps)) return 2;
  json_set("states", r.states);
  json_set("complete", r.complete);
  if (!r.complete) json_set("bound", r.bound == Bound::kMemory ? "memory" : "states");
  if (r.counterexample) {
    json_set("violation", {{"property", property_name(r.counterexample->violation.property)},
                           {"message", r.counterexample->violation.message},
                           {"steps", format_steps(r.counterexample->steps)}});
    std::printf("VIOLATION of %s: %s\nshortest counterexample (%zu steps):\n%s",
                property_name(r.counterexample->violation.property),
                r.counterexample->violation.message.c_str(), r.counterexample->steps.size(),
                format_steps(r.counterexample->steps).c_str());
    return 1;
  }
  if (r.lasso) {
    json_set("violation", {{"property", "liveness"},
                           {"message", r.lasso->stuck + " never finishes on a fair cycle"},
                           {"steps", format_steps(r.lasso->prefix) +
                                         format_steps(r.lasso->cycle, r.lasso->prefix.size() + 1)}});
    std::printf(
        "VIOLATION of liveness: %s never finishes on a fair cycle\nprefix (%zu steps):\n%scycle (%zu "
        "steps):\n%s",
        r.lasso->stuck.c_str(), r.lasso->prefix.size(), format_steps(r.lasso->prefix).c_str(),
        r.lasso->cycle.size(), format_steps(r.lasso->cycle, r.lasso->prefix.size() + 1).c_str());
    return 1;
  }
  if (!r.complete) {
    std::printf("NO VIOLATION up to %llu states (%s bound: %s): not every reachable state was visited\n",
                static_cast<unsigned long long>(r.states), r.bound == Bound::kMemory ? "memory" : "state",
                r.bound_hit.c_str());
    return 3;
  }
  std::printf(
      "PROVED for this configuration (exhaustive, up to the collision chance above): every property holds in "
      "all %llu reachable states%s%s\n",
      static_cast<unsigned long long>(r.states),
      r.symmetry.empty() ? "" : " (one per orbit of the symmetry above)",
      r.liveness_checked ? ", and no fair cycle leaves a message unfinished" : "");
  return 0;
}

}  // namespace mq::app
