#include "apps/walk_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "apps/cli_convention.h"
#include "apps/json_output.h"
#include "properties/model_walk.h"
#include "report/progress.h"

namespace mq::app {
namespace {

Topology topology_for(const WalkOptions& o, uint64_t seed) {
  if (o.topology == "random") {
    Prng prng(derive_seed(seed, "topology"));
    return random_topology(prng);
  }
  return default_topology();
}

void print_failure(const WalkOptions& o, const WalkReport& r) {
  std::printf("\nFAIL seed %llu, step %llu:\n", static_cast<unsigned long long>(r.seed),
              static_cast<unsigned long long>(r.violation_step));
  nlohmann::ordered_json violations = nlohmann::ordered_json::array();
  for (const auto& v : r.violations) {
    std::printf("  %s: %s\n", property_name(v.property), v.message.c_str());
    violations.push_back({{"property", property_name(v.property)}, {"message", v.message}});
  }
  json_set("seed", r.seed);
  json_set("step", r.violation_step);
  json_set("violations", violations);
  const size_t from = r.trace.size() > 30 ? r.trace.size() - 30 : 0;
  std::printf("last %zu operations:\n", r.trace.size() - from);
  for (size_t i = from; i < r.trace.size(); ++i) std::printf("  %zu: %s\n", i + 1, r.trace[i].c_str());
  const std::string reproduce = self_path("build/apps/mqharness") + " walk --seeds " +
                                std::to_string(r.seed) + " --steps " + std::to_string(o.steps) +
                                " --topology " + o.topology;
  std::printf("reproduce: %s\n", reproduce.c_str());
  json_set("reproduce", reproduce);
}

}  // namespace

void add_walk_command(CLI::App& app, WalkOptions& o) {
  auto* cmd = app.add_subcommand("walk",
                                 "Random walks of the model; every step is checked against "
                                 "the properties, every walk ends with the liveness drain");
  cmd->add_option("--seeds", o.seeds, "Seeds to run: 'A..B' (inclusive) or one seed 'S'")
      ->default_val(o.seeds)
      ->check(CLI::Validator(
          [](std::string& s) {
            uint64_t a = 0, b = 0;
            return parse_seed_range(s, a, b) ? std::string() : "expected 'A..B' with A <= B, or one seed 'S'";
          },
          "A..B"));
  cmd->add_option("--steps", o.steps, "Operations per walk")
      ->default_val(o.steps)
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--topology", o.topology, "'default' (built in) or 'random' (one per seed)")
      ->default_val(o.topology)
      ->check(CLI::IsMember({"default", "random"}));
}

bool parse_seed_range(const std::string& text, uint64_t& first, uint64_t& last) {
  const auto dots = text.find("..");
  auto parse = [](const std::string& s, uint64_t& out) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19) return false;
    out = std::stoull(s);
    return true;
  };
  if (dots == std::string::npos) return parse(text, first) && parse(text, last);
  return parse(text.substr(0, dots), first) && parse(text.substr(dots + 2), last) && first <= last;
}

int run_walk_command(WalkOptions o) {
  MQ_CHECK(parse_seed_range(o.seeds, o.first_seed, o.last_seed));  // validated by the parser
  std::printf("walk: seeds %llu..%llu, %llu steps each, topology %s, drain bound %lld ns\n",
              static_cast<unsigned long long>(o.first_seed), static_cast<unsigned long long>(o.last_seed),
              static_cast<unsigned long long>(o.steps), o.topology.c_str(),
              static_cast<long long>(kDrainBoundNs));
  std::map<std::string, uint64_t> ops, effects;
  uint64_t steps = 0, failed_ops = 0, walks = 0;
  report::install_stop_handlers();
  report::Progress progress({.verb = "walk", .unit = "seeds", .total = o.last_seed - o.first_seed + 1});
  for (uint64_t seed = o.first_seed; seed <= o.last_seed; ++seed) {
    if (const int signal = report::stop_signal(); signal != 0) {
      progress.finish();
      std::printf(
          "INTERRUPTED by signal %d: %llu walks (seeds %llu..%llu), %llu steps, no property violated\n",
          signal, static_cast<unsigned long long>(walks), static_cast<unsigned long long>(o.first_seed),
          static_cast<unsigned long long>(seed - 1), static_cast<unsigned long long>(steps));
      return report::stopped_exit_status(signal);
    }
    WalkReport r = random_walk(topology_for(o, seed), seed, o.steps);
    if (!r.violations.empty()) {
      progress.finish();
      r = random_walk(topology_for(o, seed), seed, o.steps, WalkSetup{.keep_trace = true});
      print_failure(o, r);
      return 1;
    }
    progress.step();
    ++walks;
    steps += r.steps;
    failed_ops += r.failed_ops;
    for (const auto& [k, v] : r.op_counts) ops[k] += v;
    for (const auto& [k, v] : r.effect_counts) effects[k] += v;
  }
  progress.finish();
  std::printf("operations:");
  for (const auto& [k, v] : ops) std::printf(" %s=%llu", k.c_str(), static_cast<unsigned long long>(v));
  std::printf("\n  of which rejected as bad input: %llu\neffects:   ",
              static_cast<unsigned long long>(failed_ops));
  for (const auto& [k, v] : effects) std::printf(" %s=%llu", k.c_str(), static_cast<unsigned long long>(v));
  std::printf("\nchecked after every step:");
  for (ModelProperty p : kAllModelProperties) std::printf(" %s", property_name(p));
  json_set("walks", walks);
  json_set("steps", steps);
  std::printf("\nPASS: %llu walks, %llu steps, no property violated\n",
              static_cast<unsigned long long>(walks), static_cast<unsigned long long>(steps));
  return 0;
}

}  // namespace mq::app
