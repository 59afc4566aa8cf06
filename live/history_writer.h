#pragma once
// HistoryWriter: the history of a live run in Jepsen's queue format (docs/jepsen.md),
// the format `mqharness check` reads: one JSON object per line with process, type,
// f, value, time, index. Clients are integer processes (producers 0..P-1, consumers
// P..P+C-1); faults are written by process "nemesis" with type "info" and f naming
// the fault (kill, restart, pause, resume, partition, heal, disk-faults, disk-heal,
// power-loss), which the checkers pass over.
//
//   enqueue  invoke value V            then ok / fail / info (same value)
//   dequeue  invoke (no value)         then ok value V, or fail "empty", or info
//
// Extra keys the Jepsen reader ignores carry what a target reports beyond Jepsen's
// format: "error" on fail and info, "attempts" (the broker's delivery count) and
// "consumer" on a dequeue ok.
//
// `time` is real time: nanoseconds since the run started (steady clock), taken under
// the writer's lock, so it never decreases along the file; `start_unix_ns()` anchors it
// to the wall clock. A line is handed to the kernel once per flush_every lines and at
// close, so a run that dies loses only its last few lines.
//
// Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/history.h"

namespace mq::live {

struct HistoryCounts {
  uint64_t enqueue_ok = 0, enqueue_fail = 0, enqueue_info = 0;
  uint64_t dequeue_ok = 0, dequeue_empty = 0, dequeue_fail = 0, dequeue_info = 0;
  uint64_t faults = 0;
  uint64_t lines = 0;
};

class HistoryWriter {
 public:
  static Result<std::unique_ptr<HistoryWriter>> open(const std::string& path);
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;
  ~HistoryWriter();

  // ns since the run started.
  int64_t now_ns() const;
  int64_t start_unix_ns() const { return start_unix_ns_; }

  void enqueue(int process, EventType type, uint64_t value, std::string_view error = {});
  void dequeue_invoke(int process);
  // A dequeue's completion; `value` for ok (the payload as it came back).
  void dequeue(int process, EventType type, std::string_view value, uint32_t attempts,
               std::string_view consumer, std::string_view error = {});
  void nemesis(std::string_view f, std::string_view detail);

  HistoryCounts counts() const;
  Status close();
  const std::string& path() const { return path_; }

 private:
  explicit HistoryWriter(std::string path, std::FILE* file);
  void line(std::string_view body);  // REQUIRES: mu_ held; body: the object's keys after "process"

  std::string path_;
  std::FILE* file_;
  std::chrono::steady_clock::time_point start_;
  int64_t start_unix_ns_ = 0;
  mutable std::mutex mu_;
  HistoryCounts counts_;
  uint64_t index_ = 0;
  bool write_failed_ = false;
};

// A dequeued payload as the JSON value of the history: the integer the workload
// enqueued (digits before the first space of the payload), or the payload as a JSON
// string if it is not one of ours (which the checker will call unexpected).
std::string payload_to_json_value(std::string_view payload);

}  // namespace mq::live
