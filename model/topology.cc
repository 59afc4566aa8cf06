#include "model/topology.h"

#include <set>

namespace mq {
namespace {

template <typename Config>
std::optional<uint32_t> find_by_name(const std::vector<Config>& items, std::string_view name) {
  for (uint32_t i = 0; i < items.size(); ++i) {
    if (items[i].name == name) return i;
  }
  return std::nullopt;
}

template <typename Config>
Status check_names(const std::vector<Config>& items, const char* kind) {
  std::set<std::string> seen;
  for (const auto& item : items) {
    if (item.name.empty()) return invalid_argument(std::string(kind) + " with an empty name");
    if (!seen.insert(item.name).second) {
      return already_exists(std::string("duplicate ") + kind + " name '" + item.name + "'");
    }
  }
  return Status();
}

Status check_queue(const Topology& t, const QueueConfig& q) {
  const std::string where = "queue '" + q.name + "': ";
  if (q.capacity == 0) return invalid_argument(where + "capacity must be > 0");
  if (q.priority_levels < 1 || q.priority_levels > 256) {
    return invalid_argument(where + "priority_levels must be in 1..256, got " +
                            std::to_string(q.priority_levels));
  }
  if (q.visibility_timeout_ns < 0) return invalid_argument(where + "visibility_timeout_ns < 0");
  if (q.dedup_window_ns < 0) return invalid_argument(where + "dedup_window_ns < 0");
  if (q.dead_letter_queue) {
    if (!t.find_queue(*q.dead_letter_queue)) {
      return not_found(where + "unknown dead_letter_queue '" + *q.dead_letter_queue + "'");
    }
    if (*q.dead_letter_queue == q.name) {
      return invalid_argument(where + "is its own dead_letter_queue");
    }
  }
  return Status();
}

// A chain of dead-letter queues must end: a cycle would move a message around forever.
Status check_dead_letter_chains(const Topology& t) {
  for (const auto& start : t.queues) {
    const QueueConfig* q = &start;
    for (size_t hops = 0; q->dead_letter_queue; ++hops) {
      if (hops >= t.queues.size()) {
        return invalid_argument("queue '" + start.name + "': dead_letter_queue chain has a cycle");
      }
      q = &t.queues[*t.find_queue(*q->dead_letter_queue)];
    }
  }
  return Status();
}

}  // namespace

Status Topology::validate() const {
  MQ_RETURN_IF_ERROR(check_names(producers, "producer"));
  MQ_RETURN_IF_ERROR(check_names(consumers, "consumer"));
  MQ_RETURN_IF_ERROR(check_names(queues, "queue"));
  MQ_RETURN_IF_ERROR(check_names(topics, "topic"));
  for (const auto& q : queues) MQ_RETURN_IF_ERROR(check_queue(*this, q));
  MQ_RETURN_IF_ERROR(check_dead_letter_chains(*this));
  for (const auto& c : consumers) {
    if (!find_queue(c.queue)) {
      return not_found("consumer '" + c.name + "': unknown queue '" + c.queue + "'");
    }
  }
  for (const auto& topic : topics) {
    std::set<std::string> bound;
    for (const auto& q : topic.queues) {
      if (!find_queue(q)) return not_found("topic '" + topic.name + "': unknown queue '" + q + "'");
      if (!bound.insert(q).second) {
        return already_exists("topic '" + topic.name + "': queue '" + q + "' bound twice");
      }
    }
  }
  return Status();
}

std::optional<QueueId> Topology::find_queue(std::string_view name) const {
  return find_by_name(queues, name);
}
std::optional<ConsumerId> Topology::find_consumer(std::string_view name) const {
  return find_by_name(consumers, name);
}
std::optional<ProducerId> Topology::find_producer(std::string_view name) const {
  return find_by_name(producers, name);
}
std::optional<TopicId> Topology::find_topic(std::string_view name) const {
  return find_by_name(topics, name);
}

QueueId Topology::queue_of(ConsumerId c) const {
  MQ_CHECK(c < consumers.size());
  auto q = find_queue(consumers[c].queue);
  MQ_CHECK(q.has_value());
  return *q;
}

std::vector<ConsumerId> Topology::consumers_of(QueueId q) const {
  MQ_CHECK(q < queues.size());
  std::vector<ConsumerId> out;
  for (ConsumerId c = 0; c < consumers.size(); ++c) {
    if (consumers[c].queue == queues[q].name) out.push_back(c);
  }
  return out;
}

std::vector<QueueId> Topology::queues_of(TopicId t) const {
  MQ_CHECK(t < topics.size());
  std::vector<QueueId> out;
  for (const auto& name : topics[t].queues) out.push_back(*find_queue(name));
  return out;
}

std::optional<QueueId> Topology::dead_letter_of(QueueId q) const {
  MQ_CHECK(q < queues.size());
  if (!queues[q].dead_letter_queue) return std::nullopt;
  return find_queue(*queues[q].dead_letter_queue);
}

}  // namespace mq
