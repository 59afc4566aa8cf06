#include "model/invariants.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace mq {
namespace {

std::string at(const Topology& t, QueueId q) {
  return "queue '" + t.queues[q].name + "': ";
}
std::string msg(const Message& m) {
  return "message #" + std::to_string(m.id) + " ";
}

Status check_message_waiting(const Topology& t, QueueId q, const Message& m, TimeNs now, const char* place) {
  const std::string where = at(t, q) + place + " " + msg(m);
  if (m.expired_at(now)) return failed_precondition(where + "is expired but not finished");
  if (!m.retries_left()) return failed_precondition(where + "has no retries left but waits");
  if (m.timestamp_ns > now) return failed_precondition(where + "has a timestamp in the future");
  if (m.priority >= t.queues[q].priority_levels) return failed_precondition(where + "priority out of range");
  return Status();
}

Status check_ready_and_delayed(const Topology& t, QueueId q, const QueueState& qs, TimeNs now) {
  if (qs.ready.size() != t.queues[q].priority_levels)
    return failed_precondition(at(t, q) + "wrong level count");
  for (size_t p = 0; p < qs.ready.size(); ++p) {
    for (const auto& m : qs.ready[p]) {
      MQ_RETURN_IF_ERROR(check_message_waiting(t, q, m, now, "ready"));
      if (m.priority != p) return failed_precondition(at(t, q) + msg(m) + "sits at the wrong level");
      if (!m.deliverable_at(now)) return failed_precondition(at(t, q) + msg(m) + "is ready before its time");
    }
  }
  for (const auto& m : qs.delayed) {
    MQ_RETURN_IF_ERROR(check_message_waiting(t, q, m, now, "delayed"));
    if (m.deliverable_at(now)) return failed_precondition(at(t, q) + msg(m) + "is delayed past its time");
  }
  return Status();
}

Status check_in_flight(const Model& model, QueueId q, const QueueState& qs) {
  const Topology& t = model.topology();
  const ModelState& s = model.state();
  const TimeNs vt = t.queues[q].visibility_timeout_ns;
  for (const auto& f : qs.in_flight) {
    const std::string where = at(t, q) + "in-flight " + msg(f.message);
    if (f.consumer >= t.consumers.size() || model.wiring()->queue_of_consumer[f.consumer] != q) {
      return failed_precondition(where + "held by a consumer of another queue");
    }
    if (!s.attached[f.consumer]) return failed_precondition(where + "held by a detached consumer");
    if (t.consumers[f.consumer].ack_mode == AckMode::kAuto) {
      return failed_precondition(where + "held by an auto-ack consumer");
    }
    if (f.message.attempts < 1) return failed_precondition(where + "was never delivered");
    if ((vt == 0) != (f.deadline_ns == 0))
      return failed_precondition(where + "deadline disagrees with config");
    if (f.deadline_ns != 0 && f.deadline_ns <= s.now_ns)
      return failed_precondition(where + "deadline passed");
  }
  return Status();
}

Status check_places(const Topology& t, QueueId q, const QueueState& qs) {
  // Every id in every place, sorted: a repeated id is a message in two places. A
  // windowed queue may accept a finished id again once its window forgot it, so
  // there only the live places must not share an id.
  const bool windowed = t.queues[q].windowed();
  std::vector<MessageId> ids;
  ids.reserve(qs.size() + qs.finished.size());
  for (const auto& level : qs.ready)
    for (const auto& m : level) ids.push_back(m.id);
  for (const auto& m : qs.delayed) ids.push_back(m.id);
  for (const auto& f : qs.in_flight) ids.push_back(f.message.id);
  uint64_t acked = 0;
  for (const auto& f : qs.finished) {
    if (!windowed) ids.push_back(f.id);
    acked += f.fate == Fate::kAcked;
  }
  const size_t places = ids.size() + (windowed ? qs.finished.size() : 0);
  std::sort(ids.begin(), ids.end());
  if (auto dup = std::adjacent_find(ids.begin(), ids.end()); dup != ids.end()) {
    return already_exists(at(t, q) + "message #" + std::to_string(*dup) + " in two places");
  }
  if (qs.size() > t.queues[q].capacity) {
    return failed_precondition(at(t, q) + "size " + std::to_string(qs.size()) + " exceeds capacity " +
                               std::to_string(t.queues[q].capacity));
  }
  if (qs.counters.accepted != places) {
    return failed_precondition(at(t, q) + "accepted " + std::to_string(qs.counters.accepted) + " but " +
                               std::to_string(places) + " messages are accounted for");
  }
  if (qs.counters.redeliveries > qs.counters.deliveries || acked > qs.counters.deliveries) {
    return failed_precondition(at(t, q) + "counters inconsistent");
  }
  return Status();
}

}  // namespace

Status check_invariants(const Model& model) {
  const Topology& t = model.topology();
  const ModelState& s = model.state();
  if (s.queues.size() != t.queues.size() || s.attached.size() != t.consumers.size()) {
    return failed_precondition("state shape does not match the topology");
  }
  for (QueueId q = 0; q < s.queues.size(); ++q) {
    const QueueState& qs = s.queues[q];
    MQ_RETURN_IF_ERROR(check_places(t, q, qs));
    MQ_RETURN_IF_ERROR(check_ready_and_delayed(t, q, qs, s.now_ns));
    MQ_RETURN_IF_ERROR(check_in_flight(model, q, qs));
    const size_t ring = model.wiring()->consumers_of_queue[q].size();
    if (qs.rr_cursor >= std::max<size_t>(ring, 1))
      return failed_precondition(at(t, q) + "cursor outside the ring");
    if (!s.up && !qs.in_flight.empty()) return failed_precondition(at(t, q) + "in flight while down");
  }
  for (ConsumerId c = 0; c < t.consumers.size(); ++c) {
    if (!s.up && s.attached[c])
      return failed_precondition("consumer '" + t.consumers[c].name + "' attached while down");
    const uint32_t prefetch = t.consumers[c].prefetch;
    if (prefetch != 0 && model.unacked(c) > prefetch) {
      return failed_precondition("consumer '" + t.consumers[c].name + "' holds more than its prefetch");
    }
  }
  return Status();
}

void assert_invariants(const Model& model) {
  const Status s = check_invariants(model);
  if (!s.ok()) {
    std::fprintf(stderr, "invariant violated: %s\nstate:\n%s", s.to_string().c_str(),
                 to_string(model.state()).c_str());
  }
  MQ_CHECK_MSG(s.ok(), "model invariant violated (see above)");
}

}  // namespace mq
