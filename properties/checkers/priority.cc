#include "properties/checkers/priority.h"

#include "properties/checkers/queue_replay.h"

namespace mq {
namespace {

std::optional<Verdict> judge_delivery(const HistoryIndex& index, const QueueReplay& replay, size_t pos) {
  const HistoryEvent& d = index.at(pos);
  const auto& live = replay.live(d.queue);
  const auto self = live.find(*d.id);
  const Priority p = self != live.end() ? self->second.publish->priority : d.priority.value_or(0);
  const LiveMessage* higher = nullptr;
  MessageId higher_id = 0;
  for (const auto& [id, m] : live) {
    if (id == *d.id || m.publish->priority <= p || !replay.surely_ready(m, d.time_ns)) continue;
    if (higher == nullptr || m.publish->priority > higher->publish->priority) {
      higher = &m;
      higher_id = id;
    }
  }
  if (higher == nullptr) return std::nullopt;
  return fail(kPriority, describe(key_of(d)) + " of priority " + std::to_string(p) +
                             " delivered while message " + std::to_string(higher_id) + " of priority " +
                             std::to_string(higher->publish->priority) + " was ready since " +
                             where(index.at(higher->ready_since)),
              {index.at(higher->ready_since), d});
}

}  // namespace

Verdict check_priority(const History& history, const Topology& topology) {
  const HistoryIndex index(history);
  QueueReplay replay(index, topology);
  uint64_t judged = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    const HistoryEvent& e = index.at(i);
    if (e.f == EventF::kDeliver && e.type == EventType::kOk) {
      ++judged;
      if (auto v = judge_delivery(index, replay, i)) return std::move(*v);
    }
    replay.apply(i);
  }
  return pass(kPriority, std::to_string(judged) + " deliveries, none while a higher priority was ready");
}

}  // namespace mq
