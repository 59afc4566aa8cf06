#include "live/live_run.h"

#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <filesystem>
#include <thread>

#include "live/live_server.h"
#include "live/process.h"

namespace mq::live {
namespace {

bool has(const std::vector<FaultKind>& v, FaultKind k) {
  return std::find(v.begin(), v.end(), k) != v.end();
}

void remove_fault(std::vector<FaultKind>& v, FaultKind k) {
  v.erase(std::remove(v.begin(), v.end(), k), v.end());
}

Claim combined_claim(const Target& t, const std::vector<FaultKind>& faults) {
  if (faults.empty()) return {true, "no fault: every acknowledged message is delivered"};
  Claim c{true, ""};
  for (FaultKind k : faults) {
    const Claim one = t.claim(k);
    const std::string line = std::string(fault_kind_name(k)) + ": " + one.why;
    if (!one.no_loss && c.no_loss)
      c = {false, line};
    else if (one.no_loss == c.no_loss)
      c.why += (c.why.empty() ? "" : "; ") + line;
  }
  return c;
}

// Leaves out the faults this machine or target cannot do, saying why.
std::vector<FaultKind> usable_faults(const Target& t, std::vector<FaultKind> faults,
                                     std::vector<std::string>& left_out) {
  for (int i = 0; i < kFaultKindCount; ++i) {
    const auto k = static_cast<FaultKind>(i);
    if (!has(faults, k)) continue;
    if (auto why = t.unsupported(k)) {
      left_out.push_back(std::string(fault_kind_name(k)) + ": " + *why);
      remove_fault(faults, k);
    }
  }
  if (::geteuid() != 0) {
    for (FaultKind k : {FaultKind::kPartition, FaultKind::kPowerLoss}) {
      if (!has(faults, k)) continue;
      left_out.push_back(std::string(fault_kind_name(k)) +
                         ": needs root (network namespaces, FUSE mounts); "
                         "running as uid " +
                         std::to_string(::geteuid()));
      remove_fault(faults, k);
    }
  }
  return faults;
}

// Creates the server; a namespace or mount that cannot be made drops its fault.
Result<std::unique_ptr<LiveServer>> make_server(const Target& t, const LiveOptions& o,
                                                const std::string& run_dir, LiveResult& r) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    ServerOptions so{run_dir, has(r.faults, FaultKind::kPartition), has(r.faults, FaultKind::kDisk),
                     has(r.faults, FaultKind::kPowerLoss), o.powerfs_binary};
    auto s = LiveServer::create(t, so);
    if (s.ok()) return s;
    const std::string why = s.status().message();
    if (so.netns && why.find("ip") != std::string::npos && why.find("netns") != std::string::npos) {
      r.left_out.push_back("partition: " + why);
      remove_fault(r.faults, FaultKind::kPartition);
    } else if (so.powerfs) {
      r.left_out.push_back("power: " + why);
      remove_fault(r.faults, FaultKind::kPowerLoss);
    } else {
      return s.status();
    }
  }
  return unavailable("cannot set up the server");
}

void print_header(std::FILE* out, const LiveOptions& o, const LiveResult& r, const std::string& run_dir,
                  const LiveServer& server) {
  std::string faults;
  for (FaultKind k : r.faults) faults += (faults.empty() ? "" : ",") + std::string(fault_kind_name(k));
  std::fprintf(out, "live: seed %llu, target %s/%s, duration %.1fs, nemesis %s\n",
               static_cast<unsigned long long>(o.workload.seed), r.target.c_str(), r.config.c_str(),
               static_cast<double>(o.duration_ms) / 1000.0, faults.empty() ? "none" : faults.c_str());
  std::fprintf(out, "  server: %s\n  config: %s\n", r.version.c_str(), r.describe.c_str());
  std::fprintf(out,
               "  workload: %d producers, %d consumers, rate %.0f/s, consume rate %.0f/s, message %zu bytes, "
               "op timeout %lld ms\n",
               o.workload.producers, o.workload.consumers, o.workload.rate, o.workload.consume_rate,
               o.workload.message_bytes, static_cast<long long>(o.workload.client.op_timeout.count()));
  std::fprintf(out, "  schedule: %s\n", to_string(r.schedule).c_str());
  std::fprintf(out, "  claim: %s (%s)\n",
               r.claim.no_loss ? "no acknowledged message lost" : "may lose acknowledged messages",
               r.claim.why.c_str());
  for (const auto& l : r.left_out) std::fprintf(out, "  left out: %s\n", l.c_str());
  std::fprintf(out, "  run dir: %s\n  history: %s\n", run_dir.c_str(), o.history_path.c_str());
  if (server.has_netns()) {
    std::fprintf(out, "  server at %s:%u in network namespace %s\n", server.endpoint().host.c_str(),
                 server.endpoint().port, server.netns_name().c_str());
  }
  std::fflush(out);
}

