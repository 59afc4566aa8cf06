#include "properties/checkers/recovery.h"

namespace mq {

void RecoveryChecker::add(const HistoryEvent& e) {
  if (violation_ || e.process != kNemesisProcess) return;
  switch (event_f_recovery_role(e.f)) {
    case RecoveryRole::kRestart:
      ++recoveries_;
      flipped_ = false;
      return;
    case RecoveryRole::kExplainsCorruption:
      flipped_ = true;
      return;
    case RecoveryRole::kFailed:
      violation_ = fail(kRecovery, "recovery failed and no injected fault explains it: " + e.error, {e});
      return;
    case RecoveryRole::kCorruptionDetected:
      ++detected_;
      if (!flipped_) {
        violation_ = fail(kRecovery,
                          "recovery reported corruption, but no bit of the log was flipped: " + e.error, {e});
      }
      return;
    case RecoveryRole::kNone:
      return;  // no bearing on recovery
  }
}

Verdict RecoveryChecker::finish() const {
  if (violation_) return *violation_;
  return pass(kRecovery, std::to_string(recoveries_) + " recoveries" +
                             (detected_ > 0 ? ", then corruption detected where a bit was flipped" : ""));
}

Verdict check_recovery(const History& history) {
  RecoveryChecker c;
  for (const auto& e : history.events) c.add(e);
  return c.finish();
}

}  // namespace mq
