// The task queue and the event bus: conveniences over Model, no semantics of their own.
#include "layers/event_bus.h"
#include "layers/task_queue.h"

namespace mq {

Result<MessageId> TaskQueue::submit(std::string task, Priority priority) {
  const MessageId id = next_id_;
  auto effects = model_.send(producer_, queue_, MessageSpec{id, std::move(task), priority, 0, 0, {}});
  if (!effects.ok()) return effects.status();
  ++next_id_;
  if (effects->front().kind == EffectKind::kRefused) {
    return failed_precondition("task queue '" + model_.topology().queues[queue_].name + "' is full");
  }
  return id;
}

Result<std::optional<Message>> TaskQueue::take(ConsumerId worker) {
  auto effects = model_.fetch(worker);
  if (!effects.ok()) return effects.status();
  for (const auto& e : *effects) {
    if (e.kind == EffectKind::kDelivered) return std::optional<Message>(e.message);
  }
  return std::optional<Message>();
}

Status TaskQueue::complete(ConsumerId worker, MessageId task) {
  return model_.ack(worker, task).status();
}

Status TaskQueue::fail(ConsumerId worker, MessageId task) {
  return model_.nack(worker, task, /*requeue=*/true).status();
}

Result<PublishReport> EventBus::publish(std::string_view event_type, std::string data) {
  const auto topic = model_.topology().find_topic(event_type);
  if (!topic) return not_found("event bus: unknown event type '" + std::string(event_type) + "'");
  PublishReport report{next_id_, {}, {}};
  auto effects = model_.publish(producer_, *topic, MessageSpec{next_id_, std::move(data), 0, 0, 0, {}});
  if (!effects.ok()) return effects.status();
  ++next_id_;
  for (const auto& e : *effects) {
    if (e.kind == EffectKind::kAccepted) report.delivered_to.push_back(e.queue);
    if (e.kind == EffectKind::kRefused) report.refused_by.push_back(e.queue);
  }
  return report;
}

}  // namespace mq