void wait_with_progress(const LiveOptions& o, const HistoryWriter& h, std::FILE* out) {
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::milliseconds(o.duration_ms);
  auto next_report = start + o.progress_every;
  for (int64_t i = 0; i < o.duration_ms / 50 + 2; ++i) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return;
    if (now >= next_report) {
      const HistoryCounts c = h.counts();
      std::fprintf(
          out, "  t=%.0fs enqueued ok %llu (info %llu, fail %llu), dequeued %llu, faults %llu\n",
          std::chrono::duration<double>(now - start).count(), static_cast<unsigned long long>(c.enqueue_ok),
          static_cast<unsigned long long>(c.enqueue_info), static_cast<unsigned long long>(c.enqueue_fail),
          static_cast<unsigned long long>(c.dequeue_ok), static_cast<unsigned long long>(c.faults));
      std::fflush(out);
      next_report += o.progress_every;
    }
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(end - now, std::chrono::milliseconds(50)));
  }
}

Status execute(const Target& t, const LiveOptions& o, const std::string& run_dir, LiveResult& r,
               std::FILE* out) {
  auto server = make_server(t, o, run_dir, r);
  if (!server.ok()) return server.status();
  r.claim = combined_claim(t, r.faults);
  r.schedule =
      r.faults.empty() ? std::vector<FaultWindow>{} : draw_schedule(o.workload.seed, r.faults, o.duration_ms);
  print_header(out, o, r, run_dir, **server);
  MQ_RETURN_IF_ERROR((*server)->start());
  auto history = HistoryWriter::open(o.history_path);
  if (!history.ok()) return history.status();
  r.start_unix_ns = (*history)->start_unix_ns();
  Workload workload(t, (*server)->endpoint(), **history, o.workload);
  Nemesis nemesis(**server, **history, r.schedule);
  workload.start();
  nemesis.start();
  wait_with_progress(o, **history, out);
  nemesis.stop();  // heals everything and makes sure the server runs
  workload.stop_producers();
  (*history)->nemesis("final-heal", "faults healed, producers stopped; consumers drain");
  r.drained = workload.drain(o.drain_quiet, o.drain_timeout);
  workload.stop();
  r.latency = workload.latency();
  r.ack_failures = workload.ack_failures();
  r.nemesis = nemesis.stats();
  r.counts = (*history)->counts();
  (*server)->stop();
  MQ_RETURN_IF_ERROR((*history)->close());
  TotalQueueChecker checker;
  std::vector<JepsenOp> ops;  // kept only for --fifo
  MQ_RETURN_IF_ERROR(for_each_jepsen_op(o.history_path, [&](JepsenOp&& op) {
    checker.add(op);
    if (o.fifo) ops.push_back(std::move(op));
    return Status();
  }));
  r.total = checker.finish();
  if (o.fifo) {
    auto queue_history = queue_history_from_jepsen(ops);
    if (!queue_history.ok()) return queue_history.status();
    r.fifo = check_queue_linearizability(*queue_history);
  }
  return Status();
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof(buf), f, ap);
  va_end(ap);
  return buf;
}

}  // namespace

void judge(LiveResult& r, bool strict) {
  r.violations.clear();
  const TotalQueueReport& t = r.total;
  if (t.lost_count > 0 && r.claim.no_loss) {
    r.violations.push_back(std::to_string(t.lost_count) +
                           " acknowledged messages lost where the configuration claims none");
  }
  if (t.unexpected_count > 0)
    r.violations.push_back(std::to_string(t.unexpected_count) + " unexpected messages");
  if (!r.drained) r.violations.push_back("the queue did not drain after the faults healed (liveness)");
  if (r.fifo && !r.fifo->valid) r.violations.push_back("not FIFO-linearizable (" + r.fifo->pattern + ")");
  if (strict && !t.valid && r.violations.empty()) r.violations.push_back("the history is invalid (--strict)");
  r.violation = !r.violations.empty();
}

