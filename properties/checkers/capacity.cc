#include "properties/checkers/capacity.h"

#include "properties/checkers/drive.h"

namespace mq {

void CapacityChecker::before(const Step& step) {
  const HistoryEvent& e = step.e();
  if (violation_ || e.queue.empty()) return;
  const auto q = topology_.find_queue(e.queue);
  if (!q) return;
  if (e.f == EventF::kPublish && e.type == EventType::kFail && e.error == kErrorFull) {
    judge_refusal(step, topology_.queues[*q]);
  }
  if (e.f == EventF::kDrop) judge_drop(e, topology_.queues[*q]);
}

void CapacityChecker::judge_refusal(const Step& step, const QueueConfig& queue) {
  const HistoryEvent& e = step.e();
  ++refusals_;
  const uint64_t held = replay_.live(e.queue).size();
  const uint64_t pending = replay_.pending(e.queue);
  // This publish is itself pending until its fail is applied.
  const uint64_t upper = held + (pending > 0 ? pending - 1 : 0);
  std::vector<HistoryEvent> witness{e};
  if (step.invoke) witness.push_back(*step.invoke);
  if (upper < queue.capacity) {
    violation_ = fail(kCapacity,
                      "queue '" + e.queue + "' refused message " + std::to_string(e.id.value_or(0)) +
                          " as full while holding at most " + std::to_string(upper) + " of " +
                          std::to_string(queue.capacity),
                      std::move(witness));
    return;
  }
  if (queue.overflow != Overflow::kDropOldest) return;
  for (const auto& [id, m] : replay_.live(e.queue)) {
    const bool droppable = m.place == Place::kReady || m.place == Place::kDelayed;
    if (!droppable || m.publish->expires_lo_ns() <= e.time_ns) continue;
    witness.push_back(*m.ready_since);
    violation_ =
        fail(kCapacity,
             "drop-oldest queue '" + e.queue + "' refused message " + std::to_string(e.id.value_or(0)) +
                 " though it could drop message " + std::to_string(id) + " (not in flight)",
             std::move(witness));
    return;
  }
}

void CapacityChecker::judge_drop(const HistoryEvent& e, const QueueConfig& queue) {
  ++drops_;
  const uint64_t held = replay_.live(e.queue).size() + replay_.pending(e.queue);
  if (queue.overflow != Overflow::kDropOldest || held >= queue.capacity) return;
  violation_ = fail(kCapacity,
                    "queue '" + e.queue + "' dropped message " + std::to_string(e.id.value_or(0)) +
                        " while holding at most " + std::to_string(held) + " of " +
                        std::to_string(queue.capacity) + " (a drop only makes room in a full queue)",
                    {e});
}

void CapacityChecker::after(const Step& step) {
  const HistoryEvent& e = step.e();
  if (violation_ || e.queue.empty() || !e.id) return;  // only a message's event makes a queue grow
  const auto q = topology_.find_queue(e.queue);
  if (!q) return;
  const QueueConfig& queue = topology_.queues[*q];
  if (const auto owed = owes_drop_.find(e.queue); owed != owes_drop_.end()) {
    if (e.f != EventF::kDrop) {
      violation_ = fail(kCapacity,
                        "drop-oldest queue '" + e.queue + "' took message " +
                            std::to_string(owed->second->id.value_or(0)) +
                            " while full, and its next "
                            "event is not the drop that makes room",
                        {*owed->second, e});
      return;
    }
    owes_drop_.erase(owed);
  }
  const auto& live = replay_.live(e.queue);
  if (live.size() <= queue.capacity) return;
  const bool makes_room_next = queue.overflow == Overflow::kDropOldest &&
                               live.size() == queue.capacity + 1u && e.is_client() &&
                               e.f == EventF::kPublish && e.type == EventType::kOk;
  if (makes_room_next) {
    owes_drop_[e.queue] = step.event;
    return;
  }
  std::vector<HistoryEvent> witness;
  for (const auto& [id, m] : live) witness.push_back(*m.accepted_at);
  violation_ = fail(kCapacity,
                    "queue '" + e.queue + "' holds " + std::to_string(live.size()) +
                        " messages, above its capacity " + std::to_string(queue.capacity),
                    std::move(witness));
}

Verdict CapacityChecker::finish() const {
  if (violation_) return *violation_;
  return pass(kCapacity, "no queue above its capacity; " + std::to_string(refusals_) + " refusals and " +
                             std::to_string(drops_) + " drops, each when full");
}

Verdict check_capacity(const History& history, const Topology& topology) {
  return drive_replayed<CapacityChecker>(history, topology);
}

}  // namespace mq
