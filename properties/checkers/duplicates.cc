#include "properties/checkers/duplicates.h"

#include "properties/checkers/drive.h"

namespace mq {

bool DuplicatesChecker::windowed(const std::string& queue) const {
  const auto q = topology_.find_queue(queue);
  return q && topology_.queues[*q].windowed();
}

void DuplicatesChecker::on(const Step& step) {
  const HistoryEvent& e = step.e();
  if (violation_ || e.type != EventType::kOk) return;
  const bool finishes = e.f == EventF::kAck || e.f == EventF::kExpire || e.f == EventF::kDeadLetter ||
                        e.f == EventF::kLost || e.f == EventF::kDrop;
  if (finishes && e.id) {
    if (auto it = last_.find(key_of(e)); it != last_.end()) it->second.finished = true;
  }
  if (e.f == EventF::kPublish && e.id) {
    // A new message with a finished id: the window forgot it (see the header).
    if (auto it = last_.find(key_of(e)); it != last_.end() && it->second.finished && windowed(e.queue)) {
      last_.erase(it);
    }
  }
  if (e.f == EventF::kCrash) ++crashes_;
  if (e.f == EventF::kDetach) ++detaches_[e.consumer];
  if (e.f == EventF::kRequeue || e.f == EventF::kNack) {
    if (auto it = last_.find(key_of(e)); it != last_.end()) it->second.given_back = true;
  }
  if (e.f != EventF::kDeliver) return;
  const MessageKey k = key_of(e);
  auto it = last_.find(k);
  if (it != last_.end()) {
    const LastDelivery& prev = it->second;
    const HistoryEvent& p = *prev.event;
    const bool given_back = prev.given_back || crashes_ > prev.crashes || detaches_[p.consumer] > prev.holder_detaches;
    if (!given_back) {
      violation_ = fail(kDuplicates, describe(k) + " delivered again, but nothing gave it back since " + where(p) +
                                         " (no requeue, nack, detach of '" + p.consumer + "' or crash)",
                        {p, e});
      return;
    }
    if (e.attempts.value_or(0) <= p.attempts.value_or(0)) {
      violation_ = fail(kDuplicates, describe(k) + " redelivered with attempts " +
                                         std::to_string(e.attempts.value_or(0)) + ", not above the " +
                                         std::to_string(p.attempts.value_or(0)) + " of " + where(p) +
                                         ": a silent duplicate",
                        {p, e});
      return;
    }
    ++redeliveries_;
  }
  last_[k] = LastDelivery{step.event, false, crashes_, detaches_[e.consumer], false};
}

Verdict DuplicatesChecker::finish() const {
  if (violation_) return *violation_;
  return pass(kDuplicates, std::to_string(redeliveries_) + " redeliveries, each marked and caused");
}

Verdict check_duplicates(const History& history, const Topology& topology) {
  return drive<DuplicatesChecker>(history, [&](StreamIndex& i) {
    auto c = std::make_unique<DuplicatesChecker>(topology);
    i.on_forget([p = c.get()](const MessageKey& k) { p->forget(k); });
    return c;
  });
}

}  // namespace mq
