#pragma once
// Integrity: every delivered message was published, into the queue it is delivered
// from, with the same id and payload.
//
// Precisely: for each deliver ok of (queue, id) at position i there is a publish of
// (queue, id) started before i that did not fail (ok, info, or never completed: the
// broker may deliver before the producer hears back), and one of those carries the
// delivered payload. Witness: the delivery alone (never published); the refused
// publish and the delivery (only a failed publish); the latest candidate publish and
// the delivery (payload differs).
//
// Streaming (IntegrityChecker): each delivery is judged when the StreamIndex
// releases it, so the outcomes of the publishes started before it are known. A
// delivery of an id the index no longer knows, in a queue where it forgot finished
// messages (history_index.h), is not judged (counted in the verdict's message).
//
// REQUIRES: validate_history(history).ok().

#include <optional>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kIntegrity = history_check_name(HistoryCheck::kIntegrity);

class IntegrityChecker {
 public:
  // REQUIRES: `index` outlives the checker and passes it every step.
  explicit IntegrityChecker(const StreamIndex& index) : index_(index) {}
  void on(const Step& step);
  Verdict finish() const;

 private:
  const StreamIndex& index_;
  uint64_t deliveries_ = 0;
  uint64_t forgotten_ = 0;
  std::optional<Verdict> violation_;
};

Verdict check_integrity(const History& history);

}  // namespace mq
