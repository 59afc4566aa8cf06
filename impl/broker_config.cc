#include "impl/broker_config.h"

#include <set>

namespace mq::impl {
namespace {

template <typename Options>
Status check_names(const std::vector<Options>& items, const char* kind) {
  std::set<std::string> seen;
  for (const auto& item : items) {
    if (item.name.empty()) return invalid_argument(std::string(kind) + " with an empty name");
    if (!seen.insert(item.name).second) {
      return already_exists(std::string("duplicate ") + kind + " name '" + item.name + "'");
    }
  }
  return Status();
}

Status check_queue(const BrokerConfig& config, const QueueOptions& q) {
  const std::string where = "queue '" + q.name + "': ";
  if (q.capacity == 0) return invalid_argument(where + "capacity must be > 0");
  if (q.priority_levels < 1 || q.priority_levels > 256) {
    return invalid_argument(where + "priority_levels must be in 1..256, got " +
                            std::to_string(q.priority_levels));
  }
  if (q.visibility_timeout_ns < 0) return invalid_argument(where + "visibility_timeout_ns < 0");
  if (q.dedup_window_ns < 0) return invalid_argument(where + "dedup_window_ns < 0");
  if (q.dead_letter_queue) {
    if (!config.find_queue(*q.dead_letter_queue)) {
      return not_found(where + "unknown dead_letter_queue '" + *q.dead_letter_queue + "'");
    }
    if (*q.dead_letter_queue == q.name) return invalid_argument(where + "is its own dead_letter_queue");
  }
  return Status();
}

// A chain of dead-letter queues must end, or a message would circle forever.
Status check_dead_letter_chains(const BrokerConfig& config) {
  for (const auto& start : config.queues) {
    const QueueOptions* q = &start;
    for (size_t hops = 0; q->dead_letter_queue; ++hops) {
      if (hops >= config.queues.size()) {
        return invalid_argument("queue '" + start.name + "': dead_letter_queue chain has a cycle");
      }
      q = &config.queues[*config.find_queue(*q->dead_letter_queue)];
    }
  }
  return Status();
}

}  // namespace

Status BrokerConfig::validate() const {
  MQ_RETURN_IF_ERROR(check_names(producers, "producer"));
  MQ_RETURN_IF_ERROR(check_names(consumers, "consumer"));
  MQ_RETURN_IF_ERROR(check_names(queues, "queue"));
  MQ_RETURN_IF_ERROR(check_names(topics, "topic"));
  for (const auto& q : queues) MQ_RETURN_IF_ERROR(check_queue(*this, q));
  MQ_RETURN_IF_ERROR(check_dead_letter_chains(*this));
  for (const auto& c : consumers) {
    if (!find_queue(c.queue)) return not_found("consumer '" + c.name + "': unknown queue '" + c.queue + "'");
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

std::optional<QueueId> BrokerConfig::find_queue(const std::string& name) const {
  for (QueueId q = 0; q < queues.size(); ++q) {
    if (queues[q].name == name) return q;
  }
  return std::nullopt;
}

}  // namespace mq::impl
