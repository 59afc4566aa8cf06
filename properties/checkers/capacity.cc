#include "properties/checkers/capacity.h"

#include "properties/checkers/drive.h"

namespace mq {

void CapacityChecker::before(const Step& step) {
  const HistoryEvent& e = step.e();
  if (violation_ || e.f != EventF::kPublish || e.type != EventType::kFail || e.error != kErrorFull) return;
  const auto q = topology_.find_queue(e.queue);
  if (!q) return;
  ++refusals_;
  const uint32_t capacity = topology_.queues[*q].capacity;
  const uint64_t held = replay_.live(e.queue).size();
  const uint64_t pending = replay_.pending(e.queue);
  // This publish is itself pending until its fail is applied.
  const uint64_t upper = held + (pending > 0 ? pending - 1 : 0);
  if (upper >= capacity) return;
  std::vector<HistoryEvent> witness{e};
  if (step.invoke) witness.push_back(*step.invoke);
  violation_ = fail(kCapacity, "queue '" + e.queue + "' refused message " + std::to_string(e.id.value_or(0)) +
                                   " as full while holding at most " + std::to_string(upper) + " of " +
                                   std::to_string(capacity),
                    std::move(witness));
}

void CapacityChecker::after(const Step& step) {
  const HistoryEvent& e = step.e();
  if (violation_ || e.queue.empty() || !e.id) return;  // only a message's event makes a queue grow
  const auto q = topology_.find_queue(e.queue);
  if (!q) return;
  const uint32_t capacity = topology_.queues[*q].capacity;
  const auto& live = replay_.live(e.queue);
  if (live.size() <= capacity) return;
  std::vector<HistoryEvent> witness;
  for (const auto& [id, m] : live) witness.push_back(*m.accepted_at);
  violation_ = fail(kCapacity, "queue '" + e.queue + "' holds " + std::to_string(live.size()) +
                                   " messages, above its capacity " + std::to_string(capacity),
                    std::move(witness));
}

Verdict CapacityChecker::finish() const {
  if (violation_) return *violation_;
  return pass(kCapacity, "no queue above its capacity; " + std::to_string(refusals_) + " refusals, each when full");
}

Verdict check_capacity(const History& history, const Topology& topology) {
  return drive_replayed<CapacityChecker>(history, topology);
}

}  // namespace mq
