#pragma once
// Jepsen queue histories, and Jepsen's total-queue checker.
//
// Format (docs/jepsen.md): JSON lines, one Jepsen operation per line, as exported from
// Jepsen's history.edn: an object with `process` (integer or string, e.g. "nemesis"),
// `type` ("invoke", "ok", "fail", "info"), `f` (a string; a leading ':' of an EDN
// keyword is dropped), optional `value` (any JSON), optional `time` (integer ns) and
// optional `index` (integer). Other keys (`error`, `node`, ...) are ignored, as Jepsen
// does. Operations of f other than enqueue, dequeue and drain (a nemesis's start,
// stop, ...) are read and skipped by the checkers.
//
// Reading never crashes and never skips a malformed line: errors name the file, the
// 1-based line and the field ("h.jsonl:4: field 'type': must be one of invoke, ok,
// fail, info"); kCorruption for malformed lines, kIoError when the file cannot be read.
//
// Thread-safety: none needed; functions touch only their arguments.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "formats/line_reader.h"
#include "model/history.h"

namespace mq {

struct JepsenOp {
  uint64_t line = 0;  // 1-based line in its file; 0 if built in memory
  std::string process;
  EventType type = EventType::kInvoke;
  std::string f;  // "enqueue", "dequeue", "drain", or anything else (skipped)
  // The value as compact JSON text ("3", "\"a\"", "null"); absent if the line had none.
  std::optional<std::string> value;
  // For a drain: the elements of its value (an array), each as compact JSON text.
  std::vector<std::string> drained;
  std::optional<int64_t> time_ns;
};

// "line 7 0 ok dequeue 3"
std::string to_string(const JepsenOp& op);

using JepsenOpSink = std::function<Status(JepsenOp&& op)>;

// One line to an op; errors name file, line and field.
Result<JepsenOp> jepsen_op_from_json(std::string_view text, std::string_view file, uint64_t line);
// Streams every op of `in` (or of the file at `path`) to `sink`, in order.
Status read_jepsen_stream(std::istream& in, std::string_view file, const JepsenOpSink& sink);
Status read_jepsen_lines(LineReader& lines, const JepsenOpSink& sink);
Status for_each_jepsen_op(const std::string& path, const JepsenOpSink& sink);
Result<std::vector<JepsenOp>> read_jepsen_history(const std::string& path);
Result<std::vector<JepsenOp>> parse_jepsen_history(std::string_view text, std::string_view file);

// Which of the two formats a file holds, told by its lines: a line with "v" is ours
// (docs/history-format.md); a line whose f is enqueue, dequeue or drain (with or
// without ':') is Jepsen's. Lines that tell neither (a Jepsen nemesis op) are passed
// over, at most kMaxFormatProbeLines of them in at most kMaxFormatProbeBytes. A line
// that is not a JSON object gets the readers' own message, on any line.
enum class HistoryFormat : uint8_t { kMqHarness, kJepsen };
inline constexpr size_t kMaxFormatProbeLines = 10000;
inline constexpr size_t kMaxFormatProbeBytes = size_t{64} << 20;
Result<HistoryFormat> detect_history_format(const std::string& path);
// From the reader's next lines; the reader is rewound to where it was, so the
// history can then be read from it (standard input cannot be reopened).
Result<HistoryFormat> detect_history_format(LineReader& lines);

// A multiset of values (compact JSON text -> multiplicity).
using ValueMultiset = std::map<std::string, uint64_t>;
uint64_t total(const ValueMultiset& m);

// What jepsen.checker/total-queue reports, with the same definitions (see
// jepsen_queue.cc for the source). Drain ops (ok) count as one dequeue per element.
struct TotalQueueReport {
  bool valid = true;            // lost and unexpected are both empty
  uint64_t attempt_count = 0;   // enqueue invokes
  uint64_t acknowledged_count = 0;  // enqueue oks
  uint64_t ok_count = 0;        // dequeued values that some enqueue attempted (multiset intersection)
  uint64_t unexpected_count = 0;  // dequeued values never attempted
  uint64_t duplicated_count = 0;  // dequeued more often than attempted
  uint64_t lost_count = 0;        // enqueued ok more often than dequeued
  uint64_t recovered_count = 0;   // dequeued, attempted, but the enqueue was not ok
  ValueMultiset lost, unexpected, duplicated, recovered;
  // Up to kMaxWitnessEvents ops that show a lost value (its enqueue ok) or an
  // unexpected one (its dequeue ok), in history order.
  std::vector<JepsenOp> witness;
};

// Accumulates ops one at a time: memory is proportional to the distinct values.
class TotalQueueChecker {
 public:
  // REQUIRES: ops in history order.
  void add(const JepsenOp& op);
  TotalQueueReport finish() const;

 private:
  ValueMultiset attempts_, enqueues_, dequeues_;
  std::map<std::string, JepsenOp> first_enqueue_ok_;  // for the lost witness
  std::map<std::string, JepsenOp> first_dequeue_;     // for the unexpected witness
};

TotalQueueReport check_total_queue(const std::vector<JepsenOp>& ops);

// "total-queue: valid: attempt-count 10, acknowledged-count 9, ok-count 9, ..." and
// the value lists of the non-empty categories (cut at kMaxListedValues).
inline constexpr size_t kMaxListedValues = 20;
std::string to_string(const TotalQueueReport& r);

}  // namespace mq
