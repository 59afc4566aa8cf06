#pragma once
// One live run: start the target's server (in a namespace, under fiu-run, on the
// power-loss file system, as the faults need), run the workload while the nemesis
// acts, heal, drain (a liveness phase with a bounded wait), stop the server, and judge
// the history with Jepsen's total-queue checker (properties/checkers/jepsen_queue.h)
// against what the configuration claims (Target::claim).
//
// Verdict: a loss of acknowledged messages is a violation where the configuration
// claims no loss under every fault of the run; an unexpected value (never enqueued)
// is always a violation; a queue that did not drain after the faults healed is a
// liveness violation; duplicates and recovered values are allowed (at-least-once,
// unknown outcomes), as in Jepsen. With `strict`, every invalid history is a
// violation, whatever the claim; with `fifo`, a history that is not FIFO-linearizable.
//
// A fault that cannot be injected on this machine (no root for a namespace, no
// /dev/fuse) is reported and left out, and the run goes on without it.
//
// Thread-safety: run_live uses the calling thread plus the workload's and nemesis's.

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "live/history_writer.h"
#include "live/nemesis.h"
#include "live/target.h"
#include "live/workload.h"
#include "properties/checkers/jepsen_queue.h"
#include "properties/checkers/queue_linearizability.h"

namespace mq::live {

struct LiveOptions {
  std::string target;  // "redis-list"
  std::string config;  // "aof-always"
  int64_t duration_ms = 30'000;
  std::vector<FaultKind> faults;  // empty: no nemesis
  WorkloadOptions workload;
  std::string history_path;  // REQUIRED
  std::string report_dir;    // empty: a temporary run directory, removed at the end
  std::chrono::milliseconds drain_quiet{3000};
  std::chrono::milliseconds drain_timeout{60'000};
  bool strict = false;
  // Also judge FIFO queue linearizability (distinct values). No target here claims
  // FIFO with competing consumers and redeliveries; with --fifo the user claims it.
  bool fifo = false;
  std::string powerfs_binary;  // empty: default_powerfs_binary()
  std::chrono::seconds progress_every{5};
};

struct LiveResult {
  std::string target, config, version, describe;
  std::vector<FaultKind> faults;      // the faults injected (after leaving out the unsupported)
  std::vector<std::string> left_out;  // faults left out, with the reason
  std::vector<FaultWindow> schedule;
  Claim claim;  // what the configuration claims under these faults
  TotalQueueReport total;
  std::optional<LinearizabilityReport> fifo;  // with LiveOptions::fifo
  bool drained = false;
  NemesisStats nemesis;
  HistoryCounts counts;
  LatencySummary latency;
  uint64_t ack_failures = 0;
  bool violation = false;
  std::vector<std::string> violations;  // one sentence each
  int64_t start_unix_ns = 0;
};

// Runs one target. Errors: kInvalidArgument (unknown target), kUnavailable (the
// server cannot run here: says why), kIoError (history, run directory).
Result<LiveResult> run_live(const LiveOptions& options, std::FILE* out);

// The verdict table of one run (fixed-width text).
std::string verdict_table(const LiveResult& r);

// Applies the verdict rules above to a judged run (sets violation, violations).
void judge(LiveResult& r, bool strict);

}  // namespace mq::live
