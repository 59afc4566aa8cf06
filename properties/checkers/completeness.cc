#include "properties/checkers/completeness.h"

namespace mq {

CompletenessChecker::CompletenessChecker(const Topology& topology, CompletenessOptions options)
    : topology_(topology), options_(options) {}

void CompletenessChecker::violation(std::string message, std::vector<HistoryEvent> witness) {
  if (!violation_) violation_ = fail(kCompleteness, std::move(message), std::move(witness));
}

std::optional<uint32_t> CompletenessChecker::budget(const Tracked& t, const std::string& queue) const {
  if (t.max_retries) return t.max_retries;
  if (!options_.queue_retry_budget) return std::nullopt;
  const auto q = topology_.find_queue(queue);
  return q ? topology_.queues[*q].max_retries : 0;
}

std::string CompletenessChecker::budget_source(const Tracked& t, const std::string& queue) {
  return t.max_retries ? "its publish" : "queue '" + queue + "'";
}

CompletenessChecker::Tracked* CompletenessChecker::find_or_accept(const EventPtr& e) {
  const MessageKey k = key_of(*e);
  if (auto it = held_.find(k); it != held_.end()) return &it->second;
  // A delivery of a message not held: accepted by an `info` publish (or never
  // published, which integrity reports). From here on it must end like any other.
  if (e->f != EventF::kDeliver) return nullptr;
  return &held_.emplace(k, Tracked{e, nullptr, nullptr, State::kHeld, false, std::nullopt}).first->second;
}

// Unordered: every held message in flight there is given back, whatever the order.
void CompletenessChecker::give_back(const EventPtr& e, const std::string& only_consumer) {
  for (auto& [k, t] : held_) {
    if (t.state != State::kInFlight) continue;
    if (!only_consumer.empty() && (!t.delivery || t.delivery->consumer != only_consumer)) continue;
    t.state = State::kGivenBack;
    t.given_back = e;
  }
}

void CompletenessChecker::on_deliver(const EventPtr& ptr, Tracked& t) {
  const HistoryEvent& e = *ptr;
  if (const auto r = budget(t, e.queue); r && e.attempts && *e.attempts > *r + 1) {
    std::vector<HistoryEvent> w{e};
    if (t.delivery) w.insert(w.begin(), *t.delivery);
    violation(describe(key_of(e)) + " delivered at attempt " + std::to_string(*e.attempts) + "; " +
                  budget_source(t, e.queue) + " allows 1 + max_retries = " + std::to_string(*r + 1),
              std::move(w));
  }
  t.delivery = ptr;
  t.given_back = nullptr;
  t.state = State::kInFlight;
  t.nack_no_requeue = false;
}

void CompletenessChecker::on_requeue(const HistoryEvent& e, Tracked& t) {
  const MessageKey k = key_of(e);
  if (t.nack_no_requeue) {
    violation(describe(k) + " was nacked with requeue=false (" + where(*t.given_back) + ") yet requeued at " +
                  where(e) + ": it must be dead-lettered",
              {*t.given_back, e});
  }
  const uint32_t attempts = e.attempts.value_or(t.delivery ? t.delivery->attempts.value_or(0) : 0);
  const auto r = budget(t, e.queue);
  if (r && t.delivery && attempts > *r) {
    violation(describe(k) + " requeued after attempt " + std::to_string(attempts) + ", but " +
                  budget_source(t, e.queue) + " allows 1 + max_retries = " + std::to_string(*r + 1) +
                  " deliveries: it must be dead-lettered",
              {*t.delivery, e});
  }
  t.state = State::kHeld;
  t.nack_no_requeue = false;
}

void CompletenessChecker::on_dead_letter(const HistoryEvent& e, Tracked& t) {
  const MessageKey k = key_of(e);
  const auto r = budget(t, e.queue);
  if (r && t.delivery && !t.nack_no_requeue) {
    const uint32_t attempts = e.attempts.value_or(t.delivery->attempts.value_or(0));
    if (attempts <= *r) {
      violation(describe(k) + " dead-lettered after attempt " + std::to_string(attempts) + " with retries left (" +
                    budget_source(t, e.queue) + ": max_retries " + std::to_string(*r) +
                    "), not nacked with requeue=false: it must be redelivered",
                {*t.delivery, e});
    }
  }
  held_.erase(k);
  ++finished_;
}

void CompletenessChecker::on_message_event(const EventPtr& ptr) {
  const HistoryEvent& e = *ptr;
  if (e.f == EventF::kPublish) {
    std::optional<uint32_t> own = e.max_retries;
    if (e.is_client() && e.type == EventType::kInvoke) {
      if (own) open_budgets_[e.process] = *own;
      return;
    }
    if (e.is_client()) {
      const auto it = open_budgets_.find(e.process);
      if (it != open_budgets_.end()) {
        if (!own) own = it->second;
        open_budgets_.erase(it);
      }
    }
    if (e.type != EventType::kOk) return;
    held_.try_emplace(key_of(e), Tracked{ptr, nullptr, nullptr, State::kHeld, false, own});
    budgeted_ = budgeted_ || own.has_value();
    return;
  }
  if (e.type != EventType::kOk) return;
  Tracked* t = find_or_accept(ptr);
  if (t == nullptr) return;
  const MessageKey k = key_of(e);
  if (e.f == EventF::kNack) {
    t->state = State::kGivenBack;
    t->given_back = ptr;
    t->nack_no_requeue = !e.requeue.value_or(true);
    return;
  }
  // Every other step of a message shows an effect of the model; an f that shows none
  // names no message (a crash, a fault of the nemesis) and changes nothing here.
  const auto effect = effect_of_f(e.f);
  if (!effect) return;
  switch (*effect) {
    case EffectKind::kDelivered: on_deliver(ptr, *t); return;
    case EffectKind::kRequeued: on_requeue(e, *t); return;
    case EffectKind::kDeadLettered: on_dead_letter(e, *t); return;
    case EffectKind::kAcked:
    case EffectKind::kExpired:
    case EffectKind::kLost:
    case EffectKind::kDropped:
      MQ_CHECK(finishes_message(*effect));
      held_.erase(k);
      ++finished_;
      return;
    case EffectKind::kAccepted:           // tracked when published (above)
    case EffectKind::kReleased:           // still held
    case EffectKind::kDeadLetterRefused:  // already finished by its dead-letter
    case EffectKind::kRefused:            // no f shows one (a client's failed publish does)
      return;
  }
}

void CompletenessChecker::add(const HistoryEvent& e) {
  // A copy only of the events the checker may keep.
  if (violation_) return;
  if ((e.type != EventType::kOk || (e.f != EventF::kCrash && e.f != EventF::kDetach)) && (!e.id || e.queue.empty())) {
    return;
  }
  add(std::make_shared<const HistoryEvent>(e));
}

void CompletenessChecker::add(const EventPtr& ptr) {
  const HistoryEvent& e = *ptr;
  if (violation_) return;
  if (e.type == EventType::kOk && e.f == EventF::kCrash) return give_back(ptr, "");
  if (e.type == EventType::kOk && e.f == EventF::kDetach) return give_back(ptr, e.consumer);
  if (!e.id || e.queue.empty()) return;
  on_message_event(ptr);
}

Verdict CompletenessChecker::finish() const {
  if (violation_) return *violation_;
  if (options_.complete && !held_.empty()) {
    const Tracked* stuck = nullptr;
    const MessageKey* key = nullptr;
    for (const auto& [k, t] : held_) {
      if (stuck == nullptr || t.accepted->index < stuck->accepted->index) {
        stuck = &t;
        key = &k;
      }
    }
    std::vector<HistoryEvent> witness;
    std::string state = "ready or delayed, never delivered";
    if (stuck->delivery) {
      witness.push_back(*stuck->delivery);
      state = stuck->state == State::kInFlight ? "in flight at '" + stuck->delivery->consumer + "' since " + where(*stuck->delivery)
                                               : "given back (" + where(*stuck->given_back) + ") but never requeued or dead-lettered";
      if (stuck->given_back) witness.push_back(*stuck->given_back);
      if (stuck->state == State::kHeld) state = "requeued after its delivery at " + where(*stuck->delivery) + ", never delivered again";
    } else {
      witness.push_back(*stuck->accepted);
    }
    return fail(kCompleteness, describe(*key) + " is stuck at the end of a complete history: " + state + " (" +
                                   std::to_string(held_.size()) + " message(s) still held)",
                std::move(witness));
  }
  return pass(kCompleteness, std::to_string(finished_) + " messages finished, " + std::to_string(held_.size()) +
                                 " still held" + (options_.complete ? "" : " (not judged: history not complete)") +
                                 (options_.queue_retry_budget ? "; retries within the queues' max_retries" : "") +
                                 (budgeted_ ? "; retries within the publishes' max_retries" : ""));
}

Verdict check_completeness(const History& history, const Topology& topology, const CompletenessOptions& options) {
  CompletenessChecker c(topology, options);
  for (const auto& e : history.events) c.add(e);
  return c.finish();
}

}  // namespace mq
