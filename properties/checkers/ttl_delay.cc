#include "properties/checkers/ttl_delay.h"

#include "properties/checkers/drive.h"

namespace mq {

void TtlDelayChecker::on(const Step& step) {
  const HistoryEvent& d = step.e();
  if (violation_ || d.f != EventF::kDeliver || d.type != EventType::kOk) return;
  const MessageKey k = key_of(d);
  const PublishPtr r = step.publish_before();
  if (r == nullptr) return;  // integrity reports it
  ++judged_;
  const TimeNs t = d.time_ns;
  if (t >= r->expires_hi_ns()) {
    violation_ = fail(kTtlDelay, describe(k) + " delivered at " + std::to_string(t) + " ns, expired by " +
                                     std::to_string(r->expires_hi_ns()) + " ns (accepted by " +
                                     std::to_string(r->accepted_hi_ns) + " ns, ttl " + std::to_string(r->ttl_ns) +
                                     " ns)",
                      {r->last_event(), d});
  } else if (t < r->deliverable_lo_ns()) {
    violation_ = fail(kTtlDelay, describe(k) + " delivered at " + std::to_string(t) +
                                     " ns, before its not-before time " + std::to_string(r->deliverable_lo_ns()) +
                                     " ns (accepted from " + std::to_string(r->accepted_lo_ns) + " ns, delay " +
                                     std::to_string(r->delay_ns) + " ns)",
                      {*r->start_event, d});
  }
}

Verdict TtlDelayChecker::finish() const {
  if (violation_) return *violation_;
  return pass(kTtlDelay, std::to_string(judged_) + " deliveries within their TTL and after their delay");
}

Verdict check_ttl_delay(const History& history) {
  return drive<TtlDelayChecker>(history, [](const StreamIndex&) { return std::make_unique<TtlDelayChecker>(); });
}

}  // namespace mq
