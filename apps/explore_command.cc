#include "apps/explore_command.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>

#include "properties/explorer/explorer.h"
#include "report/progress.h"
#include "report/report.h"
#include "sim/trace_replay.h"

namespace mq::app {
namespace {

using Clock = std::chrono::steady_clock;

// Processor time of this process: what the search cost, whatever else the machine runs.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void print_summary(const ExploreConfig& c) {
  std::printf("explore: %zu queues, %zu consumers, %zu menu messages, time 0..%lld, %u crash(es), "
              "fetch %s, nacks %s, consumer faults %s, liveness %s, max %llu states\n",
              c.topology.queues.size(), c.topology.consumers.size(), c.messages.size(),
              static_cast<long long>(c.max_time_ns), c.max_crashes, c.fetch ? "on" : "off", c.nacks ? "on" : "off",
              c.consumer_faults ? "on" : "off", c.liveness ? "on" : "off",
              static_cast<unsigned long long>(c.max_states));
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
  in.properties = explore_rows(c, r, "build/apps/mqharness explore --config " + o.config);
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
  auto* cmd = app.add_subcommand("explore", "Visit every reachable state of a bounded model configuration; "
                                            "check every property on every transition, and liveness on the "
                                            "state graph");
  cmd->add_option("--config", o.config, "Explorer configuration (JSON, see docs/explorer.md)")->default_val(o.config);
  cmd->add_option("--max-states", o.max_states, "Override the configuration's state bound");
  cmd->add_flag("--no-liveness", o.no_liveness, "Skip the liveness check (saves the graph's memory)");
  cmd->add_option("--trace-out", o.trace_out, "Write a counterexample as a trace: FILE (history) and "
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
  if (o.max_states > 0) c.max_states = o.max_states;
  if (o.no_liveness) c.liveness = false;
  print_summary(c);
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  report::install_stop_handlers();
  // No total: the state bound is an upper limit, not a forecast, so no ETA.
  report::Progress progress({.verb = "explore", .unit = "states"});
  const ExploreResult r = explore(c, apply_model, [&](const ExploreProgress& p) {
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
  std::printf("states %llu, transitions %llu, depth %u; %.3f s wall, %.3f s cpu, %.0f states per cpu second; "
              "%.1f bytes per visited state, %.1f MiB at the end\n",
              static_cast<unsigned long long>(r.states), static_cast<unsigned long long>(r.transitions), r.max_depth,
              secs, cpu, r.states / std::max(cpu, 1e-9), static_cast<double>(r.state_bytes) / std::max<uint64_t>(r.states, 1),
              r.memory_bytes / 1048576.0);
  std::printf("states are stored by 64-bit fingerprint: the chance that two of them collided is about %.1e\n",
              static_cast<double>(r.states) * static_cast<double>(r.states) / 3.6893488147419103e19);
  const std::vector<sim::TraceStep> steps = trace_steps(r);
  if (!o.trace_out.empty() && (r.counterexample || r.lasso)) {
    const Status w = sim::write_trace(o.trace_out, c.topology, steps);
    if (!w.ok()) {
      std::fprintf(stderr, "explore: %s\n", w.to_string().c_str());
      return 2;
    }
    std::printf("trace: %s (%zu steps; replay on BrokerCore with: mqharness replay %s)\n", o.trace_out.c_str(),
                steps.size(), o.trace_out.c_str());
  }
  if (o.report.any() && !write_explore_report(o, c, r, steps)) return 2;
  if (r.counterexample) {
    std::printf("VIOLATION of %s: %s\nshortest counterexample (%zu steps):\n%s",
                property_name(r.counterexample->violation.property), r.counterexample->violation.message.c_str(),
                r.counterexample->steps.size(), format_steps(r.counterexample->steps).c_str());
    return 1;
  }
  if (r.lasso) {
    std::printf("VIOLATION of liveness: %s never finishes on a fair cycle\nprefix (%zu steps):\n%scycle (%zu steps):\n%s",
                r.lasso->stuck.c_str(), r.lasso->prefix.size(), format_steps(r.lasso->prefix).c_str(),
                r.lasso->cycle.size(), format_steps(r.lasso->cycle, r.lasso->prefix.size() + 1).c_str());
    return 1;
  }
  if (!r.complete) {
    std::printf("NO VIOLATION up to the bound (%s): not every reachable state was visited\n", r.bound_hit.c_str());
    return 0;
  }
  std::printf("PROVED for this configuration (exhaustive, up to the collision chance above): every property holds in all %llu reachable states%s\n",
              static_cast<unsigned long long>(r.states), r.liveness_checked ? ", and no fair cycle leaves a message unfinished" : "");
  return 0;
}

}  // namespace mq::app
