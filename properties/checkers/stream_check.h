#pragma once
// Streaming checks: every history checker, judging a history one event at a time with
// memory proportional to the messages in flight and the operations open (not to the
// history's length). check_all is this class fed from a History in memory, so the two
// paths give identical verdicts (tests/checker_stream_test.cc compares them anyway).
//
// Which checks there are, and in what order they answer, is stated once, by
// HistoryCheck (history_check.h); stream_check.cc's Impl runs each, and its switch
// over HistoryCheck fails to build until a new check has its verdict there. Some take each event as it comes (Impl::admit, Impl::keep);
// the others take the steps a StreamIndex releases (Impl::on_step): it holds an event
// back until the publishes invoked before it have completed (their outcome is
// lookahead), and remembers finished messages only up to kRememberFinished
// (history_index.h). The checks that need a queue's contents share one QueueReplay.
//
// Thread-safety: none; one StreamingChecks per history.

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/history.h"
#include "model/topology.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/verdict.h"

namespace mq {

class StreamingChecks {
 public:
  // REQUIRES: topology.validate().ok(); `topology` outlives this object.
  StreamingChecks(const Topology& topology, const CheckOptions& options);
  StreamingChecks(const StreamingChecks&) = delete;
  StreamingChecks& operator=(const StreamingChecks&) = delete;

  // Takes the next event (in history order). After a malformed event the rest is ignored.
  void add(const HistoryEvent& e);
  void add(HistoryEvent&& e);  // the same, without a copy
  // The same, without a copy or an allocation: the checks keep a non-owning pointer to
  // `e`. REQUIRES: `e` stays alive and unchanged until finish() has returned (as the
  // events of a History the caller keeps do: check_all). The verdicts hold copies of
  // their witness events, so they do not depend on `e` afterwards.
  void add_borrowed(const HistoryEvent& e);
  // The verdicts in check_all's order (check_all_properties()): well-formed, then, if
  // the history is well formed, every other check's. Call once, after the last add().
  std::vector<Verdict> finish();

  ~StreamingChecks();

  // Events held back for lookahead at most so far (for tests and benchmarks).
  size_t max_held() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every check over a file, read with for_each_history_event: errors of the reader
// (naming file, line and field) are the Status.
Result<std::vector<Verdict>> check_streaming(const std::string& path, const Topology& topology,
                                             const CheckOptions& options = {});

// Whether `event` names only queues and consumers of the topology (each consumer with
// its own queue); the reason if not. Shared with check_well_formed.
std::optional<std::string> misnamed(const HistoryEvent& e, const Topology& topology);

}  // namespace mq
