#include "properties/checkers/no_loss.h"

#include "properties/checkers/drive.h"

namespace mq {
namespace {

// (1): an event showing a message whose every publish so far was refused.
std::optional<Verdict> judge_refused(const Step& step) {
  const HistoryEvent& e = step.e();
  if (e.f == EventF::kPublish || e.type != EventType::kOk || !e.id || e.queue.empty()) return std::nullopt;
  const MessageKey k = key_of(e);
  const PublishRecord* first = nullptr;
  for (const auto& r : step.publishes()) {
    if (r->start >= e.index) break;
    if (r->may_exist()) return std::nullopt;
    if (first == nullptr) first = r.get();
  }
  if (first == nullptr) return std::nullopt;
  return fail(kNoLoss, describe(k) + " was refused at " + where(first->last_event()) + " yet appears at " + where(e),
              {first->last_event(), e});
}

std::optional<Verdict> judge_lost(const QueueReplay& replay, const Topology& topology, const HistoryEvent& e) {
  const auto q = topology.find_queue(e.queue);
  if (q && topology.queues[*q].durable) {
    std::vector<HistoryEvent> witness{e};
    const auto& live = replay.live(e.queue);
    if (auto m = live.find(*e.id); m != live.end()) witness.push_back(*m->second.accepted_at);
    return fail(kNoLoss, describe(key_of(e)) + " lost by durable queue '" + e.queue + "'", std::move(witness));
  }
  if (replay.up()) {
    return fail(kNoLoss, describe(key_of(e)) + " lost while the broker was up (no crash)", {e});
  }
  return std::nullopt;
}

// A drop is how a drop-oldest queue makes room; no other queue may drop a message
// (capacity judges that the queue was full).
std::optional<Verdict> judge_drop(const Topology& topology, const HistoryEvent& e) {
  const auto q = topology.find_queue(e.queue);
  if (!q || topology.queues[*q].overflow == Overflow::kDropOldest) return std::nullopt;
  return fail(kNoLoss,
              describe(key_of(e)) + " dropped by queue '" + e.queue +
                  "', which rejects when full "
                  "(overflow \"reject\": only a drop-oldest queue drops)",
              {e});
}

std::optional<Verdict> judge_empty(const QueueReplay& replay, const Step& step) {
  const HistoryEvent& e = step.e();
  if (step.invoke == nullptr || !replay.has_credit(e.consumer)) return std::nullopt;
  const HistoryEvent& invoke = *step.invoke;
  for (const auto& [id, m] : replay.live(e.queue)) {
    if (m.ready_since->index < invoke.index && replay.surely_ready(m, invoke.time_ns) &&
        replay.surely_ready(m, e.time_ns)) {
      return fail(kNoLoss, "fetch by '" + e.consumer + "' found '" + e.queue + "' empty, but message " +
                               std::to_string(id) + " was ready there since " + where(*m.ready_since),
                  {*m.ready_since, invoke, e});
    }
  }
  return std::nullopt;
}

std::optional<Verdict> judge_end(const QueueReplay& replay, const Topology& topology) {
  const LiveMessage* first = nullptr;
  MessageKey key;
  for (const auto& q : topology.queues) {
    for (const auto& [id, m] : replay.live(q.name)) {
      if (first == nullptr || m.accepted_at->index < first->accepted_at->index) {
        first = &m;
        key = MessageKey{q.name, id};
      }
    }
  }
  if (first == nullptr) return std::nullopt;
  return fail(kNoLoss, describe(key) + " accepted but never acked, expired, dead-lettered or lost "
                                       "by the end of a complete history",
              {*first->accepted_at});
}

}  // namespace

void NoLossChecker::before(const Step& step) {
  if (violation_) return;
  const HistoryEvent& e = step.e();
  violation_ = judge_refused(step);
  if (violation_) return;
  if (e.f == EventF::kLost) violation_ = judge_lost(replay_, topology_, e);
  if (e.f == EventF::kDrop) violation_ = judge_drop(topology_, e);
  if (e.f == EventF::kDeliver && e.type == EventType::kFail && e.error == kErrorEmpty) {
    violation_ = judge_empty(replay_, step);
  }
}

void NoLossChecker::after(const Step&) {}

Verdict NoLossChecker::finish() const {
  if (violation_) return *violation_;
  if (options_.complete) {
    if (auto v = judge_end(replay_, topology_)) return std::move(*v);
  }
  uint64_t held = 0;
  for (const auto& q : topology_.queues) held += replay_.live(q.name).size();
  return pass(kNoLoss, "no confirmed message lost, no refused one seen; " + std::to_string(held) +
                           " still held at the end" + (options_.complete ? "" : " (not judged: history not complete)"));
}

Verdict check_no_loss(const History& history, const Topology& topology, const NoLossOptions& options) {
  return drive_replayed<NoLossChecker>(history, topology, [&](NoLossChecker& c) { c.set_options(options); });
}

}  // namespace mq
