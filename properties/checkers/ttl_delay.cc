#include "properties/checkers/ttl_delay.h"

#include "properties/checkers/history_index.h"

namespace mq {

Verdict check_ttl_delay(const History& history) {
  const HistoryIndex index(history);
  uint64_t judged = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    const HistoryEvent& d = index.at(i);
    if (d.f != EventF::kDeliver || d.type != EventType::kOk) continue;
    const MessageKey k = key_of(d);
    const PublishRecord* r = index.publish_before(k, i);
    if (r == nullptr) continue;  // integrity reports it
    ++judged;
    const TimeNs t = d.time_ns;
    if (t >= r->expires_hi_ns()) {
      return fail(kTtlDelay, describe(k) + " delivered at " + std::to_string(t) + " ns, expired by " +
                                 std::to_string(r->expires_hi_ns()) + " ns (accepted by " +
                                 std::to_string(r->accepted_hi_ns) + " ns, ttl " +
                                 std::to_string(r->ttl_ns) + " ns)",
                  {index.at(r->end), d});
    }
    if (t < r->deliverable_lo_ns()) {
      return fail(kTtlDelay, describe(k) + " delivered at " + std::to_string(t) +
                                 " ns, before its not-before time " +
                                 std::to_string(r->deliverable_lo_ns()) + " ns (accepted from " +
                                 std::to_string(r->accepted_lo_ns) + " ns, delay " +
                                 std::to_string(r->delay_ns) + " ns)",
                  {index.at(r->start), d});
    }
  }
  return pass(kTtlDelay, std::to_string(judged) + " deliveries within their TTL and after their delay");
}

}  // namespace mq
