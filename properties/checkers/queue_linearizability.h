#pragma once
// Queue linearizability for concurrent histories with distinct values: is there a
// total order of the operations, consistent with real time (an operation that
// returned before another was called comes first), in which the queue behaves as a
// sequential FIFO queue?
//
// With distinct values (every value enqueued at most once) the question reduces to
// looking for a few violation patterns (Bouajjani, Emmi, Enea, Hamza, "On reducing
// linearizability to state reachability", ICALP 2015; Emmi and Enea, "Sound,
// complete, and tractable linearizability monitoring for concurrent collections",
// POPL 2018; docs/checkers.md says what is taken from where). Writing a <hb b for "a
// returned before b was called":
//  - fresh: a dequeue returns v, but no enqueue of v was invoked, or deq(v) <hb enq(v);
//  - repeated: two dequeues return the same v;
//  - order: enq(v1) <hb enq(v2), v2 is dequeued, and v1 is dequeued only after:
//    deq(v2) <hb deq(v1), or v1 (enqueued ok) is never dequeued and no dequeue of
//    unknown outcome was called before deq(v2) returned;
//  - empty: a dequeue returns "empty" while the queue was certainly not empty at every
//    moment of its interval: the moments are covered by the intervals in which some
//    v was certainly present (from enq(v)'s return until deq(v)'s call, or until the
//    first call of a dequeue of unknown outcome).
// Each pattern is a certain violation (sound: a reported history is never
// linearizable). Completeness holds for the first three; for empty dequeues the
// covering test is the sufficient condition above, so a subtle empty violation that
// needs the FIFO order to show may pass (see docs/checkers.md).
//
// Operations that failed did not happen; `info` or never-completed ones may have
// happened at any time after their call (their return is "never").
// Cost: O(n log n) time, O(n) memory in the number of operations.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/jepsen_queue.h"

namespace mq {

inline constexpr const char* kQueueLinearizability = "queue-linearizability";

struct QueueOperation {
  bool enqueue = true;
  std::optional<std::string> value;  // dequeue: nullopt = it found the queue empty
  size_t call = 0;                   // position of the invoke
  size_t ret = kNoEvent;             // position of the ok; kNoEvent = unknown outcome
  uint64_t call_line = 0, ret_line = 0;
  std::string process;
  bool completed() const { return ret != kNoEvent; }
};

struct QueueHistory {
  std::vector<QueueOperation> ops;  // failed operations left out
};

// Pairs each process's invoke with its completion. An ok dequeue with value null is
// an empty dequeue; an ok drain is one dequeue per element, each within the drain's
// interval. Errors name the file (when given) and the line: a completion without
// invoke, a second invoke.
Result<QueueHistory> queue_history_from_jepsen(const std::vector<JepsenOp>& ops, std::string_view file = {});

struct LinearizabilityReport {
  bool valid = true;
  std::string pattern;  // "fresh", "repeated", "order", "empty"; or "" when valid
  std::string message;
  std::vector<QueueOperation> witness;  // the operations of the pattern
};

LinearizabilityReport check_queue_linearizability(const QueueHistory& history);

// "queue-linearizability: valid (...)" or "...: INVALID: ..." and the witness lines.
std::string to_string(const LinearizabilityReport& r);

}  // namespace mq
