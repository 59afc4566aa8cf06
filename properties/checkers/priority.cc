#include "properties/checkers/priority.h"

#include "properties/checkers/drive.h"

namespace mq {

void PriorityChecker::before(const Step& step) {
  const HistoryEvent& d = step.e();
  if (violation_ || d.f != EventF::kDeliver || d.type != EventType::kOk) return;
  ++judged_;
  const auto& live = replay_.live(d.queue);
  const auto self = live.find(*d.id);
  const Priority p = self != live.end() ? self->second.publish->priority : d.priority.value_or(0);
  const LiveMessage* higher = nullptr;
  MessageId higher_id = 0;
  for (const auto& [id, m] : live) {
    if (id == *d.id || m.publish->priority <= p || !replay_.surely_ready(m, d.time_ns)) continue;
    if (higher == nullptr || m.publish->priority > higher->publish->priority) {
      higher = &m;
      higher_id = id;
    }
  }
  if (higher == nullptr) return;
  violation_ = fail(kPriority, describe(key_of(d)) + " of priority " + std::to_string(p) +
                                   " delivered while message " + std::to_string(higher_id) + " of priority " +
                                   std::to_string(higher->publish->priority) + " was ready since " +
                                   where(*higher->ready_since),
                    {*higher->ready_since, d});
}

void PriorityChecker::after(const Step&) {}

Verdict PriorityChecker::finish() const {
  if (violation_) return *violation_;
  return pass(kPriority, std::to_string(judged_) + " deliveries, none while a higher priority was ready");
}

Verdict check_priority(const History& history, const Topology& topology) {
  return drive_replayed<PriorityChecker>(history, topology);
}

}  // namespace mq
