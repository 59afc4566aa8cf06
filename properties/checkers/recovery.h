#pragma once
// Recovery: the broker comes back from every crash, unless damage that was done to
// its disk on purpose explains why it cannot.
//
// Precisely: (1) no `recovery-failed` event: a broker whose recovery fails for a
// reason no injected fault explains (its own log does not fit, an image it refuses)
// has a bug, whatever the history does next; (2) a `corruption-detected` event (the
// broker found its log corrupt and stopped: correct behaviour) is preceded, since the
// previous `recover`, by a `bit-flip` event: the damage that explains it.
// Witness: (1) the recovery-failed event; (2) the corruption-detected event.
//
// The simulator decides which of the two events a failed recovery is (sim/broker_node.h:
// corruption-detected only for checksum failures at a frame it flipped); this checker
// makes the verdict a property of the history, so `check`, a --no-shadow run and a
// live run judge it too.
//
// REQUIRES: events come in order. Thread-safety: none; one checker per history.

#include <optional>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kRecovery = history_check_name(HistoryCheck::kRecovery);

class RecoveryChecker {
 public:
  void add(const HistoryEvent& e);
  Verdict finish() const;

 private:
  std::optional<Verdict> violation_;
  bool flipped_ = false;  // a bit-flip since the last recover
  uint64_t recoveries_ = 0, detected_ = 0;
};

Verdict check_recovery(const History& history);

}  // namespace mq
