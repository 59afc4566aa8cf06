#include "properties/checkers/recovery.h"

namespace mq {

void RecoveryChecker::add(const HistoryEvent& e) {
  if (violation_ || e.process != kNemesisProcess) return;
  switch (e.f) {
    case EventF::kRecover:
      ++recoveries_;
      flipped_ = false;
      return;
    case EventF::kBitFlip:
      flipped_ = true;
      return;
    case EventF::kRecoveryFailed:
      violation_ = fail(kRecovery, "recovery failed and no injected fault explains it: " + e.error, {e});
      return;
    case EventF::kCorruptionDetected:
      ++detected_;
      if (!flipped_) {
        violation_ = fail(kRecovery,
                          "recovery reported corruption, but no bit of the log was flipped: " + e.error, {e});
      }
      return;
    case EventF::kPublish:
    case EventF::kDeliver:
    case EventF::kAck:
    case EventF::kNack:
    case EventF::kRequeue:
    case EventF::kRelease:
    case EventF::kExpire:
    case EventF::kDeadLetter:
    case EventF::kDeadLetterRefused:
    case EventF::kLost:
    case EventF::kCrash:
    case EventF::kAttach:
    case EventF::kDetach:
    case EventF::kPartition:
    case EventF::kPartitionEnd:
    case EventF::kClog:
    case EventF::kClogEnd:
    case EventF::kConsumerCrash:
    case EventF::kConsumerRestart:
    case EventF::kTornWrite:
    case EventF::kUnsyncedLost:
    case EventF::kDiskFull:
    case EventF::kDiskSpace:
    case EventF::kDrop:
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
