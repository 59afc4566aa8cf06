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

StreamIndex::StreamIndex(StepSink on_step) : on_step_(std::move(on_step)) {}

void StreamIndex::start_publish(const EventPtr& e, Open* open) {
  auto r = std::make_shared<PublishRecord>();
  r->start = static_cast<size_t>(e->index);
  r->start_event = e;
  r->outcome = EventType::kInfo;
  r->accepted_lo_ns = e->time_ns;
  Entry& entry = messages_[key_of(*e)];
  entry.finished_seq = 0;
  entry.publishes.push_back(r);
  if (open != nullptr) {
    open->publish = r;
    open_publishes_.push_back(r);
    ++open_count_;
  }
  // Until its completion, what an open (or never completed) publish looks like.
  complete_publish(*r, nullptr);
  if (!e->is_client()) complete_publish(*r, e);
}

// Fills in a record from its start and `end` (null: no completion yet), as an
// index over the whole history would.
void StreamIndex::complete_publish(PublishRecord& r, const EventPtr& end) {
  const HistoryEvent& s = *r.start_event;
  r.end = end ? static_cast<size_t>(end->index) : kNoEvent;
  r.end_event = end;
  const HistoryEvent& e = end ? *end : s;
  r.outcome = end ? e.type : EventType::kInfo;
  r.payload = first_of(e.payload, s.payload, std::string());
  r.priority = first_of<Priority>(e.priority, s.priority, 0);
  r.ttl_ns = first_of<TimeNs>(e.ttl_ns, s.ttl_ns, 0);
  TimeNs stamped_delay = 0;
  if (e.not_before_ns && e.timestamp_ns) stamped_delay = std::max<TimeNs>(0, *e.not_before_ns - *e.timestamp_ns);
  r.delay_ns = first_of<TimeNs>(e.delay_ns, s.delay_ns, stamped_delay);
  r.accepted_lo_ns = s.time_ns;
  r.accepted_hi_ns = r.outcome == EventType::kOk ? e.time_ns : kNever;
  // A broker stamp inside the window pins the acceptance down.
  if (e.timestamp_ns && *e.timestamp_ns >= r.accepted_lo_ns && *e.timestamp_ns <= r.accepted_hi_ns) {
    r.accepted_lo_ns = *e.timestamp_ns;
    if (r.outcome == EventType::kOk) r.accepted_hi_ns = *e.timestamp_ns;
  }
}

void StreamIndex::add(EventPtr e) {
  Step step{e, nullptr};
  if (e->is_client()) {
    if (e->type == EventType::kInvoke) {
      Open& open = open_[e->process];
      open = Open{e, nullptr};
      if (e->f == EventF::kPublish) start_publish(e, &open);
    } else if (auto it = open_.find(e->process); it != open_.end() && it->second.invoke) {
      step.invoke = std::move(it->second.invoke);
      if (it->second.publish) {
        complete_publish(*it->second.publish, e);
        close_publish();
      }
      it->second = Open{};  // kept, empty: one entry per process, not one allocation per operation
    }
  } else if (e->f == EventF::kPublish) {
    start_publish(e, nullptr);
  }
  buffer_.push_back(std::move(step));
  max_held_ = std::max(max_held_, buffer_.size());
  release(false);
}

void StreamIndex::finish() { release(true); }

// Completed publishes leave open_publishes_ lazily (at its front, or all at once
// when they are more than half of it), which bounds it by twice the open ones.
void StreamIndex::close_publish() {
  --open_count_;
  while (!open_publishes_.empty() && open_publishes_.front()->end != kNoEvent) open_publishes_.pop_front();
  if (open_publishes_.size() > 2 * open_count_ + kCompactOpenPublishes) {
    std::erase_if(open_publishes_, [](const auto& r) { return r->end != kNoEvent; });
  }
}

void StreamIndex::release(bool all) {
  // Bounded by the buffer: each iteration releases one event.
  while (!buffer_.empty()) {
    const Step& head = buffer_.front();
    const bool waits = !open_publishes_.empty() && open_publishes_.front()->start < head.pos();
    if (waits && !all && buffer_.size() <= kMaxLookaheadEvents) return;
    Step step = std::move(buffer_.front());
    buffer_.pop_front();
    if (step.event->id && !step.event->queue.empty()) {
      const auto it = messages_.find(key_of(*step.event));
      if (it != messages_.end()) step.records = &it->second.publishes;
    }
    on_step_(step);
    const HistoryEvent& e = step.e();
    if (finishes_message(e) && e.id && !e.queue.empty()) {
      finished(key_of(e));
    } else if (e.f == EventF::kPublish && e.type == EventType::kFail) {
      // Refused for good so far: remembered like a finished message, not for ever.
      const auto& records = step.publishes();
      if (std::none_of(records.begin(), records.end(), [](const auto& r) { return r->may_exist(); })) {
        finished(key_of(e));
      }
    }
  }
}

void StreamIndex::finished(const MessageKey& k) {
  const auto it = messages_.find(k);
  if (it == messages_.end()) return;
  it->second.finished_seq = ++finish_seq_;
  finished_.emplace_back(k, finish_seq_);
  // Bounded: one forgotten message per finished one past the bound.
  while (finished_.size() > kRememberFinished) {
    const auto [old, seq] = std::move(finished_.front());
    finished_.pop_front();
    const auto m = messages_.find(old);
    if (m == messages_.end() || m->second.finished_seq != seq) continue;  // published again since
    messages_.erase(m);
    forgot_queues_.insert(old.queue);
    for (const auto& sink : forget_sinks_) sink(old);
  }
}

namespace {
const PublishRecords kNoRecords;

PublishPtr latest_before(const PublishRecords& records, size_t pos) {
  PublishPtr best;
  for (const auto& r : records) {
    if (r->start < pos && r->may_exist()) best = r;
  }
  return best;
}
}  // namespace

const PublishRecords& Step::publishes() const { return records != nullptr ? *records : kNoRecords; }
PublishPtr Step::publish_before() const { return latest_before(publishes(), pos()); }

const PublishRecords& StreamIndex::publishes(const MessageKey& k) const {
  const auto it = messages_.find(k);
  return it == messages_.end() ? kNoRecords : it->second.publishes;
}

PublishPtr StreamIndex::publish_before(const MessageKey& k, size_t pos) const {
  return latest_before(publishes(k), pos);
}

}  // namespace mq
