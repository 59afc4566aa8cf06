#pragma once
// TTL and delay: nothing is delivered once expired, nor before its not-before time.
//
// Precisely, for each deliver ok of (queue, id) at time t, judged against the publish
// it belongs to (the latest non-failed publish of (queue, id) before it), with the
// acceptance time bounded as HistoryIndex states:
//  - ttl: if ttl_ns > 0, then t < accepted_hi + ttl_ns (a delivery at or after the
//    latest possible expiry is certainly late; only ok publishes bound accepted_hi);
//  - delay: t >= accepted_lo + delay_ns (before the earliest possible not-before time
//    is certainly early), where delay_ns is the producer's delay, or the broker's
//    not_before_ns - timestamp_ns.
// Witness: the publish completion (ttl) or start (delay), and the delivery.
//
// Streaming (TtlDelayChecker): each delivery is judged when the StreamIndex releases
// it, with the publishes started before it complete.
//
// REQUIRES: validate_history(history).ok().

#include <optional>

#include "model/history.h"
#include "properties/checkers/history_check.h"
#include "properties/checkers/history_index.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kTtlDelay = history_check_name(HistoryCheck::kTtlDelay);

class TtlDelayChecker {
 public:
  // REQUIRES: a StreamIndex passes it every step, in order.
  TtlDelayChecker() = default;
  void on(const Step& step);
  Verdict finish() const;

 private:
  uint64_t judged_ = 0;
  std::optional<Verdict> violation_;
};

Verdict check_ttl_delay(const History& history);

}  // namespace mq