std::string verdict_table(const LiveResult& r) {
  const TotalQueueReport& t = r.total;
  std::string s = fmt("%-12s %10s  %s\n", "property", "count", "verdict");
  s += fmt("%-12s %10llu  %s\n", "attempted", static_cast<unsigned long long>(t.attempt_count), "-");
  s += fmt("%-12s %10llu  %s\n", "acknowledged", static_cast<unsigned long long>(t.acknowledged_count), "-");
  const char* lost_verdict =
      t.lost_count == 0 ? "ok"
                        : (r.claim.no_loss ? "VIOLATION (claimed: no loss)" : "expected (not claimed)");
  s += fmt("%-12s %10llu  %s\n", "lost", static_cast<unsigned long long>(t.lost_count), lost_verdict);
  s += fmt("%-12s %10llu  %s\n", "unexpected", static_cast<unsigned long long>(t.unexpected_count),
           t.unexpected_count == 0 ? "ok" : "VIOLATION");
  s += fmt("%-12s %10llu  %s\n", "duplicated", static_cast<unsigned long long>(t.duplicated_count),
           "allowed (at-least-once)");
  s += fmt("%-12s %10llu  %s\n", "recovered", static_cast<unsigned long long>(t.recovered_count),
           "allowed (enqueue outcome unknown or failed)");
  s += fmt("%-12s %10llu  %s\n", "ack-failures", static_cast<unsigned long long>(r.ack_failures),
           "- (an unconfirmed ack: the message may come back, a duplicate)");
  if (r.fifo) {
    s += fmt("%-12s %10s  %s\n", "fifo", r.fifo->valid ? "yes" : "no",
             r.fifo->valid ? "ok" : "VIOLATION (--fifo)");
  }
  s +=
      fmt("%-12s %10s  %s\n", "drained", r.drained ? "yes" : "no", r.drained ? "ok" : "VIOLATION (liveness)");
  s += fmt("total-queue: %s; verdict: %s\n", t.valid ? "valid" : "INVALID",
           r.violation ? "VIOLATION of what the configuration claims"
                       : "consistent with what the configuration claims");
  for (const auto& v : r.violations) s += "  violation: " + v + "\n";
  // A fault that could not be injected or healed: the run says less than it seems to.
  for (const auto& e : r.nemesis.errors) s += "  nemesis error: " + e + "\n";
  return s;
}

Result<LiveResult> run_live(const LiveOptions& o, std::FILE* out) {
  auto target = make_target(o.target, o.config);
  if (!target.ok()) return target.status();
  const Target& t = **target;
  if (auto why = t.unavailable()) return unavailable(t.name() + ": " + *why);
  LiveResult r;
  r.target = t.name();
  r.config = t.config();
  r.version = t.version();
  r.describe = t.describe();
  r.faults = usable_faults(t, o.faults, r.left_out);
  std::unique_ptr<TempDir> temp;
  std::string run_dir;
  if (o.report_dir.empty()) {
    auto d = TempDir::make("mqharness-live-");
    if (!d.ok()) return d.status();
    temp = std::make_unique<TempDir>(std::move(d).value());
    run_dir = temp->path();
  } else {
    // Absolute: servers run with the run directory as their working directory.
    run_dir = std::filesystem::absolute(o.report_dir).string() + "/" + r.target + "-" + r.config + "-seed" +
              std::to_string(o.workload.seed);
    std::error_code ec;
    std::filesystem::remove_all(run_dir, ec);
    std::filesystem::create_directories(run_dir, ec);
    if (ec) return io_error("cannot create " + run_dir + ": " + ec.message());
  }
  const Status s = execute(t, o, run_dir, r, out);
  if (!s.ok()) {
    if (temp) temp->keep();  // the server's log explains the failure
    return s;
  }
  judge(r, o.strict);
  if (r.violation && temp) {
    temp->keep();  // the server's log and data explain the violation
    std::fprintf(out, "  run dir kept: %s\n", run_dir.c_str());
  }
  return r;
}

}  // namespace mq::live
