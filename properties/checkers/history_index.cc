#include "properties/checkers/history_index.h"

#include <algorithm>

namespace mq {
namespace {

TimeNs add_sat(TimeNs a, TimeNs b) { return a > kNever - b ? kNever : a + b; }

template <typename T>
T first_of(const std::optional<T>& a, const std::optional<T>& b, T otherwise) {
  if (a) return *a;
  if (b) return *b;
  return otherwise;
}

}  // namespace

MessageKey key_of(const HistoryEvent& e) {
  MQ_CHECK(e.id.has_value());
  return MessageKey{e.queue, *e.id};
}

std::string describe(const MessageKey& k) {
  return "message " + std::to_string(k.id) + " in '" + k.queue + "'";
}

TimeNs PublishRecord::expires_lo_ns() const {
  return ttl_ns > 0 ? add_sat(accepted_lo_ns, ttl_ns) : kNever;
}
TimeNs PublishRecord::expires_hi_ns() const {
  return ttl_ns > 0 ? add_sat(accepted_hi_ns, ttl_ns) : kNever;
}
TimeNs PublishRecord::deliverable_lo_ns() const { return add_sat(accepted_lo_ns, delay_ns); }
TimeNs PublishRecord::deliverable_hi_ns() const { return add_sat(accepted_hi_ns, delay_ns); }

HistoryIndex::HistoryIndex(const History& history) : history_(history) {
  partner_.assign(history.events.size(), kNoEvent);
  std::map<std::string, size_t> open;  // process -> its open invoke
  for (size_t i = 0; i < history.events.size(); ++i) {
    const HistoryEvent& e = history.events[i];
    if (!e.is_client()) continue;
    if (e.type == EventType::kInvoke) {
      open[e.process] = i;
    } else if (auto it = open.find(e.process); it != open.end()) {
      partner_[i] = it->second;
      partner_[it->second] = i;
      open.erase(it);
    }
  }
  for (size_t i = 0; i < history.events.size(); ++i) {
    const HistoryEvent& e = history.events[i];
    if (e.f == EventF::kPublish && (e.type == EventType::kInvoke || !e.is_client())) add_publish(i);
  }
}

void HistoryIndex::add_publish(size_t start) {
  const HistoryEvent& s = history_.events[start];
  PublishRecord r;
  r.start = start;
  r.end = s.is_client() ? partner_[start] : start;
  const HistoryEvent& e = r.end == kNoEvent ? s : history_.events[r.end];
  r.outcome = r.end == kNoEvent ? EventType::kInfo : e.type;
  r.payload = first_of(e.payload, s.payload, std::string());
  r.priority = first_of<Priority>(e.priority, s.priority, 0);
  r.ttl_ns = first_of<TimeNs>(e.ttl_ns, s.ttl_ns, 0);
  TimeNs stamped_delay = 0;
  if (e.not_before_ns && e.timestamp_ns) stamped_delay = std::max<TimeNs>(0, *e.not_before_ns - *e.timestamp_ns);
  r.delay_ns = first_of<TimeNs>(e.delay_ns, s.delay_ns, stamped_delay);
  r.accepted_lo_ns = s.time_ns;
  if (r.outcome == EventType::kOk) r.accepted_hi_ns = e.time_ns;
  // A broker stamp inside the window pins the acceptance down.
  if (e.timestamp_ns && *e.timestamp_ns >= r.accepted_lo_ns && *e.timestamp_ns <= r.accepted_hi_ns) {
    r.accepted_lo_ns = *e.timestamp_ns;
    if (r.outcome == EventType::kOk) r.accepted_hi_ns = *e.timestamp_ns;
  }
  publishes_[key_of(s)].push_back(std::move(r));
}

const std::vector<PublishRecord>& HistoryIndex::publishes(const MessageKey& k) const {
  static const std::vector<PublishRecord> kNone;
  const auto it = publishes_.find(k);
  return it == publishes_.end() ? kNone : it->second;
}

const PublishRecord* HistoryIndex::publish_before(const MessageKey& k, size_t pos) const {
  const PublishRecord* best = nullptr;
  for (const auto& r : publishes(k)) {
    if (r.start < pos && r.may_exist()) best = &r;
  }
  return best;
}

}  // namespace mq
