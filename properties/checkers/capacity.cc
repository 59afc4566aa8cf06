#include "properties/checkers/capacity.h"

#include "properties/checkers/queue_replay.h"

namespace mq {
namespace {

std::optional<Verdict> judge_refusal(const HistoryIndex& index, const QueueReplay& replay,
                                     uint32_t capacity, size_t pos) {
  const HistoryEvent& e = index.at(pos);
  const uint64_t held = replay.live(e.queue).size();
  const uint64_t pending = replay.pending(e.queue);
  // This publish is itself pending until its fail is applied.
  const uint64_t upper = held + (pending > 0 ? pending - 1 : 0);
  if (upper >= capacity) return std::nullopt;
  std::vector<HistoryEvent> witness{e};
  if (index.partner(pos) != kNoEvent) witness.push_back(index.at(index.partner(pos)));
  return fail(kCapacity, "queue '" + e.queue + "' refused message " + std::to_string(e.id.value_or(0)) +
                             " as full while holding at most " + std::to_string(upper) + " of " +
                             std::to_string(capacity),
              std::move(witness));
}

Verdict overflow(const HistoryIndex& index, const QueueReplay& replay, const std::string& queue,
                 uint32_t capacity) {
  std::vector<HistoryEvent> witness;
  for (const auto& [id, m] : replay.live(queue)) witness.push_back(index.at(m.accepted_at));
  return fail(kCapacity, "queue '" + queue + "' holds " + std::to_string(replay.live(queue).size()) +
                             " messages, above its capacity " + std::to_string(capacity),
              std::move(witness));
}

}  // namespace

Verdict check_capacity(const History& history, const Topology& topology) {
  const HistoryIndex index(history);
  QueueReplay replay(index, topology);
  uint64_t refusals = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    const HistoryEvent& e = index.at(i);
    const auto q = e.queue.empty() ? std::nullopt : topology.find_queue(e.queue);
    const uint32_t capacity = q ? topology.queues[*q].capacity : 0;
    if (q && e.f == EventF::kPublish && e.type == EventType::kFail && e.error == kErrorFull) {
      ++refusals;
      if (auto v = judge_refusal(index, replay, capacity, i)) return std::move(*v);
    }
    replay.apply(i);
    if (q && replay.live(e.queue).size() > capacity) return overflow(index, replay, e.queue, capacity);
  }
  return pass(kCapacity, "no queue above its capacity; " + std::to_string(refusals) +
                             " refusals, each when full");
}

}  // namespace mq
