#include "properties/checkers/no_loss.h"

#include <set>

#include "properties/checkers/queue_replay.h"

namespace mq {
namespace {

// (1): the first refused-only message that shows up after its refusal.
std::optional<Verdict> judge_refused(const HistoryIndex& index) {
  std::map<MessageKey, size_t> refused_at;  // first fail of messages never otherwise published
  for (const auto& [k, records] : index.all_publishes()) {
    bool any_may_exist = false;
    for (const auto& r : records) any_may_exist = any_may_exist || r.may_exist();
    if (!any_may_exist) refused_at[k] = records.front().end;
  }
  if (refused_at.empty()) return std::nullopt;
  for (size_t i = 0; i < index.size(); ++i) {
    const HistoryEvent& e = index.at(i);
    if (e.f == EventF::kPublish || e.type != EventType::kOk || !e.id) continue;
    const auto it = refused_at.find(key_of(e));
    if (it == refused_at.end() || i < index.partner(it->second)) continue;
    return fail(kNoLoss, describe(it->first) + " was refused at " + where(index.at(it->second)) +
                             " yet appears at " + where(e),
                {index.at(it->second), e});
  }
  return std::nullopt;
}

std::optional<Verdict> judge_lost(const HistoryIndex& index, const QueueReplay& replay,
                                  const Topology& topology, size_t pos) {
  const HistoryEvent& e = index.at(pos);
  const auto q = topology.find_queue(e.queue);
  if (q && topology.queues[*q].durable) {
    std::vector<HistoryEvent> witness{e};
    const auto& live = replay.live(e.queue);
    if (auto m = live.find(*e.id); m != live.end()) witness.push_back(index.at(m->second.accepted_at));
    return fail(kNoLoss, describe(key_of(e)) + " lost by durable queue '" + e.queue + "'", std::move(witness));
  }
  if (replay.up()) {
    return fail(kNoLoss, describe(key_of(e)) + " lost while the broker was up (no crash)", {e});
  }
  return std::nullopt;
}

std::optional<Verdict> judge_empty(const HistoryIndex& index, const QueueReplay& replay, size_t pos) {
  const HistoryEvent& e = index.at(pos);
  const size_t invoke = index.partner(pos);
  if (invoke == kNoEvent || !replay.has_credit(e.consumer)) return std::nullopt;
  const TimeNs invoked_ns = index.at(invoke).time_ns;
  for (const auto& [id, m] : replay.live(e.queue)) {
    if (m.ready_since < invoke && replay.surely_ready(m, invoked_ns) && replay.surely_ready(m, e.time_ns)) {
      return fail(kNoLoss, "fetch by '" + e.consumer + "' found '" + e.queue + "' empty, but message " +
                               std::to_string(id) + " was ready there since " + where(index.at(m.ready_since)),
                  {index.at(m.ready_since), index.at(invoke), e});
    }
  }
  return std::nullopt;
}

std::optional<Verdict> judge_end(const HistoryIndex& index, const QueueReplay& replay, const Topology& topology) {
  const LiveMessage* first = nullptr;
  MessageKey key;
  for (const auto& q : topology.queues) {
    for (const auto& [id, m] : replay.live(q.name)) {
      if (first == nullptr || m.accepted_at < first->accepted_at) {
        first = &m;
        key = MessageKey{q.name, id};
      }
    }
  }
  if (first == nullptr) return std::nullopt;
  return fail(kNoLoss, describe(key) + " accepted but never acked, expired, dead-lettered or lost "
                                       "by the end of a complete history",
              {index.at(first->accepted_at)});
}

}  // namespace

Verdict check_no_loss(const History& history, const Topology& topology, const NoLossOptions& options) {
  const HistoryIndex index(history);
  if (auto v = judge_refused(index)) return std::move(*v);
  QueueReplay replay(index, topology);
  for (size_t i = 0; i < index.size(); ++i) {
    const HistoryEvent& e = index.at(i);
    if (e.f == EventF::kLost) {
      if (auto v = judge_lost(index, replay, topology, i)) return std::move(*v);
    }
    if (e.f == EventF::kDeliver && e.type == EventType::kFail && e.error == kErrorEmpty) {
      if (auto v = judge_empty(index, replay, i)) return std::move(*v);
    }
    replay.apply(i);
  }
  if (options.complete) {
    if (auto v = judge_end(index, replay, topology)) return std::move(*v);
  }
  uint64_t held = 0;
  for (const auto& q : topology.queues) held += replay.live(q.name).size();
  return pass(kNoLoss, "no confirmed message lost, no refused one seen; " + std::to_string(held) +
                           " still held at the end" + (options.complete ? "" : " (not judged: history not complete)"));
}

}  // namespace mq
