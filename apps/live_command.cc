#include "apps/live_command.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "apps/cli_convention.h"
#include "apps/json_output.h"
#include "apps/walk_command.h"
#include "live/live_run.h"
#include "live/process.h"
#include "report/report.h"

namespace mq::app {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitViolation = 1;
constexpr int kExitBad = 2;
constexpr double kDefaultRate = 200;
constexpr double kMaxRatePerS = 1e9;  // far above any broker; a bound that refuses nan and inf
constexpr size_t kMaxMessageBytes = size_t{64} << 20;  // a payload must fit a log record

// "30s", "500ms", "2m", or plain seconds.
// A duration longer than this is a typo, not a run (and past it the milliseconds would
// not fit the conversion).
constexpr double kMaxDurationMs = 7.0 * 24 * 3600 * 1000;

bool parse_duration_ms(const std::string& text, int64_t& ms) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return false;
  }
  const std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1000;
  else if (unit == "ms")
    scale = 1;
  else if (unit == "m")
    scale = 60'000;
  // "nan" and "inf" parse as numbers: refused here, as is a value too large to convert.
  if (scale == 0 || !(v > 0) || !(v * scale <= kMaxDurationMs)) return false;
  ms = static_cast<int64_t>(v * scale);
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size() && out.size() < 1000; ++i) {
    if (i == s.size() || s[i] == sep) {
      if (i > start) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// "name/config" pairs from --target (and --config).
bool parse_targets(const LiveCommandOptions& o, std::vector<std::pair<std::string, std::string>>& out) {
  const std::vector<std::string> names = o.targets == "all" ? live::target_names() : split(o.targets, ',');
  for (const auto& n : names) {
    const size_t slash = n.find('/');
    if (slash == std::string::npos) {
      if (o.config.empty()) {
        std::fprintf(stderr, "mqharness live: target '%s' needs a configuration: NAME/CONFIG or --config\n",
                     n.c_str());
        return false;
      }
      out.emplace_back(n, o.config);
    } else {
      out.emplace_back(n.substr(0, slash), n.substr(slash + 1));
    }
  }
  for (const auto& [name, config] : out) {
    if (auto t = live::make_target(name, config); !t.ok()) {
      std::fprintf(stderr, "mqharness live: %s\n", t.status().message().c_str());
      return false;
    }
  }
  return !out.empty();
}

bool parse_faults(const std::string& text, std::vector<live::FaultKind>& out) {
  if (text == "none" || text.empty()) return true;
  for (const auto& name : split(text, ',')) {
    auto k = live::parse_fault_kind(name);
    if (!k) {
      std::fprintf(stderr,
                   "mqharness live: unknown nemesis '%s' (kill, pause, partition, disk, power, none)\n",
                   name.c_str());
      return false;
    }
    out.push_back(*k);
  }
  return true;
}

// out.jsonl -> out.redis-list.aof-always.seed7.jsonl when a command makes several runs.
std::string history_path(const std::string& base, const std::string& target, const std::string& config,
                         uint64_t seed, bool several) {
  if (!several) return base;
  const size_t dot = base.rfind('.');
  const std::string stem =
      dot == std::string::npos || base.find('/', dot) != std::string::npos ? base : base.substr(0, dot);
  const std::string ext = stem.size() == base.size() ? "" : base.substr(dot);
  return stem + "." + target + "." + config + ".seed" + std::to_string(seed) + ext;
}

std::string faults_text(const std::vector<live::FaultKind>& faults) {
  std::string s;
  for (auto k : faults) s += (s.empty() ? "" : ",") + std::string(live::fault_kind_name(k));
  return s.empty() ? "none" : s;
}

void print_summary(const live::LiveOptions& o, const live::LiveResult& r) {
  const auto& t = r.total;
  int injected = 0;
  for (int n : r.nemesis.injected) injected += n;
  std::printf(
      "summary: target=%s config=%s nemesis=%s seed=%llu duration_s=%.0f attempted=%llu acknowledged=%llu "
      "lost=%llu "
      "duplicated=%llu unexpected=%llu recovered=%llu drained=%s faults=%d claim=%s verdict=%s\n",
      r.target.c_str(), r.config.c_str(), faults_text(r.faults).c_str(),
      static_cast<unsigned long long>(o.workload.seed), static_cast<double>(o.duration_ms) / 1000.0,
      static_cast<unsigned long long>(t.attempt_count), static_cast<unsigned long long>(t.acknowledged_count),
      static_cast<unsigned long long>(t.lost_count), static_cast<unsigned long long>(t.duplicated_count),
      static_cast<unsigned long long>(t.unexpected_count), static_cast<unsigned long long>(t.recovered_count),
      r.drained ? "yes" : "no", injected, r.claim.no_loss ? "no-loss" : "may-lose",
      r.violation ? "VIOLATION" : "ok");
}

// The checker's report, cut to its first lines (the counts, the value lists and the
// first witnesses); the whole history is in the file.
void print_excerpt(const std::string& report) {
  constexpr int kExcerptLines = 10;
  size_t pos = 0;
  for (int i = 0; i < kExcerptLines && pos < report.size(); ++i) {
    const size_t end = std::min(report.find('\n', pos), report.size());
    std::printf("%s\n", report.substr(pos, end - pos).c_str());
    pos = end + 1;
  }
  if (pos < report.size()) std::printf("  ... (mqharness check HISTORY prints every witness)\n");
}

// The HTML report of one run, in its run directory (--report): the verdict rows of
// verdict_table(), the target and the nemesis schedule as facts. A Jepsen history has
// no message lifecycle for the timeline: the report holds verdicts, facts and the
// schedule (docs/report.md).
void write_live_report(const live::LiveOptions& lo, const live::LiveResult& r, const std::string& reproduce) {
  const auto& t = r.total;
  auto row = [&](std::string property, bool violated, std::string message) {
    return report::PropertyRow{std::move(property), 1, violated ? 1u : 0u,
                               violated ? std::optional<uint64_t>(lo.workload.seed) : std::nullopt,
                               std::move(message), violated ? reproduce : ""};
  };
  report::ReportInput in;
  in.title = "mqharness live: " + r.target + "/" + r.config + ", seed " + std::to_string(lo.workload.seed);
  in.command_line = reproduce;
  const bool lost_violates = t.lost_count > 0 && r.claim.no_loss;
  in.properties = {
      row("no-loss", lost_violates,
          std::to_string(t.lost_count) + " of " + std::to_string(t.acknowledged_count) +
              " acknowledged messages never dequeued" +
              (r.claim.no_loss ? " (claimed: none)" : " (loss is not claimed under these faults)")),
      row("no-unexpected", t.unexpected_count > 0,
          std::to_string(t.unexpected_count) + " dequeued values that were never enqueued"),
      row("drained", !r.drained, r.drained ? "the queue drained after the faults healed"
                                           : "the queue did not drain after the faults healed (liveness)"),
  };
  if (r.fifo) in.properties.push_back(row("fifo", !r.fifo->valid, to_string(*r.fifo)));
  // judge()'s verdict, so the report's overall result is the run's (--strict included).
  std::string broken;
  for (const auto& v : r.violations) broken += (broken.empty() ? "" : "; ") + v;
  in.properties.push_back(
      row("claim", r.violation, r.violation ? broken : "consistent with what the configuration claims"));
  in.facts = {{"target", r.target + "/" + r.config},
              {"version", r.version},
              {"configuration", r.describe},
              {"seed", std::to_string(lo.workload.seed)},
              {"duration", std::to_string(lo.duration_ms / 1000) + " s"},
              {"nemesis", faults_text(r.faults)},
              {"claim", r.claim.no_loss ? "no loss under these faults" : "may lose under these faults"},
              {"history", lo.history_path},
              {"attempted", std::to_string(t.attempt_count)},
              {"acknowledged", std::to_string(t.acknowledged_count)},
              {"duplicated (allowed)", std::to_string(t.duplicated_count)},
              {"recovered (allowed)", std::to_string(t.recovered_count)},
              {"server logs and data", r.run_dir}};
  for (const auto& why : r.left_out) in.notes.push_back("left out: " + why);
  for (const auto& w : r.schedule) {
    in.notes.push_back(std::string(live::fault_kind_name(w.kind)) + " at " + std::to_string(w.start_ms) +
                       " ms for " + std::to_string(w.length_ms) + " ms");
  }
  for (const auto& e : r.nemesis.errors) in.notes.push_back("nemesis error: " + e);
  const std::string checker = to_string(t);
  in.notes.push_back("checker: " + checker.substr(0, checker.find('\n')));
  const std::string dir = r.run_dir + "/report";
  if (const Status s = report::write_report(dir, in); !s.ok()) {
    std::fprintf(stderr, "mqharness live: report: %s\n", s.message().c_str());
    return;
  }
  std::printf("report: %s/index.html\n", dir.c_str());
}

void print_bench(const std::vector<std::pair<std::string, live::LatencySummary>>& rows) {
  std::printf("\n%-28s %10s %10s %10s %10s %10s\n", "target/config", "acked/s", "p50 us", "p99 us", "p999 us",
              "max us");
  for (const auto& [name, l] : rows) {
    std::printf("%-28s %10.0f %10.1f %10.1f %10.1f %10.1f\n", name.c_str(), l.per_second(),
                static_cast<double>(l.p50_ns) / 1e3, static_cast<double>(l.p99_ns) / 1e3,
                static_cast<double>(l.p999_ns) / 1e3, static_cast<double>(l.max_ns) / 1e3);
  }
}

}  // namespace

void add_live_command(CLI::App& app, LiveCommandOptions& o) {
  auto* cmd = app.add_subcommand(
      "live",
      "Run a real broker under real faults (kill, pause, partition, disk, power loss), record a Jepsen "
      "queue history and judge it against what the configuration claims (docs/live.md)");
  std::string known;
  for (const auto& n : live::target_names()) known += (known.empty() ? "" : ", ") + n;
  cmd->add_option(
         "--target", o.targets,
         "NAME/CONFIG[,NAME/CONFIG...] or 'all' (docs/live.md says what each claims); known: " + known)
      ->required();
  cmd->add_option("--config", o.config, "The configuration, for a --target given without /CONFIG");
  cmd->add_option("--duration", o.duration, "How long the workload and the nemesis run: 30s, 500ms, 2m");
  cmd->add_option("--nemesis", o.nemesis,
                  "Faults: comma-separated kill, pause, partition, disk, power; or none");
  cmd->add_option("--seeds,--seed", o.seeds,
                  "A..B or S: one run per seed (default: one seed from the clock)");
  cmd->add_option("--producers", o.producers, "Producer threads")->check(CLI::Range(0, 64));
  cmd->add_option("--consumers", o.consumers, "Consumer threads")->check(CLI::Range(1, 64));
  cmd->add_option("--rate", o.rate,
                  "Publishes per second, all producers together; 0: unthrottled "
                  "(default 200, unthrottled with --bench)")
      ->check(finite_range(0, kMaxRatePerS));
  cmd->add_option(
         "--consume-rate", o.consume_rate,
         "Fetches per second, all consumers together, until the drain; 0: unthrottled (default 3/4 of "
         "--rate, so a backlog builds up for the faults to hit; unthrottled with --bench)")
      ->check(finite_range(0, kMaxRatePerS));
  cmd->add_option("--message-bytes", o.message_bytes, "Pad every payload to this many bytes")
      ->check(CLI::Range(size_t{0}, kMaxMessageBytes));
  // Bounded so that a conversion to nanoseconds cannot overflow.
  cmd->add_option("--op-timeout-ms", o.op_timeout_ms, "A request unanswered this long is recorded as info")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  cmd->add_option("--drain-timeout", o.drain_timeout_s,
                  "Seconds the consumers may take to drain after healing")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400}));
  cmd->add_option(
      "--history", o.history,
      "Jepsen queue history (JSON lines); with several runs, .TARGET.CONFIG.seedS is put before the "
      "extension");
  cmd->add_option("--report", o.report, "Keep each run's directory (server logs, data) under this directory, with an HTML report in its report/");
  cmd->add_flag("--bench", o.bench, "No nemesis; report throughput and publish-to-ack latency per target");
  cmd->add_flag("--strict", o.strict,
                "Any invalid history is a violation, whatever the configuration claims");
  cmd->add_flag("--fifo", o.fifo,
                "Also judge FIFO queue linearizability (no target claims it with competing consumers: this "
                "flag claims it)");
}

