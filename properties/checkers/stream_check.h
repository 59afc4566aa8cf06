#pragma once
// Streaming checks: the checkers whose property allows judging a history one event at
// a time, with memory proportional to the messages in flight (not to the history's
// length): well-formed, completeness and refinement. Their verdicts are identical to
// the ones check_all gives for the same history (tests/checker_stream_test.cc).
//
// Not streamed (yet): integrity, no-loss, duplicates, capacity, ttl-delay, priority,
// order and load-balance judge through HistoryIndex, which looks ahead (an invoke's
// completion, a publish's outcome) and, for order, builds a precedence graph over the
// whole history; check_all still runs them over a History in memory.
//
// Thread-safety: none; one StreamingChecks per history.

#include <string>
#include <vector>

#include "base/status.h"
#include "model/history.h"
#include "model/topology.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/completeness.h"
#include "properties/checkers/refinement.h"
#include "properties/checkers/verdict.h"

namespace mq {

class StreamingChecks {
 public:
  // REQUIRES: topology.validate().ok(); `topology` outlives this object.
  StreamingChecks(const Topology& topology, const CheckOptions& options);

  // Takes the next event (in history order). After a malformed event the rest is ignored.
  void add(const HistoryEvent& e);
  // well-formed, then (if well formed) completeness and refinement.
  std::vector<Verdict> finish() const;

 private:
  const Topology& topology_;
  HistoryValidator validator_;
  std::optional<Verdict> malformed_;
  uint64_t events_ = 0;
  CompletenessChecker completeness_;
  RefinementChecker refinement_;
};

// The streaming checks over a file, read with for_each_history_event: errors of the
// reader (naming file, line and field) are the Status.
Result<std::vector<Verdict>> check_streaming(const std::string& path, const Topology& topology,
                                             const CheckOptions& options = {});

// Whether `event` names only queues and consumers of the topology (each consumer with
// its own queue); the reason if not. Shared with check_well_formed.
std::optional<std::string> misnamed(const HistoryEvent& e, const Topology& topology);

}  // namespace mq
