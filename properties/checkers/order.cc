#include "properties/checkers/order.h"

#include "properties/checkers/drive.h"

namespace mq {

void OrderChecker::forget(const MessageKey& k) {
  delivered_.erase(k);
  released_.erase(k);
}

void OrderChecker::on(const Step& step) {
  const HistoryEvent& e = step.e();
  if (violation_ || e.type != EventType::kOk || !e.id) return;
  if (e.f == EventF::kRelease) released_.try_emplace(key_of(e), step.event);
  if (e.f == EventF::kDeliver && delivered_.insert(key_of(e)).second) first_delivery(step);
}

void OrderChecker::first_delivery(const Step& step) {
  const MessageKey k = key_of(step.e());
  const PublishPtr r = step.publish_before();
  if (r == nullptr || r->outcome != EventType::kOk) return;
  Node a{k, r->start_event, r->end_event, step.event};
  if (r->delayed()) {
    const auto rel = released_.find(k);
    if (rel == released_.end() || rel->second->index < r->start) return;
    a.ready_lo = a.ready_hi = rel->second;
  }
  ++judged_;
  auto [it, fresh] = latest_.try_emplace({k.queue, r->priority}, a);
  if (fresh) return;
  const Node& b = it->second;
  if (b.ready_lo->index > a.ready_hi->index) {
    violation_ = fail(kOrder, "FIFO broken in '" + k.queue + "' at priority " + std::to_string(r->priority) +
                                  ": message " + std::to_string(a.key.id) + " was ready (" + where(*a.ready_hi) +
                                  ") before message " + std::to_string(b.key.id) + " was published (" +
                                  where(*b.ready_lo) + "), but was first delivered after it",
                      {*a.ready_hi, *b.ready_lo, *b.delivered, *a.delivered});
    return;
  }
  if (a.ready_lo->index > b.ready_lo->index) it->second = std::move(a);
}

Verdict OrderChecker::finish() const {
  if (violation_) return *violation_;
  return pass(kOrder, std::to_string(judged_) + " first deliveries, in FIFO order per queue and priority");
}

Verdict check_order(const History& history) {
  return drive<OrderChecker>(history, [](StreamIndex& i) {
    auto c = std::make_unique<OrderChecker>();
    i.on_forget([p = c.get()](const MessageKey& k) { p->forget(k); });
    return c;
  });
}

}  // namespace mq