int run_live_command(const LiveCommandOptions& o) {
  live::install_interrupt_cleanup();
  live::LiveOptions base;
  std::vector<std::pair<std::string, std::string>> targets;
  if (!parse_targets(o, targets) || !parse_duration_ms(o.duration, base.duration_ms) ||
      !parse_faults(o.bench ? "none" : o.nemesis, base.faults)) {
    std::fprintf(stderr, "mqharness live: bad --target, --duration or --nemesis (see --help)\n");
    return kExitBad;
  }
  uint64_t first = 0, last = 0;
  if (o.seeds.empty()) {
    first = last =
        static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1'000'000'007;
  } else if (!parse_seed_range(o.seeds, first, last)) {
    std::fprintf(stderr, "mqharness live: bad --seeds '%s' (A..B or S)\n", o.seeds.c_str());
    return kExitBad;
  }
  base.workload.producers = o.producers;
  base.workload.consumers = o.consumers;
  base.workload.rate = o.rate >= 0 ? o.rate : (o.bench ? 0 : kDefaultRate);
  base.workload.consume_rate = o.consume_rate >= 0 ? o.consume_rate : 0.75 * base.workload.rate;
  base.workload.message_bytes = o.message_bytes;
  base.workload.record_latency = o.bench;
  base.workload.client.op_timeout = std::chrono::milliseconds(o.op_timeout_ms);
  base.drain_timeout = std::chrono::seconds(o.drain_timeout_s);
  base.report_dir = o.report;
  base.strict = o.strict;
  base.fifo = o.fifo;
  const bool several = targets.size() > 1 || last > first;
  int status = kExitOk;
  std::vector<std::pair<std::string, live::LatencySummary>> bench_rows;
  for (const auto& [name, config] : targets) {
    for (uint64_t seed = first; seed <= last && seed - first < 100'000; ++seed) {
      live::LiveOptions lo = base;
      lo.target = name;
      lo.config = config;
      lo.workload.seed = seed;
      lo.history_path = history_path(o.history, name, config, seed, several);
      auto r = live::run_live(lo, stdout);
      if (!r.ok()) {
        std::fprintf(stderr, "mqharness live: %s/%s seed %llu: %s\n", name.c_str(), config.c_str(),
                     static_cast<unsigned long long>(seed), r.status().message().c_str());
        status = kExitBad;
        continue;
      }
      std::fputs(live::verdict_table(*r).c_str(), stdout);
      if (!r->total.lost.empty() || !r->total.unexpected.empty()) print_excerpt(to_string(r->total));
      if (r->fifo && !r->fifo->valid) print_excerpt(to_string(*r->fifo));
      print_summary(lo, *r);
      const std::string reproduce = self_path("build/apps/mqharness") + " live --target " + name + "/" +
                                    config + " --seed " + std::to_string(seed) + " --duration " + o.duration +
                                    " --nemesis " + faults_text(r->faults) + " --history " +
                                    rooted(lo.history_path);
      if (r->violation) {
        std::printf("reproduce: %s\n", reproduce.c_str());
        json_set("reproduce", reproduce);
        if (status == kExitOk) status = kExitViolation;
      }
      if (!o.report.empty()) write_live_report(lo, *r, reproduce);
      if (!r->nemesis.errors.empty()) {
        // A fault that was not healed (or not injected) judges the harness, not the broker.
        std::fprintf(stderr, "mqharness live: %s/%s seed %llu: the nemesis failed (%s); the verdict is not the "
                     "broker's alone\n", name.c_str(), config.c_str(), static_cast<unsigned long long>(seed),
                     r->nemesis.errors.front().c_str());
        status = kExitBad;
      }
      if (o.bench) bench_rows.emplace_back(name + "/" + config, r->latency);
      std::fflush(stdout);
    }
  }
  if (o.bench) print_bench(bench_rows);
  return status;
}

}  // namespace mq::app
